/**
 * Starting and addressing campaigns and restores: the one place that knows the workflow types, how a
 * campaign or restore id maps to a workflow id, and that the input is the resolved spec. Used by the CLI,
 * the demo, the bench, the history recorder and the tests.
 */
import type { Client, WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { ResolvedCampaignSpec, ResolvedRestoreSpec } from '../api';
import type { restoreAndCutover, upgradeCampaign } from '../workflows';

export const CAMPAIGN_WORKFLOW_TYPE = 'upgradeCampaign';
export const RESTORE_WORKFLOW_TYPE = 'restoreAndCutover';

export type CampaignHandle = WorkflowHandle<typeof upgradeCampaign>;
export type RestoreHandle = WorkflowHandle<typeof restoreAndCutover>;

export function campaignWorkflowId(campaignId: string): string {
  return `campaign-${campaignId}`;
}

export function restoreWorkflowId(restoreId: string): string {
  return `restore-${restoreId}`;
}

export interface StartOptions {
  taskQueue: string;
  /** Default: derived from the campaign or restore id (one run per id at a time). */
  workflowId?: string;
}

/**
 * A fleet campaign's workflow task timeout. A worker that lost the campaign from its cache replays its whole history
 * in one workflow task. bench/campaign-scale measured that replay at the campaign's bounds on 2 cores: 7.1-7.7 s
 * from a fresh replay worker for 10,000 instances (500 batches, 456 run, 300 window groups, 100 places: 9,881 events);
 * 5.8-7.1 s for 3,000 in the bounds before (600 batches); 10.9-12.4 s for 10,000 before those. Temporal's default of 10 s
 * would leave no margin, and a task that times out on every replay never completes. The cost: a worker killed in the
 * middle of one of the campaign's tasks is noticed after this long instead of 10 s (a task normally takes tens of
 * milliseconds; the batches and instances, which do the AWS work, keep the default).
 */
export const FLEET_WORKFLOW_TASK_TIMEOUT = '60s';

/** Starts a campaign from a resolved spec (src/input resolveCampaignSpec). */
export function startCampaign(client: Client, spec: ResolvedCampaignSpec, opts: StartOptions): Promise<WorkflowHandleWithFirstExecutionRunId<typeof upgradeCampaign>> {
  return client.workflow.start<typeof upgradeCampaign>(CAMPAIGN_WORKFLOW_TYPE, {
    args: [spec],
    taskQueue: opts.taskQueue,
    workflowId: opts.workflowId ?? campaignWorkflowId(spec.campaignId),
    ...campaignMetadata(spec),
    ...(spec.stages.some((s) => s.fleet) ? { workflowTaskTimeout: FLEET_WORKFLOW_TASK_TIMEOUT } : {}),
  });
}

/** What the Temporal UI says of a campaign (its summary and details): the target, who asked, each stage. */
export function campaignMetadata(spec: ResolvedCampaignSpec): { staticSummary: string; staticDetails: string } {
  const stages = spec.stages.map((s) => `- **${s.name}**: ${s.fleet ? `fleet (${s.fleet.instanceIds ? `${s.fleet.instanceIds.length} listed` : 'selected by tags'})` : `${s.region}/${s.instanceId}`}, ${s.method}${s.requiresApproval ? ', approved window' : ''}`);
  return {
    staticSummary: `campaign ${spec.campaignId}: PostgreSQL minor upgrade to ${spec.targetEngineVersion}, requested by ${spec.requester}`,
    staticDetails: [`Upgrade to **${spec.targetEngineVersion}**, stage by stage:`, '', ...stages].join('\n'),
  };
}

/** What the Temporal UI says of a restore: the source, the restored instance, the point in time and the cutover. */
export function restoreMetadata(spec: ResolvedRestoreSpec): { staticSummary: string; staticDetails: string } {
  const at = spec.restoreTime === 'latest' ? 'the latest restorable time' : spec.restoreTime;
  return {
    staticSummary: `restore ${spec.restoreId}: ${spec.source.region}/${spec.source.instanceId} to ${at} as ${spec.targetInstanceId}, requested by ${spec.requester}`,
    staticDetails: `Point-in-time restore of **${spec.source.instanceId}** (${spec.source.region}) to ${at} as **${spec.targetInstanceId}**${spec.cutover ? `, then the cutover of ${spec.cutover.recordName}` : ''}.`,
  };
}

export function campaignHandle(client: Client, campaignId: string): CampaignHandle {
  return client.workflow.getHandle<typeof upgradeCampaign>(campaignWorkflowId(campaignId));
}

/** Starts a restore from a resolved spec (src/input resolveRestoreSpec). */
export function startRestore(client: Client, spec: ResolvedRestoreSpec, opts: StartOptions): Promise<WorkflowHandleWithFirstExecutionRunId<typeof restoreAndCutover>> {
  return client.workflow.start<typeof restoreAndCutover>(RESTORE_WORKFLOW_TYPE, {
    args: [spec],
    taskQueue: opts.taskQueue,
    workflowId: opts.workflowId ?? restoreWorkflowId(spec.restoreId),
    ...restoreMetadata(spec),
  });
}

export function restoreHandle(client: Client, restoreId: string): RestoreHandle {
  return client.workflow.getHandle<typeof restoreAndCutover>(restoreWorkflowId(restoreId));
}

/** Visibility query for campaigns (newest first), optionally narrowed (e.g. "RdsState='waiting-for-approval'"). */
export function campaignListQuery(extra?: string): string {
  return [`WorkflowType = '${CAMPAIGN_WORKFLOW_TYPE}'`, extra].filter(Boolean).join(' AND ');
}

/** The campaign id of a campaign's workflow id. */
export function campaignIdOf(workflowId: string): string {
  return workflowId.replace(/^campaign-/, '');
}
