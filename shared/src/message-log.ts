import type { Accepted, NewMessage } from './types.ts';

/**
 * Where a node appends messages. `append` resolves only once every message is durable, which is
 * when its sender gets `ack`; it rejects (wire `unavailable`) when that cannot be promised, and
 * then nothing of the batch may be reported as accepted.
 * Implementations: DirectMessageLog (no KAFKA_BROKERS: the ingest stream to sv-persist, resolves after the
 * database commit), KafkaMessageLog (acks = all).
 */
export interface MessageLog {
  /** Results are in the order of `msgs`. */
  append(msgs: NewMessage[]): Promise<Accepted[]>;
  /**
   * How long the oldest message not yet durable has waited in this node, in ms (0 when none). A
   * node refuses sends while it is above LOG_MAX_WAIT_MS: past capacity, queuing more only makes
   * every ack later. Absent: never refuse on it.
   */
  backlogMs?(): number;
  /** For /readyz: false while the log's last write failed (and none succeeded since). Absent: judged elsewhere. */
  healthy?(): boolean;
  close(): Promise<void>;
}
