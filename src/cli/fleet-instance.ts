/**
 * `campaign status ID --instance INSTANCE`: one instance of a fleet stage. The campaign's status names the
 * instance's own workflow (a child of the campaign's); its status query has the instance's whole timeline.
 */
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { campaignStatusOfQuery, campaignStatusQuery, type CampaignStatus, type FleetInstanceReport, type FleetReport, type StageReport } from '../api';
import { STATUS_LISTS_AT_MOST, instanceCount, matcher } from '../domain/fleet-status';
import { CliError } from './io';

type Queried = Pick<WorkflowHandle, 'query'>;

/**
 * The campaign's status with every instance of every fleet stage: a campaign lists at most STATUS_LISTS_AT_MOST
 * instances of a stage in one answer (Temporal refuses one over 2 MB), so a larger stage is read page by page, each
 * page a query of its own (the instances' states are each as of their page; the rest as of the last page).
 */
export async function wholeCampaignStatus(handle: Queried): Promise<CampaignStatus> {
  const first = await handle.query(campaignStatusQuery);
  if (!first.stages.some((st) => st.fleet?.listed)) return first;
  const pages: CampaignStatus[] = [];
  const size = STATUS_LISTS_AT_MOST;
  for (let from = 0; ; from += size) {
    const page = await handle.query(campaignStatusOfQuery, { page: { from, size } });
    pages.push(page);
    if (!page.stages.some((st) => st.fleet?.listed && from + size < st.fleet.listed.of)) break;
  }
  const last = pages[pages.length - 1];
  return { ...last, stages: last.stages.map((st, n) => (st.fleet ? { ...st, fleet: joined(pages.map((p) => p.stages[n]?.fleet).filter((f): f is FleetReport => f !== undefined)) } : st)) };
}

/** A fleet stage whole again from its pages (the last page's counts and waves, every page's instances). */
function joined(pages: FleetReport[]): FleetReport {
  const { listed, ...last } = pages[pages.length - 1];
  if (!listed) return pages[pages.length - 1];
  const windowGroups = last.windowGroups?.map(({ counts: _counts, ...g }) => g);
  return { ...last, ...(windowGroups ? { windowGroups } : {}), instances: pages.flatMap((p) => p.instances) };
}

/** The campaign's status listing, of each fleet stage, only the instances `ref` names (every instance from a worker before it). */
export function statusFor(handle: Queried, ref: string, stage?: string): Promise<CampaignStatus> {
  return handle.query(campaignStatusOfQuery, { instance: ref, ...(stage !== undefined ? { stage } : {}) });
}

export interface FoundInstance {
  stage: StageReport;
  instance: FleetInstanceReport;
}

/**
 * The instance `ref` names (its identifier, or REGION/IDENTIFIER) in the campaign's fleet stages (only in
 * `stageName` when given). Throws a CliError that says what the campaign has when there is no such
 * instance (4), or which ones match when the identifier alone is ambiguous (2).
 */
export function findFleetInstance(status: CampaignStatus, ref: string, stageName?: string): FoundInstance {
  const fleetStages = status.stages.filter((st) => st.fleet || !st.instanceId);
  const stages = stageName ? fleetStages.filter((st) => st.name === stageName) : fleetStages;
  if (stageName && stages.length === 0) {
    const names = fleetStages.map((st) => st.name).join(', ') || 'none';
    throw new CliError(`campaign ${status.campaignId} has no fleet stage named ${stageName} (its fleet stages: ${names})`, 2);
  }
  if (fleetStages.length === 0) {
    throw new CliError(`campaign ${status.campaignId} has no fleet stage (--instance names an instance of a stage that lists or selects instances); \`campaign status ${status.campaignId}\` shows its stages`, 2);
  }
  // The same reading of ID or REGION/ID as the campaign's own answer to `{ instance }` (domain/fleet-status.ts).
  const named = matcher(ref);
  const matches: FoundInstance[] = [];
  for (const stage of stages) {
    for (const instance of stage.fleet?.instances ?? []) {
      if (named(instance)) matches.push({ stage, instance });
    }
  }
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) {
    const where = matches.map((m) => `${m.stage.name}: ${m.instance.region}/${m.instance.instanceId}`).join(', ');
    throw new CliError(`${ref} is more than one instance of campaign ${status.campaignId} (${where}); name it as REGION/INSTANCE, or pass --stage NAME`, 2);
  }
  const has = stages
    .map((st) => (st.fleet ? `${st.name} has ${instanceCount(st.fleet)} instance(s)` : `${st.name} has not selected its instances yet (the campaign's preflight does)`))
    .join('; ');
  throw new CliError(`no fleet stage of campaign ${status.campaignId} has the instance ${ref}: ${has}. \`campaign status ${status.campaignId} --all\` lists them`, 4);
}

/** Why an instance has no workflow of its own to show, or undefined when it should have one. */
export function noWorkflowYet(found: FoundInstance): string | undefined {
  const { stage, instance } = found;
  const name = `${instance.region}/${instance.instanceId}`;
  if (instance.state === 'skipped' && !instance.wave) return `${name} was skipped before any wave (${instance.note ?? 'already at the target'}): it has no workflow of its own`;
  if (instance.state !== 'pending') return undefined;
  const f = stage.fleet!;
  if (!instance.wave) {
    return `${name} is pending in stage ${stage.name}: its wave is decided when the stage starts${stage.status === 'pending' ? '' : ' (a stage that requires approval: when it asks for the approval)'}; it has no workflow yet`;
  }
  const at = f.currentWave ? `the stage is at wave ${f.currentWave}/${f.waves || f.windowGroups?.length || '?'}` : `stage ${stage.name} is ${stage.status}`;
  return `${name} is pending in wave ${instance.wave} of stage ${stage.name} (${at}): its workflow starts with its wave`;
}

/** The status of the instance's own workflow; a clear CliError (4) when it has none. */
export async function queryFleetInstance(client: Client, found: FoundInstance): Promise<CampaignStatus> {
  const pending = noWorkflowYet(found);
  if (pending) throw new CliError(pending, 4);
  const { instance } = found;
  try {
    return await client.workflow.getHandle(instance.workflowId).query(campaignStatusQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      const name = `${instance.region}/${instance.instanceId}`;
      const why = instance.state === 'skipped' ? `it was skipped before any wave (${instance.note ?? 'already at the target'})` : `the campaign counts it as ${instance.state}${instance.note ? ` (${instance.note})` : ''}`;
      throw new CliError(`${name} has no workflow ${instance.workflowId}: ${why}`, 4);
    }
    throw err;
  }
}
