/**
 * One operated run: what every run people watch and act on has, whatever its runbook. A campaign, one
 * instance of a fleet stage and a restore each compose one (src/workflows/campaign/run.ts, stage-run.ts,
 * src/workflows/restore/run.ts) and add what their runbook works on; none inherits from another.
 *
 *   status and timeline     the state people query, each step with its time, the search attributes
 *   notify                  to the people's channel, or only to the timeline (the run's policy says which)
 *   aws                     an AWS call whose failures people see (shared/aws-calls.ts) and whose changes are recorded
 *   people                  who they are (shared/identity.ts) and one gate for asking them (shared/people.ts)
 *   saga, mainScope         compensations, and the scope an abort cancels
 */
import { ActivityFailure, ApplicationFailure, CancellationScope, condition, log, setCurrentDetails, sleep, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { NotificationEvent, OperatedKind, OperatedStatus, WaitingFor } from '../../api';
import { RDS_STAGE, RDS_STATE } from '../../api/search-attributes';
import type { VerifiedActor } from '../../domain/identity/identity';
import { SSH_SIGNATURE_NAMESPACE } from '../../domain/identity/ssh-signature';
import { awsActivities, withVisibleRetries, type RetryOptions } from './aws-calls';
import { recordChange, type ChangePlace } from './changes';
import { nowIso } from './clock';
import { IdentityGate, runRef } from './identity';
import { PeopleGate, notifyPeople, recordHuman, recordNotifyLocallyAtStart } from './people';
import { Saga } from './saga';

/** What every operated run's status starts with: nothing asked, done or changed yet, identities not yet verified. */
export function operatedStatusStart(): Omit<OperatedStatus, 'state'> {
  return {
    approvals: [],
    followUps: [],
    timeline: [],
    humanActions: [],
    changes: [],
    identity: { mode: 'unverified', runId: workflowInfo().firstExecutionRunId, namespace: SSH_SIGNATURE_NAMESPACE },
    startedAt: nowIso(),
  };
}

/** The status line the CLI shows (state, stage, what the run waits for and until when), as the run's current details. */
export function currentDetails(state: string, stage: string | undefined, w: WaitingFor | undefined): string {
  const at = stage ? ` at ${stage}` : '';
  const waiting = w ? `\n\nwaiting for ${w.kind}: ${w.description}${w.until ? ` (until ${w.until})` : ''}` : '';
  return `**${state.toUpperCase()}**${at}${waiting}`;
}

/** What a run does with what people would be told or asked: per kind of run, said where it is built. */
export interface RunPolicy {
  /** Whether an event goes to the people's channel; otherwise it is kept in the run's timeline only. */
  notifies(event: NotificationEvent): boolean;
  /** `ask`: a question waits for the team's answer. `fail`: the run ends failed with the question, for its parent to ask. */
  questions: 'ask' | 'fail';
  /**
   * A run its parent stops by cancelling it whole (a fleet instance): what it must still do then (resolve its pages)
   * runs outside the cancellation. A run people abort has only its main scope cancelled.
   */
  cancelledWhole?: boolean;
}

/** A run people operate directly: everything goes to their channel, every question waits for them. */
export const TELLS_AND_ASKS_PEOPLE: RunPolicy = { notifies: () => true, questions: 'ask' };

export interface OperatedRunOptions<State extends string> {
  kind: OperatedKind;
  id: string;
  /** Starts every notification's text, e.g. "[pg-minor-15-7]" or "[restore orders-0412]". */
  label: string;
  policy: RunPolicy;
  /** How often people who were asked are reminded. */
  reminderIntervalMs: number;
  /** States in which the run takes no more requests. */
  terminal: readonly State[];
  /** The stage (or phase) the run is at, for the timeline of human actions and the RdsStage search attribute. */
  stage(): string | undefined;
  /** The search attributes that say which run this is (RdsOperation, RdsCampaignId, RdsInstances): set with the first state. */
  identifyingAttributes(): SearchAttributeUpdatePair[];
  /** Whether to upsert only the attributes that changed (a campaign since UPSERT_ONLY_CHANGES_PATCH); asked at each state change. */
  upsertOnlyChanges?(): boolean;
}

/** Where a call's retries are recorded, and where its changes were made. */
export interface AwsCallPlace {
  /** The stage (or phase) the call belongs to: its notifications name it. */
  stage?: string;
  /** What the run records of a failing and recovering call (a timeline entry, or a step). */
  record(step: string, detail: string): void;
  /** Where a change the call reports was made (status.changes). */
  change(result: unknown): ChangePlace;
  /** A refusal (AccessDenied) starts with this (the stage), besides the role and account the activity names. */
  refusalNames?: string;
}

export class OperatedRun<State extends string, Status extends OperatedStatus<State> = OperatedStatus<State>> {
  readonly a = awsActivities();
  readonly saga = new Saga();
  readonly mainScope = new CancellationScope();
  /** Who people are: the workers' allowed signers and the proven requester. */
  readonly identity: IdentityGate;
  /** What is being asked of people, and what they asked of the run (pause, abort). */
  readonly people = new PeopleGate();
  private lastUpsert?: { stage: string; state: string };

  constructor(
    readonly status: Status,
    readonly opts: OperatedRunOptions<State>,
  ) {
    recordNotifyLocallyAtStart();
    this.identity = new IdentityGate(runRef(opts.kind, opts.id));
    status.identity = this.identity.status;
  }

  get kind(): OperatedKind {
    return this.opts.kind;
  }

  get id(): string {
    return this.opts.id;
  }

  get policy(): RunPolicy {
    return this.opts.policy;
  }

  get terminal(): boolean {
    return this.opts.terminal.includes(this.status.state);
  }

  // ------------------------------------------------------------------ status, timeline, search attributes

  step(stage: string | undefined, step: string, detail?: string): void {
    this.status.currentStep = step;
    this.status.timeline.push({ at: nowIso(), stage, step, detail });
    log.info(`${this.kind} step`, { [`${this.kind}Id`]: this.id, stage, step, detail });
  }

  setState(state: State, waitingFor?: WaitingFor): void {
    this.status.state = state;
    this.status.waitingFor = waitingFor;
    this.upsertSearchAttributes();
    // What the Temporal UI shows as the run's current details (read through __temporal_workflow_metadata); no command.
    setCurrentDetails(currentDetails(state, this.opts.stage(), waitingFor));
  }

  /** A durable timer whose summary says in the Temporal UI what it waits for (by default, what the status waits for). */
  sleep(ms: number, summary: string | undefined = this.status.waitingFor?.description): Promise<void> {
    return sleep(ms, summary ? { summary } : undefined);
  }

  private upsertSearchAttributes(): void {
    const values = { stage: this.opts.stage() ?? 'none', state: this.status.state };
    // Upserting only what changed saves about half the upserts of a campaign (fleet benchmark).
    if (this.opts.upsertOnlyChanges?.()) {
      const last = this.lastUpsert;
      if (last && last.stage === values.stage && last.state === values.state) return;
      if (last) {
        const changed = [];
        if (last.stage !== values.stage) changed.push({ key: RDS_STAGE, value: values.stage });
        if (last.state !== values.state) changed.push({ key: RDS_STATE, value: values.state });
        upsertSearchAttributes(changed);
        this.lastUpsert = values;
        return;
      }
    }
    this.lastUpsert = values;
    upsertSearchAttributes([...this.opts.identifyingAttributes(), { key: RDS_STAGE, value: values.stage }, { key: RDS_STATE, value: values.state }]);
  }

  // ------------------------------------------------------------------ people

  /** To the people's channel (a broken webhook never stops the run), or, by the run's policy, to its timeline only. */
  notify(event: NotificationEvent, text: string, where: { stage?: string; details?: Record<string, unknown> } = {}): Promise<void> {
    if (!this.policy.notifies(event)) {
      this.status.timeline.push({ at: nowIso(), stage: where.stage, step: 'not-notified', detail: text });
      return Promise.resolve();
    }
    return notifyPeople({ workflowId: workflowInfo().workflowId, event, text: `${this.opts.label} ${text}`, stage: where.stage, details: where.details }, this.status.timeline);
  }

  recordHuman(by: string, action: 'approve' | 'decide' | 'pause' | 'resume' | 'abort', detail?: string, comment?: string, signer?: VerifiedActor): void {
    recordHuman(this.status, this.opts.stage(), by, action, detail, comment, signer);
  }

  /** How a person names themselves on the command line, for notifications. */
  actorHint(): string {
    return this.identity.verified ? '--as PRINCIPAL --key YOUR_SSH_KEY' : '--as NAME';
  }

  /** The command that acts on this run, e.g. `campaign decide pg-minor-15-7`. */
  command(action: string): string {
    return `${this.kind} ${action} ${this.id}`;
  }

  /** Holds at a step boundary while people paused the run (`at` says where, for the status). */
  async checkpoint(at: string): Promise<void> {
    if (!this.people.paused) return;
    const previous = this.status.state;
    const previousWait = this.status.waitingFor;
    this.setState('paused' as State, { kind: 'resume', description: `paused before ${at}; resume with \`${this.kind} resume\`` });
    await condition(() => !this.people.paused);
    this.setState(previous === 'paused' ? ('running' as State) : previous, previousWait);
  }

  // ------------------------------------------------------------------ AWS

  /** One AWS step with visible retries (shared/aws-calls.ts); a change it reports goes into status.changes. */
  async aws<T>(label: string, call: () => Promise<T>, opts: RetryOptions, place: AwsCallPlace): Promise<T> {
    const host = { status: this.status, record: place.record, notify: (text: string) => this.notify('escalation', text, { stage: place.stage }) };
    try {
      const result = await withVisibleRetries(host, label, call, opts);
      recordChange(this.status.changes, result, place.change(result));
      return result;
    } catch (err) {
      const cause = err instanceof ActivityFailure ? err.cause : undefined;
      if (place.refusalNames && cause instanceof ApplicationFailure && cause.type === 'Unauthorized') throw ApplicationFailure.nonRetryable(`${place.refusalNames}: ${cause.message}`, 'Unauthorized');
      throw err;
    }
  }
}
