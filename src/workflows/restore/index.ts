/**
 * Point-in-time restore, then (optionally) the DNS cutover to the restored database (runbook: "Restoring a
 * database" and "Get our applications to start using a restored database").
 *
 *   checkSourceTargetAndRecord (preflight.ts) → createRestoreSecurityGroup → restoreToPointInTime →
 *   allowBastion (restore.ts) → done, or with `cutover`: lowerTtlFirst → obtainApproval → cutOver: stop
 *   the old instance, switch the CNAME, wait for INSYNC and the TTL, verify (cutover.ts, verify.ts) →
 *   finish.ts: completed, rolled back on its own before the switch, or the team's decision after it.
 *
 * The restored instance and its security group are never deleted (the runbook's policy forbids deleting
 * RDS instances; a human decides).
 */
import { ApplicationFailure, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  RESOLVED_RESTORE_SPEC,
  abortUpdate,
  approveUpdate,
  decideUpdate,
  restoreStatusQuery,
  type ResolvedRestoreSpec,
  type RestoreInput,
  type RestoreStatus,
} from '../../api';
import { SpecError, validateRestoreSpec } from '../../input';
import { nowIso } from '../shared/clock';
import { SSH_SIGNATURE_NAMESPACE } from '../../domain/identity/ssh-signature';
import { cutOver, lowerTtlFirst, obtainApproval } from './cutover';
import { completeCutover, completeRestoreOnly, finishAfterError } from './finish';
import { abort, approve, decide } from './handlers';
import { checkSourceTargetAndRecord } from './preflight';
import { allowBastion, createRestoreSecurityGroup, restoreToPointInTime } from './restore';
import { RestoreRun } from './run';

export { LEAST_ACCESS_AND_SAFE_CUTOVER_PATCH, NOTIFY_BEFORE_STOP_PATCH, RESTORE_OWNER_TAG_KEY } from './run';
export { restoreSecurityGroupName } from './follow-ups';

export async function restoreAndCutover(input: RestoreInput): Promise<RestoreStatus> {
  const raw = input as Partial<ResolvedRestoreSpec> | undefined;
  const status: RestoreStatus = {
    restoreId: raw?.restoreId ?? workflowInfo().workflowId,
    requester: raw?.requester ?? '',
    state: 'validating',
    source: { region: raw?.source?.region ?? '', instanceId: raw?.source?.instanceId ?? '' },
    target: { instanceId: raw?.targetInstanceId ?? '', restoreTime: raw?.restoreTime ?? '' },
    approvals: [],
    followUps: [],
    timeline: [],
    humanActions: [],
    changes: [],
    identity: { mode: 'unverified', runId: workflowInfo().firstExecutionRunId, namespace: SSH_SIGNATURE_NAMESPACE },
    startedAt: nowIso(),
  };
  setHandler(restoreStatusQuery, () => status);
  const spec = resolvedInput(input, status);
  status.restoreId = spec.restoreId;
  status.requester = spec.requester;
  status.source = { region: spec.source.region, instanceId: spec.source.instanceId };
  status.target = { instanceId: spec.targetInstanceId, restoreTime: spec.restoreTime };

  const r = new RestoreRun(spec, status);
  setHandler(approveUpdate, (req) => approve.handler(r, req), { validator: (req) => approve.validator(r, req) });
  setHandler(decideUpdate, (req) => decide.handler(r, req), { validator: (req) => decide.validator(r, req) });
  setHandler(abortUpdate, (req) => abort.handler(r, req), { validator: (req) => abort.validator(r, req) });

  r.setState('validating');
  r.step('restore-requested', `${spec.source.instanceId} → ${spec.targetInstanceId} at ${spec.restoreTime}, requested by ${spec.requester}${spec.cutover ? `, then cutover of ${spec.cutover.recordName}` : ''}`);
  try {
    await r.mainScope.run(async () => {
      await r.identity.start(spec);
      if (r.identity.verified) r.step('requester-verified', `${spec.requester}, key ${r.identity.requesterFingerprint}`);
      const alreadyRestored = await checkSourceTargetAndRecord(r);
      const securityGroupId = r.safeCutover ? await createRestoreSecurityGroup(r) : undefined;
      await restoreToPointInTime(r, alreadyRestored, securityGroupId);
      await allowBastion(r);
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
