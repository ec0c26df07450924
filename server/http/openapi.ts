import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { fastifyTRPCOpenApiPlugin, generateOpenApiDocument } from 'trpc-to-openapi';
import type { createContextFactory } from '../context.ts';
import { appRouter } from '../routers/app-router.ts';
import { registerEmptyEmojiAnswer } from './empty-emoji.ts';
import { registerRestSingleCalls } from './rest-single-call.ts';

type Operation = { security?: unknown[]; responses?: Record<string, unknown> };

/** Answers every REST operation can give besides its own, added where a procedure did not list them. */
const SHARED_RESPONSES: Array<{ status: string; code: string; description: string; securedOnly: boolean }> = [
  {
    status: '401',
    code: 'UNAUTHORIZED',
    description: 'Not signed in: send "Authorization: Bearer <token>" or the session cookie',
    securedOnly: true,
  },
  {
    status: '429',
    code: 'TOO_MANY_REQUESTS',
    description: 'Too many requests from this address (the per-IP request rate); see Retry-After',
    securedOnly: false,
  },
  {
    status: '503',
    code: 'SERVICE_UNAVAILABLE',
    description: 'The database is unavailable; try again shortly',
    securedOnly: false,
  },
];

/**
 * trpc-to-openapi lists only the errors a procedure declares (or, without a list, a generic
 * 400/401/403/500). The document should say what the API really answers: 401 on every signed-in
 * route, and the request-rate 429 and database 503 everywhere.
 */
function completeResponses<T extends { paths?: unknown }>(document: T): T {
  for (const methods of Object.values((document.paths ?? {}) as Record<string, Record<string, Operation>>)) {
    for (const operation of Object.values(methods)) {
      operation.responses ??= {};
      const responses = operation.responses;
      const secured = (operation.security?.length ?? 0) > 0;
      for (const shared of SHARED_RESPONSES) {
        if (responses[shared.status] || (shared.securedOnly && !secured)) continue;
        responses[shared.status] = {
          description: shared.description,
          content: { 'application/json': { schema: { $ref: `#/components/schemas/error.${shared.code}` } } },
        };
      }
    }
  }
  return document;
}

export function createOpenApiDocument() {
  return completeResponses(
    generateOpenApiDocument(appRouter, {
      title: 'atlas-chat REST API',
      description:
        'Generated from the same tRPC router as /api/trpc. Authenticate with "Authorization: Bearer <token>" from sign-up or sign-in (browsers use the session cookie).',
      version: '1.0.0',
      baseUrl: '/api',
      tags: ['auth', 'rooms', 'messages', 'stats'],
    }),
  );
}

/** A path the REST adapter serves (not tRPC's own endpoint, the document or Swagger UI). */
function isRestPath(url: string): boolean {
  return (
    url.startsWith('/api/') &&
    !url.startsWith('/api/trpc') &&
    !url.startsWith('/api/docs') &&
    !url.startsWith('/api/openapi.json')
  );
}

/** REST under /api, its OpenAPI document at /api/openapi.json and Swagger UI at /api/docs. */
export async function registerRestApi(
  server: FastifyInstance,
  createContext: ReturnType<typeof createContextFactory>,
): Promise<void> {
  const document = createOpenApiDocument();
  server.get('/api/openapi.json', async () => document);

  // Swagger UI's assets ship inside @fastify/swagger-ui and are served from here: no CDN.
  await server.register(swagger, { mode: 'static', specification: { document: document as never } });
  await server.register(swaggerUi, { routePrefix: '/api/docs' });

  // trpc-to-openapi answers every HEAD with 204, even for a route that would answer 401 or 404
  // (adapters/node-http/core.ts). HEAD is GET without the body: run it as GET; Node's response
  // still knows the request was HEAD and sends no body.
  server.addHook('onRequest', async (req) => {
    if (req.raw.method === 'HEAD' && isRestPath(req.url)) req.raw.method = 'GET';
  });

  registerEmptyEmojiAnswer(server);
  const onError = ({ error, path }: { error: { code: string }; path?: string | undefined }) => {
    if (error.code === 'INTERNAL_SERVER_ERROR') server.log.error({ err: error, path }, 'REST procedure failed');
  };
  // Before the adapter's catch-all route, so that its hook applies to it.
  registerRestSingleCalls(server, { router: appRouter, createContext, onError });
  await server.register(fastifyTRPCOpenApiPlugin, { basePath: '/api', router: appRouter, createContext, onError });
}
