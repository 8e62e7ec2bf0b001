/**
 * Simulated instants ↔ PostgreSQL's real (wall-clock) time.
 *
 * The simulator's "now" is its Clock plus the offset of POST /_sim/advance (sim/src/core/clock.ts); PostgreSQL
 * stamps commits and WAL with the machine's wall time. `--speed` divides durations only, never the clock's rate,
 * so with the system clock the two differ by a constant until an advance moves the offset (a ManualClock in tests
 * stands still while wall time runs). This map keeps a journal of anchors: from wall instant `real` on, a
 * simulated instant is `real + delta`. A new anchor is written whenever the observed delta (sim now - wall now)
 * moved by more than DRIFT_MS, i.e. at every advance, and is observed at each of the simulator's ticks.
 *
 * - wall → sim (archived WAL times → LatestRestorableTime): the anchor in force at that wall instant.
 * - sim → wall (RestoreTime → recovery_target_time): the anchor whose simulated span holds the instant; an
 *   instant an advance jumped over (no wall time passed in it) maps to the wall instant of the jump, when the
 *   database was in the state it then kept for the whole jumped span.
 * The journal is kept in a JSON file beside the data folders, so a restarted simulator maps old WAL the same way.
 */
import fs from 'node:fs';

interface Anchor {
  /** Wall-clock epoch ms from which `delta` holds. */
  real: number;
  /** Simulated minus wall ms. */
  delta: number;
}

const DRIFT_MS = 250;
const MAX_ANCHORS = 10_000;

export class SimRealTimeMap {
  private anchors: Anchor[] = [];

  constructor(
    private readonly simNow: () => number,
    private readonly file?: string,
    private readonly wallNow: () => number = Date.now,
  ) {
    if (file && fs.existsSync(file)) {
      const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { anchors?: Anchor[] };
      this.anchors = Array.isArray(parsed.anchors) ? parsed.anchors : [];
    }
    this.observe();
  }

  /** Notes the current delta when it moved (an advance, or a hand-driven clock). */
  observe(): void {
    const real = this.wallNow();
    const delta = this.simNow() - real;
    const last = this.anchors[this.anchors.length - 1];
    if (last && Math.abs(last.delta - delta) <= DRIFT_MS) return;
    this.anchors.push({ real, delta });
    if (this.anchors.length > MAX_ANCHORS) this.anchors.splice(0, this.anchors.length - MAX_ANCHORS);
    if (this.file) fs.writeFileSync(this.file, JSON.stringify({ anchors: this.anchors }));
  }

  toSim(real: number): number {
    let anchor = this.anchors[0] as Anchor;
    for (const a of this.anchors) if (a.real <= real) anchor = a;
    return real + anchor.delta;
  }

  toReal(sim: number): number {
    let real = sim - (this.anchors[0] as Anchor).delta;
    this.anchors.forEach((a, i) => {
      if (a.real + a.delta > sim) return;
      const next = this.anchors[i + 1];
      real = Math.min(sim - a.delta, next ? next.real : Infinity);
    });
    return real;
  }
}
