/**
 * HTTP client for internal endpoints: undici with keep-alive pools per origin, every request
 * signed with the cluster secret (HMAC of method, path, time and body: internal-auth.ts), JSON
 * both ways, and a bounded wait.
 */
import { Agent, request } from 'undici';
import { internalAuthHeaders } from './internal-auth.ts';

export interface InternalClientOptions {
  secret: string;
  /** Whole-request deadline in ms. */
  timeoutMs?: number;
  /** Keep-alive connections per origin. */
  connections?: number;
}

export class InternalHttpError extends Error {
  constructor(readonly statusCode: number, readonly body: string, url: string) {
    super(`internal request to ${url} failed with ${statusCode}: ${body.slice(0, 200)}`);
  }
}

export class InternalClient {
  private readonly agent: Agent;
  private readonly secret: string;
  private readonly timeoutMs: number;

  constructor(opts: InternalClientOptions) {
    this.secret = opts.secret;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.agent = new Agent({ connections: opts.connections ?? 16, keepAliveTimeout: 30_000, pipelining: 1 });
  }

  /** POST `body` as JSON to base+path; resolves with the parsed JSON reply, rejects on non-2xx or timeout. */
  post<R>(base: string, path: string, body: unknown): Promise<R> {
    return this.send<R>('POST', base + path, JSON.stringify(body));
  }

  /** GET base+path (with query already encoded). */
  get<R>(base: string, pathAndQuery: string): Promise<R> {
    return this.send<R>('GET', base + pathAndQuery, undefined);
  }

  private async send<R>(method: 'GET' | 'POST', url: string, body: string | undefined): Promise<R> {
    const { pathname, search } = new URL(url);
    const auth = internalAuthHeaders(this.secret, { method, path: pathname + search, body });
    const res = await request(url, {
      method,
      body,
      dispatcher: this.agent,
      headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' },
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode >= 300) throw new InternalHttpError(res.statusCode, text, url);
    return JSON.parse(text) as R;
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
