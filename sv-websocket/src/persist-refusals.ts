/**
 * sv-persist refuses what a user may not do (403: not a member of the room, not its owner) or what
 * breaks its rules (400: a room over MAX_ROOM_MEMBERS). Such a refusal is the client's answer,
 * `forbidden` or `bad_request` with sv-persist's reason, not an outage: another persister would
 * refuse the same, so failover stops there (failover.ts).
 */
import { ERR_BAD_REQUEST, ERR_FORBIDDEN } from '@chat/shared/errors';
import type { Failover } from '@chat/shared/failover';
import { InternalHttpError } from '@chat/shared/internal-client';

/** Run `call` on one persister after another until one answers or refuses; a refusal rejects as its wire error. */
export async function runUnlessRefused<R>(targets: Failover, call: (baseUrl: string) => Promise<R>): Promise<R> {
  try {
    return await targets.run(call);
  } catch (err) {
    throw refusalOf(err) ?? err;
  }
}

/** The wire error of a refusal (403, 400), or undefined for anything else. */
function refusalOf(err: unknown): Error | undefined {
  if (!(err instanceof InternalHttpError) || (err.status !== 403 && err.status !== 400)) return undefined;
  const reason = reasonOf(err.body);
  return err.status === 403 ? new ERR_FORBIDDEN(reason.replace(/^Forbidden: /, '')) : new ERR_BAD_REQUEST(reason);
}

/** The `message` of an error body (`{"error","message"}`), or a plain reason when it has none. */
function reasonOf(body: string): string {
  try {
    const message = (JSON.parse(body) as { message?: unknown } | null)?.message;
    if (typeof message === 'string' && message.length > 0) return message.slice(0, 200);
  } catch {
    // not JSON: the status says enough
  }
  return 'refused';
}
