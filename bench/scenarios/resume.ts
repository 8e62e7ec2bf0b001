/**
 * Scenario "resume": how soon campaigns move again after their worker is gone, for every kind of step
 * they can be in when it goes. Each kind has its own campaigns; a new worker *process* (`src/worker.ts`,
 * exactly what `npm run worker` runs: node + ts-node + bundling) is spawned and measured from its spawn:
 * - **timer**: every campaign asleep towards its preview window; the worker shuts down; the window opens
 *   with no worker. Next step: the ActivityTaskScheduled after the window timer fired (history).
 * - **AWS call**: staging-only campaigns in preflight, their DescribeDBInstances held 3 s by the
 *   simulator's latency fault; the worker *process* is SIGKILLed with the calls in flight.
 * - **probe** and **long wait**: staging-only campaigns right after `upgrade-triggered`: the availability
 *   probe and `waitForInstance` (the waiter that also waits for a restore, and the one for Route 53 INSYNC)
 *   are running on the worker process when it is SIGKILLed.
 * - **fleet**: one fleet campaign whose staging stage upgrades FLEET_IN_FLIGHT instances at once (one wave, two
 *   batch workflows), mid-wave: when nine in ten instances have their upgrade triggered and their probe running,
 *   or as many as ever are at once (each instance's workflow then runs one AWS call, the probe or the waiter);
 *   the worker is the compiled one (`node dist/worker.js` with the prebuilt workflow
 *   bundle, as in production) when `npm run build` has made it.
 * For the killed kinds, "moved" means: the activity that was running at the kill completed, or a later
 * attempt of it started (on the new worker), whichever comes first (`describe()`'s pending activities).
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { ResolvedCampaignSpec } from '../../src/api';
import { campaignStatusQuery } from '../../src/api';
import { startCampaign } from '../../src/client';
import { MINUTE_MS as MINUTE } from '../../src/domain/duration';
import { demoFleet } from '../../sim';
import { resolvedFleetCampaign } from '../../dev/fixtures';
import { nextWholeMinute, sleep } from '../../dev/time';
import { WORKER_POLLING, spawnWorkerProcess } from '../../dev/worker';
import fs from 'node:fs';
import { COMPILED_WORKER } from '../../dev/worker';
import { resolveCampaignSpec } from '../../src/input';
import { fleetCampaign, fleetSeed } from '../fleet';
import { fleetCampaignSeed, fleetCampaignSpec, planFleetCampaign } from './fleet-campaign';
import { EventType, eventMs, isEvent, round } from '../measure';
import { median } from '../metrics';
import type { BenchOptions } from '../options';
import type { BenchScenario } from '../scenario';
import { count, createCampaignWorker, log, type BenchStack } from '../stack';

export type ResumeResult = ReturnType<typeof summarizeResume>;

export interface ResumeKind {
  kind: string;
  campaigns: number;
  /** What was running at the kill, per activity type (count of campaigns). */
  inFlight?: Record<string, number>;
  workerProcessStartToPollingSeconds?: number;
  startToNextStepSeconds: { p50: number; max: number };
  /** Per activity type that was running at the kill: spawn → moved. */
  byActivity?: Record<string, { p50: number; max: number; n: number }>;
  how: string;
}

/** A worker runs it now (not waiting for its next attempt). */
const isRunning = (a: temporal.api.workflow.v1.IPendingActivityInfo) => a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
export const stats = (xs: number[]) => ({ p50: round(median(xs), 1)!, max: round(Math.max(...xs), 1)! });

/** The figures over every kind that was measured: the worst one decides the max; a failed kind is listed. */
export function summarizeResume(kinds: ResumeKind[], failed: { kind: string; error: string }[]) {
  const all = kinds.flatMap((k) => [k.startToNextStepSeconds.max]);
  const polling = kinds.flatMap((k) => (k.workerProcessStartToPollingSeconds !== undefined ? [k.workerProcessStartToPollingSeconds] : []));
  return {
    campaigns: kinds.reduce((n, k) => n + k.campaigns, 0),
    workerProcessStartToPollingSeconds: polling.length ? round(median(polling), 1) : undefined,
    startToNextStepSeconds: { p50: round(median(kinds.map((k) => k.startToNextStepSeconds.p50)), 1)!, max: round(Math.max(...all), 1)! },
    kinds,
    ...(failed.length ? { failed } : {}),
    how: 'per kind of in-flight step (timer, AWS call, probe, long wait): see kinds[].how',
  };
}

