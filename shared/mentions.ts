/**
 * `@username` mentions (issue 13), shared by the server (which keeps the ones naming a member) and
 * the web app (which highlights them). Plain functions, no imports: the web bundle stays small.
 */

/** The characters of a username (shared/rules.ts USERNAME_PATTERN). */
const NAME_CHAR = /[A-Za-z0-9_.-]/;
const MENTION = /@([A-Za-z0-9_.-]+)/g;

/**
 * Every `@name` form in `text` with where its `@` stands, in order. An `@` counts only at the start or
 * after a character that cannot be part of a username or e-mail local part, so `bob@example.com`
 * mentions nobody. Trailing "." and "-" may be sentence punctuation ("thanks @bob."), so each shorter
 * form is offered too; the server keeps the forms that name a member.
 */
function* mentionForms(text: string): Generator<{ name: string; at: number }> {
  for (const match of text.matchAll(MENTION)) {
    const before = match.index === 0 ? '' : text[match.index - 1];
    if (before !== '' && (NAME_CHAR.test(before ?? '') || before === '@')) continue;
    let name = (match[1] ?? '').toLowerCase();
    for (;;) {
      if (name.length >= 3 && name.length <= 32) yield { name, at: match.index };
      if (!/[.-]$/.test(name)) break;
      name = name.slice(0, -1);
    }
  }
}

/** The lower-cased names `text` may mention (see mentionForms), in order of first appearance, each once. */
export function mentionCandidates(text: string): string[] {
  const found = new Set<string>();
  for (const form of mentionForms(text)) found.add(form.name);
  return [...found];
}

/**
 * Orders canonical usernames by where `text` first mentions them, by the rules mentionCandidates
 * finds them with: an `@bob` inside an e-mail address or inside `@bob.smith` is not a mention of bob.
 * Ties (never for names the text mentions) go by byte order, the same in every locale.
 */
export function orderMentions(text: string, usernames: readonly string[]): string[] {
  const first = new Map<string, number>();
  for (const form of mentionForms(text)) if (!first.has(form.name)) first.set(form.name, form.at);
  const position = (name: string) => first.get(name.toLowerCase()) ?? Number.MAX_SAFE_INTEGER;
  return [...usernames].sort((a, b) => position(a) - position(b) || (a < b ? -1 : a > b ? 1 : 0));
}
