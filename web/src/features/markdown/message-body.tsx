import { lazy, memo, Suspense } from 'react';
import { splitMentions } from '../mentions/mention-text.ts';
import './markdown.css';
import { importWithRetry } from '../../lib/import-with-retry.ts';

/**
 * Code-split out of the initial bundle (decision 021): fetched when the first message renders, which
 * shows as plain text until then.
 */
const MarkdownRenderer = lazy(() => importWithRetry(() => import('./markdown-renderer.tsx')));

interface MessageBodyProps {
  text: string;
  /** Canonical usernames the message mentions; shown distinctly, and highlighted when one is `me`. */
  mentions: readonly string[];
  me: string;
}

/** The text as typed, with mentions marked: shown until the markdown renderer has loaded. */
export function PlainMessageText({ text, mentions, me }: MessageBodyProps) {
  const lowerMe = me.toLowerCase();
  return (
    <>
      {splitMentions(text, mentions).map((part, index) =>
        typeof part === 'string' ? (
          part
        ) : (
          <span
            // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one text, in order; they never move
            key={index}
            className={part.mention.toLowerCase() === lowerMe ? 'mention mention--me' : 'mention'}
            data-mention={part.mention}
          >
            {part.text}
          </span>
        ),
      )}
    </>
  );
}

/** A message's text, rendered as markdown (plain text until the renderer has loaded). */
export const MessageBody = memo(function MessageBody(props: MessageBodyProps) {
  return (
    <div className="message__text markdown">
      <Suspense fallback={<PlainMessageText {...props} />}>
        <MarkdownRenderer {...props} />
      </Suspense>
    </div>
  );
});
