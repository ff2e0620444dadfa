/**
 * Kafka records to messages: a record's value is a NewMessage in the message log's format, and its
 * seq follows from the record's offset (shared/src/kafka-log.ts), the same seq the node acked.
 */
import type { KafkaMessage } from 'kafkajs';
import { decodeRecordValue, seqFromOffset } from '@chat/shared/kafka-log';
import type { Logger } from '@chat/shared/logger';
import type { Message } from '@chat/shared/types';
import type { ConsumerStats } from './consumer-stats.ts';

export class RecordDecoder {
  /** `seqGeneration`: KAFKA_SEQ_GENERATION, the same value the nodes use to ack. */
  constructor(private readonly seqGeneration: number, private readonly stats: ConsumerStats, private readonly log: Logger) {}

  /** The records' messages in offset order; a record that is not a NewMessage is counted, logged and skipped. */
  decode(topic: string, partition: number, records: KafkaMessage[]): Message[] {
    const out: Message[] = [];
    for (const r of records) {
      const m = decodeRecordValue(r.value);
      if (m) {
        out.push({ ...m, seq: seqFromOffset(this.seqGeneration, r.offset) });
      } else {
        // Nodes produce only validated messages and acked nobody for this one.
        this.stats.undecodable++;
        this.log.warn({ partition, offset: r.offset, topic }, 'undecodable record skipped');
      }
    }
    return out;
  }
}
