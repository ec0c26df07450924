import { useMemo } from 'react';
import Markdown, { type Components } from 'react-markdown';
import {
  type MentionOptions,
  rehypeDropBlockNewlines,
  remarkChatSyntax,
  remarkMentions,
  safeUrl,
} from './chat-markdown.ts';

/**
 * The elements a message may produce, whatever the parser does: anything else is unwrapped to its
 * text. A second line behind the syntax switched off in chat-markdown.ts.
 */
const ALLOWED_ELEMENTS = [
  'p',
  'br',
  'strong',
  'em',
  'del',
  'code',
  'pre',
  'blockquote',
  'ul',
  'ol',
  'li',
  'a',
  'span',
  'hr',
];

/** Links a user posted: a new tab, no referrer, no window.opener, and no endorsement for crawlers. */
export const LINK_REL = 'noopener noreferrer nofollow ugc';

const components: Components = {
  a: ({ href, children }) =>
    href ? (
      <a href={href} target="_blank" rel={LINK_REL}>
        {children}
      </a>
    ) : (
      // An address refused by safeUrl: its text stays, as text.
      <span className="markdown__dead-link">{children}</span>
    ),
};

interface MarkdownRendererProps extends MentionOptions {
  text: string;
}

/**
 * A message's text as markdown, built as React elements by react-markdown: never HTML from a
 * string. Loaded on demand (see message-body.tsx).
 */
export default function MarkdownRenderer({ text, mentions, me }: MarkdownRendererProps) {
  const remarkPlugins = useMemo(() => [remarkChatSyntax, [remarkMentions, { mentions, me }] as const], [mentions, me]);
  return (
    <Markdown
      remarkPlugins={remarkPlugins as never}
      rehypePlugins={[rehypeDropBlockNewlines]}
      allowedElements={ALLOWED_ELEMENTS}
      unwrapDisallowed
      skipHtml
      urlTransform={safeUrl}
      components={components}
    >
      {text}
    </Markdown>
  );
}
