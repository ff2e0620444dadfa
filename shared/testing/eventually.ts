/**
 * The tests' one way to wait for a condition: poll `check` until it holds. It holds when it returns
 * true, or returns nothing without throwing (an assertion that passed); it does not yet when it
 * returns false or throws. After `timeoutMs` this fails naming `what`, with the last error and
 * `state()` when given. The deadline only bounds a hung test: it is never a timed assertion.
 */
export async function eventually(
  what: string,
  check: () => boolean | void | Promise<boolean | void>,
  timeoutMs = 20_000,
  state?: () => unknown,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let lastError: unknown;
    try {
      if ((await check()) !== false) return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError === undefined ? '' : ` (last check: ${lastError instanceof Error ? lastError.message : String(lastError)})`;
      const seen = state ? `; state: ${JSON.stringify(state())}` : '';
      throw new Error(`not within ${timeoutMs} ms: ${what}${why}${seen}`, { cause: lastError });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
