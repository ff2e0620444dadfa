/** A MessageLog for unit tests: appends wait until the test settles them, and seqs count up in append order. */
import { ERR_LOG_UNAVAILABLE } from '@chat/shared/errors';
import type { MessageLog } from '@chat/shared/message-log';
import type { Accepted, NewMessage } from '@chat/shared/types';

export class ScriptedLog implements MessageLog {
  calls: NewMessage[][] = [];
  closed = false;
  private pending: { msgs: NewMessage[]; resolve: (a: Accepted[]) => void; reject: (e: unknown) => void }[] = [];
  private seq = 0;

  /** `autoSucceed`: every append succeeds at once. */
  constructor(private readonly autoSucceed = false) {}

  append(msgs: NewMessage[]): Promise<Accepted[]> {
    this.calls.push(msgs);
    const done = new Promise<Accepted[]>((resolve, reject) => this.pending.push({ msgs, resolve, reject }));
    if (this.autoSucceed) this.succeed();
    return done;
  }

  /** Settle the oldest pending append. */
  succeed(): void {
    const p = this.pending.shift()!;
    p.resolve(p.msgs.map((m) => ({ id: m.id, seq: ++this.seq, ts: m.ts, duplicate: false })));
  }

  fail(): void {
    this.pending.shift()!.reject(new ERR_LOG_UNAVAILABLE('down'));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
