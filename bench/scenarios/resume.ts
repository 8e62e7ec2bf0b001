/**
 * Scenario "resume": campaigns asleep towards their preview window; the worker stops; the window opens with
 * no worker; a new worker *process* (`src/worker.ts`, exactly what `npm run worker` runs: node + ts-node +
 * bundling) starts; measured from its spawn to its polling line and to each campaign's next step.
 */
import { startCampaign } from '../../src/client';
import { MINUTE_MS as MINUTE } from '../../src/domain/duration';
import { demoFleet } from '../../sim/src/seed';
import { nextWholeMinute, sleep } from '../../dev/time';
import { WORKER_POLLING, spawnWorkerProcess } from '../../dev/worker';
import { fleetCampaign, fleetSeed } from '../fleet';
import { EventType, eventMs, isEvent, round } from '../measure';
import { median } from '../metrics';
import type { BenchOptions } from '../options';
import { count, createCampaignWorker, log, type BenchStack } from '../stack';

export type ResumeResult = Awaited<ReturnType<typeof runResume>>;

/** Next step: the ActivityTaskScheduled after the window timer fired, by server event time. */
export async function runResume(h: BenchStack, campaigns: number, opts: BenchOptions, runTag: string) {
  const prefix = `r${runTag}`;
  const taskQueue = `bench-resume-${runTag}`;
  const previewMs = nextWholeMinute(35_000);
  log(`resume: ${campaigns} campaigns, preview window ${new Date(previewMs).toISOString()}`);
  await h.admin.seed({ reset: true, catalogue: demoFleet(Date.now()).catalogue, instances: fleetSeed(prefix, campaigns, previewMs, previewMs + 60 * MINUTE) });
  const worker = await createCampaignWorker(h, taskQueue);
  const running = worker.run();
  const ids: string[] = [];
  for (let i = 0; i < campaigns; i++) {
    const handle = await startCampaign(h.client, fleetCampaign(prefix, i, h.admin, opts.pollInterval), { taskQueue });
    ids.push(handle.workflowId);
  }
  const q = `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`;
  while ((await count(h.client, `${q} AND RdsState = 'waiting-for-window'`)) < campaigns) {
    if (Date.now() > previewMs - 2000) throw new Error('resume: campaigns did not reach their window sleep in time');
    await sleep(500);
  }
  worker.shutdown();
  await running;
  log('  worker stopped with every campaign asleep; waiting for the window to open without a worker');
  await sleep(previewMs + 3000 - Date.now());

  const child = spawnWorkerProcess('resumed worker', { temporalAddress: h.env.connection.options.address, taskQueue, simUrl: h.simUrl }, 'npm-run-worker');
  const spawnedAt = child.spawnedAt;
  let pollingAt: number | undefined;
  void child.waitForLine(WORKER_POLLING, 120_000).then(
    (at) => (pollingAt = at),
    () => undefined,
  );
  try {
    const nextStep = new Map<string, number>();
    const giveUp = Date.now() + 120_000;
    while (nextStep.size < ids.length && Date.now() < giveUp) {
      for (const id of ids.filter((x) => !nextStep.has(x))) {
        const events = (await h.client.workflow.getHandle(id).fetchHistory()).events ?? [];
        const fired = events.findIndex((e) => isEvent(e, EventType.EVENT_TYPE_TIMER_FIRED));
        const next = fired >= 0 ? events.slice(fired).find((e) => isEvent(e, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)) : undefined;
        if (next) nextStep.set(id, eventMs(next));
      }
      await sleep(250);
    }
    if (nextStep.size < ids.length) throw new Error(`resume: only ${nextStep.size}/${ids.length} campaigns moved within 120 s of the new worker's start; worker output:\n${child.tail(20)}`);
    const lat = [...nextStep.values()].map((t) => (t - spawnedAt) / 1000);
    const result = {
      campaigns,
      workerProcessStartToPollingSeconds: pollingAt ? round((pollingAt - spawnedAt) / 1000, 1) : undefined,
      startToNextStepSeconds: { p50: round(median(lat), 1)!, max: round(Math.max(...lat), 1)! },
      how: 'old worker shut down gracefully while every campaign slept towards its window; the window opened with no worker; a new `src/worker.ts` process was spawned; next step = the waitForInstance ActivityTaskScheduled event after the window timer fired',
    };
    log(`  new worker process polling after ${result.workerProcessStartToPollingSeconds} s; campaigns moved after p50 ${result.startToNextStepSeconds.p50} s, max ${result.startToNextStepSeconds.max} s`);
    return result;
  } finally {
    await child.stop();
    for (const id of ids) await h.client.workflow.getHandle(id).terminate('bench resume measurement done').catch(() => undefined);
  }
}

