/**
 * Following a campaign or restore to its end the way an operator does: its status query, read again
 * and again, with a chance to act on each reading (approve, decide, meddle).
 */
import type { WorkflowHandle } from '@temporalio/client';
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
