/**
 * How a restore ends. Completed: with the restored instance's endpoint (and, after a cutover, the follow-
 * ups). A failure before the CNAME change: rolled back on its own (old instance started, TTL restored) and
 * completed as 'rolled-back', an outcome the runbook plans for. A failure once the CNAME may point at the
 * restored instance: the team decides (keep it, or roll back and strand the writes made since the switch).
 * Only a rollback that failed itself fails the workflow, with the steps to do by hand.
 */
import { ActivityFailure, ApplicationFailure, CancellationScope, isCancellation } from '@temporalio/workflow';
import type { DecideRequest, RestoreStatus } from '../../api';
import { CUTOVER_ROUNDS } from '../shared/aws-calls';
import { iso, nowIso, nowMs } from '../shared/clock';
import { askDecision } from '../shared/people';
import { describeError } from '../shared/failures';
import { manualOf } from '../shared/saga';
import { afterCutover, afterExtract, restoreOnly, restoredInstanceKept, strandedWrites } from './follow-ups';
import { sameHost, type RestoreRun } from './run';

export async function completeRestoreOnly(r: RestoreRun): Promise<RestoreStatus> {
  const { spec, status } = r;
  status.endedAt = nowIso();
  if (spec.extract) {
    status.followUps.push(...afterExtract(r));
    r.setState('completed');
    r.step('extract-completed', extractOutcome(r));
    await r.notify('completed', `extract done: ${extractOutcome(r)}. Follow-ups: ${status.followUps.length}`, { targetInstanceId: spec.targetInstanceId });
    return status;
  }
  status.followUps.push(...restoreOnly(r));
  r.setState('completed');
  r.step('restore-completed', `${spec.targetInstanceId} is available at ${status.target.endpoint}`);
  return status;
}

function extractOutcome(r: RestoreRun): string {
  const x = r.status.extract;
  const parts = [];
  if (x?.dump) parts.push(`dump ${x.dump.path} (${x.dump.sizeBytes} bytes)`);
  if (x?.repair?.written) parts.push(`rows written into ${r.spec.source.instanceId}: ${x.repair.written.map((t) => `${t.table} ${t.inserted + t.updated}`).join(', ')}`);
  else if (x?.repair) parts.push(`nothing to write into ${r.spec.source.instanceId}`);
  return parts.join('; ') || 'nothing extracted';
}

export async function completeCutover(r: RestoreRun, keptBy?: DecideRequest, failure?: string): Promise<RestoreStatus> {
  const { spec, status } = r;
  const c = spec.cutover!;
  status.endedAt = nowIso();
  if (keptBy) {
    status.followUps.push(
      `The cutover's verification failed (${failure}); ${keptBy.by} decided to keep ${c.recordName} on ${spec.targetInstanceId}${keptBy.comment ? ` (${keptBy.comment})` : ''}. Check by hand that the applications resolve ${c.recordName} to ${status.target.endpoint} and that their connections and error rates are healthy.`,
    );
  }
  status.followUps.push(...afterCutover(r));
  r.setState('completed');
  r.step('cutover-completed', `${c.recordName} → ${status.target.endpoint}${keptBy ? ` (kept by ${keptBy.by} after: ${failure})` : ''}`);
  await r.notify('completed', `cutover done: ${c.recordName} now points at ${status.target.endpoint}; ${spec.source.instanceId} is stopped. Follow-ups: ${status.followUps.length}`, {
    recordName: c.recordName,
    endpoint: status.target.endpoint,
  });
  return status;
}

