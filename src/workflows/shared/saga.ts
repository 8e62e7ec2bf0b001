/**
 * Every mutation registers its compensation before it runs; abort or failure runs them, newest first,
 * past any that fails, and outside the cancelled scope (an abort must still compensate).
 */
import { CancellationScope } from '@temporalio/workflow';

export interface Compensation {
  id: string;
  description: string;
  /** What a human must do when the automatic compensation fails: exact, copy-pasteable (read when needed). */
  manual?: string | (() => string);
  /** Resolves false when there was nothing to undo. */
  run: () => Promise<boolean | void>;
}

export class Saga {
  private readonly compensations: Compensation[] = [];

  add(c: Compensation): void {
    this.compensations.push(c);
  }

  has(id: string): boolean {
    return this.compensations.some((c) => c.id === id);
  }

  /** The change was undone the normal way (e.g. the flag turned back off): nothing to compensate any more. */
  drop(id: string): void {
    const i = this.compensations.findIndex((c) => c.id === id);
    if (i >= 0) this.compensations.splice(i, 1);
  }

  /** Runs one compensation now (its change is to be undone before the run ends), and forgets it. */
  async runNow(id: string): Promise<boolean> {
    const i = this.compensations.findIndex((c) => c.id === id);
    if (i < 0) return false;
    const [c] = this.compensations.splice(i, 1);
    return (await CancellationScope.nonCancellable(() => c.run())) !== false;
  }

  /** The run succeeded (or a human kept its result): nothing is to be undone. */
  clear(): void {
    this.compensations.length = 0;
  }

  async compensate(report: { done(c: Compensation): void; failed(c: Compensation, err: unknown): void }): Promise<void> {
    await CancellationScope.nonCancellable(async () => {
      while (this.compensations.length > 0) {
        const c = this.compensations.pop()!;
        try {
          if ((await c.run()) !== false) report.done(c);
        } catch (err) {
          report.failed(c, err);
        }
      }
    });
  }
}

/** The by-hand instruction of a compensation, if it has one. */
export function manualOf(c: Compensation): string | undefined {
  return typeof c.manual === 'function' ? c.manual() : c.manual;
}
