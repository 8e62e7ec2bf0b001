/**
 * How long-running activities stay visible to Temporal, so a worker crash is noticed in seconds instead of
 * at the end of an attempt's start-to-close timeout:
 * - every activity heartbeats while it runs (`withKeepAlive`); the workflows give each a short heartbeat
 *   timeout, so an attempt lost with its worker (or a task handed to a poller that died) is retried within
 *   that timeout on another worker. An activity that answers within the keep-alive interval sends nothing.
 * - a waiter polls inside its attempt (`pollUntil`), heartbeating between polls, instead of failing
 *   `NotReady` once per poll and being retried by the server: a retry is a task round trip through the
 *   server and the worker, a poll inside the attempt is one AWS call. After `attemptMs` the attempt ends
 *   with a `NotReady` whose next-retry delay is the poll interval, so a long wait (an upgrade, a restore)
 *   does not hold an activity slot for its whole length.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { FailureTypes, type WaitPolling } from '../api/activities';

/** How often a running activity heartbeats; the heartbeat timeouts the workflows set are a few times this. */
export const KEEP_ALIVE_EVERY_MS = 2000;

/** The running activity's context, or undefined outside an activity (a unit test calling the function). */
export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** `fn`, heartbeating (without details) every KEEP_ALIVE_EVERY_MS while it runs inside a (non-local) activity. */
export function withKeepAlive<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    const ctx = activityContext();
    // A local activity has no heartbeat (it runs inside the workflow task that asked for it).
    if (!ctx || ctx.info.isLocal) return fn(...args);
    const timer = setInterval(() => ctx.heartbeat(), KEEP_ALIVE_EVERY_MS);
    try {
      return await fn(...args);
    } finally {
      clearInterval(timer);
    }
  };
}

/** A retryable "not yet"; `retryInMs` overrides the retry policy's interval for the next attempt. */
export function notReadyYet(message: string, retryInMs?: number): ApplicationFailure {
  return ApplicationFailure.create({
    message,
    type: FailureTypes.NotReady,
    nonRetryable: false,
    category: ApplicationFailureCategory.BENIGN,
    ...(retryInMs !== undefined ? { nextRetryDelay: retryInMs } : {}),
  });
}

export type PollOutcome<T> = { done: true; value: T } | { done: false; waitingFor: string };

/**
 * Runs `check` until it is done: inside this attempt every `poll.intervalMs` (heartbeating) while the attempt
 * is younger than `poll.attemptMs`, then ends the attempt with NotReady (next retry one interval later).
 * Without `poll` (a caller recorded before polling moved into the activity) it checks once.
 */
export async function pollUntil<T>(poll: WaitPolling | undefined, check: () => Promise<PollOutcome<T>>): Promise<T> {
  const ctx = activityContext();
  const startedAt = Date.now();
  for (;;) {
    const outcome = await check();
    if (outcome.done) return outcome.value;
    if (!poll || !ctx || Date.now() - startedAt + poll.intervalMs > poll.attemptMs) {
      throw notReadyYet(outcome.waitingFor, poll?.intervalMs);
    }
    await sleepHeartbeating(ctx, poll.intervalMs);
  }
}

/** Sleeps `ms`, heartbeating at least every KEEP_ALIVE_EVERY_MS; rejects when the activity is cancelled. */
async function sleepHeartbeating(ctx: Context, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    ctx.heartbeat();
    const left = until - Date.now();
    if (left <= 0) return;
    await ctx.sleep(Math.min(left, KEEP_ALIVE_EVERY_MS));
  }
}