/** Every kind in turn; the top-level figures are over all kinds (the worst one decides). */
export async function runResume(h: BenchStack, campaigns: number, opts: BenchOptions, runTag: string): Promise<ResumeResult> {
  const kinds: ResumeKind[] = [];
  const failed: { kind: string; error: string }[] = [];
  // One kind failing must not cost the run's other figures (the resume phase comes last).
  const attempt = async (kind: string, run: () => Promise<ResumeKind>) => {
    try {
      kinds.push(await run());
    } catch (err) {
      log(`  resume (${kind}) failed: ${(err as Error).message}`);
      failed.push({ kind, error: (err as Error).message });
    }
  };
  await attempt('timer', () => resumeAfterTimer(h, campaigns, opts, runTag));
  await attempt('aws-call', () => resumeAfterKill(h, campaigns, opts, runTag, 'aws-call'));
  await attempt('staging', () => resumeAfterKill(h, campaigns, opts, runTag, 'staging'));
  await attempt('fleet', () => resumeFleetAfterKill(h, FLEET_IN_FLIGHT, opts, runTag));
  return summarizeResume(kinds, failed);
}

/** The window timer fires while no worker runs (old worker shut down gracefully; nothing was in flight). */
async function resumeAfterTimer(h: BenchStack, campaigns: number, opts: BenchOptions, runTag: string): Promise<ResumeKind> {
  const prefix = `r${runTag}`;
  const taskQueue = `bench-resume-${runTag}`;
  const previewMs = nextWholeMinute(35_000);
  log(`resume (timer): ${campaigns} campaigns, preview window ${new Date(previewMs).toISOString()}`);
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
    const result: ResumeKind = {
      kind: 'timer',
      campaigns,
      workerProcessStartToPollingSeconds: pollingAt ? round((pollingAt - spawnedAt) / 1000, 1) : undefined,
      startToNextStepSeconds: stats([...nextStep.values()].map((t) => (t - spawnedAt) / 1000)),
      how: 'old worker shut down gracefully while every campaign slept towards its window; the window opened with no worker; a new `src/worker.ts` process was spawned; next step = the waitForInstance ActivityTaskScheduled event after the window timer fired',
    };
    logKind(result);
    return result;
  } finally {
    await child.stop();
    await terminateAll(h.client, ids);
  }
}

/**
 * Staging-only campaigns on a worker process that is SIGKILLed: `aws-call` during preflight with every AWS
 * answer held 3 s by the simulator; `staging` right after the upgrade was triggered (probe and waiter running).
 */
