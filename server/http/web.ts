import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { webDistDir } from '../package-root.ts';
import { sendError } from './errors.ts';

const placeholder = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>atlas-chat</title></head>
<body><main><h1>atlas-chat</h1><p>The web app is not built yet: run <code>npm run build</code>.
The API is at <a href="/api/docs">/api/docs</a>.</p></main></body></html>`;

/** Serves the built web app; any other GET outside /api gets index.html so client routes load. */
export async function registerWebApp(server: FastifyInstance): Promise<void> {
  const root = webDistDir();
  const built = existsSync(join(root, 'index.html'));
  if (built) {
    await server.register(fastifyStatic, { root, wildcard: false, index: 'index.html' });
  }
  server.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    if (req.method !== 'GET' || path.startsWith('/api/') || path === '/api' || /\.[a-z0-9]+$/i.test(path)) {
      return sendError(req, reply, 404, `No route for ${req.method} ${path}`);
    }
    if (!built) return reply.type('text/html').send(placeholder);
    return reply.sendFile('index.html');
  });
}
