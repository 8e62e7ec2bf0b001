/**
 * What every run does with people: notify them (a broken webhook never stops a run), record what they did
 * (who, when, what, why), and the one gate for asking them: an approval of a named plan, or a question with
 * the answers it takes, each waited for with reminders (shared/operator-actions.ts answers them).
 */
import { CancellationScope, condition, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import { takesPatch } from './patches';
import { CONTINUE_OR_ABORT, type Activities, type Approval, type DecideRequest, type Decision, type HumanAction, type Notification, type NotificationEvent, type TimelineEntry, type WaitingFor } from '../../api';
import { validApprovalCount, whoMayApprove, type ApprovalPolicy } from '../../domain/approvals';
import type { VerifiedActor } from '../../domain/identity/identity';
import { summarized } from './activity-summary';
import { HEARTBEAT_TIMEOUT } from './aws-calls';
import { nowIso } from './clock';
import { describeError } from './failures';
import type { IdentityGate } from './identity';

/** patched() id: notifications are sent by a local activity (runs started before send them as activities). */
export const NOTIFY_LOCALLY_PATCH = 'notify-as-local-activity';

/**
 * Records NOTIFY_LOCALLY_PATCH's marker in the run's first workflow task (called when the run starts; the first
 * notification asks again and gets the same answer). SDK core can write a local activity's marker in one workflow
 * task and the code after it in the next (a query answered while the activity ran; reproduced with the SDK 1.24
 * worker); a replay then runs that code a task early, before core has told it of a patch marker written there, and
 * patched() answers false: a non-determinism error. A notification after another one is exactly that code, so
 * the decision is made where nothing can come before it. Runs that recorded the marker later are replayed as
 * before: while replaying, this early call answers false without deciding, and the later one finds the marker.
 */
export function recordNotifyLocallyAtStart(): void {
  takesPatch(NOTIFY_LOCALLY_PATCH);
}

const notifier = summarized(proxyActivities<Pick<Activities, 'notify'>>({ startToCloseTimeout: '30 seconds', heartbeatTimeout: HEARTBEAT_TIMEOUT, retry: { maximumAttempts: 5 } }));
/**
 * A notification is one webhook POST, run inside the workflow task that asks for it: one marker event
 * instead of an activity's three events and the workflow task its completion starts (a full campaign sends
 * about ten), and no activity task through the server. Not an AWS call, so no API budget is bypassed.
 */
const localNotifier = proxyLocalActivities<Pick<Activities, 'notify'>>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 5 } });

