/**
 * The upgrade campaign's contract: the spec people write (CampaignSpec), the resolved spec the workflow
 * runs (every default written out, so the history records what the campaign was asked to do), its status
 * and its result.
 */
import type { BlueGreenReport, BlueGreenSpec, ResolvedBlueGreen } from './blue-green';
import type { DatabaseAccess, DatabaseAccessSpec } from './database';
import type { AllowedSignersFile, AwsAccessSpec, DurationSpec, OperatedStatus, ResolvedAwsAccess, SignedStart } from './common';
import type { FleetListing } from './fleet-status';

/**
 * How a stage brings the target: AutoMinorVersionUpgrade in a maintenance window, ModifyDBInstance now under a
 * probe, or an RDS Blue/Green deployment (a green copy at the target, switched over in the window).
 */
export type StageMethod = 'maintenance-window' | 'apply-now' | 'blue-green';

/**
 * Who changes AutoMinorVersionUpgrade: the campaign through the API (`api`, the default), or the team's
 * Terraform (`terraform`): the campaign then asks for the exact change, reminds, and goes on when AWS shows it.
 */
export type ChangesBy = 'api' | 'terraform';

/** PagerDuty for a stage: the person on call is paged when its window opens and when it goes wrong. */
export interface PagerDutySpec {
  /** Default: true for a stage that requires approval (production), false otherwise. */
  enabled?: boolean;
  /**
   * Where the service's Events API v2 integration key is: `{ env: NAME }`, a variable the workers hold (a key is a
   * secret: written in the spec it would be in the workflow's history). Default: ORCHESTRATOR_PAGERDUTY_ROUTING_KEY.
   */
  routingKey?: { env: string };
}

export interface StageSpec {
  /** preview / staging / production, or any name; unique within a campaign */
  name: string;
  region: string;
  /** One instance. A fleet stage names `instances` or `select` instead (exactly one of the three). */
  instanceId?: string;
  /** A fleet stage: these instances of the stage's region and account. */
  instances?: string[];
  /** A fleet stage: every instance that matches, in the stage's region and account or in those listed. */
  select?: FleetSelectSpec;
  /** A fleet stage: how its instances are upgraded in waves (each instance in a child workflow of its own). */
  waves?: WavesSpec;
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
  /**
   * apply-now: availability probe against a status URL (in a fleet stage, `{instanceId}` in it is each
   * instance's id), or `postgres`: `SELECT 1` on the instance's own database (each instance's, in a fleet).
   */
  probe?: { url?: string; postgres?: DatabaseAccessSpec; ratePerSecond?: number; requestTimeoutMs?: number; settle?: DurationSpec; maxDuration?: DurationSpec };
  /** apply-now: longest outage tolerated before a team decision (default 60s). */
  downtimeThreshold?: DurationSpec;
  /** Optional health URL checked after the upgrade. */
  healthCheckUrl?: string;
  /** The infrastructure-code value that must change after this stage (follow-up text). */
  infraCodeHint?: string;
  /** Who changes the flag for this stage (default: the campaign's `changes`, else "api"). */
  changes?: ChangesBy;
  /** How long before a maintenance window the flag (and AWS's automatic target) is read again (default 15m). */
  rearmBefore?: DurationSpec;
  /** Page the person on call (PagerDuty Events API v2). */
  pagerDuty?: PagerDutySpec;
  /** method blue-green: the deployment's settings. */
  blueGreen?: BlueGreenSpec;
}

/** Which instances a fleet stage takes: every one that matches all of what is given. */
export interface FleetSelectSpec {
  /** Every tag must be on the instance with exactly this value, e.g. { environment: "staging", team: "notify" }. */
  tags?: Record<string, string>;
  /** Default "postgres". */
  engine?: string;
  /** Only instances at this engine version now (e.g. "15.5"). */
  engineVersion?: string;
  /** Where to look (default: the stage's region and account); each entry its own region and role. */
  from?: { region: string; aws?: AwsAccessSpec }[];
}

/** The order a fleet stage takes its instances in. */
export type FleetOrder = 'listed' | 'smallest-first' | { tag: string };

