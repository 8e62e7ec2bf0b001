/**
 * Before the first change: every instance exists and runs PostgreSQL, the target is a valid minor upgrade
 * the stage's method can bring, the window parses. Every problem of every stage is reported together (a
 * read that keeps failing is one of them) and fails the campaign with nothing changed in AWS.
 */
import { ApplicationFailure, isCancellation } from '@temporalio/workflow';
import type { InstanceInfo, ResolvedStage, StageReport, UpgradeTarget } from '../../api';
import { assessStage, needsUpgradeTargets } from '../../domain/preflight';
import { PREFLIGHT_ROUNDS } from '../shared/aws-calls';
import { describeError } from '../shared/failures';
import type { CampaignRun } from './run';

export async function checkEveryInstance(c: CampaignRun): Promise<void> {
  c.step(undefined, 'preflight', 'checking every instance, version and window');
  const problems: string[] = [];
  const bounded = { maxRounds: PREFLIGHT_ROUNDS };
  for (let i = 0; i < c.spec.stages.length; i++) {
    const s = c.spec.stages[i];
    const report = c.status.stages[i];
    let info: InstanceInfo;
    let targets: UpgradeTarget[];
    try {
      if (s.aws) await checkAccount(c, s, report);
      info = await c.aws(s.name, 'preflight', () => c.a.describeInstance(c.where(s), s.instanceId), bounded);
      c.instances.set(s.name, info);
      report.fromVersion = info.engineVersion;
      targets = needsUpgradeTargets(info, c.spec.targetEngineVersion)
        ? await c.aws(s.name, 'preflight', () => c.a.listUpgradeTargets(c.where(s), info.engine, info.engineVersion), bounded)
        : [];
    } catch (err) {
      if (isCancellation(err)) throw err;
      const message = describeError(err);
      problems.push(message.startsWith(`${s.name}: `) ? message : `${s.name}: ${message}`);
      continue;
    }
    const readiness = assessStage(s, info, c.spec.targetEngineVersion, targets);
    if (readiness.kind === 'problem') {
      problems.push(...readiness.problems);
    } else if (readiness.kind === 'skip') {
      report.status = 'skipped';
      report.note = readiness.note;
      c.step(report, 'stage-skipped', `${s.instanceId}: ${readiness.note}`);
    }
  }
  if (problems.length > 0) {
    throw ApplicationFailure.nonRetryable(`Preflight failed, nothing in AWS was changed:\n- ${problems.join('\n- ')}`, 'PreflightFailed');
  }
  c.step(undefined, 'preflight-passed');
}

/**
 * The stage's role can be assumed and is in the account its ARN names (STS GetCallerIdentity with it). Runs
 * only for stages with `aws`, which no run started before accounts existed has, so their replay is unchanged.
 */
async function checkAccount(c: CampaignRun, s: ResolvedStage, report: StageReport): Promise<void> {
  const id = await c.aws(s.name, 'preflight', () => c.a.whoAmI(c.where(s)), { maxRounds: PREFLIGHT_ROUNDS });
  report.account = id.account;
  report.role = s.aws!.roleArn ?? `profile ${s.aws!.profile}`;
  c.step(report, 'account-checked', `${s.instanceId} is reached in account ${id.account} as ${id.arn}`);
}
