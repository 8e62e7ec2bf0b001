/**
 * The workflows' public contract: inputs, status shapes, and the update/query definitions. Imported by
 * the workflows, the worker, the CLI and the tests. Never import workflow internals elsewhere.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';

export const TASK_QUEUE = 'rds-orchestrator';

// ---------------------------------------------------------------------------------------------------
// Campaign
// ---------------------------------------------------------------------------------------------------

export type StageMethod = 'maintenance-window' | 'apply-now';

/** Durations are strings like "14d", "3 days", "90s", "2m", "1h30m" or a number of milliseconds. */
export type DurationSpec = string | number;

export interface StageSpec {
  /** preview / staging / production, or any name; unique within a campaign */
  name: string;
  region: string;
  instanceId: string;
  method: StageMethod;
  /** Default: true for a stage named production, false otherwise. */
  requiresApproval?: boolean;
  /** Production notice. Default: 14d for stages that require approval, none otherwise. */
  notice?: {
    minimum?: DurationSpec;
    /** Required (non-empty) whenever minimum is below 14 days; shown in status and plan. */
    overrideReason?: string;
  };
  /** Status-page scheduled maintenance (default: on for stages that require approval). */
  statusPage?: { enabled?: boolean; name?: string; body?: string; componentIds?: string[] };
  /** How long before the window to check AWS lists the pending maintenance (default 3d). */
  precheckBefore?: DurationSpec;
  /** How long after the window's end to keep watching before counting it as missed (default 1h). */
  grace?: DurationSpec;
  /** Missed windows tolerated before escalating to a decision (default 2). */
  maxMissedWindows?: number;
  /** apply-now: availability probe against a status URL. */
  probe?: { url: string; ratePerSecond?: number; requestTimeoutMs?: number; settle?: DurationSpec; maxDuration?: DurationSpec };
  /** apply-now: longest outage tolerated before a team decision (default 60s). */
  downtimeThreshold?: DurationSpec;
  /** Optional health URL checked after the upgrade. */
  healthCheckUrl?: string;
  /** The infrastructure-code value that must change after this stage (follow-up text). */
  infraCodeHint?: string;
}

export interface CampaignSpec {
  /** Default: `pg-minor-<target version>` */
  campaignId?: string;
  targetEngineVersion: string;
  requester: string;
  stages: StageSpec[];
  approval?: {
    /** When set, only these people may approve. */
    approvers?: string[];
    /** Default 1 */
    minApprovals?: number;
    /** Reminder interval while waiting for a person (default 24h). */
    reminderInterval?: DurationSpec;
  };
  /** Freeze calendar: a window overlapping one of these is skipped for the next. ISO instants. */
  blackouts?: { from: string; to: string; reason?: string }[];
  /** How often to re-check RDS while watching (default 60s; retry-based polling). */
  pollInterval?: DurationSpec;
}

export type CampaignState =
  | 'validating'
  | 'running'
  | 'waiting-for-window'
  | 'waiting-for-approval'
  | 'waiting-for-decision'
  | 'paused'
  | 'completed'
  | 'aborted'
  | 'failed';

export type StageStatus = 'pending' | 'running' | 'skipped' | 'completed' | 'aborted' | 'failed';

export interface StageReport {
  name: string;
  region: string;
  instanceId: string;
  method: StageMethod;
  fromVersion?: string;
  toVersion: string;
  status: StageStatus;
  step?: string;
  startedAt?: string;
  endedAt?: string;
  /** apply-now: longest outage measured by the probe */
  downtimeSeconds?: number;
  probe?: { requests: number; failures: number; longestOutageSeconds: number; unobservedSeconds?: number };
  /** maintenance-window: the window chosen (production) or being watched */
  window?: { start: string; end: string };
  missedWindows: number;
  statusPageIncidentId?: string;
  note?: string;
}

export interface HumanAction {
  at: string;
  by: string;
  action: 'approve' | 'decide' | 'pause' | 'resume' | 'abort';
  detail?: string;
  comment?: string;
}

export interface TimelineEntry {
  at: string;
  stage?: string;
  step: string;
  detail?: string;
  by?: string;
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
  kind: 'window' | 'approval' | 'decision' | 'aws' | 'resume' | 'precheck' | 'probe';
  description: string;
  until?: string;
  /** For approvals: the plan string an approval must name. */
  plan?: string;
  /** For decisions: the question. */
  question?: string;
}

export interface CampaignStatus {
  campaignId: string;
  targetEngineVersion: string;
  requester: string;
  state: CampaignState;
  currentStage?: string;
  currentStep?: string;
  waitingFor?: WaitingFor;
  stages: StageReport[];
  approvals: Approval[];
  followUps: string[];
  timeline: TimelineEntry[];
  humanActions: HumanAction[];
  noticeOverride?: string;
  /** An AWS call that keeps failing right now (the campaign retries it). */
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
}

