/**
 * Who watches whom in the presence scenario: each user watches `count` others, drawn from a PRNG
 * seeded by the run's seed and the user, so every worker (its own users' lists) and the parent
 * (who watches each user, the frames a change should produce) derive the same lists alone.
 */

/** mulberry32: a small, fast 32-bit PRNG, good enough to spread watch lists evenly. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` distinct user indexes below `total`, none of them `user` (fewer when there are not enough others). */
export function watchList(user: number, total: number, count: number, seed: number): number[] {
  if (!Number.isInteger(user) || user < 0 || user >= total) throw new RangeError(`user ${user} is not below ${total}`);
  const want = Math.min(count, total - 1);
  const rand = prng((Math.imul(seed, 0x9e3779b1) ^ user) >>> 0);
  const picked = new Set<number>();
  while (picked.size < want) {
    const other = Math.floor(rand() * total);
    if (other !== user) picked.add(other);
  }
  return [...picked];
}

/** Per user: the users who watch them. */
export function watcherLists(total: number, count: number, seed: number): number[][] {
  const out = Array.from({ length: total }, (): number[] => []);
  for (let u = 0; u < total; u++) for (const w of watchList(u, total, count, seed)) out[w]!.push(u);
  return out;
}
