import type { FastifyInstance } from 'fastify';

/** `…/messages/{seq}/reactions/` with nothing after the last slash (a query string may follow). */
const EMPTY_EMOJI = /^\/api\/rooms\/[^/?]+\/messages\/[^/?]+\/reactions\/?(?:\?.*)?$/;
const PROCEDURE: Record<string, string> = { PUT: 'messages.react', DELETE: 'messages.unreact' };

/**
 * `PUT /api/rooms/{room}/messages/{seq}/reactions/` (the emoji left out, e.g. an empty variable in a
 * script) matches no REST route, and the REST adapter would answer 404 "Not found", as if the room or
 * message were missing. Answer what the procedure answers to an empty emoji instead: 400 naming the
 * field, in the same body as any validation error.
 */
export function registerEmptyEmojiAnswer(server: FastifyInstance): void {
  server.addHook('onRequest', async (req, reply) => {
    const path = PROCEDURE[req.method];
    if (path === undefined || !EMPTY_EMOJI.test(req.url)) return;
    const message = 'emoji is required';
    return reply
      .code(400)
      .type('application/json')
      .send({
        message: 'Input validation failed',
        code: 'BAD_REQUEST',
        data: { code: 'BAD_REQUEST', httpStatus: 400, path, fieldErrors: { emoji: [message] } },
        issues: [{ code: 'custom', path: ['emoji'], message }],
      });
  });
}
