import { StoreUnavailableError } from '../errors.ts';

/**
 * SQLite result codes that mean "the file cannot be used right now" (disk I/O, cannot open, locked
 * by another process past busy_timeout, disk full, read-only): 503, try again. Corruption and
 * constraint errors stay what they are.
 */
const UNAVAILABLE_CODES = ['SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_BUSY', 'SQLITE_FULL', 'SQLITE_READONLY'];

export function toStoreError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.some((prefix) => code.startsWith(prefix))) {
    return new StoreUnavailableError(`SQLite: ${code}`, { cause: error });
  }
  // better-sqlite3 after close(): "The database connection is not open".
  if (error instanceof TypeError && /database connection is not open/i.test(error.message)) {
    return new StoreUnavailableError('SQLite: the database is closed', { cause: error });
  }
  return error;
}

/**
 * Runs synchronous better-sqlite3 work and hands the answer back as a promise, already settled: no
 * extra event-loop turn, so group commit batches exactly as before the store became async.
 */
export function settled<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(toStoreError(error));
  }
}
