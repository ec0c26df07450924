import { createRequire } from 'node:module';

/**
 * What a new password must not be (on top of the 8–256 characters the input schema checks):
 * one of the most common passwords, or the username. Sign-in does not apply it, so accounts made
 * before the rule still work.
 *
 * The list is the ranked common-password dictionary that zxcvbn-ts ships in
 * `@zxcvbn-ts/language-common` (about 49,000 entries from leaked-password corpora, maintained with
 * zxcvbn-ts). Only entries of at least 8 characters can ever match, which leaves about 18,000.
 */
export const MIN_COMMON_PASSWORD_LENGTH = 8;

let common: Set<string> | undefined;

/**
 * Built on first use, not at start-up: the package decompresses its dictionaries when loaded
 * (about 75 ms, once) and the set then costs a few MiB of heap for the life of the process.
 */
function commonPasswords(): Set<string> {
  if (!common) {
    const require = createRequire(import.meta.url);
    const { dictionary } = require('@zxcvbn-ts/language-common') as {
      dictionary: { 'passwords-common': string[] };
    };
    common = new Set(
      dictionary['passwords-common']
        .filter((password) => password.length >= MIN_COMMON_PASSWORD_LENGTH)
        .map((password) => password.toLowerCase()),
    );
  }
  return common;
}

/** Why `password` is not acceptable as a new password for `username`, or null when it is. */
export function newPasswordProblem(username: string, password: string): string | null {
  const lower = password.toLowerCase();
  if (lower === username.toLowerCase()) return 'must not be the same as the username';
  if (commonPasswords().has(lower)) return 'is one of the most common passwords; choose a less guessable one';
  return null;
}
