/** One page of a keyset-paged list, as the store hands it to a router. */
export interface KeysetPage<Row, Key> {
  rows: Row[];
  hasMore: boolean;
  /** The sort key of the last row when more rows follow: where the next page starts. */
  nextKey: Key | null;
}

/** What a router asks for: rows after `after` (from the start without it), at most `limit` of them. */
export interface KeysetRequest<Key> {
  after: Key | undefined;
  limit: number;
}

/** Turns `limit + 1` fetched rows into a page: the extra row only says that more follow. */
export function toKeysetPage<Row, Key>(fetched: Row[], limit: number, keyOf: (row: Row) => Key): KeysetPage<Row, Key> {
  const hasMore = fetched.length > limit;
  const rows = hasMore ? fetched.slice(0, limit) : fetched;
  const last = rows.at(-1);
  return { rows, hasMore, nextKey: hasMore && last !== undefined ? keyOf(last) : null };
}

/** Where a room sits in the list by activity: [last message time in ms, or null; name]. */
export type RoomActivityKey = readonly [number | null, string];

/** Where a member sits in join order: [joined at, in ms; username]. */
export type MemberKey = readonly [number, string];

/** Where a row sits in a list by count: [message count; room name or username]. */
export type CountKey = readonly [number, string];
