/**
 * What the cluster suite reads while it runs: workflow status until a condition holds (through server
 * outages), pending activities and their workers, history events, the workers' HTTP endpoints.
 */
import os from 'node:os';
import type { WorkflowHandle } from '@temporalio/client';
import type { TimelineEntry } from '../src/api';
import { MINUTE_MS as MINUTE } from '../src/domain/duration';
import { sleep } from '../dev/time';

/** Polls `query` until `pred` holds; errors (a server restarting, no worker yet) only delay it. */
export async function until<S>(what: string, query: () => Promise<S>, pred: (s: S) => boolean, timeoutMs = 5 * MINUTE): Promise<S> {
  const deadline = Date.now() + timeoutMs;
  let last: S | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await Promise.race([query(), sleep(10_000).then(() => Promise.reject(new Error('query took over 10 s')))]);
      if (pred(last)) return last;
      const waiting = last as { state?: string; waitingFor?: { question?: string } };
      if (waiting.state === 'waiting-for-decision') throw new Error(`unexpected decision asked while waiting for ${what}: ${waiting.waitingFor?.question}`);
    } catch (err) {
      if (/unexpected decision/.test(String(err))) throw err;
      lastError = err;
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 1500)}; last error: ${lastError}`);
}

export const hasStep = (step: string) => (s: { timeline: TimelineEntry[] }) => s.timeline.some((t) => t.step === step);

/** The first timeline entry taken at or after `since` (entries carry the time of the workflow task that took them). */
export function firstStepSince(timeline: TimelineEntry[], since: number): TimelineEntry | undefined {
  return timeline.find((t) => Date.parse(t.at) >= since);
}

/** The SDK's default worker identity, which a worker process has: `<pid>@<hostname>`. */
export function workerIdentity(pid: number): string {
  return `${pid}@${os.hostname()}`;
}

export interface RunningActivity {
  activityId: string;
  type: string;
  attempt: number;
  worker?: string;
}

/** The activity of `type` that a worker has started (not merely scheduled), if any. */
export async function startedActivity(handle: WorkflowHandle, type: string): Promise<RunningActivity | undefined> {
  const { raw } = await handle.describe();
  const STARTED = 2; // PENDING_ACTIVITY_STATE_STARTED
  const a = (raw.pendingActivities ?? []).find((p) => p.activityType?.name === type && p.state === STARTED);
  return a ? { activityId: a.activityId ?? '', type, attempt: a.attempt ?? 0, worker: a.lastWorkerIdentity ?? undefined } : undefined;
}

/** Who completed each activity of `type`, from the history (ActivityTaskCompleted carries the worker's identity). */
export async function activityCompletions(handle: WorkflowHandle, type: string): Promise<{ activityId: string; completedBy?: string }[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = new Map<string, string>();
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s && s.activityType?.name === type) scheduled.set(String(e.eventId), s.activityId ?? '');
  }
  return events
    .filter((e) => e.activityTaskCompletedEventAttributes && scheduled.has(String(e.activityTaskCompletedEventAttributes.scheduledEventId)))
    .map((e) => ({ activityId: scheduled.get(String(e.activityTaskCompletedEventAttributes!.scheduledEventId))!, completedBy: e.activityTaskCompletedEventAttributes!.identity ?? undefined }));
}

export async function httpGet(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.text() };
}

/** The metric families of a Prometheus scrape that have a sample labelled task_queue="<taskQueue>". */
export function metricsForTaskQueue(scrape: string, taskQueue: string): Set<string> {
  const names = new Set<string>();
  for (const line of scrape.split('\n')) {
    if (line.startsWith('#') || !line.includes(`task_queue="${taskQueue}"`)) continue;
    names.add(line.split('{')[0].replace(/_(bucket|sum|count)$/, ''));
  }
  return names;
}
