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
  /** For /readyz: false while the log's last write failed (and none succeeded since). Absent: judged elsewhere. */
  healthy?(): boolean;
  close(): Promise<void>;
}
