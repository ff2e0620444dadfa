/** Reads a service's /metrics (Prometheus text) into name → value, summed over label sets. */
export type Scrape = Map<string, number>;

export async function scrape(baseUrl: string, timeoutMs = 2000): Promise<Scrape | undefined> {
  try {
    const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    return parseProm(await res.text());
  } catch {
    return undefined;
  }
}

export function parseProm(text: string): Scrape {
  const out: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const v = Number(m[3]);
    if (!Number.isFinite(v)) continue;
    // Histogram buckets carry their bound in the name's labels; keep them apart.
    const key = m[1]!.endsWith('_bucket') ? `${m[1]}${m[2] ?? ''}` : m[1]!;
    out.set(key, (out.get(key) ?? 0) + v);
  }
  return out;
}
