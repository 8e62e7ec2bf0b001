/**
 * The worker as an operator runs it (a process of its own, configured by ORCHESTRATOR_* variables): the SDK
 * runtime's Prometheus endpoint with workflow and activity metrics for its task queue, /healthz and /readyz,
 * JSON log lines, and a graceful drain on SIGTERM: readiness turns false at once, the activity in hand
 * finishes on this worker (it is not left to time out and be retried elsewhere), the process exits 0.
 * Against the shared dev server; the simulator holds every AWS answer for a while so an activity is in
 * flight when the signal comes. The cluster suite (test-cluster/) checks the same on the real topology.
 * And a worker started from source does not bundle the workflows again: it runs the cached bundle.
 */
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { DefaultLogger } from '@temporalio/worker';
import { campaignStatusQuery } from '../src/api';
import { startCampaign } from '../src/client';
import { resolveWorkflowBundle, workflowBundleKey, PROJECT_ROOT } from '../src/workflow-bundle';
import { fleetAtRest, resolvedFleetCampaign } from '../dev/fixtures';
import { Closers } from '../dev/closers';
import { freePort } from '../dev/ports';
import { startLocalSimulator } from '../dev/simulator';
import { sleep } from '../dev/time';
import { spawnWorkerProcess } from '../dev/worker';
import { httpGet, metricsForTaskQueue, workerIdentity } from '../test-cluster/observe';
import { localEnv, uniqueTaskQueue } from './harness';

const LATENCY_MS = 2500;

/** Activities of the run: those a worker has started and not finished, and who completed the others. */
async function activities(handle: WorkflowHandle): Promise<{ started: string[]; completedBy: Map<string, string> }> {
  const { raw } = await handle.describe();
  const STARTED = 2; // PENDING_ACTIVITY_STATE_STARTED
  const started = (raw.pendingActivities ?? []).filter((p) => p.state === STARTED).map((p) => p.activityId ?? '');
  const events = (await handle.fetchHistory()).events ?? [];
  const ids = new Map<string, string>();
  for (const e of events) if (e.activityTaskScheduledEventAttributes) ids.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityId ?? '');
  const completedBy = new Map<string, string>();
  for (const e of events) {
    const c = e.activityTaskCompletedEventAttributes;
    if (c) completedBy.set(ids.get(String(c.scheduledEventId)) ?? '', c.identity ?? '');
  }
  return { started, completedBy };
}

