/**
 * The port the services depend on: simulated time, the durations of what takes time, and the state. The
 * engine (sim/src/core/engine.ts) implements it; a service's model sees it through its ServiceContext, typed
 * by the members it keeps.
 */
import type { SimState, StatePart } from './state';

export interface SimContext {
  /** Simulated now (clock + offset), epoch ms. */
  now(): number;
  /** A named duration (its default registered by the service that uses it) after `speed`, in ms. */
  durationMs(kind: string): number;
  markDirty(): void;
  /** The whole state: every service's members at its top level (StatePart). */
  readonly state: SimState;
}

/** What a service's model needs: the context, with the state typed as the service's own members and its durations by name. */
export interface ServiceContext<S extends object, D extends string = never> {
  readonly state: S;
  now(): number;
  durationMs(kind: D): number;
  markDirty(): void;
}

/**
 * The service's view of the context. The state object is replaced on reset, so `state` is read through on
 * every use; the service's members are the state's own (StatePart), hence the one cast here.
 */
export function serviceContext<S extends object, D extends string = never>(ctx: SimContext, _part: StatePart<S>): ServiceContext<S, D> {
  return {
    get state(): S {
      return ctx.state as unknown as S;
    },
    now: () => ctx.now(),
    durationMs: (kind: D) => ctx.durationMs(kind),
    markDirty: () => ctx.markDirty(),
  };
}
