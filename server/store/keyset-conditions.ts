import { and, type Column, eq, gt, isNull, lt, or, type SQL } from 'drizzle-orm';
import type { CountKey, MemberKey, RoomActivityKey } from './keyset-page.ts';

/**
 * The WHERE conditions of keyset paging, for both backends (the columns are either dialect's): rows
 * strictly after `key` in each list's order. Undefined for the first page.
 */

/** Rooms by activity: newest last message first, silent rooms (null) last; ties by name. */
export function afterActivity(lastMessageAt: Column, name: Column, key: RoomActivityKey | undefined): SQL | undefined {
  if (key === undefined) return undefined;
  const [at, afterName] = key;
  if (at === null) return and(isNull(lastMessageAt), gt(name, afterName));
  const time = new Date(at);
  return or(isNull(lastMessageAt), lt(lastMessageAt, time), and(eq(lastMessageAt, time), gt(name, afterName)));
}

/** Rows by count, most first; ties by name. */
export function afterCount(count: Column, name: Column, key: CountKey | undefined): SQL | undefined {
  if (key === undefined) return undefined;
  const [afterCount, afterName] = key;
  return or(lt(count, afterCount), and(eq(count, afterCount), gt(name, afterName)));
}

/** Members in join order; ties by username. */
export function afterJoin(joinedAt: Column, username: Column, key: MemberKey | undefined): SQL | undefined {
  if (key === undefined) return undefined;
  const [at, afterUsername] = key;
  const time = new Date(at);
  return or(gt(joinedAt, time), and(eq(joinedAt, time), gt(username, afterUsername)));
}
