/**
 * Persistence lag by sampled ids: workers report every n-th acked message id with its scheduled
 * send time; this polls Postgres for those ids (primary-key lookups) every 50 ms and records
 * send → visible-in-Postgres. Cheap enough to run beside the load.
 */
import { QueryTypes, Sequelize } from 'sequelize';
import { nowMs } from './clock.ts';
import { newHist, recordMs, summarize, type LatencySummary } from './hist.ts';

export class LagSampler {
  private readonly db: Sequelize;
  private readonly pending = new Map<string, number>();
  private readonly hist = newHist();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private errors = 0;

  constructor(databaseUrl: string) {
    this.db = new Sequelize(databaseUrl, { dialect: 'postgres', logging: false, pool: { max: 1, min: 0 } });
  }

  add(samples: { id: string; sched: number }[]): void {
    for (const s of samples) this.pending.set(s.id, s.sched);
  }

  get outstanding(): number {
    return this.pending.size;
  }

  start(): void {
    this.timer = setInterval(() => void this.poll(), 50);
  }

  private async poll(): Promise<void> {
    if (this.busy || this.pending.size === 0) return;
    this.busy = true;
    try {
      const ids = [...this.pending.keys()].slice(0, 5000);
      const rows = await this.db.query<{ id: string }>('SELECT id::text AS id FROM messages WHERE id = ANY($1::uuid[])', { bind: [ids], type: QueryTypes.SELECT });
      const now = nowMs();
      for (const { id } of rows) {
        recordMs(this.hist, now - this.pending.get(id)!);
        this.pending.delete(id);
      }
    } catch {
      this.errors++;
    } finally {
      this.busy = false;
    }
  }

  /** Wait until every sample is visible or `graceMs` passed; then stop. */
  async finish(graceMs: number): Promise<LatencySummary & { unseen: number; pollErrors: number }> {
    const until = nowMs() + graceMs;
    while (this.pending.size > 0 && nowMs() < until) await new Promise((r) => setTimeout(r, 50));
    clearInterval(this.timer);
    await this.db.close();
    return { ...summarize(this.hist), unseen: this.pending.size, pollErrors: this.errors };
  }
}
