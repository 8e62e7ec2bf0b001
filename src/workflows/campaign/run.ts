/**
 * One campaign: its resolved spec, the operated run it composes (status, timeline, notifications, AWS calls,
 * people; shared/operated-run.ts), what preflight found (each stage's run, each fleet stage's selection). The
 * steps themselves receive a StageRun (stage-run.ts) and live in the files named after the runbook; a fleet
 * instance's run is built on the same core with its own small input (fleet-instance.ts).
 */
import { takesPatch } from '../shared/patches';
import type { CampaignState, CampaignStatus, NotificationEvent, ResolvedCampaignSpec, ResolvedStage, StageReport, WaitingFor } from '../../api';
import { RDS_CAMPAIGN_ID, RDS_INSTANCES, RDS_OPERATION } from '../../api/search-attributes';
import type { FleetEntry } from '../../domain/fleet';
import { OperatedRun, TELLS_AND_ASKS_PEOPLE, operatedStatusStart, type RunPolicy } from '../shared/operated-run';
import { StageRun, stepAt, type CampaignSettings } from './stage-run';

export const TERMINAL: CampaignState[] = ['completed', 'aborted', 'failed'];
/**
 * patched() id: the world is read again before and in each window, the flag guarded, RDS's automatic target
 * re-read, replicas first, Terraform-owned flags, the person on call (estate.ts, windows.ts). Decided once, when
 * the run starts (CampaignRun.estateGuard, and a fleet instance's): a run started before it keeps the old steps
 * to its end. Asking at each step instead would place the marker after a local activity whose result, on
 * replay, arrives in an earlier workflow task than it did live, and the replay would see the marker where no
 * command asks for it.
 */
export const ESTATE_GUARD_PATCH = 'campaign-estate-guard';
/** patched() id: search attributes are upserted only when the stage or state changes. */
export const UPSERT_ONLY_CHANGES_PATCH = 'campaign-upsert-search-attributes-on-change';
/**
 * patched() id: texts name each window group by its start and end and its instances (domain/window-group.ts).
 * The fleet approval's text is what people sign, so a run started before it keeps asking the old text
 * (starts only) to its end; decided once, when the run starts, like ESTATE_GUARD_PATCH.
 */
export const WINDOW_GROUP_TEXT_PATCH = 'campaign-window-groups-named-by-start-and-end';
/**
 * patched() id: since this change a fleet wave's instances are started by batch workflows (fleet-batch.ts), at most
 * `instancesPerWorkflow` each, not by the campaign itself, and a campaign may hold up to MAX_INSTANCES_PER_CAMPAIGN
 * in at most MAX_BATCHES_PER_CAMPAIGN batches. Decided once, when the run starts, like ESTATE_GUARD_PATCH: a run
 * started before keeps every instance as the campaign's own child to its end. (First asked where a fleet stage
 * began, its marker followed the stage's first notification, a local activity, in the same workflow task; a resumed
 * demo in CI once failed to replay there: "patch marker encountered for change fleet-batches, but there is no
 * corresponding change command". In the run's first workflow task the decision depends on nothing before it.)
 */
export const FLEET_BATCHES_PATCH = 'fleet-batches';
/**
 * patched() id: a fleet stage's preflight reads each of its places in one activity (readFleetPlace: the account,
 * the instances, their versions' upgrade targets), PLACES_AT_ONCE places at a time. Before, three activities per
 * place, one place after another: a campaign of three stages over 50 accounts × 2 regions scheduled 900 activities
 * in its preflight, over half of its history's events. Decided once, when the run starts.
 */
export const FLEET_PLACES_TOGETHER_PATCH = 'fleet-places-read-together';
/**
 * patched() id: a status answer and the result list at most STATUS_LISTS_AT_MOST instances of a fleet stage (the
 * others are counted; a query may ask for a page or one instance: domain/fleet-status.ts), so one campaign may hold
 * MAX_INSTANCES_PER_CAMPAIGN (10,000; 3,000 before, when its status named every instance and Temporal refuses an
 * answer over 2 MB) in at most MAX_BATCHES_PER_CAMPAIGN (500; 600 before, which grew its history past Temporal's
 * 10,240-event warning). Only preflight's bounds depend on it (the answers are not in the history). Decided once,
 * when the run starts.
 */
export const FLEET_STATUS_LISTS_A_PART_PATCH = 'fleet-status-lists-a-part';

/** A campaign's status before its spec is read (what the query shows while it validates). */
export function newCampaignStatus(campaignId: string, targetEngineVersion: string, requester: string, state: CampaignState): CampaignStatus {
  return {
    campaignId,
    targetEngineVersion,
    requester,
    state,
    stages: [],
    ...operatedStatusStart(),
  };
}

