/**
 * A Kafka-protocol broker for tests and the bench: `KAFKA_BROKERS` when set, else librdkafka's mock cluster
 * (Debian package librdkafka-dev), compiled once from scripts/kafka-mock/mock-cluster.c and started
 * on free ports, one per test file (startTestKafka call). The mock is not durable:
 * faults that need broker durability run against a real Kafka through KAFKA_BROKERS.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { onStop } from './started-services.ts';

const SOURCE = fileURLToPath(new URL('../../scripts/kafka-mock/mock-cluster.c', import.meta.url));
const BUILD_DIR = fileURLToPath(new URL('../../node_modules/.cache/chat-mesh/', import.meta.url));
const BINARY = `${BUILD_DIR}mock-cluster`;

export interface TestKafka {
  brokers: string[];
  /** True when the broker is a real one from KAFKA_BROKERS (no fault injection). */
  external: boolean;
  createTopic(name: string, partitions: number): Promise<void>;
  /** Take every broker down (connections refused) / bring them back. Mock cluster only. */
  setDown(down: boolean): Promise<void>;
}

let externalBroker: Promise<TestKafka> | undefined;

/**
 * A broker for one test file: KAFKA_BROKERS (shared, each file makes its own topics), else a mock
 * cluster of its own, so no file sees the consumer groups, topics or outages of another (the mock
 * accumulates group state, and a file may take its broker down).
 */
export function startTestKafka(opts: { mockBrokers?: number } = {}): Promise<TestKafka> {
  if (process.env.KAFKA_BROKERS) return (externalBroker ??= external(process.env.KAFKA_BROKERS.split(',')));
  return mock(opts.mockBrokers ?? 1);
}

/** A topic name unique to this run. */
export function uniqueTopic(name: string): string {
  return `${name}-${randomBytes(4).toString('hex')}`;
}

async function external(brokers: string[]): Promise<TestKafka> {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  onStop(() => admin.disconnect());
  return {
    brokers, external: true,
    async createTopic(topic, numPartitions) {
      await admin.createTopics({ topics: [{ topic, numPartitions, replicationFactor: 1 }], waitForLeaders: true });
    },
    async setDown() {
      throw new Error('broker fault injection needs the mock cluster (unset KAFKA_BROKERS)');
    },
  };
}

function build(): void {
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs >= statSync(SOURCE).mtimeMs) return;
  if (!existsSync('/usr/include/librdkafka/rdkafka_mock.h')) {
    throw new Error('the Kafka mock cluster needs the Debian package librdkafka-dev (apt-get install librdkafka-dev), or set KAFKA_BROKERS');
  }
  mkdirSync(BUILD_DIR, { recursive: true });
  execFileSync('cc', ['-O2', '-o', BINARY, SOURCE, '-lrdkafka'], { stdio: 'pipe' });
}

/** `brokers` mock brokers; partitions get their leaders spread over them, as on a real cluster. */
async function mock(brokers: number): Promise<TestKafka> {
  build();
  const child: ChildProcess = spawn(BINARY, [String(brokers)], { stdio: ['pipe', 'pipe', 'pipe'] });
  onStop(async () => {
    child.stdin!.end();
    if (child.exitCode === null) await new Promise((r) => { child.once('exit', r); setTimeout(() => child.kill('SIGKILL'), 3000).unref(); });
  });
  const lines: Interface = createInterface({ input: child.stdout! });
  const waiting: { prefix: string; resolve: (line: string) => void }[] = [];
  lines.on('line', (line) => {
    const i = waiting.findIndex((w) => line.startsWith(w.prefix));
    if (i !== -1) waiting.splice(i, 1)[0]!.resolve(line);
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const expect = (prefix: string) => new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mock cluster did not answer "${prefix}": ${stderr}`)), 10_000);
    waiting.push({ prefix, resolve: (l) => { clearTimeout(timer); resolve(l); } });
  });
  const command = async (cmd: string, answer: string) => {
    const done = expect(answer);
    child.stdin!.write(`${cmd}\n`);
    await done;
  };
  const bootstrap = await expect('bootstrap=');
  return {
    brokers: bootstrap.slice('bootstrap='.length).split(','),
    external: false,
    createTopic: (name, partitions) => command(`topic ${name} ${partitions}`, `ok topic ${name}`),
    async setDown(down) {
      for (let id = 1; id <= brokers; id++) await command(`${down ? 'down' : 'up'} ${id}`, `ok ${down ? 'down' : 'up'} ${id}`);
    },
  };
}