async function resumeAfterKill(h: BenchStack, campaigns: number, opts: BenchOptions, runTag: string, kind: 'aws-call' | 'staging'): Promise<ResumeKind> {
  const prefix = `r${runTag}${kind === 'aws-call' ? 'a' : 's'}`;
  const taskQueue = `bench-resume-${kind}-${runTag}`;
  const far = Date.now() + 60 * MINUTE;
  log(`resume (${kind}): ${campaigns} staging-only campaigns on a worker process, SIGKILLed ${kind === 'aws-call' ? 'with AWS calls in flight' : 'right after their upgrades were triggered'}`);
  await h.admin.seed({ reset: true, catalogue: demoFleet(Date.now()).catalogue, instances: fleetSeed(prefix, campaigns, far, far) });
  const workerEnv = { temporalAddress: h.env.connection.options.address, taskQueue, simUrl: h.simUrl };
  const first = spawnWorkerProcess(`resume ${kind} worker`, workerEnv, 'npm-run-worker');
  const ids: string[] = [];
  let child: ReturnType<typeof spawnWorkerProcess> | undefined;
  try {
    await first.waitForLine(WORKER_POLLING, 120_000);
    const LATENCY_MS = 3000;
    if (kind === 'aws-call') await h.admin.faults({ latencyMs: LATENCY_MS });
    for (let i = 0; i < campaigns; i++) {
      const handle = await startCampaign(h.client, stagingCampaign(prefix, i, h, opts.pollInterval), { taskQueue });
      ids.push(handle.workflowId);
    }
    // Wait until every campaign has the activity of its kind running (started on the first worker).
    const wanted = kind === 'aws-call' ? undefined : 'runAvailabilityProbe';
    // If they never all are at once (one campaign faster than the others), kill with what runs after 90 s.
    const giveUp = Date.now() + 90_000;
    for (;;) {
      const ready = await Promise.all(
        ids.map(async (id) => {
          const d = await h.client.workflow.getHandle(id).describe();
          const started = (d.raw.pendingActivities ?? []).filter(isRunning);
          if (kind === 'aws-call') return started.length > 0;
          if (!started.some((a) => a.activityType?.name === wanted)) return false;
          const status = await h.client.workflow.getHandle(id).query(campaignStatusQuery);
          return status.timeline.some((t) => t.step === 'upgrade-triggered');
        }),
      );
      if (ready.every(Boolean)) break;
      if (Date.now() > giveUp) {
        if (!ready.some(Boolean)) throw new Error(`resume (${kind}): no campaign reached the step to kill in`);
        log(`  only ${ready.filter(Boolean).length}/${ids.length} campaigns at the step at once; killing now`);
        break;
      }
      await sleep(kind === 'aws-call' ? 100 : 50);
    }
    // What runs at the kill, per campaign.
    const atKill = await runningActivities(h, ids);
    await first.kill();
    if (kind === 'aws-call') await h.admin.faults({ latencyMs: 0 });
    const inFlight = countByType(atKill);
    log(`  killed the worker process with ${JSON.stringify(inFlight)} running; spawning a new one`);

    child = spawnWorkerProcess(`resumed ${kind} worker`, workerEnv, 'npm-run-worker');
    const spawnedAt = child.spawnedAt;
    let pollingAt: number | undefined;
    void child.waitForLine(WORKER_POLLING, 120_000).then(
      (at) => (pollingAt = at),
      () => undefined,
    );
    // moved: no longer pending (completed), or a later attempt started (by the new worker).
    const byActivity = await movedAfter(h, atKill, spawnedAt, child).catch((err: Error) => {
      throw new Error(`resume (${kind}): ${err.message}`);
    });
    const result: ResumeKind = {
      kind,
      campaigns,
      inFlight,
      workerProcessStartToPollingSeconds: pollingAt ? round((pollingAt - spawnedAt) / 1000, 1) : undefined,
      startToNextStepSeconds: stats(Object.values(byActivity).flat()),
      byActivity: Object.fromEntries(Object.entries(byActivity).map(([t, xs]) => [t, { ...stats(xs), n: xs.length }])),
      how:
        kind === 'aws-call'
          ? 'staging-only campaigns in preflight with every AWS answer held 3 s by the simulator; the worker process SIGKILLed while each campaign had an activity running; latency off; a new `src/worker.ts` process spawned at once; moved = that activity completed or its next attempt started'
          : 'staging-only campaigns right after upgrade-triggered, availability probe and waitForInstance running; the worker process SIGKILLed; a new `src/worker.ts` process spawned at once; moved = the activity completed or its next attempt started',
    };
    logKind(result);
    return result;
  } finally {
    await h.admin.faults({ latencyMs: 0 }).catch(() => undefined);
    first.killNow();
    await child?.stop();
    await terminateAll(h.client, ids);
  }
}

/** How many instances the fleet kind has in flight at the kill (the spec's most per wave). */
export const FLEET_IN_FLIGHT = 100;

/**
 * One fleet campaign, staging only: `instances` upgraded at once (one wave, batches of half), its worker process
 * SIGKILLed mid-wave; moved = per instance workflow, as resumeAfterKill.
 */