export interface DecideRequest {
  by: string;
  /** Campaign: continue | abort. Restore after the CNAME switch: keep | roll-back. */
  decision: 'continue' | 'abort' | 'keep' | 'roll-back';
  comment?: string;
}

export interface ActorRequest {
  by: string;
  reason?: string;
}

export interface CampaignResult {
  campaignId: string;
  state: 'completed' | 'aborted';
  stages: StageReport[];
  followUps: string[];
}

export const campaignStatusQuery = defineQuery<CampaignStatus>('status');
export const approveUpdate = defineUpdate<string, [ApproveRequest]>('approve');
export const decideUpdate = defineUpdate<string, [DecideRequest]>('decide');
export const pauseUpdate = defineUpdate<string, [ActorRequest]>('pause');
export const resumeUpdate = defineUpdate<string, [ActorRequest]>('resume');
export const abortUpdate = defineUpdate<string, [ActorRequest]>('abort');

export function campaignWorkflowId(campaignId: string): string {
  return `campaign-${campaignId}`;
}

// ---------------------------------------------------------------------------------------------------
// Restore then cutover
// ---------------------------------------------------------------------------------------------------

export interface RestoreSpec {
  /** Default: `restore-<targetInstanceId>` */
  restoreId?: string;
  requester: string;
  source: { region: string; instanceId: string };
  targetInstanceId: string;
  /** ISO instant, or "latest" for the latest restorable time. */
  restoreTime: string;
  /** Copy class, subnet group, parameter group, security groups, Multi-AZ, storage, KMS key, tags (default true). */
  copySourceSettings?: boolean;
  /**
   * Allow access from the bastion's security group on the DB port. The rule goes on a security group
   * created for the restored instance (in the source's VPC) and attached to it; no group the source
   * uses is changed. Needs copySourceSettings (the restored instance lives in the source's VPC).
   */
  bastion?: { securityGroupId: string; port?: number };
  /** Without cutover the workflow ends once the restored instance is available (the common case). */
  cutover?: {
    hostedZoneId: string;
    recordName: string;
    setIdentifier: string;
    weight?: number;
    ttlSeconds?: number;
    /** Lower the record's TTL to this many seconds before asking for approval. */
    lowerTtlFirstTo?: number;
    approvers?: string[];
    /**
     * DNS resolvers ("10.0.0.2" or "10.0.0.2:53") the worker can reach that resolve the zone as the
     * applications do: for a private zone, the VPC's resolver (VPC CIDR base + 2) or one forwarding to it.
     * When given, the cutover is verified by a real lookup there as well.
     */
    resolvers?: string[];
  };
  pollInterval?: DurationSpec;
}

export type RestoreState =
  | 'validating'
  | 'restoring'
  | 'waiting-for-approval'
  | 'cutting-over'
  | 'waiting-for-decision'
  | 'rolling-back'
  | 'completed'
  | 'rolled-back'
  | 'aborted'
  | 'failed';

export interface RestoreStatus {
  restoreId: string;
  requester: string;
  state: RestoreState;
  currentStep?: string;
  waitingFor?: WaitingFor;
  source: { region: string; instanceId: string; endpoint?: string };
  target: {
    instanceId: string;
    endpoint?: string;
    restoreTime: string;
    /** The security group created for the restored instance (bastion access), when a bastion is given. */
    securityGroupId?: string;
  };
  /** The DNS switch, once the cutover is prepared. */
  cutover?: {
    recordName: string;
    /** private zones cannot be checked with TestDNSAnswer; they are verified by INSYNC, the record and `resolvers`. */
    zone: 'private' | 'public';
    /** When the CNAME change to the restored instance was sent: writes may reach it from then on. */
    switchedAt?: string;
    /** What the verification checked, one line each. */
    verified?: string[];
  };
  approvals: Approval[];
  followUps: string[];
  timeline: TimelineEntry[];
  humanActions: HumanAction[];
  rollback?: {
    reason: string;
    steps: string[];
    /** A rollback after the switch: the writes the applications made to the restored instance in this span stay there. */
    stranded?: { instanceId: string; from: string; to: string };
  };
  /** An AWS call that keeps failing right now (the restore retries it). */
  trouble?: AwsTrouble;
  failure?: string;
  startedAt: string;
  endedAt?: string;
}

export const restoreStatusQuery = defineQuery<RestoreStatus>('status');
/** Memo key holding a one-line summary of the AWS call that keeps failing (for `list`). */
export const AWS_TROUBLE_MEMO = 'awsTrouble';

export function restoreWorkflowId(restoreId: string): string {
  return `restore-${restoreId}`;
}
