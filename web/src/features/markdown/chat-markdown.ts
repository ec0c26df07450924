import { gfmAutolinkLiteralFromMarkdown } from 'mdast-util-gfm-autolink-literal';
import { gfmStrikethroughFromMarkdown } from 'mdast-util-gfm-strikethrough';
import { gfmAutolinkLiteral } from 'micromark-extension-gfm-autolink-literal';
import { gfmStrikethrough } from 'micromark-extension-gfm-strikethrough';
import { type MentionPart, splitMentions } from '../mentions/mention-text.ts';

/**
 * The markdown a chat message may use (decision 021): CommonMark's emphasis, code, block quotes,
 * lists and links, plus GFM's strikethrough and autolinked URLs. Raw HTML is not markdown here at
 * all (a `<script>` is text), and neither are headings, images, indented code (chat text is often
 * indented without meaning code), tables, footnotes (their ids would repeat across messages) or
 * link reference definitions.
 */

/** What unified gives a plugin as `this`: only the data store is used. */
interface ProcessorData {
  data(key: string): unknown;
  data(key: string, value: unknown): unknown;
}

function append(processor: ProcessorData, key: string, value: unknown): void {
  const list = (processor.data(key) as unknown[] | undefined) ?? [];
  processor.data(key, [...list, value]);
}

/** The parser's syntax (a remark plugin): the GFM extensions used, and the CommonMark constructs switched off. */
export function remarkChatSyntax(this: ProcessorData): void {
  append(this, 'micromarkExtensions', gfmAutolinkLiteral());
  append(this, 'micromarkExtensions', gfmStrikethrough({ singleTilde: false }));
  append(this, 'micromarkExtensions', {
    disable: {
      null: ['htmlFlow', 'htmlText', 'headingAtx', 'setextUnderline', 'codeIndented', 'labelStartImage', 'definition'],
    },
  });
  append(this, 'fromMarkdownExtensions', gfmAutolinkLiteralFromMarkdown());
  append(this, 'fromMarkdownExtensions', gfmStrikethroughFromMarkdown());
}

/** The few fields of mdast and hast nodes these plugins read (both are unist trees). */
interface TreeNode {
  type: string;
  value?: string;
  tagName?: string;
  children?: TreeNode[];
  data?: Record<string, unknown>;
}

export interface MentionOptions {
  /** Canonical usernames the message mentions (message.mentions). */
  mentions: readonly string[];
  me: string;
}

/**
 * Marks `@name` mentions (remark plugin): a text node becomes plain text and `span.mention`
 * elements. Text inside links and code is left alone.
 */
export function remarkMentions(options: MentionOptions) {
  const me = options.me.toLowerCase();
  const toNode = (part: MentionPart): TreeNode => {
    if (typeof part === 'string') return { type: 'text', value: part };
    const own = part.mention.toLowerCase() === me;
    return {
      type: 'text',
      value: part.text,
      data: {
        hName: 'span',
        hProperties: {
          className: own ? ['mention', 'mention--me'] : ['mention'],
          dataMention: part.mention,
        },
      },
    };
  };
  const visit = (node: TreeNode): void => {
    if (!node.children || node.type === 'link' || node.type === 'linkReference') return;
    node.children = node.children.flatMap((child) => {
      if (child.type !== 'text') {
        visit(child);
        return [child];
      }
      const parts = splitMentions(child.value ?? '', options.mentions);
      return parts.length === 1 && typeof parts[0] === 'string' ? [child] : parts.map(toNode);
    });
  };
  return (tree: TreeNode) => {
    if (options.mentions.length > 0) visit(tree);
  };
}

/** Elements whose text children are only layout newlines between blocks. */
const BLOCK_PARENTS = new Set(['blockquote', 'ol', 'ul', 'li']);

/**
 * Drops the newline text nodes the converter puts between block elements (rehype plugin): the
 * message text keeps `white-space: pre-wrap`, so a soft line break inside a paragraph shows as
 * typed, and these would show as blank lines.
 */
export function rehypeDropBlockNewlines() {
  const visit = (node: TreeNode, blockParent: boolean): void => {
    if (!node.children) return;
    if (blockParent) {
      node.children = node.children.filter(
        (child) => !(child.type === 'text' && /^\s*$/.test(child.value ?? '') && child.value?.includes('\n')),
      );
    }
    for (const child of node.children) visit(child, child.type === 'element' && BLOCK_PARENTS.has(child.tagName ?? ''));
  };
  return (tree: TreeNode) => visit(tree, true);
}

const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

/**
 * Links keep their address only when it is absolute http, https or mailto: `javascript:`,
 * `data:`, `vbscript:`, relative paths and anything unparsable lose it and render as plain text.
 */
export function safeUrl(url: string): string | null {
  try {
    const parsed = new URL(url);
    return SAFE_PROTOCOLS.has(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
}
