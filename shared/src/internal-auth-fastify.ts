/**
 * The one place every service checks internal requests (`/internal/*`): register it on the root
 * fastify instance and every internal route, known or not, refuses a request that does not carry
 * a valid HMAC of itself (see internal-auth.ts).
 *
 * - `onRequest`: header shape and clock window, before a byte of the body is read.
 * - `preParsing`: reads the raw body (bounded by the route's bodyLimit), checks the MAC over the
 *   exact bytes received, and hands the same bytes on to fastify's JSON parser: the body is parsed
 *   only once it is proven.
 *
 * Also: `httpServerOptions`, the timeouts and header bound every service's HTTP server uses.
 */
import { PassThrough, type Readable } from 'node:stream';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AUTH_HEADER } from './internal-api.ts';
import { createInternalAuthVerifier, INTERNAL_AUTH_WINDOW_MS, type PendingAuth } from './internal-auth.ts';

export interface InternalAuthOptions {
  secret: string;
  /** URL prefix of the internal routes. @default '/internal/' */
  prefix?: string;
  /** @default INTERNAL_AUTH_WINDOW_MS (30 s) */
  windowMs?: number;
}

/** Timeouts and limits for every service's fastify (pass with its own bodyLimit). */
export const httpServerOptions = {
  /** Whole request (headers and body) must arrive within this: slow-loris senders are cut off. */
  requestTimeout: 30_000,
  /** Idle keep-alive sockets are closed after this; clients are told (Keep-Alive: timeout=10). */
  keepAliveTimeout: 10_000,
  /** Socket inactivity limit; longer than keepAliveTimeout so a keep-alive client never races it. */
  connectionTimeout: 60_000,
  /** Total request header bytes (Node's default, stated): larger gets 431. */
  http: { maxHeaderSize: 16 * 1024 },
} as const;

class HttpError extends Error {
  constructor(readonly statusCode: number, message: string) {
    super(message);
  }
}

/** Read a request stream whole, refusing more than `limit` bytes. */
function readBody(stream: Readable, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        stream.resume(); // drain, do not keep
        return reject(new HttpError(413, 'request body is too large'));
      }
      chunks.push(chunk);
    };
    const onEnd = () => { cleanup(); resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)); };
    const onError = (err: Error) => { cleanup(); reject(err); };
    const onClose = () => { cleanup(); reject(new HttpError(400, 'request aborted')); };
    function cleanup() {
      stream.off('data', onData); stream.off('end', onEnd); stream.off('error', onError); stream.off('close', onClose);
    }
    stream.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

export function registerInternalAuth<L extends FastifyBaseLogger>(
  app: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, L>,
  opts: InternalAuthOptions,
): void {
  const prefix = opts.prefix ?? '/internal/';
  const verifier = createInternalAuthVerifier(opts.secret, opts.windowMs ?? INTERNAL_AUTH_WINDOW_MS);
  const pending = new WeakMap<FastifyRequest, PendingAuth>();

  function refuse(req: FastifyRequest, reply: FastifyReply, reason: string): FastifyReply {
    // The offered header is never logged (the logger redacts it too).
    req.log.warn({ url: req.url, ip: req.ip, reason }, 'internal request refused');
    return reply.code(401).send({ error: 'unauthorized', message: 'missing or wrong cluster secret' });
  }

  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith(prefix)) return;
    const c = verifier.checkHeader(req.headers[AUTH_HEADER]);
    if (!c.ok) return refuse(req, reply, c.reason);
    pending.set(req, c.auth);
  });

  app.addHook('preParsing', async (req, reply, payload) => {
    const auth = pending.get(req);
    if (!auth) return payload;
    pending.delete(req);
    const limit = req.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit ?? 1024 * 1024;
    const declared = Number(req.headers['content-length']);
    if (declared > limit) throw new HttpError(413, 'request body is too large');
    const body = await readBody(payload, limit);
    if (!verifier.verify(auth, req.method, req.url, body)) {
      refuse(req, reply, 'bad signature');
      return payload;
    }
    // Hand the verified bytes to fastify's own parser.
    const replay = new PassThrough() as PassThrough & { receivedEncodedLength?: number };
    replay.receivedEncodedLength = body.length;
    replay.end(body);
    return replay;
  });
}
