/** What Postgres holds for a set of acked messages, polled until it has them all (persistence lags the ack in Kafka mode). */
import assert from 'node:assert/strict';
import { withPg } from '@chat/shared/local-postgres';
import type { TestClient } from '@chat/shared/protocol-client';
import { eventually } from '@chat/shared/testing/eventually';

export interface AckedMessage {
  from: string;
  cid: string;
  id: string;
  seq: number;
}

interface StoredRow {
  sender: string;
  cid: string;
  id: string;
  seq: string;
}

/**
 * Wait until every acked message is stored, then assert each (sender, cid) is stored exactly once
 * with the acked id and seq. Fails after `timeoutMs` with what is missing.
 */
export async function expectStoredExactlyOnce(databaseUrl: string, acked: AckedMessage[], timeoutMs = 60_000): Promise<void> {
  const byKey = new Map<string, StoredRow[]>();
  const missing = () => acked.filter((a) => !byKey.has(`${a.from}\n${a.cid}`));
  await eventually(`${acked.length} acked messages stored`, async () => {
    const rows = await withPg(databaseUrl, (q) => q<StoredRow>(
      `SELECT m.sender, m.cid, m.id::text AS id, m.seq::text AS seq
         FROM messages m JOIN unnest($1::text[], $2::text[]) AS k(sender, cid) USING (sender, cid)`,
      [acked.map((a) => a.from), acked.map((a) => a.cid)],
    ));
    byKey.clear();
    for (const r of rows) byKey.set(`${r.sender}\n${r.cid}`, [...(byKey.get(`${r.sender}\n${r.cid}`) ?? []), r]);
    return rows.length >= acked.length;
  }, timeoutMs, () => ({ ackedButNotStored: missing().slice(0, 5) }));
  assert.deepEqual(missing().slice(0, 5), [], 'acked but not stored');
  for (const a of acked) {
    const stored = byKey.get(`${a.from}\n${a.cid}`)!;
    assert.equal(stored.length, 1, `stored ${stored.length} times: ${a.from}/${a.cid}`);
    assert.equal(stored[0]!.id, a.id, `stored id of ${a.from}/${a.cid} is the acked one`);
    assert.equal(Number(stored[0]!.seq), a.seq, `stored seq of ${a.from}/${a.cid} is the acked one`);
  }
}

/** `send` awaits the ack of each message and records it in `acked`, for expectStoredExactlyOnce. */
export function ackRecorder() {
  const acked: AckedMessage[] = [];
  const send = async (from: TestClient, user: string, to: string, cid: string) => {
    const ack = await from.sendMessage(to, `${cid} body`, cid);
    acked.push({ from: user, cid, id: ack.id, seq: ack.seq });
    return ack;
  };
  return { acked, send };
}
