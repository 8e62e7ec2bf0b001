/**
 * Before the first change: every instance exists and runs PostgreSQL, the target is a valid minor upgrade
 * the stage's method can bring, the window parses. Every problem of every stage is reported together (a
 * read that keeps failing is one of them) and fails the campaign with nothing changed in AWS.
 */
import { ApplicationFailure, isCancellation } from '@temporalio/workflow';
import type { InstanceInfo, UpgradeTarget } from '../../api';
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
      info = await c.aws(s.name, 'preflight', () => c.a.describeInstance(s.region, s.instanceId), bounded);
      c.instances.set(s.name, info);
      report.fromVersion = info.engineVersion;
      targets = needsUpgradeTargets(info, c.spec.targetEngineVersion)
        ? await c.aws(s.name, 'preflight', () => c.a.listUpgradeTargets(s.region, info.engine, info.engineVersion), bounded)
        : [];
    } catch (err) {
      if (isCancellation(err)) throw err;
      problems.push(`${s.name}: ${describeError(err)}`);
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
