/**
 * The runbook's lever for a maintenance-window upgrade: AutoMinorVersionUpgrade on before the window, off
 * after ("leave the flag as it was"). Turning it on registers turning it off as the compensation first.
 */
import { CancellationScope } from '@temporalio/workflow';
import type { ResolvedStage, StageReport } from '../../api';
import type { CampaignRun } from './run';

function flagCompensationId(s: ResolvedStage): string {
  return `flag:${s.region}/${s.instanceId}`;
}

async function setAutoMinorUpgrade(c: CampaignRun, s: ResolvedStage, report: StageReport, on: boolean): Promise<void> {
  const step = on ? 'auto-minor-upgrade-on' : 'auto-minor-upgrade-off';
  // Not interruptible by abort: the compensation then knows exactly what was done.
  const r = await CancellationScope.nonCancellable(() => c.aws(s.name, step, () => c.a.setAutoMinorVersionUpgrade(c.where(s), s.instanceId, on)));
  if (!on) c.saga.drop(flagCompensationId(s));
  c.step(report, step, r.detail);
}

export function turnOnAutoMinorUpgrade(c: CampaignRun, s: ResolvedStage, report: StageReport): Promise<void> {
  const account = s.aws?.roleArn ? ` with credentials of ${s.aws.roleArn}` : s.aws?.profile ? ` --profile ${s.aws.profile}` : '';
  c.saga.add({
    id: flagCompensationId(s),
    description: `AutoMinorVersionUpgrade off for ${s.region}/${s.instanceId}`,
    manual: `\`aws rds modify-db-instance --region ${s.region} --db-instance-identifier ${s.instanceId} --no-auto-minor-version-upgrade --apply-immediately\`${account}`,
    run: async () => (await c.aws(s.name, 'auto-minor-upgrade-off', () => c.a.setAutoMinorVersionUpgrade(c.where(s), s.instanceId, false))).changed,
  });
  return setAutoMinorUpgrade(c, s, report, true);
}

export function turnOffAutoMinorUpgrade(c: CampaignRun, s: ResolvedStage, report: StageReport): Promise<void> {
  return setAutoMinorUpgrade(c, s, report, false);
}
