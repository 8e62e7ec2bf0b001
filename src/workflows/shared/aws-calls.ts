/**
 * AWS calls whose failures people can see, and that give up where the runbook must not hang.
 *
 * Temporal retries an activity invisibly: a call that keeps failing looks like a workflow sitting at a
 * step. So each call runs in rounds of a few attempts (AWS_ROUND_RETRY). When a round fails, the step
 * records `status.trouble` (which call, against which endpoint, what came back, since when), upserts a
 * one-line memo that `list` shows, notifies once after a few rounds, sleeps (durably, backing off) and
 * tries again, until the call succeeds (trouble cleared) or, for bounded steps such as the preflight
 * reads, the round limit is reached and the step fails with a message naming the call and the endpoint.
 * No history grows while things work: the extra events exist only while a call is failing.
 */
import { ActivityFailure, ApplicationFailure, TimeoutFailure, proxyActivities, sleep, upsertMemo, type ActivityOptions } from '@temporalio/workflow';
import { AWS_TROUBLE_MEMO, type Activities, type AwsCallProblem, type AwsTrouble, type BlueGreenDeployment, type BlueGreenWait, type ChangeWait, type InstanceInfo, type InstanceWait, type WindowWatch, type WindowWatchOutcome } from '../../api';
import { formatDuration } from '../../domain/duration';
import { summarized } from './activity-summary';
import { iso, nowIso, nowMs } from './clock';
import { NON_RETRYABLE_TYPES } from './failures';

export const AWS_CALL_FAILED = 'AwsCallFailed';
/**
 * One AWS activity attempt: a few SDK calls, each with its own request timeout (src/activities/clients.ts).
 * It bounds a call that hangs while its worker lives; a worker that dies is noticed by the heartbeat timeout.
 */
export const AWS_ATTEMPT_TIMEOUT = '45 seconds';
/**
 * Every activity heartbeats every 2 s while it runs (src/activities/waiting.ts): a missing heartbeat for this
 * long means its worker is gone (or the task went to a poller that died), and Temporal retries the attempt on
 * another worker. This, not the attempt timeout, is what bounds the resume after a crash.
 */
export const HEARTBEAT_TIMEOUT = '8 seconds';
/** A waiter polls inside one attempt for at most this long, then gives its activity slot back (see WaitPolling). */
export const WAITER_ATTEMPT_MS = 30_000;
/**
 * Only short poll intervals poll inside the attempt. A longer one (the default is 60 s) checks once per
 * attempt, as before: the server holds the wait between checks, so 1000 instances in one window do not
 * hold 1000 activity slots, and a retry per minute costs little.
 */
export const POLL_INSIDE_UP_TO_MS = 10_000;
/** Attempts per round; inside each attempt the AWS SDK itself already retries a request up to 3 times. */
export const ATTEMPTS_PER_ROUND = 3;
export const AWS_ROUND_RETRY: ActivityOptions['retry'] = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: ATTEMPTS_PER_ROUND,
  nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
};
/** Waiters poll until a deadline; a failing call ends the attempt at once so the step can show it. */
export const WAITER_NON_RETRYABLE_TYPES = [...NON_RETRYABLE_TYPES, AWS_CALL_FAILED];
/** Reads before any change: about 2 minutes of failing calls fail the run, changing nothing. */
export const PREFLIGHT_ROUNDS = 3;
/** Steps while the applications are down (the cutover): a few minutes, then roll back or ask. */
export const CUTOVER_ROUNDS = 4;
const NOTIFY_AFTER_ROUNDS = 2;
const FIRST_PAUSE_MS = 30_000;
const MAX_PAUSE_MS = 10 * 60_000;

/** The activities as a workflow calls them: attempts in rounds (see withVisibleRetries). */
export function awsActivities(): Activities {
  return summarized(proxyActivities<Activities>({ startToCloseTimeout: AWS_ATTEMPT_TIMEOUT, heartbeatTimeout: HEARTBEAT_TIMEOUT, retry: AWS_ROUND_RETRY }));
}

/** The waiting activities as a step calls them: the same inputs without `poll`, which the waiter adds. */
export interface Waiters {
  waitForInstance(input: Omit<InstanceWait, 'poll'>): Promise<InstanceInfo>;
  waitForChangeInsync(input: Omit<ChangeWait, 'poll'>): Promise<void>;
  watchMaintenanceWindow(input: Omit<WindowWatch, 'poll'>): Promise<WindowWatchOutcome>;
  waitForBlueGreenDeployment(input: Omit<BlueGreenWait, 'poll'>): Promise<BlueGreenDeployment>;
}

/**
 * Waits until `deadlineMs`, polling every `pollIntervalMs` inside the activity (src/activities/waiting.ts):
 * attempts of up to WAITER_ATTEMPT_MS, heartbeating; between attempts the activity itself asks for the next
 * retry one poll interval later. A lost attempt is noticed by the heartbeat timeout. A failing call ends the
 * wait at once so the step can show it.
 */
