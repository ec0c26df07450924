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

const badRequest = (message: string) => Object.assign(new Error(message), { statusCode: 400 });

/** Why Fastify's parser refused a body: plain JSON.parse tells a syntax error from a poisoning attempt. */
function refusal(text: string): Error {
  try {
    JSON.parse(text);
  } catch (error) {
    return badRequest(`Request body is not valid JSON: ${error instanceof Error ? error.message : 'unknown error'}`);
  }
  return badRequest('Request body must not use the keys "__proto__" or "constructor.prototype"');
}

/**
 * JSON bodies for the REST API, parsed by Fastify's own secure parser (secure-json-parse), which
 * refuses `__proto__` and `constructor.prototype` keys: a prototype-pollution attempt gets a 400.
 * Two things that parser leaves to us:
 * - absurdly nested JSON (thousands of `[`) is refused with a 400; the REST adapter stringifies
 *   bodies recursively and would otherwise overflow the stack and answer 500;
 * - a POST, PUT or PATCH with no body at all (`curl -X POST …/sign-out`, `curl -X PUT …/reactions/👍`)
 *   is treated as `{}` instead of 415.
 * The tRPC adapter installs its own parser in its own scope, so this does not touch /api/trpc.
 */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

export function registerJsonBody(server: FastifyInstance): void {
  const secureParse = server.getDefaultJsonParser('error', 'error');
  server.removeContentTypeParser('application/json');
  server.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, {});
    secureParse(req, text, (error, parsed) => {
      if (error) return done(refusal(text));
      if (depthExceeds(parsed, MAX_JSON_DEPTH)) {
        return done(badRequest(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`));
      }
      done(null, parsed);
    });
  });

  server.addHook('preValidation', async (req) => {
    const bodyless = req.body === undefined && req.headers['content-type'] === undefined;
    if (BODY_METHODS.has(req.method) && bodyless && req.url.startsWith('/api/') && !req.url.startsWith('/api/trpc')) {
      req.headers['content-type'] = 'application/json';
      req.body = {};
    }
  });
}