export interface WavesSpec {
  /**
   * How many instances are upgraded at once (default 1): a wave is that many, and the next wave starts when
   * the previous one ended. A stage that requires approval upgrades in its instances' maintenance windows:
   * its waves are the window groups, and it refuses maxConcurrent.
   */
  maxConcurrent?: number;
  /** "listed" (default for `instances`), "smallest-first" (allocated storage; default for `select`), or { tag: KEY } (by the tag's value; a new value starts a new wave). */
  order?: FleetOrder;
  /** Failed instances at which the stage stops starting new ones and asks the team (default 1). */
  failureThreshold?: number;
  /**
   * How many instances one workflow of the stage looks after (default 250, at most 1000): a wave or window group
   * of more is split between several (`upgradeFleetBatch`), so that no workflow's history grows with the fleet.
   */
  instancesPerWorkflow?: number;
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
  /** Who changes the flag for every stage that does not say (default "api"). */
  changes?: ChangesBy;
}

export type CampaignState =
  | 'validating'
  | 'running'
  | 'waiting-for-window'
  | 'waiting-for-approval'
  | 'waiting-for-decision'
  | 'waiting-for-infra-change'
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
  /** A fleet stage: what the selection found, the waves, and where each instance is. */
  fleet?: FleetReport;
  /** The instance's read replicas (preflight lists them); each is upgraded before the instance. */
  replicas?: ReplicaReport[];
  /** Who changes the flag for this stage (absent: the campaign, through the API). */
  changes?: ChangesBy;
  /** What brings the version: AutoMinorVersionUpgrade in the window, the campaign applying it in the window (the team chose it), or now. */
  mechanism?: 'auto-minor-version-upgrade' | 'apply-in-window' | 'apply-now' | 'blue-green';
  /** method blue-green: the deployment, as AWS last described it. */
  blueGreen?: BlueGreenReport;
  /** Times the flag the window needs was found turned off by someone else (Terraform, a person). */
  flagReverts?: number;
  /** How often the flag was turned on again in one window (the campaign stops after a few). */
  rearms?: { windowStart: number; count: number };
  /** When the campaign turned the flag on (CloudTrail is asked who turned it off since). */
  flagArmedAt?: string;
  /** The version the instance runs when it is not the target (upgraded past it outside the campaign). */
  engineVersionNow?: string;
  /** The on-call page for this stage's window (PagerDuty). */
  onCall?: {
    dedupKey: string;
    state: 'triggered' | 'escalated' | 'resolved' | 'not-configured';
    /** The window keys whose alerts are still open (or may be: a page whose answer was lost). */
    open?: string[];
    /** The window keys with an escalation alert of their own (`<key>/escalation`), resolved with theirs. */
    escalated?: string[];
  };
}

/** A read replica of a stage's instance: upgraded before its source (RDS refuses the source first). */
export interface ReplicaReport {
  region: string;
  instanceId: string;
  /** As RDS lists it on the source (an ARN for a cross-region replica). */
  listedAs: string;
  fromVersion?: string;
  state: 'pending' | 'upgrading' | 'upgraded' | 'skipped';
  /** Its own maintenance window (`ddd:hh24:mi-ddd:hh24:mi`, UTC) and the occurrence watched. */
  maintenanceWindow?: string;
  window?: { start: string; end: string };
  mechanism?: StageReport['mechanism'];
  flagArmedAt?: string;
  flagReverts?: number;
  rearms?: { windowStart: number; count: number };
  note?: string;
}

export type FleetInstanceState = 'pending' | 'running' | 'completed' | 'failed' | 'skipped' | 'aborted';

/** One instance of a fleet stage, as the parent campaign sees it; its own workflow has the whole timeline. */
export interface FleetInstanceReport {
  region: string;
  instanceId: string;
  /** 1-based. */
  wave: number;
  state: FleetInstanceState;
  fromVersion: string;
  /** The child workflow that upgrades it (`campaign status ID --instance INSTANCE` shows its timeline). */
  workflowId: string;
  /** Its maintenance window (a stage that requires approval: the approved one). */
  window?: { start: string; end: string };
  /** Why it failed, was skipped or was aborted; what happened to it. */
  note?: string;
  downtimeSeconds?: number;
  /** What the plan warns about (a window moved past a blackout, AWS applying the upgrade before the window). */
  flags?: string[];
}

export interface FleetReport {
  /** What the stage selected, in words ("tags environment=staging, team=notify; postgres; eu-west-2"). */
  selection: string;
  order: string;
  maxConcurrent?: number;
  failureThreshold: number;
  waves: number;
  currentWave?: number;
  counts: Record<FleetInstanceState, number>;
  /** Every instance; in a status answer that lists only some of them (`listed` says which), those. */
  instances: FleetInstanceReport[];
  /** A stage that requires approval: its instances grouped by window, each group announced once. */
  windowGroups?: { start: string; end: string; instances: number; statusPageIncidentId?: string; counts?: Record<FleetInstanceState, number> }[];
  /**
   * Present when `instances` lists only some of the stage's instances (a status answer or a result over a large
   * fleet, or a status query that asked for a page or one instance): which ones, and what the whole list holds.
   * Each window group then carries its own `counts`.
   */
  listed?: FleetListing;
}

