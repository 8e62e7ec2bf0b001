/**
 * Scenario "idle": what the stack burns doing nothing (dev server housekeeping, the driver's idle process,
 * one idle worker), to separate a campaign's own cost from the minutes it spends asleep towards windows.
 */
import { sleep } from '../../dev/time';
import { ResourceSampler, type IdleRate, type Resources } from '../measure';
import type { BenchOptions } from '../options';
import type { BenchScenario } from '../scenario';
import { createBaselineWorker, log, type BenchStack } from '../stack';

/** How long the idle stack is sampled: 20 s, 10 s with `--quick`. */
export const idleSeconds = (opts: Pick<BenchOptions, 'quick'>) => (opts.quick ? 10 : 20);

/** Worker + dev server CPU seconds per wall second, from what the sampler saw while nothing ran. */
export function idleRate(r: Pick<Resources, 'workerCpuSeconds' | 'serverCpuSeconds' | 'wallSeconds'>): IdleRate {
  return { cpuPerSecond: (r.workerCpuSeconds + r.serverCpuSeconds) / r.wallSeconds, measuredSeconds: r.wallSeconds };
}

export async function runIdle(h: BenchStack, seconds: number, runTag: string): Promise<IdleRate> {
  // SDK defaults, not the bench's settings: an idle worker holds no slot.
  const idleWorker = await createBaselineWorker(h, `bench-idle-${runTag}`, {});
  const idleRunning = idleWorker.run();
  const idleSampler = new ResourceSampler(h.serverPid, h.simPid);
  await sleep(seconds * 1000);
  const idleRes = idleSampler.stop();
  idleWorker.shutdown();
  await idleRunning;
  const idle = idleRate(idleRes);
  log(`idle stack (one idle worker + dev server): ${(idle.cpuPerSecond * 100).toFixed(1)}% of a core`);
  return idle;
}

export const scenario: BenchScenario<IdleRate> = {
  name: 'idle',
  describe: 'The CPU the stack burns with nothing to do (dev server, driver, one idle worker), subtracted from the other scenarios\' figures.',
  phase: 'before-sizes',
  selected: () => true,
  run: async (ctx, opts) => runIdle(ctx.stack, idleSeconds(opts), ctx.runTag),
};
