import type { Catalogue } from './catalogue';
import type { SimStateData } from './model';

/** How long each status lasts, in simulated seconds before `speed` divides them. */
export interface Durations {
  modifying: number;
  upgrading: number;
  stopping: number;
  starting: number;
  creating: number;
  backingUp: number;
  /** Route 53: a change stays PENDING this long, then INSYNC. */
  route53Insync: number;
}

export const DEFAULT_DURATIONS: Durations = {
  modifying: 5,
  upgrading: 30,
  stopping: 20,
  starting: 30,
  creating: 60,
  backingUp: 20,
  route53Insync: 10,
};

/** What the service models need from the engine. */
export interface SimContext {
  readonly state: SimStateData;
  /** Simulated now (clock + offset), epoch ms. */
  now(): number;
  /** A status duration after `speed`, in ms. */
  durationMs(kind: keyof Durations): number;
  catalogue(): Catalogue;
  markDirty(): void;
}
