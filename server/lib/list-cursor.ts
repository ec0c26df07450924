/**
 * Opaque keyset cursors for the paged lists (rooms, members, statistics). A cursor is the sort key
 * of the last row of a page, tagged with the list it belongs to, as base64url JSON. Clients pass
 * `nextCursor` back unchanged; its content is not an API and may change between versions.
 */

export type CursorKey = readonly (string | number | null)[];

export function encodeCursor(list: string, key: CursorKey): string {
  return Buffer.from(JSON.stringify([list, ...key]), 'utf8').toString('base64url');
}

/** The key inside a cursor of `list`, or null when the string is not one (or belongs to another list). */
export function decodeCursor<K extends CursorKey>(
  list: string,
  cursor: string,
  isKey: (key: readonly unknown[]) => key is K,
): K | null {
  if (!/^[A-Za-z0-9_-]*$/.test(cursor)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed[0] !== list) return null;
  const key = parsed.slice(1);
  return isKey(key) ? key : null;
}
