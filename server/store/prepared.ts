import type { Db } from '../db/client.ts';

/**
 * Builds something once per database and hands back the same value on every later call: used to
 * keep prepared statements, so hot paths skip rebuilding the query and re-preparing the SQL on
 * every call. A WeakMap, so a closed database (tests open many) takes its statements with it.
 */
export function perDatabase<T>(build: (db: Db) => T): (db: Db) => T {
  const cache = new WeakMap<Db, T>();
  return (db) => {
    let value = cache.get(db);
    if (value === undefined) {
      value = build(db);
      cache.set(db, value);
    }
    return value;
  };
}
