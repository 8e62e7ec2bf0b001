/**
 * The upgrade campaign's contract: the spec people write (CampaignSpec), the resolved spec the workflow
 * runs (every default written out, so the history records what the campaign was asked to do), its status
 * and its result.
 */
import type { AllowedSignersFile, Approval, AwsAccessSpec, ChangeMade, IdentityStatus, SignedStart, AwsTrouble, DurationSpec, HumanAction, ResolvedAwsAccess, TimelineEntry, WaitingFor } from './common';

export type StageMethod = 'maintenance-window' | 'apply-now';

export interface StageSpec {
  /** preview / staging / production, or any name; unique within a campaign */
  name: string;
  region: string;
  instanceId: string;
  /** The stage's AWS account, when it is not the worker's own: a role to assume (or a local profile). */
  aws?: AwsAccessSpec;
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
  /**
   * Who may act on this run, in git's allowed-signers format: the file's text inline, or `{ file }` (read by
   * the CLI next to the spec file). With the workers' list (ORCHESTRATOR_ALLOWED_SIGNERS) too, a signature must
   * satisfy both: the spec narrows the team's list, it never widens it.
   */
  allowedSigners?: string | { file: string } | AllowedSignersFile;
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
  /** The account the stage's calls were made in, and the role assumed for them (preflight finds out). */
  account?: string;
  role?: string;
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
  /** Every change the run made, in order (AWS request ids included). */
  changes: ChangeMade[];
  /** Verified or unverified identities, the run id signatures name, the proven requester. */
  identity: IdentityStatus;
  noticeOverride?: string;
  /** An AWS call that keeps failing right now (the campaign retries it). */
  trouble?: AwsTrouble;
  failure?: string;
  startedAt: string;
  endedAt?: string;
}

export interface CampaignResult {
  campaignId: string;
  state: 'completed' | 'aborted';
  stages: StageReport[];
  followUps: string[];
}

/**
 * Marks a spec resolved by the client (src/spec): the workflow runs it as is. An input without it is a raw
 * CampaignSpec from a run started before specs were resolved at the client; the workflow resolves that
 * one itself, as it did then.
 */
export const RESOLVED_CAMPAIGN_SPEC = 'rds-orchestrator/resolved-campaign-spec/v1';

export interface ResolvedStage {
  name: string;
  region: string;
  instanceId: string;
  aws?: ResolvedAwsAccess;
  method: StageMethod;
  requiresApproval: boolean;
  noticeMs: number;
  noticeOverrideReason?: string;
  statusPage: { enabled: boolean; name: string; body: string; componentIds: string[] };
  precheckBeforeMs: number;
  graceMs: number;
  maxMissedWindows: number;
  probe?: { url: string; ratePerSecond: number; requestTimeoutMs: number; settleMs: number; maxDurationMs: number };
  downtimeThresholdMs: number;
  healthCheckUrl?: string;
  infraCodeHint: string;
}

export interface ResolvedCampaignSpec {
  format: typeof RESOLVED_CAMPAIGN_SPEC;
  campaignId: string;
  targetEngineVersion: string;
  requester: string;
  stages: ResolvedStage[];
  approval: { approvers: string[]; minApprovals: number; reminderIntervalMs: number };
  blackouts: { fromMs: number; toMs: number; reason?: string }[];
  pollIntervalMs: number;
  /** The run's own allowed signers (spec.allowedSigners), as read when it was resolved. */
  allowedSigners?: AllowedSignersFile;
  /** The requester's signature over this spec (every field but this one), when identities are verified. */
  signedStart?: SignedStart;
}

/** What `upgradeCampaign` accepts: a resolved spec, or (runs started before) a raw one. */
export type CampaignInput = ResolvedCampaignSpec | CampaignSpec;