async function resumeFleetAfterKill(h: BenchStack, instances: number, opts: BenchOptions, runTag: string): Promise<ResumeKind> {
  const prefix = `r${runTag}f`;
  const taskQueue = `bench-resume-fleet-${runTag}`;
  const plan = planFleetCampaign(prefix, 3 * instances, instances);
  const spec = fleetCampaignSpec(plan, h.admin, opts.pollInterval);
  spec.stages = spec.stages.filter((st) => st.name === 'staging').map((st) => ({ ...st, waves: { ...st.waves!, instancesPerWorkflow: Math.ceil(instances / 2) } }));
  const entry = fs.existsSync(COMPILED_WORKER) ? 'compiled' : 'npm-run-worker';
  log(`resume (fleet): one fleet campaign upgrading ${plan.counts.staging} staging instances at once through 2 batches, on a worker process (${entry === 'compiled' ? 'node dist/worker.js' : 'src/worker.ts: run npm run build for the compiled one'}), SIGKILLed mid-wave`);
  await h.admin.seed({ reset: true, catalogue: demoFleet(Date.now()).catalogue, instances: fleetCampaignSeed(plan) });
  const workerEnv = { temporalAddress: h.env.connection.options.address, taskQueue, simUrl: h.simUrl };
  const first = spawnWorkerProcess('resume fleet worker', workerEnv, entry);
  let child: ReturnType<typeof spawnWorkerProcess> | undefined;
  const handle = await (async () => {
    await first.waitForLine(WORKER_POLLING, 120_000);
    return startCampaign(h.client, resolveCampaignSpec(spec), { taskQueue });
  })();
  try {
    // Every instance's own workflow, once the campaign has started them all.
    let ids: string[] = [];
    const giveUp = Date.now() + 3 * MINUTE;
    for (;;) {
      const s = await handle.query(campaignStatusQuery);
      const f = s.stages[0]?.fleet;
      if (f && f.counts.running + f.counts.completed + f.counts.failed >= plan.counts.staging) {
        ids = f.instances.map((i) => i.workflowId);
        break;
      }
      if (Date.now() > giveUp || ['failed', 'completed'].includes(s.state)) throw new Error(`resume (fleet): the campaign did not start its ${plan.counts.staging} instances (${s.state}, ${JSON.stringify(f?.counts)})`);
      await sleep(250);
    }
    const ready = async (id: string) => {
      const d = await h.client.workflow.getHandle(id).describe().catch(() => undefined);
      if (!d || !(d.raw.pendingActivities ?? []).filter(isRunning).some((a) => a.activityType?.name === 'runAvailabilityProbe')) return false;
      return (await h.client.workflow.getHandle(id).query(campaignStatusQuery)).timeline.some((t) => t.step === 'upgrade-triggered');
    };
    // The instances start and upgrade a few seconds apart: kill when nine in ten are at the step, or once the
    // number at it stops growing (the first ones are done before the last ones begin).
    let before = 0;
    for (;;) {
      const n = (await Promise.all(ids.map(ready))).filter(Boolean).length;
      if (n >= 0.9 * ids.length) break;
      if ((n > 0 && n < before) || Date.now() > giveUp) {
        if (before === 0 && n === 0) throw new Error('resume (fleet): no instance reached its upgrade');
        log(`  at most ${Math.max(n, before)}/${ids.length} instances at the step at once; killing now`);
        break;
      }
      before = Math.max(before, n);
    }
    const atKill = await runningActivities(h, ids);
    await first.kill();
    const inFlight = countByType(atKill);
    log(`  killed the worker process with ${JSON.stringify(inFlight)} running in ${ids.length} instance workflows; spawning a new one`);
    child = spawnWorkerProcess('resumed fleet worker', workerEnv, entry);
    const spawnedAt = child.spawnedAt;
    let pollingAt: number | undefined;
    void child.waitForLine(WORKER_POLLING, 120_000).then(
      (at) => (pollingAt = at),
      () => undefined,
    );
    const byActivity = await movedAfter(h, atKill, spawnedAt, child);
    const campaign = await handle.result();
    const result: ResumeKind = {
      kind: 'fleet',
      campaigns: 1,
      inFlight,
      workerProcessStartToPollingSeconds: pollingAt ? round((pollingAt - spawnedAt) / 1000, 1) : undefined,
      startToNextStepSeconds: stats(Object.values(byActivity).flat()),
      byActivity: Object.fromEntries(Object.entries(byActivity).map(([t, xs]) => [t, { ...stats(xs), n: xs.length }])),
      how: `one fleet campaign (staging only, apply-now under the probe) with ${ids.length} instances in one wave through 2 batch workflows, killed mid-wave (inFlight: what each instance's own workflow was running); the worker process (${entry === 'compiled' ? 'node dist/worker.js, prebuilt workflow bundle' : 'src/worker.ts'}) SIGKILLed; a new one spawned at once; moved = the activity completed or its next attempt started; the campaign then ${campaign.state} (${JSON.stringify(campaign.stages[0].fleet?.counts)})`,
    };
    logKind(result);
    return result;
  } finally {
    first.killNow();
    await child?.stop();
    await terminateAll(h.client, [handle.workflowId]);
  }
}

type AtKill = Map<string, { type: string; id: string; attempt: number }[]>;

