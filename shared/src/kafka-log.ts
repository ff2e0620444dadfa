/**
 * The Kafka message log's record format and `seq` rule, shared by the producer (sv-websocket) and
 * the consumer (sv-persist) so both sides agree by construction.
 *
 * - key = conversationKey(from, to): a conversation always lands in one partition, in order.
 * - value = JSON of the NewMessage (id, from, to, cid, body, ts), validated on the way in.
 * - seq = generation · 2^40 + offset + 1 of the record in its partition (+ 1: a seq is never 0,
 *   so `history after 0` reads from the start, as in direct mode). Offsets strictly increase
 *   in a partition in the order the broker made records durable, which is exactly the order `seq`
 *   must follow within a conversation. The generation (KAFKA_SEQ_GENERATION) is bumped by an
 *   operator who recreates the topic or changes its partition count, so seqs keep increasing.
 */
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { newMessageSchema } from './internal-api.ts';
import { conversationKey, type NewMessage } from './types.ts';

/** Room for 2^40 (~1.1e12) records per partition per generation; 8191 generations fit below 2^53. */
export const OFFSET_BITS = 40;
export const MAX_GENERATION = Math.floor(Number.MAX_SAFE_INTEGER / 2 ** OFFSET_BITS);

/** A generation's seqs run from generation · 2^40 + 1 to (generation + 1) · 2^40, below the next one's. */
export function seqFromOffset(generation: number, offset: string | number | bigint): number {
  const off = Number(offset);
  if (!Number.isSafeInteger(off) || off < 0 || off >= 2 ** OFFSET_BITS) throw new RangeError(`offset ${offset} out of range`);
  return generation * 2 ** OFFSET_BITS + off + 1;
}

export function recordKey(m: Pick<NewMessage, 'from' | 'to'>): string {
  return conversationKey(m.from, m.to);
}

export function encodeRecordValue(m: NewMessage): string {
  return JSON.stringify({ id: m.id, from: m.from, to: m.to, cid: m.cid, body: m.body, ts: m.ts });
}

/** The message in a record value, or undefined for a record that is not one of ours (logged and skipped by the consumer). */
export function decodeRecordValue(value: Buffer | null): NewMessage | undefined {
  if (!value) return undefined;
  try {
    const parsed = newMessageSchema.safeParse(JSON.parse(value.toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const javaCompatible = Partitioners.DefaultPartitioner();

/**
 * The partition of a key among `partitions`: the same murmur2 rule as kafkajs's (and Java's)
 * default partitioner. The producer sets it explicitly so it knows which records share a
 * partition in one produce request, and so each record's offset (its seq) follows from the
 * partition's base offset.
 */
export function partitionFor(key: string, partitions: number): number {
  return javaCompatible({ topic: '', partitionMetadata: metadataOf(partitions), message: { key, value: null } });
}

/** The partitioner's view of a topic with `partitions` partitions, built once per count (it was a share of a node's CPU built per record). */
const metadataByCount = new Map<number, PartitionMetadata[]>();
function metadataOf(partitions: number): PartitionMetadata[] {
  let metadata = metadataByCount.get(partitions);
  if (!metadata) {
    metadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
    metadataByCount.set(partitions, metadata);
  }
  return metadata;
}