export interface CampaignStatus extends OperatedStatus<CampaignState> {
  campaignId: string;
  targetEngineVersion: string;
  requester: string;
  currentStage?: string;
  stages: StageReport[];
  noticeOverride?: string;
}

export interface CampaignResult {
  campaignId: string;
  state: 'completed' | 'aborted';
  /** As the status query answers without a request: a fleet stage of more than STATUS_LISTS_AT_MOST instances lists those needing attention (FleetReport.listed). */
  stages: StageReport[];
  followUps: string[];
}

/**
 * Marks a spec resolved by the client (src/input): the workflow runs it as is. An input without it is a raw
 * CampaignSpec from a run started before specs were resolved at the client; the workflow resolves that
 * one itself, as it did then.
 */
export const RESOLVED_CAMPAIGN_SPEC = 'rds-orchestrator/resolved-campaign-spec/v1';

export interface ResolvedFleet {
  /** Listed instances (in the stage's region and account). */
  instanceIds?: string[];
  select?: { tags: Record<string, string>; engine: string; engineVersion?: string; from: { region: string; aws?: ResolvedAwsAccess }[] };
  order: FleetOrder;
  /** Absent for a stage that requires approval (its waves are window groups). */
  maxConcurrent?: number;
  failureThreshold: number;
  /** WavesSpec.instancesPerWorkflow; absent in runs resolved before it (the default then). */
  instancesPerWorkflow?: number;
}

export interface ResolvedStage {
  name: string;
  region: string;
  /** Empty for a fleet stage (see `fleet`). */
  instanceId: string;
  /** A fleet stage: its instances each run in a child workflow (upgradeFleetInstance). */
  fleet?: ResolvedFleet;
  aws?: ResolvedAwsAccess;
  method: StageMethod;
  requiresApproval: boolean;
  noticeMs: number;
  noticeOverrideReason?: string;
  statusPage: { enabled: boolean; name: string; body: string; componentIds: string[] };
  precheckBeforeMs: number;
  graceMs: number;
  maxMissedWindows: number;
  /** Exactly one of `url` (HTTP GETs) and `postgres` (SELECT 1 over a new connection each time). */
  probe?: { url?: string; postgres?: DatabaseAccess; ratePerSecond: number; requestTimeoutMs: number; settleMs: number; maxDurationMs: number };
  downtimeThresholdMs: number;
  healthCheckUrl?: string;
  infraCodeHint: string;
  /** Absent in specs resolved before the estate guard: "api". */
  changes?: ChangesBy;
  /** Absent in specs resolved before the estate guard: the workflow's default (15 minutes). */
  rearmBeforeMs?: number;
  /** Absent in specs resolved before the estate guard: no paging. */
  /** `routingKey`: the key itself, in specs resolved before keys were named by variable (still honoured); `routingKeyEnv`: the workers' variable holding it. */
  pagerDuty?: { enabled: boolean; routingKey?: string; routingKeyEnv?: string };
  /** method blue-green only. */
  blueGreen?: ResolvedBlueGreen;
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

/** What the parent campaign gives the child workflow that upgrades one instance of a fleet stage. */
export interface FleetInstanceInput {
  campaignId: string;
  parentWorkflowId: string;
  targetEngineVersion: string;
  requester: string;
  /** The stage, for this one instance (its region, account and instanceId filled in). */
  stage: ResolvedStage;
  wave: number;
  blackouts: ResolvedCampaignSpec['blackouts'];
  pollIntervalMs: number;
  /** A stage that requires approval: the approved window (the parent announced it). */
  window?: { startMs: number; endMs: number };
  /** The campaign was paused when this instance started: hold at the first checkpoint. */
  paused?: boolean;
}

export interface FleetInstanceResult {
  instanceId: string;
  region: string;
  state: 'completed' | 'failed' | 'skipped' | 'aborted';
  fromVersion?: string;
  toVersion?: string;
  /** What happened, in words (a failure: what the team needs to look at). */
  note?: string;
  downtimeSeconds?: number;
  window?: { start: string; end: string };
  followUps: string[];
}

/** What `upgradeCampaign` accepts: a resolved spec, or (runs started before) a raw one. */
export type CampaignInput = ResolvedCampaignSpec | CampaignSpec;
