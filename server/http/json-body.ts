import type { FastifyInstance } from 'fastify';

export const MAX_JSON_DEPTH = 64;

function depthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 1 }];
  while (stack.length > 0) {
    const item = stack.pop();
    if (!item || item.value === null || typeof item.value !== 'object') continue;
    if (item.depth > limit) return true;
    for (const child of Object.values(item.value)) stack.push({ value: child, depth: item.depth + 1 });
  }
  return false;
}

/**
 * JSON bodies for the REST API. Two things Fastify's default parser leaves to us:
 * - absurdly nested JSON (thousands of `[`) is refused with a 400; the REST adapter stringifies
 *   bodies recursively and would otherwise overflow the stack and answer 500;
 * - a POST with no body at all (`curl -X POST …/sign-out`) is treated as `{}` instead of 415.
 * The tRPC adapter installs its own parser in its own scope, so this does not touch /api/trpc.
 */
export function registerJsonBody(server: FastifyInstance): void {
  server.removeContentTypeParser('application/json');
  server.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, {});
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      const message = error instanceof Error ? error.message : 'unknown error';
      return done(Object.assign(new Error(`Request body is not valid JSON: ${message}`), { statusCode: 400 }));
    }
    if (depthExceeds(parsed, MAX_JSON_DEPTH)) {
      return done(Object.assign(new Error(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`), { statusCode: 400 }));
    }
    done(null, parsed);
  });

  server.addHook('preValidation', async (req) => {
    const bodyless = req.body === undefined && req.headers['content-type'] === undefined;
    if (req.method === 'POST' && bodyless && req.url.startsWith('/api/') && !req.url.startsWith('/api/trpc')) {
      req.headers['content-type'] = 'application/json';
      req.body = {};
    }
  });
}
