/** Characters of a username (shared/rules.ts USERNAME_PATTERN). */
const NAME_CHAR = /[A-Za-z0-9_.-]/;
/** The longest username: a longer word after `@` is not a name being typed. */
const MAX_NAME_LENGTH = 32;

export interface MentionQuery {
  /** Where the `@` is. */
  start: number;
  /** What follows it, up to the caret (may be empty: `@` alone offers everyone). */
  query: string;
}

/**
 * The `@name` being typed where the caret is, if any: an `@` at the start or after a character
 * that cannot be part of a name (so an e-mail address offers nothing), then name characters up to
 * the caret.
 */
export function mentionQueryAt(text: string, caret: number): MentionQuery | null {
  let at = caret;
  while (at > 0 && caret - at <= MAX_NAME_LENGTH && NAME_CHAR.test(text[at - 1] ?? '')) at -= 1;
  if (at === 0 || text[at - 1] !== '@' || caret - at > MAX_NAME_LENGTH) return null;
  const start = at - 1;
  const before = start === 0 ? '' : (text[start - 1] ?? '');
  if (before !== '' && (NAME_CHAR.test(before) || before === '@')) return null;
  return { start, query: text.slice(at, caret) };
}

/**
 * Members matching what was typed: names starting with it first, then names containing it, each
 * group alphabetical; at most `limit`.
 */
export function matchMembers(usernames: readonly string[], query: string, limit: number): string[] {
  const lower = query.toLowerCase();
  const starts: string[] = [];
  const contains: string[] = [];
  for (const name of usernames) {
    const position = name.toLowerCase().indexOf(lower);
    if (position === 0) starts.push(name);
    else if (position > 0) contains.push(name);
  }
  const byName = (a: string, b: string) => a.localeCompare(b, undefined, { sensitivity: 'base' });
  return [...starts.sort(byName), ...contains.sort(byName)].slice(0, limit);
}

/** `text` with the mention being typed replaced by `@username ` and where the caret goes after it. */
export function insertMention(
  text: string,
  caret: number,
  mention: MentionQuery,
  username: string,
): { text: string; caret: number } {
  const inserted = `@${username} `;
  // Name characters right after the caret belong to the word being replaced; a space already there is reused.
  let end = caret;
  while (end < text.length && NAME_CHAR.test(text[end] ?? '')) end += 1;
  const rest = text.slice(end);
  const value = text.slice(0, mention.start) + inserted + (rest.startsWith(' ') ? rest.slice(1) : rest);
  return { text: value, caret: mention.start + inserted.length };
}