export async function finishAfterError(r: RestoreRun, err: unknown): Promise<RestoreStatus> {
  const { status, spec } = r;
  // An abort update, or a cancellation of the whole workflow, both stop it the same way.
  const { people } = r.run;
  let aborted = isCancellation(err);
  let reason = people.abortRequest ? `aborted by ${people.abortRequest.by}: ${people.abortRequest.reason}` : aborted ? 'the workflow was cancelled' : describeError(err);
  if (r.safeCutover && !aborted && (await trafficMayHaveMoved(r))) {
    const decision = await askKeepOrRollBack(r, reason);
    if (decision?.decision === 'keep') {
      r.saga.clear();
      return completeCutover(r, decision, reason);
    }
    if (!decision && people.abortRequest) {
      aborted = true;
      reason = `aborted by ${people.abortRequest.by} (${people.abortRequest.reason}) after: ${reason}`;
    }
  }
  const rollingBack = r.cutoverStarted;
  if (rollingBack) {
    r.setState('rolling-back', { kind: 'aws', description: `rolling back the cutover: ${reason}` });
    r.step('rollback-started', reason);
  }
  const { steps, manual } = await rollBack(r, reason);
  if (rollingBack || steps.length > 0) status.rollback = { reason, steps };
  if (status.rollback && r.switchSentMs !== undefined) {
    status.rollback.stranded = { instanceId: spec.targetInstanceId, from: iso(r.switchSentMs), to: iso(r.switchRevertedMs ?? nowMs()) };
    status.followUps.push(strandedWrites(r, status.rollback.stranded));
  }
  if (r.restoreRequested) status.followUps.push(restoredInstanceKept(r));
  status.endedAt = nowIso();

  if (manual.length > 0) {
    status.failure = `${reason}; then the rollback failed: ${manual.length} step(s) must be done by hand`;
    status.followUps.unshift(...manual.map((m) => `Rollback failed, do this by hand: ${m}`));
    r.setState('failed');
    r.step('rollback-failed', status.failure);
    await r.notify('failed', `${status.failure}. ${manual.join(' ')}`, { reason });
    throw ApplicationFailure.nonRetryable(`restore ${status.restoreId}: ${status.failure}:\n- ${manual.join('\n- ')}`, 'RollbackFailed');
  }

  const stranded = status.rollback?.stranded ? ` ${r.strandedWarning()} (until ${status.rollback.stranded.to}).` : '';
  if (aborted) {
    r.setState('aborted');
    r.step('restore-aborted', reason);
    await r.notify('aborted', `restore aborted (${reason}); ${spec.targetInstanceId} is kept${rollingBack ? '; the cutover was rolled back' : ''}.${stranded}`);
    return status;
  }
  if (rollingBack) {
    // A stop RDS refused left the old instance as it was (perhaps in a status it does not leave by itself): not "serving again".
    const old = r.oldStopRefused === undefined ? `${spec.source.instanceId} serves again` : `${spec.source.instanceId} was never stopped (RDS refused to stop it)`;
    status.followUps.push(`${old} and ${spec.cutover!.recordName} points at it. Fix the cause (${reason}) and start the restore again with the same restoreId: it reuses ${spec.targetInstanceId} instead of restoring again.`);
    r.setState('rolled-back');
    r.step('rolled-back', `${reason}${stranded}`);
    const serving = r.oldStopRefused === undefined ? 'which is running' : 'which was never stopped';
    await r.notify('failed', `cutover failed and was rolled back: ${reason}. ${spec.cutover!.recordName} points at ${spec.source.instanceId} again, ${serving}.${stranded}`, { reason, steps });
    return status;
  }
  status.failure = reason;
  r.setState('failed');
  r.step('restore-failed', reason);
  await r.notify('failed', `restore failed: ${reason}`);
  if (err instanceof ApplicationFailure && err.nonRetryable) throw err;
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  const type = cause instanceof ApplicationFailure && cause.type ? cause.type : 'RestoreFailed';
  throw ApplicationFailure.nonRetryable(`restore ${status.restoreId} failed: ${reason}`, type);
}

/** Runs every registered compensation (CNAME back, old instance started, TTL restored), newest first. */
async function rollBack(r: RestoreRun, reason: string): Promise<{ steps: string[]; manual: string[] }> {
  const steps: string[] = [];
  const manual: string[] = [];
  await r.saga.compensate({
    done: (c) => {
      steps.push(c.description);
      r.step('compensated', c.description);
    },
    failed: (c, err) => {
      steps.push(`FAILED: ${c.description}: ${describeError(err)}`);
      manual.push(manualOf(c) ?? c.description);
      r.step('compensation-failed', `${c.description}: ${describeError(err)} (${reason})`);
    },
  });
  return { steps, manual };
}

/**
 * Whether the applications may have reached the restored instance: the CNAME change was sent and the
 * record does not (provably) still point at the old endpoint.
 */
async function trafficMayHaveMoved(r: RestoreRun): Promise<boolean> {
  if (r.switchSentMs === undefined) return false;
  const c = r.spec.cutover!;
  try {
    const record = await CancellationScope.nonCancellable(() =>
      r.aws('check-record-after-failure', () => r.a.getWeightedCname({ hostedZoneId: c.hostedZoneId, recordName: c.recordName, setIdentifier: c.setIdentifier, access: r.zoneAccess() }), { maxRounds: CUTOVER_ROUNDS }),
    );
    if (record && sameHost(record.value, r.status.source.endpoint)) {
      r.step('switch-not-applied', `${c.recordName} still points at ${record.value}: no traffic reached ${r.spec.targetInstanceId}`);
      r.switchSentMs = undefined;
      return false;
    }
  } catch (err) {
    r.step('record-unreadable', `could not read ${c.recordName} after the failure (${describeError(err)}); assuming traffic may have moved`);
  }
  return true;
}

/** After the switch a rollback strands writes: the team decides. Abort counts as "roll back". */
async function askKeepOrRollBack(r: RestoreRun, reason: string): Promise<DecideRequest | undefined> {
  const { spec } = r;
  const c = spec.cutover!;
  const since = iso(r.switchSentMs!);
  const question =
    `the cutover failed after ${c.recordName} was switched to ${spec.targetInstanceId} (${reason}). The applications may have written to ${spec.targetInstanceId} since ${since}. ` +
    `Keep it (the restored instance serves; fix the cause by hand) or roll back (CNAME back to ${spec.source.instanceId}, which is started again; those writes stay stranded on ${spec.targetInstanceId})?`;
  const { people } = r.run;
  const decision = await askDecision(r.run, {
    stage: 'cutover',
    question,
    options: ['keep', 'roll-back'],
    event: 'decision-needed',
    details: { reason, switchedAt: since },
    step: (s, detail) => r.step(s, detail),
    orWhen: () => people.abortRequest !== undefined,
    answered: (d) =>
      d.decision === 'keep'
        ? `decision "keep" by ${d.by} recorded: ${c.recordName} stays on ${spec.targetInstanceId}`
        : `decision "roll-back" by ${d.by} recorded: rolling back. ${r.strandedWarning()}`,
  });
  r.step('decided', decision ? `${decision.by}: ${decision.decision}${decision.comment ? ` (${decision.comment})` : ''}` : `aborted by ${people.abortRequest!.by}: roll back`);
  return decision;
}
