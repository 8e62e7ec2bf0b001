/**
 * Point-in-time restore, then (optionally) the DNS cutover to the restored database (runbook: "Restoring a
 * database" and "Get our applications to start using a restored database").
 *
 *   checkSourceTargetAndRecord (preflight.ts) → createRestoreSecurityGroup → restoreToPointInTime →
 *   allowBastion (restore.ts) → with `extract` (the common case, extract.ts): dump the restored instance,
 *   compare the named tables with the original, approval, write the lost rows back → done; or with `cutover`: lowerTtlFirst → obtainApproval → cutOver: stop
 *   the old instance, switch the CNAME, wait for INSYNC and the TTL, verify (cutover.ts, verify.ts) →
 *   finish.ts: completed, rolled back on its own before the switch, or the team's decision after it.
 *
 * The restored instance and its security group are never deleted (the runbook's policy forbids deleting
 * RDS instances; a human decides).
 */
import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import { RESOLVED_RESTORE_SPEC, restoreStatusQuery, type ResolvedRestoreSpec, type RestoreInput, type RestoreStatus } from '../../api';
import { SpecError, validateRestoreSpec } from '../../input';
import { nowIso } from '../shared/clock';
import { registerOperatorActions } from '../shared/operator-actions';
import { cutOver, lowerTtlFirst, obtainApproval } from './cutover';
import { checkOriginalDatabase, extractFromRestored } from './extract';
import { completeCutover, completeRestoreOnly, finishAfterError } from './finish';
import { checkSourceTargetAndRecord } from './preflight';
import { allowBastion, createRestoreSecurityGroup, restoreToPointInTime } from './restore';
import { RestoreRun, newRestoreStatus } from './run';

export { LEAST_ACCESS_AND_SAFE_CUTOVER_PATCH, NOTIFY_BEFORE_STOP_PATCH, RESTORE_OWNER_TAG_KEY } from './run';
export { restoreSecurityGroupName } from './follow-ups';

export async function restoreAndCutover(input: RestoreInput): Promise<RestoreStatus> {
  const status = newRestoreStatus(input as Partial<ResolvedRestoreSpec> | undefined);
  setHandler(restoreStatusQuery, () => status);
  const spec = resolvedInput(input, status);
  status.restoreId = spec.restoreId;
  status.requester = spec.requester;
  status.source = { region: spec.source.region, instanceId: spec.source.instanceId };
  status.target = { instanceId: spec.targetInstanceId, restoreTime: spec.restoreTime };

  const r = new RestoreRun(spec, status);
  registerOperatorActions(r.run, {
    answer: (by) => abortAnswer(r, by),
    refusal: () => (status.state === 'rolling-back' ? 'the cutover is already being rolled back' : undefined),
  });

  r.setState('validating');
  r.step('restore-requested', `${spec.source.instanceId} → ${spec.targetInstanceId} at ${spec.restoreTime}, requested by ${spec.requester}${spec.cutover ? `, then cutover of ${spec.cutover.recordName}` : ''}`);
  try {
    await r.run.mainScope.run(async () => {
      await r.run.identity.start(spec);
      if (r.run.identity.verified) r.step('requester-verified', `${spec.requester}, key ${r.run.identity.requesterFingerprint}`);
      const alreadyRestored = await checkSourceTargetAndRecord(r);
      if (spec.extract) await checkOriginalDatabase(r);
      const securityGroupId = r.safeCutover ? await createRestoreSecurityGroup(r) : undefined;
      await restoreToPointInTime(r, alreadyRestored, securityGroupId);
      await allowBastion(r);
      if (spec.extract) await extractFromRestored(r);
      if (!spec.cutover) return;
      r.phase = 'cutover';
      await lowerTtlFirst(r);
      await obtainApproval(r);
      await cutOver(r);
    });
  } catch (err) {
    return finishAfterError(r, err);
  }
  return spec.cutover ? completeCutover(r) : completeRestoreOnly(r);
}

/** The client resolves specs; runs started before send a raw one, resolved here as those runs always did. */
function resolvedInput(input: RestoreInput, status: RestoreStatus): ResolvedRestoreSpec {
  if ((input as ResolvedRestoreSpec | undefined)?.format === RESOLVED_RESTORE_SPEC) return input as ResolvedRestoreSpec;
  try {
    return validateRestoreSpec(input);
  } catch (err) {
    const message = err instanceof SpecError ? err.message : String(err);
    status.state = 'failed';
    status.failure = message;
    status.endedAt = nowIso();
    throw ApplicationFailure.nonRetryable(`Invalid restore spec:\n${message}`, 'InvalidSpec');
  }
}

/** What the person who aborts is told: what is rolled back, and what a rollback after the switch strands. */
function abortAnswer(r: RestoreRun, by: string): string {
  if (r.switchSentMs !== undefined) {
    return `abort requested by ${by}; rolling back the cutover (CNAME back, old instance started). ${r.strandedWarning()}; the restored instance is kept`;
  }
  return r.cutoverStarted
    ? `abort requested by ${by}; rolling back the cutover (CNAME back, old instance started); the restored instance is kept`
    : `abort requested by ${by}; nothing is changed beyond the restore (the restored instance is kept)`;
}
