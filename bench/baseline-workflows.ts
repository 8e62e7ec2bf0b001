/**
 * The bench's baseline: a minimal workflow with a given number of trivial activities and timers, so a
 * campaign's cost can be shown as a ratio to bare Temporal on the same machine. Bundled by the bench's
 * baseline worker; deterministic like any workflow.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';

export interface BaselineActivities {
  trivial(i: number): Promise<number>;
}

const { trivial } = proxyActivities<BaselineActivities>({ startToCloseTimeout: '1 minute' });

/** Activities and timers interleaved, one after the other, as a campaign's steps are. */
export async function baselineWorkflow(activities: number, timers: number, timerMs: number): Promise<number> {
  let sum = 0;
  for (let i = 0; i < Math.max(activities, timers); i++) {
    if (i < activities) sum += await trivial(i);
    if (i < timers) await sleep(timerMs);
  }
  return sum;
}
