/**
 * HTTP client for internal endpoints: undici with keep-alive pools per origin, every request
 * signed with the cluster secret (HMAC of method, path, time and body: internal-auth.ts), JSON
 * both ways, and a bounded wait.
 *
 * Per-request cost matters here (at light load every message is one request): a Pool per origin
 * is asked directly (no URL parsing, no Agent lookup), and the wait is bounded by undici's own
 * headers and body timeouts rather than an AbortSignal timer per request (measured with
 * scripts/src/bench/http-bench.ts: about a third of the client's CPU per request).
 */
import { Pool } from 'undici';
import { internalAuthHeaders } from './internal-auth.ts';

export interface InternalClientOptions {
  secret: string;
  /** Whole-request deadline in ms. */
  timeoutMs?: number;
  /** Keep-alive connections per origin. */
  connections?: number;
}

/**
 * A peer answered outside 2xx. Its status is the peer's answer, not this request's: named `status`,
 * not `statusCode`, so `errorAnswer` does not take it for the status to answer with (a node whose
 * history request sv-persist refuses answers its client `unavailable`).
 */
export class InternalHttpError extends Error {
  constructor(readonly status: number, readonly body: string, url: string) {
    super(`internal request to ${url} failed with ${status}: ${body.slice(0, 200)}`);
  }
}

export class InternalClient {
  private readonly pools = new Map<string, { pool: Pool; prefix: string }>();
  private readonly secret: string;
  private readonly timeoutMs: number;
  private readonly connections: number;

  constructor(opts: InternalClientOptions) {
    this.secret = opts.secret;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.connections = opts.connections ?? 16;
  }

  /** POST `body` as JSON to base+path; resolves with the parsed JSON reply, rejects on non-2xx or timeout. */
  post<R>(base: string, path: string, body: unknown): Promise<R> {
    return this.send<R>('POST', base, path, JSON.stringify(body));
  }

  /** GET base+path (with query already encoded). */
  get<R>(base: string, pathAndQuery: string): Promise<R> {
    return this.send<R>('GET', base, pathAndQuery, undefined);
  }

  /** `base` is a service URL (origin, maybe a path prefix); the request target is signed as sent. */
  private async send<R>(method: 'GET' | 'POST', base: string, pathAndQuery: string, body: string | undefined): Promise<R> {
    const { pool, prefix } = this.poolFor(base);
    const path = prefix + pathAndQuery;
    const auth = internalAuthHeaders(this.secret, { method, path, body });
    const res = await pool.request({
      method,
      path,
      body,
      headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' },
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode >= 300) throw new InternalHttpError(res.statusCode, text, base + pathAndQuery);
    return JSON.parse(text) as R;
  }

  private poolFor(base: string): { pool: Pool; prefix: string } {
    let entry = this.pools.get(base);
    if (!entry) {
      const url = new URL(base);
      entry = {
        pool: new Pool(url.origin, { connections: this.connections, keepAliveTimeout: 30_000, pipelining: 1 }),
        prefix: url.pathname.replace(/\/+$/, ''),
      };
      this.pools.set(base, entry);
    }
    return entry;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.pool.close()));
    this.pools.clear();
  }
}
