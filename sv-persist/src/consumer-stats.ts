/** The Kafka consumer's counters: the lifecycle, the decoder and the insert lanes each add to them. */

/** Counters since start; a test or /readyz reads them, nothing resets them. */
export interface ConsumerStats {
  /** Records seen (decodable or not), across retries counted once. */
  records: number;
  inserted: number;
  duplicates: number;
  /** Records that are not a NewMessage: logged and skipped. */
  undecodable: number;
  /** Stored with a seq below the conversation's last (see LoggedInsertResult.regressed). */
  regressions: number;
  /** Not stored: their (conversation, seq) belongs to another message. */
  collisions: number;
  /** Failed insert statements (their records are each retried). */
  insertFailures: number;
  /** Commit time minus `ts` of the newest message of the last stored chunk, ms (persist lag). */
  lagMs: number;
}

export function newConsumerStats(): ConsumerStats {
  return { records: 0, inserted: 0, duplicates: 0, undecodable: 0, regressions: 0, collisions: 0, insertFailures: 0, lagMs: 0 };
}
