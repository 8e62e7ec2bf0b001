/**
 * Scenario "idle": what the stack burns doing nothing (dev server housekeeping, the driver's idle process,
 * one idle worker), to separate a campaign's own cost from the minutes it spends asleep towards windows.
 */
import { sleep } from '../../dev/time';
import { ResourceSampler, type IdleRate } from '../measure';
import { createBaselineWorker, log, type BenchStack } from '../stack';

export async function runIdle(h: BenchStack, seconds: number, runTag: string): Promise<IdleRate> {
  // SDK defaults, not the bench's settings: an idle worker holds no slot.
  const idleWorker = await createBaselineWorker(h, `bench-idle-${runTag}`, {});
  const idleRunning = idleWorker.run();
  const idleSampler = new ResourceSampler(h.serverPid, h.simPid);
  await sleep(seconds * 1000);
  const idleRes = idleSampler.stop();
  idleWorker.shutdown();
  await idleRunning;
  const idle = { cpuPerSecond: (idleRes.workerCpuSeconds + idleRes.serverCpuSeconds) / idleRes.wallSeconds, measuredSeconds: idleRes.wallSeconds };
  log(`idle stack (one idle worker + dev server): ${(idle.cpuPerSecond * 100).toFixed(1)}% of a core`);
  return idle;
}