/** What each workflow has running on a worker now. */
async function runningActivities(h: BenchStack, ids: string[]): Promise<AtKill> {
  const atKill: AtKill = new Map();
  for (const id of ids) {
    const d = await h.client.workflow.getHandle(id).describe();
    atKill.set(id, (d.raw.pendingActivities ?? []).filter(isRunning).map((a) => ({ type: a.activityType?.name ?? '?', id: a.activityId ?? '?', attempt: a.attempt ?? 1 })));
  }
  return atKill;
}

function countByType(atKill: AtKill): Record<string, number> {
  const out: Record<string, number> = {};
  for (const acts of atKill.values()) for (const a of acts) out[a.type] = (out[a.type] ?? 0) + 1;
  return out;
}

/** Seconds from the new worker's spawn until each activity running at the kill moved (completed, or a later attempt started), by type. */
async function movedAfter(h: BenchStack, atKill: AtKill, spawnedAt: number, child: ReturnType<typeof spawnWorkerProcess>): Promise<Record<string, number[]>> {
  const moved = new Map<string, number>();
  const key = (wf: string, a: { id: string }) => `${wf} ${a.id}`;
  const deadline = Date.now() + 2 * MINUTE;
  const total = [...atKill.values()].reduce((n, a) => n + a.length, 0);
  while (moved.size < total && Date.now() < deadline) {
    for (const [wf, acts] of atKill) {
      const pending = acts.filter((a) => !moved.has(key(wf, a)));
      if (!pending.length) continue;
      const d = await h.client.workflow.getHandle(wf).describe();
      const now = Date.now();
      for (const a of pending) {
        const p = (d.raw.pendingActivities ?? []).find((x) => x.activityId === a.id);
        const startedMs = p?.lastStartedTime ? Number(p.lastStartedTime.seconds ?? 0) * 1000 + Math.floor((p.lastStartedTime.nanos ?? 0) / 1e6) : undefined;
        if (!p) moved.set(key(wf, a), now);
        else if ((p.attempt ?? 1) > a.attempt && startedMs !== undefined && startedMs >= spawnedAt) moved.set(key(wf, a), Math.min(now, startedMs));
      }
    }
    await sleep(250);
  }
  if (moved.size < total) throw new Error(`only ${moved.size}/${total} in-flight activities moved within 2 minutes of the new worker's start; worker output:\n${child.tail(20)}`);
  const byActivity: Record<string, number[]> = {};
  for (const [wf, acts] of atKill) for (const a of acts) (byActivity[a.type] ??= []).push((moved.get(key(wf, a))! - spawnedAt) / 1000);
  return byActivity;
}

/** Campaign `i` of the fleet named `prefix`, staging only (upgrade now under the probe), the bench's timings. */
function stagingCampaign(prefix: string, i: number, h: BenchStack, pollInterval: string): ResolvedCampaignSpec {
  const base = fleetCampaign(prefix, i, h.admin, pollInterval);
  return resolvedFleetCampaign({
    campaignId: base.campaignId,
    requester: 'bench-requester',
    timings: { pollInterval, probe: { ratePerSecond: 1, settle: '2s', maxDuration: '5m' }, productionNotice: '20s', precheckBefore: '10s', reminderInterval: '10m' },
    admin: h.admin,
    environments: ['staging'],
    instanceId: (env) => `${prefix}-${i}-${env}`,
  });
}

function logKind(k: ResumeKind): void {
  const by = k.byActivity ? ` (${Object.entries(k.byActivity).map(([t, s]) => `${t} max ${s.max} s`).join(', ')})` : '';
  log(`  ${k.kind}: new worker process polling after ${k.workerProcessStartToPollingSeconds} s; moved after p50 ${k.startToNextStepSeconds.p50} s, max ${k.startToNextStepSeconds.max} s${by}`);
}

async function terminateAll(client: Client, ids: string[]): Promise<void> {
  for (const id of ids) await client.workflow.getHandle(id).terminate('bench resume measurement done').catch(() => undefined);
}

export const scenario: BenchScenario<ResumeResult> = {
  name: 'resume',
  describe: 'How soon campaigns move again after their worker is gone (a window timer fired with no worker; a worker process SIGKILLed with AWS calls, a probe or a waiter in flight), measured from the new worker process\'s spawn.',
  phase: 'after-sizes',
  selected: (opts) => opts.shape === 'campaigns' && opts.resume,
  run: async (ctx, opts) => runResume(ctx.stack, opts.resumeCampaigns, opts, ctx.runTag),
};
