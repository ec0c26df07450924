import { DrizzleQueryError } from 'drizzle-orm/errors';
import { StoreUnavailableError } from '../errors.ts';

/** SQLSTATE classes and codes that mean "the server or the connection is gone or refusing". */
const UNAVAILABLE_SQLSTATE = [
  '08', // connection_exception
  '53', // insufficient_resources: too_many_connections, disk_full, out_of_memory
  '57P01', // admin_shutdown: pg_terminate_backend, or a fast shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or shutting down
];

/** Socket-level failures reported by node-postgres as Node system errors. */
const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** node-postgres's own messages for a lost or unobtainable connection. */
const UNAVAILABLE_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /connection error and is not queryable/i,
  /cannot use a pool after calling end/i,
  /query read timeout/i,
];

/**
 * Drizzle wraps every driver error in DrizzleQueryError, whose message carries the query's
 * parameters (token and password hashes among them): callers get the driver's own error instead.
 */
export function unwrapDriverError(error: unknown): unknown {
  let current = error;
  while (current instanceof DrizzleQueryError && current.cause !== undefined) current = current.cause;
  if (current instanceof DrizzleQueryError) return new Error(`Failed query: ${current.query}`);
  return current;
}

export function sqlState(error: unknown): string | undefined {
  const code = (unwrapDriverError(error) as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

function unavailableReason(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (UNAVAILABLE_ERRNO.has(code)) return code;
    // FATAL ends the session: the server refused or dropped this connection, whatever the code
    // (a database not accepting connections 55000, dropped 3D000, a changed password 28P01, …).
    const severity = (error as { severity?: unknown }).severity;
    if (/^[0-9A-Z]{5}$/.test(code) && (severity === 'FATAL' || severity === 'PANIC')) {
      return `${code} ${error.message}`;
    }
    if (/^[0-9A-Z]{5}$/.test(code) && UNAVAILABLE_SQLSTATE.some((prefix) => code.startsWith(prefix))) {
      return `${code} ${error.message}`;
    }
  }
  // AggregateError from a dual-stack connect (ECONNREFUSED on ::1 and on 127.0.0.1).
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const reason = unavailableReason(inner);
      if (reason) return reason;
    }
  }
  if (UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(error.message))) return error.message;
  return undefined;
}

/** The error a Store method rejects with: StoreUnavailableError, or the driver's error unwrapped. */
export function toStoreError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  const driverError = unwrapDriverError(error);
  const reason = unavailableReason(driverError);
  return reason === undefined
    ? driverError
    : new StoreUnavailableError(`PostgreSQL: ${reason}`, { cause: driverError });
}

/** Awaits database work, rejecting with toStoreError's answer. */
export async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toStoreError(error);
  }
}
