/**
 * Finds the `@name` mentions to show distinctly in a message's text. Only names the server listed in
 * `message.mentions` (members of the room, canonical spelling) count, matched case-insensitively
 * with the rule of shared/mentions.ts: an `@` at the start or after a character that cannot be part
 * of a username, so `bob@example.com` mentions nobody, and "thanks @bob." mentions bob.
 */

const NAME_CHAR = /[A-Za-z0-9_.-]/;
const MENTION = /@([A-Za-z0-9_.-]+)/g;

export type MentionPart = string | { mention: string; text: string };

/**
 * Splits `text` into plain runs and mentions of the names in `mentioned` (any letter case). A
 * mention carries the canonical name; `text` is what was written ("@Bob").
 */
export function splitMentions(text: string, mentioned: readonly string[]): MentionPart[] {
  if (mentioned.length === 0 || !text.includes('@')) return [text];
  const canonical = new Map(mentioned.map((name) => [name.toLowerCase(), name]));
  const parts: MentionPart[] = [];
  let from = 0;
  for (const match of text.matchAll(MENTION)) {
    const before = match.index === 0 ? '' : (text[match.index - 1] ?? '');
    if (before !== '' && (NAME_CHAR.test(before) || before === '@')) continue;
    // Trailing "." and "-" may be punctuation: try the longest form first, as the server does.
    let written = match[1] ?? '';
    let name = canonical.get(written.toLowerCase());
    while (name === undefined && /[.-]$/.test(written)) {
      written = written.slice(0, -1);
      name = canonical.get(written.toLowerCase());
    }
    if (name === undefined) continue;
    if (match.index > from) parts.push(text.slice(from, match.index));
    parts.push({ mention: name, text: `@${written}` });
    from = match.index + 1 + written.length;
  }
  if (from < text.length) parts.push(text.slice(from));
  return parts;
}

/** Whether a message mentions `me` (canonical usernames, compared without regard to case). */
export function mentionsMe(mentions: readonly string[], me: string): boolean {
  const lower = me.toLowerCase();
  return mentions.some((name) => name.toLowerCase() === lower);
}
