/**
 * Teardown of a local stack: whatever was started registers how to stop it, and `close()` stops
 * everything in reverse order (a worker before the server it polls), once, going on past failures.
 */
export type Closer = () => Promise<unknown> | unknown;

export class Closers {
  private readonly closers: Closer[] = [];

  /** `onError`: what to do with a closer's failure (default: ignore it; teardown goes on). */
  constructor(private readonly onError: (err: unknown) => void = () => undefined) {}

  add(closer: Closer): void {
    this.closers.push(closer);
  }

  async close(): Promise<void> {
    for (let closer = this.closers.pop(); closer; closer = this.closers.pop()) {
      try {
        await closer();
      } catch (err) {
        this.onError(err);
      }
    }
  }
}
