/**
 * Summarises V8 CPU profiles (`--cpu-prof`, e.g. CHAT_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"
 * on a bench run): the functions with the most self time, and self time per source file, so a hot
 * path shows without opening a flame graph.
 *
 *   npx tsx scripts/src/bench/profile-top.ts DIR_OR_FILE... [--top 30]
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 30;
const files = args.flatMap((p) => (statSync(p).isDirectory() ? readdirSync(p).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(p, f)) : [p]));

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = profile.endTime - profile.startTime;
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const short = url.replace(/^file:\/\//, '').replace(/.*node_modules\//, 'nm/').replace(/.*\/work\/[^/]+\//, '');
    const fn = `${functionName || '(anonymous)'} ${short}${short ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    const group = short.startsWith('nm/') ? short.split('/').slice(0, short.startsWith('nm/@') ? 3 : 2).join('/') : short || functionName;
    byFile.set(group, (byFile.get(group) ?? 0) + us);
  }
  // Inclusive time: a function's self time plus its callees' (counted once per stack even when recursive).
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { functionName, url, lineNumber } = byId.get(at)!.callFrame;
      const key = `${functionName || '(anonymous)'} ${url.replace(/.*node_modules\//, 'nm/').replace(/.*\/work\/[^/]+\//, '')}:${lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  const idle = (byFunction.get('(idle) ') ?? 0);
  console.log(`\n# ${file}: ${(total / 1e6).toFixed(1)} s profiled, ${((total - idle) / 1e6).toFixed(2)} s busy`);
  const print = (title: string, m: Map<string, number>) => {
    console.log(`\n${title}`);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / (total - idle)).toFixed(1).padStart(5)}%  ${k}`);
    }
  };
  byFunction.delete("(idle) ");
  print("self time by function", byFunction);
  print('self time by file / package', byFile);
  for (const k of [...inclusive.keys()]) if (!/sv-|shared\/src|nm\/(kafkajs|undici|ws|fastify)\//.test(k)) inclusive.delete(k);
  print('inclusive time, project code and main libraries', inclusive);
}
