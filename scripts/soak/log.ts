/**
 * The soak's log: one line per event, with the time since the run started and the wall-clock time, printed and
 * kept in the run's folder (soak.log) beside the report.
 */
import fs from 'node:fs';

export class SoakLog {
  private readonly startedAt = Date.now();
  private file?: number;

  constructor(private readonly echo: (line: string) => void = (l) => console.log(l)) {}

  /** Also writes every line (the earlier ones too) to `file`. */
  keepIn(file: string, earlier: string[] = []): void {
    this.file = fs.openSync(file, 'a');
    for (const l of earlier) fs.writeSync(this.file, `${l}\n`);
  }

  /** Seconds since the run started. */
  elapsed(at = Date.now()): number {
    return (at - this.startedAt) / 1000;
  }

  stamp(at = Date.now()): string {
    const s = this.elapsed(at);
    const mm = String(Math.floor(s / 60)).padStart(2, '0');
    const ss = (s % 60).toFixed(1).padStart(4, '0');
    return `+${mm}:${ss} ${new Date(at).toISOString().slice(11, 19)}`;
  }

  line(part: string, text: string): void {
    const l = `[${this.stamp()}] ${part.padEnd(8)} ${text}`;
    this.echo(l);
    if (this.file !== undefined) fs.writeSync(this.file, `${l}\n`);
  }

  /** A line without a stamp (headings, the checker's list, the figures). */
  plain(text: string): void {
    this.echo(text);
    if (this.file !== undefined) fs.writeSync(this.file, `${text}\n`);
  }

  close(): void {
    if (this.file !== undefined) fs.closeSync(this.file);
    this.file = undefined;
  }
}
