import assert from 'node:assert/strict';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { resolveWorkflowBundle, type ResolvedWorkflowBundle } from '../../src/workflow-bundle';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { CampaignSpec, CampaignStatus } from '../../src/api';
import { campaignStatusQuery } from '../../src/api';
import type { Activities } from '../../src/api';
import { WEEK_MS } from '../../src/domain/duration';
import { FakeAws } from '../fixtures/fake-aws';
import { uniqueTaskQueue } from '../harness';

let bundle: Promise<ResolvedWorkflowBundle> | undefined;

/**
 * The production workflow bundle, once per mocha run: the one `npm run worker` uses (src/workflow-bundle.ts), from
 * the cache under node_modules/.cache when the sources have not changed since it was built, so that the test
 * groups running side by side do not each bundle with webpack again.
 */
export function workflowBundle(): Promise<ResolvedWorkflowBundle> {
  bundle ??= resolveWorkflowBundle({ logger: quietLogger as never });
  return bundle;
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (m: string) => console.error(m),
};

/** Ids of the workflows open on the server right now. */
async function openWorkflowIds(env: TestWorkflowEnvironment): Promise<Set<string>> {
  const ids = new Set<string>();
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await env.client.workflowService.listOpenWorkflowExecutions({ namespace: env.namespace ?? 'default', maximumPageSize: 1000, nextPageToken });
    for (const e of page.executions ?? []) if (e.execution?.workflowId) ids.add(e.execution.workflowId);
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return ids;
}

/**
 * Moves the time-skipping server's clock on to the next Thursday 00:00 UTC (the epoch's weekday), so each
 * test starts at the same point of the week whatever the tests before it did. Without it a test's first
 * instant depended on where earlier tests left the shared clock: a production approval asked a few hours
 * before its window came under the 14 days' notice was re-planned by the time it was given (seen in CI).
 * From Thursday 00:00 the fleet's Wednesday-night production window is 6 days 22 hours off that boundary.
 */
async function toStartOfWeek(env: TestWorkflowEnvironment): Promise<void> {
  if (!env.supportsTimeSkipping) return;
  const now = await env.currentTimeMs();
  const ahead = Math.ceil(now / WEEK_MS) * WEEK_MS - now;
  if (ahead > 0) await env.sleep(ahead);
}

/**
 * Runs `fn` with a worker on a fresh task queue. Workflows the test started and left open (a failed
 * assertion mid-run) are terminated before the worker stops: otherwise their timers keep scheduling tasks
 * on a queue nobody polls, and the shared time-skipping server stops skipping for every later test.
 */
export async function withWorker<T>(env: TestWorkflowEnvironment, activities: Activities, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  await toStartOfWeek(env);
  const taskQueue = uniqueTaskQueue('campaign');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: (await workflowBundle()).option,
    activities,
  });
  const before = await openWorkflowIds(env);
  return worker.runUntil(async () => {
    try {
      return await fn(taskQueue);
    } finally {
      for (const id of await openWorkflowIds(env)) {
        if (!before.has(id)) await env.client.workflow.getHandle(id).terminate('the test ended with the workflow still open').catch(() => undefined);
      }
    }
  });
}

export function fleet(fake: FakeAws): void {
  // Monday-morning windows for preview, Wednesday night for production.
  fake.addInstance({ instanceId: 'notify-preview', preferredMaintenanceWindow: 'mon:03:00-mon:03:30' });
  fake.addInstance({ instanceId: 'notify-staging', preferredMaintenanceWindow: 'tue:03:00-tue:03:30' });
  fake.addInstance({ instanceId: 'notify-production', preferredMaintenanceWindow: 'wed:22:00-wed:22:30' });
}

export function runbookSpec(overrides: Partial<CampaignSpec> = {}): CampaignSpec {
  return {
    targetEngineVersion: '15.8',
    requester: 'alice',
    stages: [
      { name: 'preview', region: 'eu-west-2', instanceId: 'notify-preview', method: 'maintenance-window' },
      { name: 'staging', region: 'eu-west-2', instanceId: 'notify-staging', method: 'apply-now', probe: { url: 'http://status.example/_status' } },
      { name: 'production', region: 'eu-west-2', instanceId: 'notify-production', method: 'maintenance-window' },
    ],
    pollInterval: '5m',
    ...overrides,
  };
}

/**
 * Lets server time move on in steps until the campaign's status satisfies `pred` (the time-skipping
 * server only skips while someone waits). Fails with the last status when it never does.
 */
export async function advanceUntil(
  env: TestWorkflowEnvironment,
  handle: WorkflowHandle,
  pred: (s: CampaignStatus) => boolean,
  opts: { stepMs?: number; maxMs?: number } = {},
): Promise<CampaignStatus> {
  const stepMs = opts.stepMs ?? 3 * 3600_000;
  const maxMs = opts.maxMs ?? Math.max(90 * 86_400_000, stepMs * 2000);
  const maxSteps = 400;
  let steps = 0;
  let last: CampaignStatus | undefined;
  for (let waited = 0; waited <= maxMs; waited += stepMs) {
    last = await handle.query(campaignStatusQuery);
    if (pred(last)) return last;
    if (++steps > maxSteps) break;
    await env.sleep(stepMs);
  }
  throw new Error(`campaign never reached the expected state; last status: ${JSON.stringify(last, null, 2)}`);
}

/** The update was rejected by the workflow's validator with a message matching `pattern`. */
export async function rejected(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof WorkflowUpdateFailedError, `expected an update rejection, got ${err}`);
    assert.match(String((err.cause as Error)?.message), pattern);
    return true;
  });
}

/** The workflow failed with an ApplicationFailure; returns it. */
export async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${err}`);
    assert.ok(err.cause instanceof ApplicationFailure, `expected ApplicationFailure cause, got ${err.cause}`);
    return err.cause;
  }
  assert.fail('workflow did not fail');
}

/** The patch ids a run's history records (each `core_patch` marker's id), in order. */
export function patchIds(history: { events?: { markerRecordedEventAttributes?: { markerName?: string | null; details?: Record<string, { payloads?: { data?: Uint8Array | null }[] | null }> | null } | null }[] | null }): string[] {
  return (history.events ?? [])
    .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')
    .map((m) => JSON.parse(Buffer.from(m.markerRecordedEventAttributes!.details!['patch-data']!.payloads![0].data ?? []).toString()) as { id: string })
    .map((d) => d.id);
}
