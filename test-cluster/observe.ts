/**
 * What the cluster suite reads while it runs: workflow status until a condition holds (through server
 * outages), pending activities and their workers, history events, the workers' HTTP endpoints.
 */
import os from 'node:os';
import type { WorkflowHandle } from '@temporalio/client';
import type { TimelineEntry } from '../src/api';
import { MINUTE_MS as MINUTE } from '../src/domain/duration';
import { hasStep, until as pollUntil } from '../dev/follow';

/** Polls `query` until `pred` holds; errors (a server restarting, no worker yet) only delay it. */
export function until<S>(what: string, query: () => Promise<S>, pred: (s: S) => boolean, timeoutMs = 5 * MINUTE): Promise<S> {
  return pollUntil(what, query, pred, timeoutMs);
}

export { hasStep };

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
