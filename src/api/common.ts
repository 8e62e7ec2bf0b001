/**
 * Shapes both workflows share: who did what (timeline, human actions, approvals), what a run waits for,
 * an AWS call that keeps failing, and the requests people send.
 */

export const TASK_QUEUE = 'rds-orchestrator';

/** Memo key holding a one-line summary of the AWS call that keeps failing (for `list`). */
export const AWS_TROUBLE_MEMO = 'awsTrouble';

/** Durations are strings like "14d", "3 days", "90s", "2m", "1h30m" or a number of milliseconds. */
export type DurationSpec = string | number;

export interface HumanAction {
  at: string;
  by: string;
  action: 'approve' | 'decide' | 'pause' | 'resume' | 'abort';
  detail?: string;
  comment?: string;
  /** Set when the action was signed: the key that signed it and the exact text it signed. */
  fingerprint?: string;
  keyType?: string;
  signed?: string;
}

export interface TimelineEntry {
  at: string;
  stage?: string;
  step: string;
  detail?: string;
  by?: string;
}

/**
 * One change the run made: to AWS (with AWS's request id, to find it in CloudTrail) or to the status page.
 * The change record (`campaign record`, `restore record`) lists them all.
 */
export interface ChangeMade {
  at: string;
  stage?: string;
  /** The runbook step, e.g. "auto-minor-upgrade-on" or "switch-cname". */
  step: string;
  /** "rds:ModifyDBInstance", "route53:ChangeResourceRecordSets", "statuspage:create-scheduled-maintenance", ... */
  action: string;
  /** Instance id, security group, record, incident. */
  resource: string;
  detail: string;
  /** The account the call was made in, when known (a role's account); absent: the worker's own. */
  account?: string;
  region?: string;
  requestId?: string;
}

export interface Approval {
  by: string;
  at: string;
  stage: string;
  /** The plan the approval is for: `${stage}|${targetVersion}|${windowStartIso}` */
  plan: string;
  comment?: string;
  /** false once the plan changed after the approval */
  valid: boolean;
  /** The key that signed the approval (identities verified). */
  fingerprint?: string;
}

/**
 * An AWS call that keeps failing while the workflow retries it: shown by `status` (and `--json`), in the
 * `awsTrouble` memo that `list` prints, and notified after a few attempts. Cleared once the call succeeds.
 */
export interface AwsTrouble {
  /** The runbook step that is retrying, e.g. "preflight" or "switch-cname". */
  step: string;
  /** The call, e.g. "DescribeDBEngineVersions postgres 15.5". */
  operation: string;
  /** Where the requests went (the simulator, a VPC endpoint, AWS's regional endpoint), when known. */
  endpoint?: string;
  /** aws: AWS answered with an error; not-aws: something else answered (HTML page, unparseable body); network/timeout: no answer. */
  kind: 'aws' | 'not-aws' | 'network' | 'timeout' | 'unknown';
  error: string;
  /** First failure of this run of failures. */
  since: string;
  lastFailureAt: string;
  /** Failed attempts so far in this run of failures. */
  attempts: number;
  nextAttemptAt?: string;
  /** Set when the step gives up after this many rounds (preflight reads, cutover steps). */
  givesUpAfterAttempts?: number;
}

export interface WaitingFor {
  kind: 'window' | 'approval' | 'decision' | 'aws' | 'resume' | 'precheck' | 'probe' | 'infra-change';
  description: string;
  until?: string;
  /** For approvals: the plan string an approval must name. */
  plan?: string;
  /** For decisions: the question. */
  question?: string;
  /** For decisions that take other answers than continue or abort: the answers it takes. */
  options?: string[];
  /** When this approval or question was asked: signed with it, so a signature answers this asking only. */
  askedAt?: string;
}

/**
 * What every run people operate reports (a campaign, one fleet instance, a restore): its state, what it waits
 * for, what people did, what it changed, the timeline. Each kind's status adds its own (stages, cutover…).
 */
export interface OperatedStatus<State extends string = string> {
  state: State;
  currentStep?: string;
  waitingFor?: WaitingFor;
  approvals: Approval[];
  followUps: string[];
  timeline: TimelineEntry[];
  humanActions: HumanAction[];
  /** Every change the run made, in order (AWS request ids included). */
  changes: ChangeMade[];
  /** Verified or unverified identities, the run id signatures name, the proven requester. */
  identity: IdentityStatus;
  /** An AWS call that keeps failing right now (the run retries it). */
  trouble?: AwsTrouble;
  failure?: string;
  startedAt: string;
  endedAt?: string;
}

export interface ApproveRequest {
  by: string;
  /** The plan string shown in status.waitingFor.plan; omit to approve whatever is being waited for. */
  plan?: string;
  comment?: string;
  /** An armored SSH signature (`ssh-keygen -Y sign -n rds-orchestrator`) over the action's text. */
  signature?: string;
}

export interface DecideRequest {
  by: string;
  /**
   * Campaign: continue | abort; when RDS's automatic target moved also apply-in-window | retarget.
   * Restore after the CNAME switch: keep | roll-back.
   */
  decision: 'continue' | 'abort' | 'keep' | 'roll-back' | 'apply-in-window' | 'retarget';
  comment?: string;
  signature?: string;
}

export interface ActorRequest {
  by: string;
  reason?: string;
  signature?: string;
}

/** The requester's signature over the start text (src/domain/identity/signed-actions.ts startText). */
export interface SignedStart {
  signature: string;
  /** When it was signed (ISO): a start signed long before the run starts is refused as a possible replay. */
  signedAt: string;
}

/** The team's allowed-signers list as a worker read it (ORCHESTRATOR_ALLOWED_SIGNERS). */
export interface AllowedSignersFile {
  source: string;
  text: string;
}

/** How the run knows who people are (status.identity). */
export interface IdentityStatus {
  /** verified: every human action is an SSH signature checked against the workers' allowed signers; unverified: names typed with --as. */
  mode: 'verified' | 'unverified';
  /** The run a signature must name (the workflow's first run id). */
  runId: string;
  /** ssh-keygen -Y sign -n NAMESPACE */
  namespace: string;
  allowedSigners?: { source: string; principals: string[]; readAt: string };
  /** The requester as proven by the start signature. */
  requester?: { principal: string; fingerprint: string; keyType: string; signedAt: string };
  note?: string;
}


/**
 * How to reach an AWS resource in another account: a role to assume (the worker's own credentials call STS
 * AssumeRole; the SDK refreshes the session before it expires) or, for people running the worker locally, a
 * named profile of their AWS config. Without it the worker's own credentials are used.
 */
export interface AwsAccessSpec {
  /** e.g. "arn:aws:iam::222222222222:role/rds-orchestrator" */
  roleArn?: string;
  /** When the role's trust policy requires one (sts:ExternalId). */
  externalId?: string;
  /** The STS region to assume the role in (default: the resource's region; us-east-1 for Route 53). */
  region?: string;
  /** A named profile instead of a role (local use). */
  profile?: string;
}

/** The resolved form: what the worker needs to reach the account. */
export interface ResolvedAwsAccess {
  roleArn?: string;
  externalId?: string;
  stsRegion?: string;
  profile?: string;
}
