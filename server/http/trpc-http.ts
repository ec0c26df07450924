import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MAX_BATCH_SIZE } from '../../shared/rules.ts';
import { sendError } from './errors.ts';

/**
 * Fastify's `maxParamLength`: a longer `:path` parameter does not match the tRPC route at all. Ten
 * calls with the longest procedure name (`messages.list`) take well under 200 characters.
 */
export const MAX_TRPC_PATH_LENGTH = 1000;

const PREFIX = '/api/trpc/';

/** Which procedures one HTTP request to /api/trpc calls, read the way tRPC reads them. */
function describeCall(req: FastifyRequest): { paths: string[]; batch: boolean; rawLength: number } | null {
  if (!req.url.startsWith(PREFIX)) return null;
  const queryAt = req.url.indexOf('?');
  const raw = req.url.slice(PREFIX.length, queryAt === -1 ? undefined : queryAt);
  const query = new URLSearchParams(queryAt === -1 ? '' : req.url.slice(queryAt + 1));
  let path = raw;
  try {
    path = decodeURIComponent(raw);
  } catch {
    // tRPC keeps an undecodable path as it is, and then finds no procedure at it.
  }
  const batch = query.get('batch') === '1';
  return { paths: batch ? path.split(',') : [path], batch, rawLength: raw.length };
}

function quoted(path: string): string {
  return path.length > 100 ? `"${path.slice(0, 100)}…"` : `"${path}"`;
}

/**
 * Guards and fixes around tRPC's HTTP adapter, answered in tRPC's error shape:
 * - at most MAX_BATCH_SIZE calls per batch, checked before any input is read (tRPC's own
 *   `maxBatchSize` check, also set, only says "Batch call exceeds maximum size");
 * - `auth.*` calls only on their own: a batch would put many password checks into one request,
 *   past the per-request limits (a batch of one, which httpBatchLink sends for a lone call, is fine);
 * - a path too long for the route would otherwise fall through to the REST API's 404;
 * - tRPC sends the errors it raises before a procedure runs as text/plain, although they are JSON.
 * Registered before the tRPC and REST plugins so their routes inherit the hooks.
 */
export function registerTrpcHttpGuards(server: FastifyInstance): void {
  server.addHook('onRequest', async (req, reply) => {
    const call = describeCall(req);
    if (call === null) return;
    const { paths, batch, rawLength } = call;
    if (batch && paths.length > MAX_BATCH_SIZE) {
      return sendError(
        req,
        reply,
        400,
        `A batch may hold at most ${MAX_BATCH_SIZE} calls; this one holds ${paths.length}. Send several smaller batches (httpBatchLink's maxItems option does that)`,
      );
    }
    const auth = paths.find((path) => path.startsWith('auth.'));
    if (auth !== undefined && paths.length > 1) {
      return sendError(
        req,
        reply,
        400,
        `${auth} cannot be batched with other calls; send it as a request of its own (route auth.* calls to httpLink with splitLink)`,
      );
    }
    if (rawLength > MAX_TRPC_PATH_LENGTH) {
      return sendError(req, reply, 404, `No procedure found on path ${quoted(paths[0] ?? '')}`);
    }
  });

  // tRPC builds its error answers as `new Response(jsonText)` without a content type, so the
  // Response defaults to text/plain. Still so on tRPC's main branch as of 2026-06
  // (packages/server/src/unstable-core-do-not-import/http/resolveResponse.ts, the final catch);
  // no upstream issue found for it. Every body tRPC sends here is JSON, or carries its own type.
  server.addHook('onSend', async (req, _reply, payload) => {
    if (!req.url.startsWith(PREFIX) || !(payload instanceof Response)) return payload;
    if (!payload.headers.get('content-type')?.startsWith('text/plain')) return payload;
    const headers = new Headers(payload.headers);
    headers.set('content-type', 'application/json');
    return new Response(payload.body, { status: payload.status, statusText: payload.statusText, headers });
  });
}
