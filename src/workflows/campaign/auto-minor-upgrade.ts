/**
 * The runbook's lever for a maintenance-window upgrade: AutoMinorVersionUpgrade on before the window, off
 * after ("leave the flag as it was"). Turning it on registers turning it off as the compensation first.
 * Each step acts on one instance: the stage's own, or one of its read replicas (which go first).
 */
import { CancellationScope } from '@temporalio/workflow';
import type { AwsWhere, ReplicaReport, StageReport } from '../../api';
import { locationFor } from '../../domain/aws-identity';
import type { StageRun } from './stage-run';

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

export function stageSubject(st: StageRun): WindowSubject {
  const { stage: s, report } = st;
  return { region: s.region, instanceId: s.instanceId, where: st.where, windowText: st.info?.preferredMaintenanceWindow ?? '', track: report, replica: false };
}

export function replicaSubject(st: StageRun, r: ReplicaReport, windowText: string): WindowSubject {
  const { stage: s } = st;
  return { region: r.region, instanceId: r.instanceId, where: locationFor(r.region, s.aws, st.settings.campaignId, s.name), windowText, track: r, replica: true };
}

export function flagCompensationId(x: { region: string; instanceId: string }): string {
  return `flag:${x.region}/${x.instanceId}`;
}

async function setAutoMinorUpgrade(st: StageRun, x: WindowSubject, on: boolean): Promise<void> {
  const step = on ? 'auto-minor-upgrade-on' : 'auto-minor-upgrade-off';
  // Not interruptible by abort: the compensation then knows exactly what was done.
  const r = await CancellationScope.nonCancellable(() => st.aws(step, () => st.a.setAutoMinorVersionUpgrade({ where: x.where, instanceId: x.instanceId, enabled: on })));
  if (!on) st.saga.drop(flagCompensationId(x));
  st.step(step, r.detail);
}

export function turnOnAutoMinorUpgrade(st: StageRun, x: WindowSubject = stageSubject(st)): Promise<void> {
  const { stage: s } = st;
  const account = s.aws?.roleArn ? ` with credentials of ${s.aws.roleArn}` : s.aws?.profile ? ` --profile ${s.aws.profile}` : '';
  st.saga.drop(flagCompensationId(x));
  st.saga.add({
    id: flagCompensationId(x),
    description: `AutoMinorVersionUpgrade off for ${x.region}/${x.instanceId}`,
    manual: `\`aws rds modify-db-instance --region ${x.region} --db-instance-identifier ${x.instanceId} --no-auto-minor-version-upgrade\`${account}`,
    run: async () => (await st.aws('auto-minor-upgrade-off', () => st.a.setAutoMinorVersionUpgrade({ where: x.where, instanceId: x.instanceId, enabled: false }))).changed,
  });
  return setAutoMinorUpgrade(st, x, true);
}

export function turnOffAutoMinorUpgrade(st: StageRun, x: WindowSubject = stageSubject(st)): Promise<void> {
  return setAutoMinorUpgrade(st, x, false);
}

/** Whether the campaign turned this instance's flag on (and would turn it off on abort). */
export function flagIsOurs(st: StageRun, x: WindowSubject): boolean {
  return st.saga.has(flagCompensationId(x));
}