/** Sends a notification, even from an aborted scope; a failure lands in `timeline`, never stops the run. */
export async function notifyPeople(n: Notification, timeline: TimelineEntry[]): Promise<void> {
  try {
    const send = takesPatch(NOTIFY_LOCALLY_PATCH) ? localNotifier : notifier;
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
export async function waitForPeople(done: () => boolean, reminderIntervalMs: number, remind: () => Promise<void>, summary?: string): Promise<void> {
  while (!(await condition(done, reminderIntervalMs, { summary: summary ?? 'people' }))) {
    await remind();
  }
}

/** Update validators: a closed run takes no more requests. */
export function requireOpen(what: string, state: string, terminal: readonly string[]): void {
  if (terminal.includes(state)) throw new Error(`${what} is already ${state}`);
}

/** An approval being asked for: the plan it must name, who may give it, and what it is for (in the answer). */
export interface OpenApproval {
  stage: string;
  plan: string;
  askedAt: string;
  policy: ApprovalPolicy;
  /** What the approval is for, in the handler's answer: "production window 2027-01-05T03:00:00.000Z". */
  what: string;
}

/** A question being asked: the answers it takes, and what the person who answers is told. */
export interface OpenQuestion {
  question: string;
  askedAt: string;
  options: readonly Decision[];
  answered?(d: DecideRequest): string;
}

/** What is being asked of people, and what they asked of the run. */
export class PeopleGate {
  paused = false;
  abortRequest?: { by: string; reason: string };
  approval?: OpenApproval;
  question?: OpenQuestion;
  /** The answer to the open (or last) question. */
  decision?: DecideRequest;
}

/** What the gate needs of the run that asks (an OperatedRun). */
export interface AskingRun {
  readonly people: PeopleGate;
  readonly identity: IdentityGate;
  readonly status: { timeline: TimelineEntry[]; approvals: Approval[] };
  readonly opts: { reminderIntervalMs: number };
  setState(state: 'waiting-for-approval' | 'waiting-for-decision', waitingFor: WaitingFor): void;
  notify(event: NotificationEvent, text: string, where?: { stage?: string; details?: Record<string, unknown> }): Promise<void>;
  actorHint(): string;
  command(action: string): string;
}

export interface ApprovalAsk {
  stage: string;
  plan: string;
  /** The ask, in words: what, when, and by whom ("approve production: upgrade …"). */
  text: string;
  policy: ApprovalPolicy;
  what: string;
  /** Records a step of the run (a campaign's stage step, a restore's step). */
  step(step: string, detail?: string): void;
}

/**
 * Asks for approvals of `plan` and waits for `minApprovals` of them, reminding; false when the plan was
 * already approved (nothing was asked). The run is left in waiting-for-approval: the caller says what is next.
 */
export async function askApproval(run: AskingRun, ask: ApprovalAsk): Promise<boolean> {
  const approved = () => validApprovalCount(run.status.approvals, ask.plan) >= ask.policy.minApprovals;
  if (approved()) return false;
  await run.identity.refresh(run.status.timeline, ask.stage);
  const askedAt = nowIso();
  run.people.approval = { stage: ask.stage, plan: ask.plan, askedAt, policy: ask.policy, what: ask.what };
  run.setState('waiting-for-approval', { kind: 'approval', description: ask.text, plan: ask.plan, askedAt });
  ask.step('waiting-for-approval', ask.plan);
  const where = { stage: ask.stage, details: { plan: ask.plan } };
  await run.notify('approval-needed', `${ask.text}. Run \`${run.command('approve')} ${run.actorHint()}\`.`, where);
  try {
    const summary = `approval of ${ask.stage} by ${whoMayApprove(ask.policy)}`;
    await waitForPeople(approved, run.opts.reminderIntervalMs, () => run.notify('reminder', `still waiting: ${ask.text}`, where), summary);
  } finally {
    run.people.approval = undefined;
  }
  return true;
}

export interface QuestionAsk {
  stage: string;
  question: string;
  options: readonly Decision[];
  event: NotificationEvent;
  /** Starts the notification's text (a campaign names the stage: "production: "). */
  prefix?: string;
  details?: Record<string, unknown>;
  step(step: string, detail?: string): void;
  /** Also stops waiting (a restore's abort answers its question: roll back). */
  orWhen?(): boolean;
  answered?(d: DecideRequest): string;
}

/**
 * Asks the team a question and waits for an answer (or `orWhen`), reminding; the answer, or undefined when
 * `orWhen` ended the wait. The run is left in waiting-for-decision: the caller says what is next.
 */
export async function askDecision(run: AskingRun, ask: QuestionAsk): Promise<DecideRequest | undefined> {
  const gate = run.people;
  const prefix = ask.prefix ?? '';
  await run.identity.refresh(run.status.timeline, ask.stage);
  gate.decision = undefined;
  const askedAt = nowIso();
  gate.question = { question: ask.question, askedAt, options: ask.options, answered: ask.answered };
  const waiting: WaitingFor = { kind: 'decision', description: ask.question, question: ask.question, askedAt };
  if (ask.options.join('|') !== CONTINUE_OR_ABORT.join('|')) waiting.options = [...ask.options];
  run.setState('waiting-for-decision', waiting);
  ask.step('waiting-for-decision', ask.question);
  const answers = ask.options.map((o) => `--${o}`).join('|');
  await run.notify(ask.event, `${prefix}${ask.question} Answer with \`${run.command('decide')} ${answers} ${run.actorHint()}\`.`, { stage: ask.stage, details: ask.details });
  try {
    await waitForPeople(
      () => gate.decision !== undefined || (ask.orWhen?.() ?? false),
      run.opts.reminderIntervalMs,
      () => run.notify('reminder', `${prefix}still waiting for a decision: ${ask.question}`, { stage: ask.stage }),
      `decision on ${ask.stage} (${ask.options.join(' or ')}): ${ask.question}`,
    );
  } finally {
    gate.question = undefined;
  }
  return gate.decision;
}
