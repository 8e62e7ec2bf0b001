/**
 * Availability probe: the runbook's "run a low fixed rate of requests against the app while the upgrade
 * happens and measure the outage" (a vegeta run), as one long heartbeating activity.
 *
 * Requests are sent on a fixed schedule whatever the previous ones are doing (an open-model load, so a
 * hanging database shows up as failures, not as a slower probe). Results are folded in send order:
 * an outage is measured from the send time of its first failed request to the send time of the next
 * successful one. Every few seconds the probe asks RDS whether the instance is available at the target
 * version, and ends once that has held for `settleSeconds`. Its running totals are heartbeated, so a
 * retry on another worker resumes the counts instead of starting from zero.
 *
 * The schedule, the fold, the stop condition and the heartbeats are one loop (`runProbeLoop`) that is given
 * "send one request": a GET here, a new connection and `SELECT 1` for the SQL probe (./database/probe.ts).
 */
import { DescribeDBInstancesCommand, type RDSClient } from '@aws-sdk/client-rds';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { isAwsError, toActivityError } from './aws-errors';
import { type AwsWhere, FailureTypes, type ProbeActivities, type ProbeRequest, type ProbeResult } from '../api/activities';
import type { HealthCheck } from '../api/activities';
import { isAvailableAt } from '../domain/instance-status';

/** What the probe loop needs: RDS for the stop condition, a clock, and how often it checks and heartbeats. */
export interface ProbeLoopDeps {
  rdsClientFor: (where: AwsWhere) => RDSClient;
  /** Milliseconds since the epoch; defaults to Date.now. */
  clock?: () => number;
  /** How often the stop condition is checked against RDS (one DescribeDBInstances each); default 5000. The first check is one interval after the start; once the condition holds, the next is when `settleSeconds` is over. */
  stopCheckIntervalMs?: number;
  /** How often running totals are heartbeated; default 2000. */
  heartbeatIntervalMs?: number;
}

export interface ProbeActivitiesDeps extends ProbeLoopDeps {
  fetch?: typeof fetch;
}

/** The schedule and the end of a probe, whatever it sends. */
export type ProbeSchedule = Pick<ProbeRequest, 'ratePerSecond' | 'requestTimeoutMs' | 'stopWhen' | 'maxDurationSeconds'>;

/**
 * Sends one request and says whether it succeeded (within the request timeout, which it enforces). It must
 * not throw, except when `cancel` (the activity's cancellation) aborts it.
 */
export type SendOnce = (cancel: AbortSignal) => Promise<boolean>;

/** What the probe heartbeats and resumes from after a retry. */
export interface ProbeProgress {
  startedAtMs: number;
  requests: number;
  failures: number;
  longestOutageMs: number;
  /** Send time of the first failed request of the outage in progress, if one is. */
  outageStartedAtMs?: number;
  /** Since when RDS has continuously shown the stop condition. */
  stopConditionSinceMs?: number;
  /** When these totals were heartbeated: after a crash, the time since then was not observed. */
  heartbeatAtMs?: number;
  /** Time no probe ran (worker crash between a heartbeat and the retry), counted as outage. */
  unobservedMs?: number;
}

