/**
 * Following a campaign or restore to its end the way an operator does: its status query, read again
 * and again, with a chance to act on each reading (approve, decide, meddle).
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { TimelineEntry } from '../src/api';
import { sleep } from './time';

/**
 * Reads the status every `intervalMs` (sooner when the workflow closes) and hands each reading to
 * `onStatus`; returns the first reading taken after the workflow closed (its final status).
 */
export async function followToEnd<S>(handle: Pick<WorkflowHandle, 'result'>, query: () => Promise<S>, onStatus: (status: S) => Promise<void>, intervalMs: number): Promise<S> {
  let closed = false;
  const result = handle.result().then(
    () => undefined,
    () => undefined,
  );
  void result.then(() => (closed = true));
  for (;;) {
    const closedBefore = closed;
    const status = await query();
    await onStatus(status);
    if (closedBefore) return status;
    await Promise.race([result, sleep(intervalMs)]);
  }
}

/** The plan a workflow asks to be approved, when it waits for an approval. */
export function planAwaitingApproval(status: { state: string; waitingFor?: { plan?: string } }): string | undefined {
  return status.state === 'waiting-for-approval' ? status.waitingFor?.plan : undefined;
}

/**
 * Polls `query` until `pred` holds; errors (a server restarting, no worker yet) only delay it. A run that
 * asks for a decision meanwhile fails it at once; so does `stopped()` (a suite tearing down).
 */
export async function until<S>(what: string, query: () => Promise<S>, pred: (s: S) => boolean, timeoutMs: number, stopped: () => boolean = () => false): Promise<S> {
  const deadline = Date.now() + timeoutMs;
  let last: S | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (stopped()) throw new Error(`suite stopped while waiting for ${what}`);
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
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 2000)}; last error: ${lastError}`);
}

export const hasStep = (step: string) => (s: { timeline: TimelineEntry[] }) => s.timeline.some((t) => t.step === step);
