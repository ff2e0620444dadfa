/** The command line of `npm run verify`, checked: a bad option is a UsageError naming it. */
import { parseArgs } from 'node:util';
import { FAULT_KINDS, type FaultKind } from './faults.ts';

export const USAGE = `usage: npm run verify -- (--nodes URL,URL,… | --local [--kafka] [--local-nodes N] [--faults LIST|none] [--log-dir DIR])
         [--rate MSGS_PER_S] [--seconds S] [--users N] [--drain S] [--fail-on-missed-live] [--json FILE]
  --nodes      the deployment's nodes (ws://, wss://, http:// or https:// base URLs); AUTH_SECRET in the
               environment makes verify sign in with JWTs (AUTH_MODE=jwt deployments)
  --local      start a mesh of its own (embedded Postgres, sv-discover, sv-persist, nodes) and inject faults
  --kafka      with --local: Kafka mode, on librdkafka's mock cluster (or KAFKA_BROKERS)
  --local-nodes  nodes of the local mesh (default 3)
  --faults     with --local: ${FAULT_KINDS.join(',')} (the default), a part of them, or none
  --log-dir    with --local: write each service's output to DIR/<service>.log
  --rate       messages per second offered, all senders together (default 300)
  --seconds    how long to send (default 60)
  --users      users, an even number, in pairs that write to each other (default: one pair per 40 msgs/s)
  --drain      seconds to wait after sending for acks and deliveries to settle (default 30)
  --fail-on-missed-live  also fail when a recipient missed a message live
  --json       write the report's figures to FILE as JSON`;

export class UsageError extends Error {}

export interface VerifyOptions {
  /** Node base URLs of a running deployment; empty with --local. */
  nodes: string[];
  local: boolean;
  kafka: boolean;
  localNodes: number;
  faults: FaultKind[];
  logDir: string | undefined;
  rate: number;
  seconds: number;
  users: number;
  drainSeconds: number;
  failOnMissedLive: boolean;
  json: string | undefined;
}

function number(name: string, raw: string | undefined, dflt: number, min: number, max: number, integer = false): number {
  if (raw === undefined) return dflt;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new UsageError(`--${name}: ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, not ${JSON.stringify(raw)}`);
  }
  return v;
}

function nodeUrls(raw: string): string[] {
  const urls = raw.split(',').map((u) => u.trim()).filter(Boolean);
  if (urls.length === 0) throw new UsageError('--nodes: give at least one node URL');
  for (const u of urls) {
    let protocol: string;
    try {
      protocol = new URL(u).protocol;
    } catch {
      throw new UsageError(`--nodes: ${JSON.stringify(u)} is not a URL`);
    }
    if (!['ws:', 'wss:', 'http:', 'https:'].includes(protocol)) throw new UsageError(`--nodes: ${u} must start with ws://, wss://, http:// or https://`);
  }
  return urls;
}

function faultList(raw: string | undefined): FaultKind[] {
  if (raw === undefined) return [...FAULT_KINDS];
  if (raw.trim() === 'none') return [];
  const kinds = raw.split(',').map((k) => k.trim()).filter(Boolean);
  for (const k of kinds) {
    if (!(FAULT_KINDS as readonly string[]).includes(k)) throw new UsageError(`--faults: unknown fault ${JSON.stringify(k)} (known: ${FAULT_KINDS.join(', ')}, or none)`);
  }
  return kinds as FaultKind[];
}

export function parseOptions(argv: readonly string[]): VerifyOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        nodes: { type: 'string' }, local: { type: 'boolean', default: false }, kafka: { type: 'boolean', default: false },
        'local-nodes': { type: 'string' }, faults: { type: 'string' }, 'log-dir': { type: 'string' },
        rate: { type: 'string' }, seconds: { type: 'string' }, users: { type: 'string' }, drain: { type: 'string' },
        'fail-on-missed-live': { type: 'boolean', default: false }, json: { type: 'string' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.local === (values.nodes !== undefined)) throw new UsageError('give either --nodes URL,URL,… (a running deployment) or --local');
  if (!values.local) {
    for (const only of ['kafka', 'local-nodes', 'faults', 'log-dir'] as const) {
      if (values[only] !== undefined && values[only] !== false) throw new UsageError(`--${only} goes with --local only`);
    }
  }
  const rate = number('rate', values.rate, 300, 1, 100_000);
  const users = number('users', values.users, 2 * Math.ceil(rate / 40), 2, 10_000, true);
  if (users % 2 !== 0) throw new UsageError(`--users: an even number (users write in pairs), not ${users}`);
  return {
    nodes: values.nodes === undefined ? [] : nodeUrls(values.nodes),
    local: values.local,
    kafka: values.kafka,
    localNodes: number('local-nodes', values['local-nodes'], 3, 2, 8, true),
    faults: values.local ? faultList(values.faults) : [],
    logDir: values['log-dir'],
    rate,
    seconds: number('seconds', values.seconds, 60, 1, 86_400),
    users,
    drainSeconds: number('drain', values.drain, 30, 0, 3600),
    failOnMissedLive: values['fail-on-missed-live'],
    json: values.json,
  };
}
