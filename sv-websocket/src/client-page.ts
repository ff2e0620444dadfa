/** Serves the bundled test page (sv-websocket/public) at /client; read once at start. */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

const PUBLIC = new URL('../public/', import.meta.url);
const FILES: Record<string, string> = {
  'client.html': 'text/html; charset=utf-8',
  'client.js': 'text/javascript; charset=utf-8',
  'client.css': 'text/css; charset=utf-8',
};
// The page talks only to the node that served it; no inline script, no third-party resource.
const CSP = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'";

export function serveClientPage(app: FastifyInstance): void {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const [name, type] of Object.entries(FILES)) {
    try {
      files.set(name, { body: readFileSync(new URL(name, PUBLIC)), type });
    } catch {
      app.log.warn({ file: name }, 'client page asset missing');
    }
  }
  const serve = (name: string) => async (_req: unknown, reply: import('fastify').FastifyReply) => {
    const file = files.get(name);
    if (!file) return reply.code(404).send({ error: 'not_found' });
    return reply
      .header('content-type', file.type)
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-cache')
      .send(file.body);
  };
  app.get('/client', serve('client.html'));
  app.get('/client/', serve('client.html'));
  app.get('/client/client.js', serve('client.js'));
  app.get('/client/client.css', serve('client.css'));
}
