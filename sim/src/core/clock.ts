/**
 * Time for the simulator. Everything that moves (statuses, maintenance windows, Route 53 changes,
 * scheduled maintenance on the status page) is computed from `Clock.now()` plus the simulator's own
 * offset (POST /_sim/advance), never from timers, so unit tests can drive time by hand.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch; never goes backwards within one process. */
  now(): number;
}

/** Wall-clock anchored at start, advanced by the monotonic high-resolution timer (immune to NTP steps). */
export class SystemClock implements Clock {
  private readonly wallAtStart = Date.now();
  private readonly monoAtStart = performance.now();

  now(): number {
    return Math.floor(this.wallAtStart + (performance.now() - this.monoAtStart));
  }
}

/** A clock that only moves when told to: for tests. */
export class ManualClock implements Clock {
  constructor(private current: number = Date.UTC(2025, 0, 6, 12, 0, 0)) {}

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    if (ms < 0) throw new Error(`ManualClock.advance: ${ms} ms would move time backwards`);
    this.current += ms;
  }

  set(ms: number): void {
    if (ms < this.current) throw new Error(`ManualClock.set: ${new Date(ms).toISOString()} is before now`);
    this.current = ms;
  }
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
