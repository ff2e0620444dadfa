/** Signed internal requests for tests: the same HMAC the services' InternalClient sends. */
import { WebSocket } from 'ws';
import { internalAuthHeaders } from '@chat/shared/internal-auth';

export interface SignedRequest {
  method: 'GET' | 'POST';
  /** Path and query (for app.inject). */
  url: string;
  headers: Record<string, string>;
  /** The exact body that was signed (JSON text), for app.inject's `payload`. */
  payload?: string;
  /** Same as payload, for undici's / fetch's `body`. */
  body?: string;
}

/**
 * A request to `url` (a path, or a full URL whose path and query are signed), signed with
 * `secret`; `body` is sent as JSON text unless it is already a string.
 */
export function signedRequest(secret: string, method: 'GET' | 'POST', url: string, body?: unknown, now?: number): SignedRequest {
  const path = /^https?:/.test(url) ? (({ pathname, search }) => pathname + search)(new URL(url)) : url;
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const headers = internalAuthHeaders(secret, { method, path, body: text, now });
  if (text !== undefined) headers['content-type'] = 'application/json';
  return text === undefined ? { method, url, headers } : { method, url, headers, payload: text, body: text };
}

/**
 * A raw internal WebSocket to `wsUrl` (ws://host:port/path) with these upgrade headers: resolves
 * once open, rejects with `status N` when the upgrade is refused.
 */
export function openRawSocket(wsUrl: string, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => { ws.terminate(); reject(new Error(`status ${res.statusCode}`)); });
    ws.once('error', reject);
  });
}
