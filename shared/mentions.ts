/**
 * `@username` mentions (issue 13), shared by the server (which keeps the ones naming a member) and
 * the web app (which highlights them). Plain functions, no imports: the web bundle stays small.
 */

/** The characters of a username (shared/rules.ts USERNAME_PATTERN). */
const NAME_CHAR = /[A-Za-z0-9_.-]/;
const MENTION = /@([A-Za-z0-9_.-]+)/g;

/**
 * The lower-cased names `text` may mention, in order of first appearance, each once. An `@` counts
 * only at the start or after a character that cannot be part of a username or e-mail local part, so
 * `bob@example.com` mentions nobody. Trailing "." and "-" may be sentence punctuation ("thanks
 * @bob."), so each shorter form is offered too; the server keeps the forms that name a member.
 */
export function mentionCandidates(text: string): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  for (const match of text.matchAll(MENTION)) {
    const before = match.index === 0 ? '' : text[match.index - 1];
    if (before !== '' && (NAME_CHAR.test(before ?? '') || before === '@')) continue;
    let name = (match[1] ?? '').toLowerCase();
    for (;;) {
      if (name.length >= 3 && name.length <= 32 && !seen.has(name)) {
        seen.add(name);
        found.push(name);
      }
      if (!/[.-]$/.test(name)) break;
      name = name.slice(0, -1);
    }
  }
  return found;
}

/** Orders canonical usernames by where `text` first mentions them (case-insensitive). */
export function orderMentions(text: string, usernames: readonly string[]): string[] {
  const lower = text.toLowerCase();
  const position = (name: string) => {
    const at = lower.indexOf(`@${name.toLowerCase()}`);
    return at === -1 ? Number.MAX_SAFE_INTEGER : at;
  };
  return [...usernames].sort((a, b) => position(a) - position(b) || a.localeCompare(b));
}
