import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { fastifyTRPCOpenApiPlugin, generateOpenApiDocument } from 'trpc-to-openapi';
import type { createContextFactory } from '../context.ts';
import { appRouter } from '../routers/app-router.ts';

export function createOpenApiDocument() {
  return generateOpenApiDocument(appRouter, {
    title: 'atlas-chat REST API',
    description:
      'Generated from the same tRPC router as /api/trpc. Authenticate with "Authorization: Bearer <token>" from sign-up or sign-in (browsers use the session cookie).',
    version: '1.0.0',
    baseUrl: '/api',
    tags: ['auth', 'rooms', 'messages', 'stats'],
  });
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

  await server.register(fastifyTRPCOpenApiPlugin, {
    basePath: '/api',
    router: appRouter,
    createContext,
    onError({ error, path }: { error: { code: string }; path?: string }) {
      if (error.code === 'INTERNAL_SERVER_ERROR') server.log.error({ err: error, path }, 'REST procedure failed');
    },
  });
}
