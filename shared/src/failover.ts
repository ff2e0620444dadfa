/**
 * Several instances of one internal service (sv-discover on one Redis, persisters behind one
 * database): a call goes to the instance that answered last, then to each other one in turn.
 */
export class Failover {
  private current = 0;

  constructor(readonly baseUrls: readonly string[]) {
    if (baseUrls.length === 0) throw new Error('Failover needs at least one URL');
  }

  /** Run `call` against one instance after another until one resolves; rejects with the last error. */
  async run<R>(call: (baseUrl: string) => Promise<R>): Promise<R> {
    let lastError: unknown;
    for (let tried = 0; tried < this.baseUrls.length; tried++) {
      const i = (this.current + tried) % this.baseUrls.length;
      try {
        const result = await call(this.baseUrls[i]!);
        this.current = i;
        return result;
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  }
}
