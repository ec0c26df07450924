import { TRPCClientError } from '@trpc/client';

export interface ApiErrorInfo {
  /** tRPC error code, e.g. "UNAUTHORIZED", "CONFLICT"; null when the request never got an answer. */
  code: string | null;
  message: string;
  /** Per-field messages from input validation, keyed by input field name. */
  fieldErrors: Record<string, string[]>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Reads what the server said from any error a tRPC call can throw. */
export function describeApiError(error: unknown): ApiErrorInfo {
  if (error instanceof TRPCClientError) {
    const data: unknown = error.data;
    const code = isRecord(data) && typeof data.code === 'string' ? data.code : null;
    const fieldErrors: Record<string, string[]> = {};
    if (isRecord(data) && isRecord(data.fieldErrors)) {
      for (const [field, messages] of Object.entries(data.fieldErrors)) {
        if (Array.isArray(messages)) fieldErrors[field] = messages.filter((m): m is string => typeof m === 'string');
      }
    }
    if (code === null) {
      return { code, message: 'Could not reach the server. Check your connection and try again.', fieldErrors };
    }
    return { code, message: error.message, fieldErrors };
  }
  return { code: null, message: error instanceof Error ? error.message : String(error), fieldErrors: {} };
}

export function isUnauthorized(error: unknown): boolean {
  return describeApiError(error).code === 'UNAUTHORIZED';
}