function isProbeProgress(v: unknown): v is ProbeProgress {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return ['startedAtMs', 'requests', 'failures', 'longestOutageMs'].every((k) => typeof p[k] === 'number');
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function validate(req: ProbeRequest): void {
  const problems: string[] = [];
  try {
    const u = new URL(req.url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') problems.push(`url must be http(s), got ${u.protocol}`);
  } catch {
    problems.push(`url '${req.url}' is not a URL`);
  }
  scheduleProblems(req, problems);
  if (problems.length) throw ApplicationFailure.nonRetryable(`Invalid probe request: ${problems.join('; ')}`, FailureTypes.InvalidInput);
}

/** Adds what is wrong with a probe's schedule to `problems`. */
export function scheduleProblems(req: ProbeSchedule, problems: string[]): void {
  if (!(req.ratePerSecond > 0 && req.ratePerSecond <= 1000)) problems.push(`ratePerSecond must be in (0, 1000], got ${req.ratePerSecond}`);
  if (!(req.requestTimeoutMs > 0)) problems.push(`requestTimeoutMs must be > 0, got ${req.requestTimeoutMs}`);
  if (!(req.maxDurationSeconds > 0)) problems.push(`maxDurationSeconds must be > 0, got ${req.maxDurationSeconds}`);
  if (!(req.stopWhen.settleSeconds >= 0)) problems.push(`stopWhen.settleSeconds must be >= 0, got ${req.stopWhen.settleSeconds}`);
}

export function createProbeActivities(deps: ProbeActivitiesDeps): ProbeActivities {
  const doFetch = deps.fetch ?? fetch;
  const now = deps.clock ?? Date.now;

  /** One GET; true on a 2xx within the timeout. Never throws (except on the activity's own cancellation). */
  async function getOnce(url: string, timeoutMs: number, cancel?: AbortSignal): Promise<{ ok: boolean; detail: string }> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = cancel ? AbortSignal.any([timeout, cancel]) : timeout;
    const sent = now();
    try {
      const res = await doFetch(url, { method: 'GET', signal, headers: { 'User-Agent': 'rds-orchestrator-probe' } });
      await res.arrayBuffer().catch(() => undefined);
      const ok = res.status >= 200 && res.status < 300;
      return { ok, detail: `${res.status} in ${now() - sent} ms` };
    } catch (err) {
      if (timeout.aborted) return { ok: false, detail: `no answer within ${timeoutMs} ms` };
      return { ok: false, detail: `request failed: ${(err as Error).message}` };
    }
  }

  async function checkHealth({ url, timeoutMs }: HealthCheck): Promise<{ healthy: boolean; detail: string }> {
    const { ok, detail } = await getOnce(url, timeoutMs);
    return { healthy: ok, detail: `GET ${url}: ${detail}` };
  }

  async function runAvailabilityProbe(req: ProbeRequest): Promise<ProbeResult> {
    validate(req);
    return runProbeLoop(deps, req, async (cancel) => (await getOnce(req.url, req.requestTimeoutMs, cancel)).ok);
  }

  return { runAvailabilityProbe, checkHealth };
}

/**
 * The probe of the module comment, in the current activity: sends on the schedule, folds, checks the stop
 * condition, heartbeats and resumes; `sendOnce` is one request of whatever kind.
 */
export async function runProbeLoop(deps: ProbeLoopDeps, req: ProbeSchedule, sendOnce: SendOnce): Promise<ProbeResult> {
  const now = deps.clock ?? Date.now;
  const stopCheckIntervalMs = deps.stopCheckIntervalMs ?? 5000;
  const heartbeatIntervalMs = deps.heartbeatIntervalMs ?? 2000;
  const ctx = Context.current();
  const cancel = ctx.cancellationSignal;
  const resumed = ctx.info.heartbeatDetails;
  const progress: ProbeProgress = isProbeProgress(resumed)
    ? { ...resumed }
    : { startedAtMs: now(), requests: 0, failures: 0, longestOutageMs: 0 };
  if (isProbeProgress(resumed)) {
    ctx.log.info('Availability probe resuming from heartbeat', { ...resumed });
    // Nobody probed between the last heartbeat and this retry. Counting that gap as an outage is the
    // safe side: a crash can then make the campaign ask the team, never hide a long outage.
    if (resumed.heartbeatAtMs !== undefined) {
      const gapMs = Math.max(0, now() - resumed.heartbeatAtMs);
      progress.unobservedMs = (progress.unobservedMs ?? 0) + gapMs;
      progress.outageStartedAtMs ??= resumed.heartbeatAtMs;
    }
  }

  const intervalMs = 1000 / req.ratePerSecond;
  const settleMs = req.stopWhen.settleSeconds * 1000;
  const deadlineMs = progress.startedAtMs + req.maxDurationSeconds * 1000;

  // Results may complete out of order; fold them strictly in send order.
  const completed = new Map<number, { sentAtMs: number; ok: boolean }>();
  let nextToFold = 0;
  const fold = () => {
    for (let r = completed.get(nextToFold); r; r = completed.get(nextToFold)) {
      completed.delete(nextToFold++);
      progress.requests++;
      if (!r.ok) {
        progress.failures++;
        progress.outageStartedAtMs ??= r.sentAtMs;
      } else if (progress.outageStartedAtMs !== undefined) {
        progress.longestOutageMs = Math.max(progress.longestOutageMs, r.sentAtMs - progress.outageStartedAtMs);
        progress.outageStartedAtMs = undefined;
      }
    }
  };
  const inFlight = new Set<Promise<void>>();
  const send = (seq: number) => {
    const sentAtMs = now();
    const p = sendOnce(cancel).then((ok) => {
      completed.set(seq, { sentAtMs, ok });
      fold();
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  let stopConditionMet = false;
  let checking: Promise<void> | undefined;
  const checkStopCondition = async () => {
    const { region: where, instanceId, engineVersion } = req.stopWhen;
    try {
      const out = await deps.rdsClientFor(where).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceId }));
      const db = out.DBInstances?.[0];
      const t = now();
      if (db && isAvailableAt({ status: db.DBInstanceStatus, engineVersion: db.EngineVersion }, engineVersion)) {
        progress.stopConditionSinceMs ??= t;
        if (t - progress.stopConditionSinceMs >= settleMs) stopConditionMet = true;
      } else {
        progress.stopConditionSinceMs = undefined;
      }
    } catch (err) {
      if (isAwsError(err, 'DBInstanceNotFound', 'DBInstanceNotFoundFault')) {
        throw toActivityError(err, { operation: 'availability probe stop check', where, instanceId });
      }
      // A throttled or failed check proves nothing either way; the next one decides.
      ctx.log.warn('Availability probe could not check the stop condition', { error: String(err) });
    }
  };

  let seq = 0;
  let scheduleStartMs = now();
  let lastHeartbeatMs = 0;
  // The first check waits an interval: the upgrade is triggered after the probe starts, so an immediate
  // check would only ever see the old version. Once RDS shows the stop condition, the next check comes
  // when the settle time is over instead of a whole interval later (one DescribeDBInstances fewer, and
  // the probe ends sooner).
  let nextCheckAtMs = now() + stopCheckIntervalMs;
  let timedOut = false;
  let checkError: unknown;
  while (!cancel.aborted) {
    const t = now();
    if (checkError) break;
    if (stopConditionMet) break;
    if (t >= deadlineMs) {
      timedOut = true;
      break;
    }
    if (!checking && t >= nextCheckAtMs) {
      checking = checkStopCondition()
        .catch((err: unknown) => {
          checkError = err;
        })
        .finally(() => {
          const since = progress.stopConditionSinceMs;
          nextCheckAtMs = t + stopCheckIntervalMs;
          if (since !== undefined) nextCheckAtMs = Math.min(nextCheckAtMs, Math.max(since + settleMs, t + 200));
          checking = undefined;
        });
    }
    if (t - lastHeartbeatMs >= heartbeatIntervalMs) {
      lastHeartbeatMs = t;
      ctx.heartbeat({ ...progress, heartbeatAtMs: t });
    }
    send(seq++);
    let dueMs = scheduleStartMs + seq * intervalMs;
    if (now() - dueMs > 1000) {
      // The event loop stalled: re-anchor the schedule instead of firing a burst of catch-up requests.
      scheduleStartMs = now() - seq * intervalMs;
      dueMs = now();
    }
    await sleep(Math.min(dueMs, deadlineMs) - now(), cancel);
  }

  await Promise.allSettled([...inFlight, checking]);
  if (cancel.aborted) {
    ctx.heartbeat({ ...progress });
    // Rethrows the SDK's CancelledFailure so Temporal records the activity as cancelled.
    await ctx.cancelled;
  }
  if (checkError) throw checkError;
  fold();
  const endedAtMs = now();
  if (progress.outageStartedAtMs !== undefined) {
    // Still failing at the end: the outage lasted at least until now.
    progress.longestOutageMs = Math.max(progress.longestOutageMs, endedAtMs - progress.outageStartedAtMs);
  }
  ctx.heartbeat({ ...progress });
  return {
    requests: progress.requests,
    failures: progress.failures,
    longestOutageSeconds: Math.round(progress.longestOutageMs) / 1000,
    startedAt: new Date(progress.startedAtMs).toISOString(),
    endedAt: new Date(endedAtMs).toISOString(),
    timedOut,
    ...(progress.unobservedMs ? { unobservedSeconds: Math.round(progress.unobservedMs) / 1000 } : {}),
  };
}
