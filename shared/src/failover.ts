/**
 * Several instances of one internal service (sv-discover on one Redis, persisters behind one
 * database): a call goes to the instance that answered last, then to each other one in turn.
 * A refusal of the request itself (400, 403) ends the round: every instance would answer the same.
 */
import { InternalHttpError } from './internal-client.ts';

function refusedOutright(err: unknown): boolean {
  return err instanceof InternalHttpError && (err.status === 400 || err.status === 403);
}

export class Failover {
  private current = 0;

  constructor(readonly baseUrls: readonly string[]) {
    if (baseUrls.length === 0) throw new Error('Failover needs at least one URL');
  }

  /** Run `call` against one instance after another until one resolves or refuses; rejects with the last error. */
  async run<R>(call: (baseUrl: string) => Promise<R>): Promise<R> {
    let lastError: unknown;
    for (let tried = 0; tried < this.baseUrls.length; tried++) {
      const i = (this.current + tried) % this.baseUrls.length;
      try {
        const result = await call(this.baseUrls[i]!);
        this.current = i;
        return result;
      } catch (err) {
        if (refusedOutright(err)) throw err;
        lastError = err;
      }
    }
    throw lastError;
  }
}
