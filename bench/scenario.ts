/**
 * The one shape of a bench scenario, and what the driver keeps of each scenario's result. A scenario is
 * one measurement (bench/scenarios/, one file each, registered in bench/scenarios/index.ts); the driver
 * (bench/run.ts) runs the scenarios the options select, in the registry's order, phase by phase:
 *
 *   before-sizes   once, before anything else (the idle stack's CPU, subtracted by later scenarios)
 *   per-size       once per `--sizes` entry, in order (fleet, baseline, fleet-campaign)
 *   after-sizes    once, after every size (replay of histories recorded above, resume)
 *
 * A scenario that needs another's result (baseline reads the fleet's counts at the same size, replay the
 * histories they recorded) asks `ctx.results.need(thatScenario, n)`: it runs later in the registry's order.
 */
import type { BenchOptions } from './options';
import type { BenchStack } from './stack';

export type ScenarioPhase = 'before-sizes' | 'per-size' | 'after-sizes';

/** The order in which the driver runs the phases. */
export const PHASES: readonly ScenarioPhase[] = ['before-sizes', 'per-size', 'after-sizes'];

export interface ScenarioContext {
  stack: BenchStack;
  /** hhmmss of the run's start: in task queues, workflow ids and instance ids, so runs never collide. */
  runTag: string;
  /** The fleet size (a `--sizes` entry) for a per-size scenario; undefined in the other phases. */
  size?: number;
  /** What the scenarios before this one measured. */
  results: ScenarioResults;
}

export interface BenchScenario<R = unknown> {
  /** Unique, kebab-case; the results are kept under it. */
  readonly name: string;
  /** One sentence: what it measures, and how. */
  readonly describe: string;
  readonly phase: ScenarioPhase;
  /** Whether this run's options ask for it (`--shape`, `--no-baseline`, `--no-replay`, `--no-resume`). */
  selected(opts: BenchOptions): boolean;
  run(ctx: ScenarioContext, opts: BenchOptions): Promise<R>;
}

/** The size a per-size scenario runs at. */
export function sizeOf(ctx: ScenarioContext, scenario: Pick<BenchScenario, 'name'>): number {
  if (ctx.size === undefined) throw new Error(`scenario ${scenario.name} runs once per size, but the driver gave it no size`);
  return ctx.size;
}

const keyOf = (name: string, n: number | undefined) => (n === undefined ? name : `${name} N=${n}`);

/** Every scenario's result in this run, by scenario and size. */
export class ScenarioResults {
  private readonly byKey = new Map<string, unknown>();
  private readonly sizes = new Map<string, number[]>();

  record<R>(scenario: BenchScenario<R>, n: number | undefined, result: R): void {
    const key = keyOf(scenario.name, n);
    if (this.byKey.has(key)) throw new Error(`scenario ${key} ran twice in one bench run`);
    this.byKey.set(key, result);
    if (n !== undefined) this.sizes.set(scenario.name, [...(this.sizes.get(scenario.name) ?? []), n]);
  }

  /** The result of `scenario` (at size `n` for a per-size one), if it ran. */
  of<R>(scenario: BenchScenario<R>, n?: number): R | undefined {
    return this.byKey.get(keyOf(scenario.name, n)) as R | undefined;
  }

  /** The same, for a scenario this one cannot do without. */
  need<R>(scenario: BenchScenario<R>, n?: number): R {
    const key = keyOf(scenario.name, n);
    if (!this.byKey.has(key)) throw new Error(`scenario ${key} has not run: a scenario that needs it must come after it in bench/scenarios/index.ts and be selected with it`);
    return this.byKey.get(key) as R;
  }

  /** A per-size scenario's results, in the order of the sizes it ran at. */
  perSize<R>(scenario: BenchScenario<R>): { n: number; result: R }[] {
    return (this.sizes.get(scenario.name) ?? []).map((n) => ({ n, result: this.byKey.get(keyOf(scenario.name, n)) as R }));
  }
}
