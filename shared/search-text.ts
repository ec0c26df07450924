/**
 * Search text rules (issue 13), shared by both store backends (and usable by the web app): how a
 * query becomes words, and how a found message becomes its snippet. Plain functions, no imports.
 *
 * The user's query is never handed to a full-text engine as syntax: it is cut into words here
 * (runs of Unicode letters and digits; everything else, `"`, `*`, `-`, `:`, `(`, separates), and
 * each backend builds its own query from those words alone. A message is found when it has every
 * word, as a whole word, case- and diacritic-insensitively (accents: Latin letters on both backends).
 *
 * Whole words only, no prefix matching: a prefix of a common word ("deploy"*) makes FTS5 read and
 * merge the whole posting list of every word it starts (10-20 ms on 100,000 messages, on the
 * thread that serves everyone), where a whole word is walked newest first and stops at the page.
 */

/** Words beyond this are ignored: each one is one more index lookup, and 200 characters fit 100. */
export const MAX_SEARCH_WORDS = 16;

const WORD = /[\p{L}\p{N}]+/gu;

/** Lower case without diacritics: how both engines compare words ("École" and "ecole" match). */
export function foldWord(word: string): string {
  return word.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/**
 * The words of a query, in order, each once (by folded form), at most MAX_SEARCH_WORDS. Empty when
 * the query has nothing searchable ("***", "-", emoji only).
 */
export function searchWords(query: string): string[] {
  const words: string[] = [];
  const seen = new Set<string>();
  for (const [word] of query.normalize('NFC').matchAll(WORD)) {
    const folded = foldWord(word);
    if (folded === '' || seen.has(folded)) continue;
    seen.add(folded);
    words.push(word);
    if (words.length === MAX_SEARCH_WORDS) break;
  }
  return words;
}

/** A snippet longer than this is cut around its first match. */
export const SNIPPET_LENGTH = 200;
/** How much text a cut snippet keeps before its first match. */
const SNIPPET_LEAD = 60;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

type Span = { start: number; end: number };

/** Where the text's words are words of the query (folded as the engines fold them). */
function matchSpans(text: string, words: readonly string[]): Span[] {
  const wanted = new Set(words.map(foldWord));
  const spans: Span[] = [];
  for (const match of text.matchAll(WORD)) {
    if (wanted.has(foldWord(match[0]))) spans.push({ start: match.index, end: match.index + match[0].length });
  }
  return spans;
}

const isLowSurrogate = (text: string, at: number) => /[\uDC00-\uDFFF]/.test(text[at] ?? '');

/** The part of a long text shown: from a word boundary before the first match, SNIPPET_LENGTH long. */
function window(text: string, first: Span | undefined): Span {
  if (text.length <= SNIPPET_LENGTH) return { start: 0, end: text.length };
  let start = Math.max(0, (first?.start ?? 0) - SNIPPET_LEAD);
  let end = Math.min(text.length, start + SNIPPET_LENGTH);
  if (end === text.length) start = Math.max(0, end - SNIPPET_LENGTH);
  if (start > 0) {
    const space = text.slice(start, first?.start ?? start).search(/\s/);
    if (space !== -1) start += space + 1;
  }
  if (end < text.length) {
    const from = first?.end ?? start;
    const space = text.slice(from, end).search(/\s\S*$/);
    if (space !== -1) end = from + space;
  }
  // Never half a surrogate pair (an emoji) at either edge.
  if (isLowSurrogate(text, start)) start += 1;
  if (isLowSurrogate(text, end)) end -= 1;
  return { start, end };
}

/**
 * The snippet of a found message: its text HTML-escaped, every matched word in <mark>…</mark> and
 * nothing else unescaped; a long text is cut around the first match, with "…" where it was cut.
 * Computed here rather than by the engines (FTS5 snippet(), ts_headline) so that both backends give
 * the same snippet for the same message, byte for byte.
 */
export function searchSnippet(text: string, words: readonly string[]): string {
  const spans = matchSpans(text, words);
  const shown = window(text, spans[0]);
  let out = shown.start > 0 ? '…' : '';
  let at = shown.start;
  for (const span of spans) {
    if (span.start < shown.start || span.end > shown.end) continue;
    out += `${escapeHtml(text.slice(at, span.start))}<mark>${escapeHtml(text.slice(span.start, span.end))}</mark>`;
    at = span.end;
  }
  out += escapeHtml(text.slice(at, shown.end));
  return shown.end < text.length ? `${out}…` : out;
}