export function waiterUntil(deadlineMs: number, pollIntervalMs: number): Waiters {
  const remainingMs = Math.max(1000, deadlineMs - nowMs());
  const waiters = summarized(proxyActivities<Activities>({
    startToCloseTimeout: Math.min(remainingMs, WAITER_ATTEMPT_MS + 60_000),
    scheduleToCloseTimeout: remainingMs,
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    // The activity sets the delay after a used-up attempt itself (the poll interval); this policy is for an
    // attempt lost with its worker (1 s after the heartbeat timeout on a first attempt, never slower than
    // the poll interval) and for an activity that does not set one (a fake in tests).
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: Math.max(1000, pollIntervalMs), nonRetryableErrorTypes: WAITER_NON_RETRYABLE_TYPES },
  }));
  const poll = { intervalMs: pollIntervalMs, attemptMs: pollIntervalMs <= POLL_INSIDE_UP_TO_MS ? WAITER_ATTEMPT_MS : 0 };
  return {
    waitForInstance: (input) => waiters.waitForInstance({ ...input, poll }),
    waitForChangeInsync: (input) => waiters.waitForChangeInsync({ ...input, poll }),
    watchMaintenanceWindow: (input) => waiters.watchMaintenanceWindow({ ...input, poll }),
    waitForBlueGreenDeployment: (input) => waiters.waitForBlueGreenDeployment({ ...input, poll }),
  };
}

export interface TroubleHost {
  status: { trouble?: AwsTrouble };
  /** Records a timeline entry. */
  record(step: string, detail: string): void;
  notify(text: string): Promise<void>;
}

export interface RetryOptions {
  /** Give up after this many failed rounds (default: never). */
  maxRounds?: number;
  /** Attempts in one round, for the count shown (default ATTEMPTS_PER_ROUND; waiters: 1). */
  attemptsPerRound?: number;
}

/**
 * The problem behind a failed round, or undefined when `err` is not a round that may succeed later
 * (a non-retryable failure, a cancellation, a waiter's deadline).
 */
export function awsProblemOf(err: unknown): AwsCallProblem | undefined {
  if (!(err instanceof ActivityFailure)) return undefined;
  const cause = err.cause;
  const fromCall = cause instanceof ApplicationFailure && cause.type === AWS_CALL_FAILED;
  if (err.retryState !== 'MAXIMUM_ATTEMPTS_REACHED' && !fromCall) return undefined;
  if (fromCall) {
    const detail = (cause as ApplicationFailure).details?.[0] as AwsCallProblem | undefined;
    if (detail && typeof detail.operation === 'string') return detail;
    return { operation: err.activityType, kind: 'unknown', error: (cause as ApplicationFailure).message };
  }
  if (cause instanceof TimeoutFailure) {
    return { operation: err.activityType, kind: 'timeout', error: `no result within the attempt's ${String(cause.timeoutType).toLowerCase().replace(/_/g, '-')} timeout` };
  }
  return { operation: err.activityType, kind: 'unknown', error: cause?.message ?? err.message };
}

export function describeTrouble(t: AwsTrouble): string {
  return `${t.operation}${t.endpoint ? ` against ${t.endpoint}` : ''} failing since ${t.since} (${t.attempts} attempt(s)): ${t.error}`;
}

function pauseAfterRound(round: number): number {
  return Math.min(MAX_PAUSE_MS, FIRST_PAUSE_MS * 2 ** (round - 1));
}

/** Runs `call` until it succeeds, showing and notifying a failing call; see the module comment. */
export async function withVisibleRetries<T>(host: TroubleHost, step: string, call: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const perRound = opts.attemptsPerRound ?? ATTEMPTS_PER_ROUND;
  for (let round = 1; ; round++) {
    try {
      const result = await call();
      if (host.status.trouble) recovered(host);
      return result;
    } catch (err) {
      const problem = awsProblemOf(err);
      if (!problem) throw err;
      const trouble = noteFailedRound(host, step, problem, perRound, opts.maxRounds);
      if (opts.maxRounds !== undefined && round >= opts.maxRounds) {
        host.status.trouble = undefined;
        upsertMemo({ [AWS_TROUBLE_MEMO]: undefined });
        host.record('aws-gave-up', describeTrouble(trouble));
        throw ApplicationFailure.create({
          type: 'AwsUnavailable',
          nonRetryable: true,
          message: `${describeTrouble(trouble)}; gave up after ${formatDuration(Math.round((nowMs() - Date.parse(trouble.since)) / 1000) * 1000)} (step ${step})`,
          details: [problem],
        });
      }
      const pause = pauseAfterRound(round);
      trouble.nextAttemptAt = iso(nowMs() + pause);
      if (round === NOTIFY_AFTER_ROUNDS) await host.notify(`${step}: ${describeTrouble(trouble)}; retrying, next at ${trouble.nextAttemptAt}`);
      await sleep(pause, { summary: `retry ${problem.operation} (${step}) after a failed round of ${perRound} attempt(s)` });
    }
  }
}

function noteFailedRound(host: TroubleHost, step: string, problem: AwsCallProblem, perRound: number, maxRounds?: number): AwsTrouble {
  const now = nowIso();
  const previous = host.status.trouble;
  const same = previous && previous.step === step && previous.operation === problem.operation;
  const trouble: AwsTrouble = {
    step,
    operation: problem.operation,
    endpoint: problem.endpoint,
    kind: problem.kind,
    error: problem.error,
    since: same ? previous.since : now,
    lastFailureAt: now,
    attempts: (same ? previous.attempts : 0) + perRound,
    givesUpAfterAttempts: maxRounds !== undefined ? maxRounds * perRound : undefined,
  };
  host.status.trouble = JSON.parse(JSON.stringify(trouble)) as AwsTrouble;
  if (!same) {
    host.record('aws-call-failing', describeTrouble(trouble));
    upsertMemo({ [AWS_TROUBLE_MEMO]: `${step}: ${describeTrouble(trouble)}` });
  }
  return host.status.trouble;
}

function recovered(host: TroubleHost): void {
  const t = host.status.trouble!;
  host.status.trouble = undefined;
  upsertMemo({ [AWS_TROUBLE_MEMO]: undefined });
  host.record('aws-call-recovered', `${t.operation} answered again after failing since ${t.since} (${t.attempts} attempt(s))`);
}
