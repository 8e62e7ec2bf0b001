/**
 * The runbook's lever for a maintenance-window upgrade: AutoMinorVersionUpgrade on before the window, off
 * after ("leave the flag as it was"). Turning it on registers turning it off as the compensation first.
 * Each step acts on one instance: the stage's own, or one of its read replicas (which go first).
 */
import { CancellationScope } from '@temporalio/workflow';
import type { AwsWhere, ReplicaReport, ResolvedStage, StageReport } from '../../api';
import { locationFor } from '../../domain/aws-identity';
import type { CampaignRun } from './run';

/** The instance a window step acts on, and where its own report lives (the stage's, or its replica's). */
export interface WindowSubject {
  region: string;
  instanceId: string;
  where: AwsWhere;
  /** `ddd:hh24:mi-ddd:hh24:mi`, UTC */
  windowText: string;
  track: StageReport | ReplicaReport;
  /** One of the stage instance's read replicas. */
  replica: boolean;
}

export function stageSubject(c: CampaignRun, s: ResolvedStage, report: StageReport): WindowSubject {
  return { region: s.region, instanceId: s.instanceId, where: c.where(s), windowText: c.instances.get(s.name)?.preferredMaintenanceWindow ?? '', track: report, replica: false };
}

export function replicaSubject(c: CampaignRun, s: ResolvedStage, r: ReplicaReport, windowText: string): WindowSubject {
  return { region: r.region, instanceId: r.instanceId, where: locationFor(r.region, s.aws, c.spec.campaignId, s.name), windowText, track: r, replica: true };
}

export function flagCompensationId(x: { region: string; instanceId: string }): string {
  return `flag:${x.region}/${x.instanceId}`;
}

async function setAutoMinorUpgrade(c: CampaignRun, s: ResolvedStage, report: StageReport, x: WindowSubject, on: boolean): Promise<void> {
  const step = on ? 'auto-minor-upgrade-on' : 'auto-minor-upgrade-off';
  // Not interruptible by abort: the compensation then knows exactly what was done.
  const r = await CancellationScope.nonCancellable(() => c.aws(s.name, step, () => c.a.setAutoMinorVersionUpgrade(x.where, x.instanceId, on)));
  if (!on) c.saga.drop(flagCompensationId(x));
  c.step(report, step, r.detail);
}

export function turnOnAutoMinorUpgrade(c: CampaignRun, s: ResolvedStage, report: StageReport, x: WindowSubject = stageSubject(c, s, report)): Promise<void> {
  const account = s.aws?.roleArn ? ` with credentials of ${s.aws.roleArn}` : s.aws?.profile ? ` --profile ${s.aws.profile}` : '';
  c.saga.drop(flagCompensationId(x));
  c.saga.add({
    id: flagCompensationId(x),
    description: `AutoMinorVersionUpgrade off for ${x.region}/${x.instanceId}`,
    manual: `\`aws rds modify-db-instance --region ${x.region} --db-instance-identifier ${x.instanceId} --no-auto-minor-version-upgrade --apply-immediately\`${account}`,
    run: async () => (await c.aws(s.name, 'auto-minor-upgrade-off', () => c.a.setAutoMinorVersionUpgrade(x.where, x.instanceId, false))).changed,
  });
  return setAutoMinorUpgrade(c, s, report, x, true);
}

export function turnOffAutoMinorUpgrade(c: CampaignRun, s: ResolvedStage, report: StageReport, x: WindowSubject = stageSubject(c, s, report)): Promise<void> {
  return setAutoMinorUpgrade(c, s, report, x, false);
}

/** Whether the campaign turned this instance's flag on (and would turn it off on abort). */
export function flagIsOurs(c: CampaignRun, x: WindowSubject): boolean {
  return c.saga.has(flagCompensationId(x));
}
