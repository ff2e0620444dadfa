/**
 * `p`, or a rejection after `ms`. A late outcome of `p` is dropped (its rejection is handled, so it
 * never surfaces as unhandled): callers report failure at the deadline and never count `p` as done.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, what = 'an answer'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  p.catch(() => {});
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
