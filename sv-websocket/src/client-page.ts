/**
 * Serves the bundled page (sv-websocket/public: its HTML, stylesheet and ES modules) at /client, and next to it the client
 * library's modules (shared/client) at /client/<module>.js, so any page can import
 * /client/chat-client.js from the node. Read once at start.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

const PUBLIC = new URL('../public/', import.meta.url);
const LIBRARY = new URL('./', import.meta.resolve('@chat/shared/client/chat-client.js'));
const JS = 'text/javascript; charset=utf-8';
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': JS,
  '.css': 'text/css; charset=utf-8',
};
const typeOf = (name: string) => TYPES[name.slice(name.lastIndexOf('.'))];
// The page talks only to the node that served it; no inline script, no third-party resource.
const CSP = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'";

export function serveClientPage(app: FastifyInstance): void {
  const files = new Map<string, { body: Buffer; type: string }>();
  let assets: string[] = [];
  try {
    assets = readdirSync(PUBLIC).filter((name) => typeOf(name) !== undefined);
  } catch {
    app.log.warn({ dir: PUBLIC.pathname }, 'client page assets missing');
  }
  for (const name of assets) files.set(name, { body: readFileSync(new URL(name, PUBLIC)), type: typeOf(name)! });
  const modules = readdirSync(LIBRARY).filter((name) => name.endsWith('.js') && !files.has(name));
  for (const name of modules) files.set(name, { body: readFileSync(new URL(name, LIBRARY)), type: JS });
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
  for (const name of [...assets, ...modules]) app.get(`/client/${name}`, serve(name));
}
