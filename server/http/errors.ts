import type { FastifyReply, FastifyRequest } from 'fastify';

const CODE_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_SUPPORTED',
  408: 'TIMEOUT',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'BAD_REQUEST',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  431: 'BAD_REQUEST',
  429: 'TOO_MANY_REQUESTS',
  503: 'SERVICE_UNAVAILABLE',
};

/** JSON-RPC error numbers tRPC uses on the wire, so its client recognises our errors as its own. */
const JSONRPC_BY_CODE: Record<string, number> = {
  BAD_REQUEST: -32600,
  UNAUTHORIZED: -32001,
  FORBIDDEN: -32003,
  NOT_FOUND: -32004,
  METHOD_NOT_SUPPORTED: -32005,
  TIMEOUT: -32008,
  CONFLICT: -32009,
  PAYLOAD_TOO_LARGE: -32013,
  UNSUPPORTED_MEDIA_TYPE: -32015,
  TOO_MANY_REQUESTS: -32029,
  SERVICE_UNAVAILABLE: -32603,
  INTERNAL_SERVER_ERROR: -32603,
};

/**
 * The body of an error raised outside the procedures, in the same shape as the procedures' own:
 * tRPC's envelope under /api/trpc, the REST shape elsewhere.
 */
export function errorBody(url: string, status: number, message: string) {
  const code = CODE_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST');
  const data = { code, httpStatus: status };
  return url.startsWith('/api/trpc')
    ? { error: { message, code: JSONRPC_BY_CODE[code] ?? -32600, data } }
    : { message, code, data };
}

/** Errors raised outside the procedures (body too large, bad JSON, CSRF guard, unknown route). */
export function sendError(req: FastifyRequest, reply: FastifyReply, status: number, message: string) {
  return reply
    .code(status)
    .type('application/json')
    .send(errorBody(req.url, status, message));
}