/**
 * The operated run of a campaign, or of one instance of a fleet stage (`operation` campaign-instance): the
 * same status, search attributes and notifications' label; `policy` says what notifications and questions do.
 */
export function campaignOperatedRun(
  status: CampaignStatus,
  run: { campaignId: string; operation: 'campaign' | 'campaign-instance'; instances: () => string[]; policy: RunPolicy; reminderIntervalMs: number },
): OperatedRun<CampaignState, CampaignStatus> {
  return new OperatedRun<CampaignState, CampaignStatus>(status, {
    kind: 'campaign',
    id: run.campaignId,
    label: `[${run.campaignId}]`,
    policy: run.policy,
    reminderIntervalMs: run.reminderIntervalMs,
    terminal: TERMINAL,
    stage: () => status.currentStage,
    identifyingAttributes: () => [
      { key: RDS_OPERATION, value: run.operation },
      { key: RDS_CAMPAIGN_ID, value: status.campaignId },
      // A fleet stage's instances are on their own workflows (a keyword list holds a few, not hundreds).
      { key: RDS_INSTANCES, value: run.instances() },
    ],
    // Campaigns started before this change upsert every attribute on every state change, as their histories recorded.
    upsertOnlyChanges: () => takesPatch(UPSERT_ONLY_CHANGES_PATCH),
  });
}

export class CampaignRun {
  /** See ESTATE_GUARD_PATCH; decided once, when the run starts (before any activity, and before the identity gate's). */
  readonly estateGuard = takesPatch(ESTATE_GUARD_PATCH);
  /** See WINDOW_GROUP_TEXT_PATCH; decided once, when the run starts. */
  readonly windowGroupText = takesPatch(WINDOW_GROUP_TEXT_PATCH);
  /** See FLEET_BATCHES_PATCH; decided once, when the run starts. */
  readonly fleetBatches = takesPatch(FLEET_BATCHES_PATCH);
  /** See FLEET_PLACES_TOGETHER_PATCH; decided once, when the run starts. */
  readonly fleetPlacesTogether = takesPatch(FLEET_PLACES_TOGETHER_PATCH);
  /** See FLEET_STATUS_LISTS_A_PART_PATCH; decided once, when the run starts. */
  readonly fleetStatusListsAPart = takesPatch(FLEET_STATUS_LISTS_A_PART_PATCH);
  readonly run: OperatedRun<CampaignState, CampaignStatus>;
  readonly settings: CampaignSettings;
  /** What preflight selected for each fleet stage, by stage name (fleet.ts). */
  readonly fleets = new Map<string, FleetEntry[]>();
  private readonly stageRuns = new Map<string, StageRun>();

  constructor(
    readonly spec: ResolvedCampaignSpec,
    readonly status: CampaignStatus,
  ) {
    const { approval } = spec;
    this.run = campaignOperatedRun(status, {
      campaignId: spec.campaignId,
      operation: 'campaign',
      instances: () => spec.stages.filter((s) => !s.fleet).map((s) => `${s.region}/${s.instanceId}`),
      policy: TELLS_AND_ASKS_PEOPLE,
      reminderIntervalMs: approval.reminderIntervalMs,
    });
    this.settings = {
      campaignId: spec.campaignId,
      targetEngineVersion: spec.targetEngineVersion,
      requester: spec.requester,
      pollIntervalMs: spec.pollIntervalMs,
      blackouts: spec.blackouts,
      reminderIntervalMs: approval.reminderIntervalMs,
      approval: { requester: spec.requester, approvers: approval.approvers, minApprovals: approval.minApprovals },
      windowGroupText: this.windowGroupText,
    };
  }

  report(s: ResolvedStage): StageReport {
    return this.status.stages[this.spec.stages.indexOf(s)];
  }

  /** The run of one stage (the same one from preflight to its end). */
  stage(s: ResolvedStage): StageRun {
    let st = this.stageRuns.get(s.name);
    if (!st) {
      st = new StageRun(this.run, this.settings, s, this.report(s), this.estateGuard, this.fleetBatches);
      this.stageRuns.set(s.name, st);
    }
    return st;
  }

  /** A step of the campaign as a whole (preflight, the end). */
  step(step: string, detail?: string): void {
    stepAt(this.run, undefined, step, detail);
  }

  setState(state: CampaignState, waitingFor?: WaitingFor): void {
    this.run.setState(state, waitingFor);
  }

  notify(event: NotificationEvent, text: string): Promise<void> {
    return this.run.notify(event, text);
  }
}
