/**
 * `verify --local`: a whole mesh of its own, as `npm start` runs one (sv-discover with its memory
 * registry, sv-persist, N nodes), on a fresh database (embedded Postgres unless DATABASE_URL is
 * set) and, in Kafka mode, a fresh topic on librdkafka's mock cluster (or KAFKA_BROKERS). Every
 * service can be signalled and started again on its port with its variables, which is what the
 * fault schedule does.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startService, type SERVICE_MAIN, type ServiceProcess } from '@chat/shared/service-process';
import { startTestKafka, uniqueTopic } from '@chat/shared/local-kafka';
import { createTestDatabase } from '@chat/shared/local-postgres';
import { onStop } from '@chat/shared/started-services';

const KAFKA_PARTITIONS = 6;

interface Service {
  kind: keyof typeof SERVICE_MAIN;
  env: Record<string, string>;
  proc: ServiceProcess;
}

export interface LocalMeshOptions {
  nodes: number;
  kafka: boolean;
  /** Write each service's output to DIR/<label>.log (else it is dropped). */
  logDir?: string;
}

export class LocalMesh {
  /** By label: `sv-discover`, `sv-persist`, `node-0`, `node-1`, … */
  private readonly services = new Map<string, Service>();

  private constructor(readonly mode: 'direct' | 'kafka', private readonly logDir: string | undefined) {}

  static async start(o: LocalMeshOptions): Promise<LocalMesh> {
    const mesh = new LocalMesh(o.kafka ? 'kafka' : 'direct', o.logDir);
    try {
      const databaseUrl = await createTestDatabase();
      // Set explicitly either way: KAFKA_BROKERS in verify's own environment must not turn a
      // direct-mode mesh into a Kafka one.
      const common: Record<string, string> = { CLUSTER_SECRET: `verify-${randomBytes(16).toString('hex')}`, KAFKA_BROKERS: '' };
      if (o.kafka) {
        const broker = await startTestKafka();
        const topic = uniqueTopic('verify');
        await broker.createTopic(topic, KAFKA_PARTITIONS);
        Object.assign(common, { KAFKA_BROKERS: broker.brokers.join(','), KAFKA_TOPIC: topic, KAFKA_PARTITIONS: String(KAFKA_PARTITIONS) });
      }
      // Stopped before the engines started above, whatever way verify ends.
      onStop(() => mesh.stop());
      const persistEnv = { ...common, DATABASE_URL: databaseUrl, KAFKA_GROUP_ID: `verify-${randomBytes(4).toString('hex')}` };
      const [discover, persist] = await Promise.all([mesh.launch('sv-discover', 'sv-discover', common), mesh.launch('sv-persist', 'sv-persist', persistEnv)]);
      await Promise.all(Array.from({ length: o.nodes }, (_, i) => mesh.launch(`node-${i}`, 'sv-websocket', {
        ...common, NODE_ID: `node-${i}`, DISCOVER_URL: discover.url, PERSIST_URL: persist.url,
      })));
      return mesh;
    } catch (err) {
      await mesh.stop();
      throw err;
    }
  }

  /** Base URLs (http://) of the nodes, in order. */
  get nodeUrls(): string[] {
    return [...this.services].filter(([label]) => label.startsWith('node-')).map(([, s]) => s.proc.url);
  }

  /** Labels of every service. */
  get labels(): string[] {
    return [...this.services.keys()];
  }

  /** Base URL of a service. */
  url(label: string): string {
    return this.service(label).proc.url;
  }

  /** Send `signal`; for SIGKILL, resolve once the process is gone. */
  async signal(label: string, signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    const { proc } = this.service(label);
    if (signal === 'SIGKILL') await proc.stop('SIGKILL');
    else proc.child.kill(signal);
  }

  /** Start a service that exited again, on its port, with its variables. */
  async restart(label: string): Promise<void> {
    const s = this.service(label);
    await this.launch(label, s.kind, { ...s.env, PORT: String(s.proc.port) });
  }

  /** Stop everything still running: nodes first (they flush and deregister), then the rest. */
  async stop(): Promise<void> {
    const all = [...this.services.values()];
    for (const s of all) s.proc.child.kill('SIGCONT'); // a stopped process cannot act on SIGTERM
    await Promise.all(all.filter((s) => s.kind === 'sv-websocket').map((s) => s.proc.stop()));
    await Promise.all(all.filter((s) => s.kind !== 'sv-websocket').map((s) => s.proc.stop()));
  }

  private service(label: string): Service {
    const s = this.services.get(label);
    if (!s) throw new Error(`no service ${label} in the local mesh`);
    return s;
  }

  private async launch(label: string, kind: Service['kind'], env: Record<string, string>): Promise<ServiceProcess> {
    // sv-persist migrates the database at start, which takes a while on a busy machine.
    const proc = await startService(kind, env, { timeoutMs: kind === 'sv-persist' ? 180_000 : 60_000, onLine: this.logTo(label) });
    this.services.set(label, { kind, env, proc });
    return proc;
  }

  private logTo(label: string): ((line: string) => void) | undefined {
    if (!this.logDir) return undefined;
    mkdirSync(this.logDir, { recursive: true });
    const out = createWriteStream(join(this.logDir, `${label}.log`), { flags: 'a' });
    return (line) => void out.write(`${line}\n`);
  }
}