async function waitUntil<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('worker process: metrics, health, JSON logs, drain on SIGTERM', function () {
  this.timeout(120_000);
  const closers = new Closers();
  after(() => closers.close());

  it('serves metrics and health, then drains the activity in hand on SIGTERM and exits 0', async function () {
    const env = await localEnv();
    const { sim, admin } = await startLocalSimulator(closers, { speed: 5 });
    await admin.seed(fleetAtRest());
    const taskQueue = uniqueTaskQueue('worker-process');
    const [metricsPort, healthPort] = [await freePort(), await freePort()];
    const worker = spawnWorkerProcess(
      'worker',
      {
        temporalAddress: env.connection.options.address,
        taskQueue,
        simUrl: sim.url,
        extra: {
          ORCHESTRATOR_METRICS_PORT: `127.0.0.1:${metricsPort}`,
          ORCHESTRATOR_HEALTH_PORT: `127.0.0.1:${healthPort}`,
          ORCHESTRATOR_LOG_FORMAT: 'json',
          ORCHESTRATOR_SHUTDOWN_GRACE_SECONDS: '20',
        },
      },
      'npm-run-worker',
    );
    closers.add(() => worker.kill());
    await worker.waitForLine(/"message":"worker polling /, 90_000);
    const health = (path: string) => httpGet(`http://127.0.0.1:${healthPort}${path}`);

    assert.deepEqual(await health('/healthz'), { status: 200, body: '{"ok":true,"state":"RUNNING"}' });
    assert.deepEqual(await health('/readyz'), { status: 200, body: '{"ok":true,"state":"RUNNING"}' });
    assert.equal((await health('/nothing')).status, 404);

    // Every AWS answer takes LATENCY_MS: each activity is in flight that long.
    await admin.faults({ latencyMs: LATENCY_MS });
    const spec = resolvedFleetCampaign({
      campaignId: `worker-process-${taskQueue}`,
      requester: 'alice',
      admin,
      environments: ['staging'],
      timings: { pollInterval: '1s', probe: { ratePerSecond: 2, settle: '3s', maxDuration: '2m' }, productionNotice: '1m', precheckBefore: '30s', reminderInterval: '10m' },
    });
    const handle = await startCampaign(env.client, spec, { taskQueue });
    closers.add(() => handle.terminate('worker-process test done').catch(() => undefined));

    // One activity done (so there are activity metrics) and the next one in the worker's hands.
    const inFlight = await waitUntil('an activity completed and another one running', async () => {
      const a = await activities(handle);
      return a.completedBy.size > 0 && a.started.length > 0 ? a.started : undefined;
    });
    const metrics = metricsForTaskQueue((await httpGet(`http://127.0.0.1:${metricsPort}/metrics`)).body, taskQueue);
    for (const m of ['temporal_workflow_task_execution_latency', 'temporal_activity_execution_latency', 'temporal_num_pollers', 'temporal_worker_task_slots_available']) {
      assert.ok(metrics.has(m), `metric ${m} for the task queue; got ${[...metrics].sort().join(', ')}`);
    }

    worker.killNow('SIGTERM');
    const draining = await waitUntil('readiness to turn false', async () => {
      const r = await health('/readyz').catch(() => undefined);
      return r && r.status === 503 ? r : undefined;
    }, 5000);
    assert.match(draining.body, /"ok":false/);
    const exit = await Promise.race([worker.exited, sleep(40_000).then(() => 'still running')]);
    assert.deepEqual(exit, { code: 0, signal: null }, worker.tail());

    const after = await activities(handle);
    for (const id of inFlight) assert.equal(after.completedBy.get(id), workerIdentity(worker.pid), `activity ${id}, in flight at SIGTERM, completed by the draining worker`);

    const lines = worker.output.map((line) => {
      try {
        return JSON.parse(line) as { level?: string; message?: string };
      } catch {
        return assert.fail(`not a JSON log line: ${line}`);
      }
    });
    assert.ok(lines.every((l) => l.level && typeof l.message === 'string'));
    assert.ok(lines.some((l) => /^SIGTERM: draining/.test(l.message ?? '')));
    assert.ok(lines.some((l) => l.message === 'worker drained and stopped'));
  });

  it('starts from the cached workflow bundle, without bundling, and runs a campaign on it', async function () {
    // What the earlier start of a worker (or npm run build) left: the bundle of these sources in the cache.
    const warm = await resolveWorkflowBundle({ logger: new DefaultLogger('WARN') });
    assert.ok(warm.file && warm.source !== 'prebuilt', `a bundle in the cache (${warm.source}: ${warm.warning ?? warm.file})`);
    const env = await localEnv();
    const { sim, admin } = await startLocalSimulator(closers, { speed: 5 });
    await admin.seed(fleetAtRest());
    const taskQueue = uniqueTaskQueue('worker-cached-bundle');
    const worker = spawnWorkerProcess('worker (cached bundle)', { temporalAddress: env.connection.options.address, taskQueue, simUrl: sim.url }, 'npm-run-worker');
    closers.add(() => worker.kill());
    await worker.waitForLine(/^worker polling /, 90_000);

    const bundleLines = worker.output.filter((l) => /workflow bundle/i.test(l));
    const changedMeanwhile = workflowBundleKey(PROJECT_ROOT) !== warm.key ? ' (the workflow sources changed while the test ran: run it again)' : '';
    assert.equal(bundleLines.length, 1, `one line about the bundle, and no bundling by the SDK${changedMeanwhile}:\n${worker.tail()}`);
    assert.match(bundleLines[0], new RegExp(`^workflow bundle: cached node_modules/\\.cache/rds-orchestrator/workflow-bundle-${warm.key}\\.js \\(\\d+ ms\\) key=${warm.key}$`), changedMeanwhile);

    const spec = resolvedFleetCampaign({
      campaignId: `worker-cached-bundle-${taskQueue}`,
      requester: 'alice',
      admin,
      environments: ['staging'],
      timings: { pollInterval: '1s', probe: { ratePerSecond: 2, settle: '3s', maxDuration: '2m' }, productionNotice: '1m', precheckBefore: '30s', reminderInterval: '10m' },
    });
    const handle = await startCampaign(env.client, spec, { taskQueue });
    closers.add(() => handle.terminate('worker-process test done').catch(() => undefined));
    // The workflow code of the cached bundle runs: it schedules activities, this worker completes them, its query answers.
    const completedBy = await waitUntil('an activity completed', async () => {
      const a = await activities(handle);
      return a.completedBy.size > 0 ? [...a.completedBy.values()] : undefined;
    });
    assert.ok(completedBy.every((identity) => identity === workerIdentity(worker.pid)));
    const status = await handle.query(campaignStatusQuery);
    assert.equal(status.campaignId, spec.campaignId);
  });
});
