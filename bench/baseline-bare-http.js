/**
 * The floor for the start-up scenario: a bare Node HTTP server, plain JavaScript started with
 * plain `node` exactly as the compiled atlas-chat server is, answering GET /healthz. Whatever
 * atlas-chat takes beyond this (to healthy, and in RSS at idle) is its own: modules, database,
 * migrations, routes.
 */
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
    return;
  }
  res.writeHead(404).end();
});
server.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
