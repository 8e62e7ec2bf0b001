/**
 * The soak's seeded randomness: one seed gives the same schedule of faults and operator moments every time
 * (`--seed N` replays it). Each part draws from its own stream (`fork`), so a run that lasts longer (more worker
 * kills drawn) does not move the other parts' draws.
 */
import { nextRandom } from '../../sim';
import { fnv1a } from '../../src/domain/hash';

/** mulberry32 (the simulator's own generator of random faults): small, fast, good enough for a schedule; [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    const r = nextRandom(state);
    state = r.state;
    return r.value;
  };
}

export class Random {
  private readonly next: () => number;

  constructor(readonly seed: number) {
    this.next = mulberry32(seed);
  }

  /** An independent stream for one part of the soak. */
  fork(name: string): Random {
    return new Random(fnv1a(`${this.seed}/${name}`));
  }

  fraction(): number {
    return this.next();
  }

  /** Uniform in [lo, hi). */
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** A whole number in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor((hi - lo + 1) * this.next());
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** `n` instants in [lo, hi], sorted, at least `gap` apart (when they fit). */
  spread(n: number, lo: number, hi: number, gap: number): number[] {
    const room = hi - lo - gap * Math.max(0, n - 1);
    if (n === 0) return [];
    if (room <= 0) return Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / Math.max(1, n - 1));
    const offsets = Array.from({ length: n }, () => this.between(0, room)).sort((a, b) => a - b);
    return offsets.map((o, i) => lo + o + gap * i);
  }
}

/** A fresh seed when none is given (printed, so the run can be replayed). */
export function newSeed(): number {
  return Math.floor(Math.random() * 1_000_000);
}
