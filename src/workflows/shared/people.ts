/**
 * What both workflows do with people: notify them (a broken webhook never stops a run), record what they
 * did (who, when, what, why), and wait for them with reminders.
 */
import { CancellationScope, condition, patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities, HumanAction, Notification, TimelineEntry } from '../../api';
import type { VerifiedActor } from '../../domain/identity/identity';
import { HEARTBEAT_TIMEOUT } from './aws-calls';
import { nowIso } from './clock';
import { describeError } from './failures';

/** patched() id: notifications are sent by a local activity (runs started before send them as activities). */
export const NOTIFY_LOCALLY_PATCH = 'notify-as-local-activity';

const notifier = proxyActivities<Pick<Activities, 'notify'>>({ startToCloseTimeout: '30 seconds', heartbeatTimeout: HEARTBEAT_TIMEOUT, retry: { maximumAttempts: 5 } });
/**
 * A notification is one webhook POST, run inside the workflow task that asks for it: one marker event
 * instead of an activity's three events and the workflow task its completion starts (a full campaign sends
 * about ten), and no activity task through the server. Not an AWS call, so no API budget is bypassed.
 */
const localNotifier = proxyLocalActivities<Pick<Activities, 'notify'>>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 5 } });

/** Sends a notification, even from an aborted scope; a failure lands in `timeline`, never stops the run. */
export async function notifyPeople(n: Notification, timeline: TimelineEntry[]): Promise<void> {
  try {
    const send = patched(NOTIFY_LOCALLY_PATCH) ? localNotifier : notifier;
    await CancellationScope.nonCancellable(() => send.notify(n));
  } catch (err) {
    timeline.push({ at: nowIso(), stage: n.stage, step: 'notification-failed', detail: `${n.event}: ${describeError(err)}` });
  }
}

export function recordHuman(
  status: { humanActions: HumanAction[]; timeline: TimelineEntry[] },
  stage: string | undefined,
  by: string,
  action: HumanAction['action'],
  detail?: string,
  comment?: string,
  signer?: VerifiedActor,
): void {
  const at = nowIso();
  const proof = signer ? { fingerprint: signer.fingerprint, keyType: signer.keyType, signed: signer.signed } : {};
  status.humanActions.push({ at, by, action, detail, comment, ...proof });
  status.timeline.push({ at, stage, step: `human:${action}`, detail: [detail, comment].filter(Boolean).join(' — ') || undefined, by });
}

/** Waits for `done`, reminding at every interval (people wait for days; reminders keep them on it). */
export async function waitForPeople(done: () => boolean, reminderIntervalMs: number, remind: () => Promise<void>): Promise<void> {
  while (!(await condition(done, reminderIntervalMs))) {
    await remind();
  }
}

/** Update validators: a closed run takes no more requests. */
export function requireOpen(what: string, state: string, terminal: readonly string[]): void {
  if (terminal.includes(state)) throw new Error(`${what} is already ${state}`);
}
