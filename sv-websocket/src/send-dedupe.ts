/**
 * Kafka mode's dedupe of repeated cids, assembled: the node's own record of recent sends
 * (RecentSendsLog, answering a repeat on this node without a round trip) in front of the record
 * every node shares (ClaimingLog over sv-discover, and sv-persist for records without a seq),
 * in front of the Kafka log. Its outcomes are counted in `chat_send_dedupe_total{outcome}`.
 */
import type { Registry } from 'prom-client';
import { Counter } from 'prom-client';
import { FailureLog } from '@chat/shared/failure-log';
import type { InternalClient } from '@chat/shared/internal-client';
import type { Logger } from '@chat/shared/logger';
import type { MessageLog } from '@chat/shared/message-log';
import { ClaimingLog } from './claiming-log.ts';
import { RecentSendsLog } from './recent-sends.ts';
import { SendLedgerClient } from './send-ledger-client.ts';
import { HttpStoredSends } from './stored-sends.ts';

export interface SendDedupeDeps {
  /** For sv-persist's lookups (rare: records without a seq). */
  client: InternalClient;
  /** The cluster secret, for the sends stream to sv-discover. */
  secret: string;
  discoverUrls: readonly string[];
  persistUrls: readonly string[];
  logger: Logger;
  /** The node's metrics registry. */
  metrics: Registry;
  claimTimeoutMs: number;
  storeWaitMs: number;
}

export function withSendDedupe(kafkaLog: MessageLog, deps: SendDedupeDeps): MessageLog {
  const outcomes = new Counter({
    name: 'chat_send_dedupe_total', labelNames: ['outcome'], registers: [deps.metrics],
    help: 'Sends by how the record of sends answered: new, repeat (acked as the original), stored (a repeat resolved from the store), '
      + 'rewritten (a claim whose message was never written, written now), fallback (sv-discover did not answer: this node\'s record only)',
  });
  const claiming = new ClaimingLog(
    kafkaLog,
    new SendLedgerClient(deps.discoverUrls, { secret: deps.secret }),
    new HttpStoredSends(deps.client, deps.persistUrls),
    new FailureLog(deps.logger),
    { claimTimeoutMs: deps.claimTimeoutMs, storeWaitMs: deps.storeWaitMs, onOutcome: (outcome) => outcomes.inc({ outcome }) },
  );
  return new RecentSendsLog(claiming);
}
