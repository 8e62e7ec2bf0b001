/**
 * Every bench scenario, once, in the order the driver runs them (within a phase: bench/scenario.ts). A
 * scenario that reads another's result comes after it here. `--shape` and the `--no-*` options select
 * which of them a run measures (each scenario's `selected`).
 */
import type { BenchOptions } from '../options';
import { PHASES, type BenchScenario, type ScenarioPhase } from '../scenario';
import { scenario as baseline } from './baseline';
import { scenario as fleet } from './fleet';
import { scenario as fleetCampaign } from './fleet-campaign';
import { scenario as idle } from './idle';
import { scenario as replay } from './replay';
import { scenario as resume } from './resume';

export const SCENARIOS: readonly BenchScenario[] = [idle, fleet, baseline, fleetCampaign, replay, resume];

/** The scenarios this run's options select, in the order they run: phase by phase, in registry order within one. */
export function selectScenarios(opts: BenchOptions, scenarios: readonly BenchScenario[] = SCENARIOS): BenchScenario[] {
  return PHASES.flatMap((phase) => scenariosOf(phase, opts, scenarios));
}

/** The selected scenarios of one phase, in registry order. */
export function scenariosOf(phase: ScenarioPhase, opts: BenchOptions, scenarios: readonly BenchScenario[] = SCENARIOS): BenchScenario[] {
  return scenarios.filter((s) => s.phase === phase && s.selected(opts));
}
