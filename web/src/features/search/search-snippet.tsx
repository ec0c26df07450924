import type { ReactNode } from 'react';

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/** Undoes the server's HTML escaping of a snippet's text (shared/search-text.ts escapeHtml). */
function unescapeHtml(text: string): string {
  return text.replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity] ?? entity);
}

/**
 * A search snippet: HTML-escaped text with `<mark>…</mark>` around the matches. It is never given
 * to the browser as HTML: split on the two mark tags, its parts become React text nodes (escaped
 * once more by React), and only the parts between the tags go inside a <mark>. Anything else that
 * looks like a tag, whatever the server sent, is shown as text.
 */
export function SearchSnippet({ snippet }: { snippet: string }) {
  const parts: ReactNode[] = [];
  let marked = false;
  snippet.split(/(<mark>|<\/mark>)/).forEach((part, index) => {
    if (part === '<mark>') marked = true;
    else if (part === '</mark>') marked = false;
    else if (part !== '') {
      const text = unescapeHtml(part);
      // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one snippet, in order; they never move
      parts.push(marked ? <mark key={index}>{text}</mark> : text);
    }
  });
  return <>{parts}</>;
}
