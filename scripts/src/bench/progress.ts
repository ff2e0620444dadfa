/** One updating status line on stderr (\r, cleared before each draw); off with --quiet. */
export class Progress {
  private last = '';
  private lastPlain = 0;
  private readonly tty = process.stderr.isTTY === true;

  constructor(private readonly enabled: boolean) {}

  draw(text: string): void {
    if (!this.enabled) return;
    if (!this.tty) {
      // Not a terminal (CI, a log file): a plain line every 5 s instead of redraws.
      if (Date.now() - this.lastPlain < 5000) return;
      this.lastPlain = Date.now();
      process.stderr.write(`${text}\n`);
      return;
    }
    const width = process.stderr.columns || 120;
    const line = text.length > width - 1 ? text.slice(0, width - 1) : text;
    process.stderr.write(`\r\x1b[2K${line}`);
    this.last = line;
  }

  /** Bar of `done` out of `total`, e.g. [#####.....]. */
  static bar(done: number, total: number, width = 20): string {
    const n = Math.max(0, Math.min(width, Math.round((done / Math.max(total, 1e-9)) * width)));
    return `[${'#'.repeat(n)}${'.'.repeat(width - n)}]`;
  }

  /** End the line (keeps the last state visible). */
  done(): void {
    if (this.enabled && this.tty && this.last !== '') process.stderr.write('\n');
    this.last = '';
  }

  /** A message on its own line, the status line redrawn after it. */
  note(msg: string): void {
    const redraw = this.enabled && this.tty && this.last !== '';
    if (redraw) process.stderr.write('\r\x1b[2K');
    process.stderr.write(`${msg}\n`);
    if (redraw) process.stderr.write(this.last);
  }
}
