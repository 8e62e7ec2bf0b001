/**
 * The cutover (runbook: "Get our applications to start using a restored database"): lower the record's TTL
 * first if asked, get the approval, then stop the old instance (so no connection lingers), switch the CNAME,
 * wait for INSYNC and for cached answers to expire, and verify. Each mutation registers its compensation
 * first (rollback.ts decides when they run).
 */
import { ActivityFailure, ApplicationFailure, patched, sleep } from '@temporalio/workflow';
import { takesPatch } from '../shared/patches';
import { FailureTypes, type WeightedCname } from '../../api';
import { whoMayApprove } from '../../domain/approvals';
import { formatDuration } from '../../domain/duration';
import { CUTOVER_ROUNDS } from '../shared/aws-calls';
import { iso, nowMs } from '../shared/clock';
import { askApproval } from '../shared/people';
import { upsertByHand } from './follow-ups';
import { checkRecord } from './preflight';
import { MIN_APPROVALS, NOTIFY_BEFORE_STOP_PATCH, OLD_STOP_REFUSED_PATCH, sameHost, type RestoreRun } from './run';
import { verifyCutover, verifyWithTestDnsAnswer } from './verify';
import { AVAILABLE } from '../../domain/instance-status';

/** The record must still be what the restore checked; optionally lower its TTL before asking for approval. */
export async function lowerTtlFirst(r: RestoreRun): Promise<void> {
  const c = r.spec.cutover!;
  r.setState('restoring');
  const current = await r.aws('check-record', () => r.a.getWeightedCname({ hostedZoneId: c.hostedZoneId, recordName: c.recordName, setIdentifier: c.setIdentifier, access: r.zoneAccess() }));
  const record = checkRecord(r, current, r.status.target.endpoint);
  if (!r.status.source.endpoint || !r.status.target.endpoint) {
    throw ApplicationFailure.nonRetryable(
      `RDS reports no endpoint for ${r.status.source.endpoint ? r.spec.targetInstanceId : r.spec.source.instanceId}; the cutover needs both endpoints. Check the instance in the RDS console.`,
      'InvalidState',
    );
  }
  r.record = record;
  r.originalTtlSeconds = record.ttlSeconds;
  r.step('record-checked', `${c.recordName} (${c.setIdentifier}) → ${record.value}, weight ${record.weight}, TTL ${record.ttlSeconds}s`);
  if (c.lowerTtlFirstTo === undefined) return;
  if (record.ttlSeconds <= c.lowerTtlFirstTo) {
    r.step('ttl-already-low', `TTL is ${record.ttlSeconds}s, not above ${c.lowerTtlFirstTo}s`);
    return;
  }
  const original = { ...record };
  r.saga.add({
    id: 'ttl',
    description: `TTL of ${c.recordName} back to ${original.ttlSeconds}s (value ${original.value})`,
    manual: upsertByHand(original),
    run: () => putRecordBack(r, original),
  });
  const lowered = { ...record, ttlSeconds: c.lowerTtlFirstTo };
  const up = await r.aws('lower-ttl', () => r.a.upsertWeightedCname({ record: lowered, access: r.zoneAccess() }));
  r.step('ttl-lowered', `${record.ttlSeconds}s → ${c.lowerTtlFirstTo}s, for every weighted record of ${c.recordName} (Route 53 gives them one TTL): ${up.detail}`);
  if (up.changeId) await r.waitInsync(up.changeId);
  r.record = lowered;
  r.ttlLoweredInsyncMs = nowMs();
  r.step('ttl-lowered-insync', `resolvers drop the ${original.ttlSeconds}s answers by ${iso(r.ttlLoweredInsyncMs + original.ttlSeconds * 1000)}`);
}

/** Four eyes: one approval of the named plan (old → new endpoint), by someone other than the requester. */
export async function obtainApproval(r: RestoreRun): Promise<void> {
  const { spec, status } = r;
  const c = spec.cutover!;
  const plan = `cutover|${c.recordName}|${status.source.endpoint}->${status.target.endpoint}`;
  const policy = { requester: spec.requester, approvers: c.approvers, minApprovals: MIN_APPROVALS };
  const text =
    `approve the cutover: stop ${spec.source.instanceId}, then point ${c.recordName} at ${status.target.endpoint} (restored ${spec.targetInstanceId}); ` +
    `the applications are down from the stop until their DNS cache expires (approval by ${whoMayApprove(policy)})`;
  if (!(await askApproval(r.run, { stage: 'cutover', plan, text, policy, what: plan, step: (s, detail) => r.step(s, detail) }))) return;
  r.step('approved', plan);
}

export async function cutOver(r: RestoreRun): Promise<void> {
  const { spec, status } = r;
  const c = spec.cutover!;
  if (r.safeCutover) await recheckRecordAfterApproval(r);
  const before = r.record!;
  const newEndpoint = status.target.endpoint!;
  const oldEndpoint = status.source.endpoint!;
  const originalRecord: WeightedCname = { ...before, value: oldEndpoint, ttlSeconds: r.originalTtlSeconds ?? before.ttlSeconds };
  r.cutoverStarted = true;
  r.setState('cutting-over', { kind: 'aws', description: `stopping ${spec.source.instanceId}, then switching ${c.recordName}` });
  if (takesPatch(NOTIFY_BEFORE_STOP_PATCH)) await announceOutage(r, before, newEndpoint, oldEndpoint);
  await stopOldInstance(r);
  const insyncMs = await switchCname(r, { ...before, value: newEndpoint }, originalRecord);
  await waitForCachedAnswersToExpire(r, before, insyncMs);
  r.setState('cutting-over');
  if (r.safeCutover) {
    const checks = await verifyCutover(r, newEndpoint, oldEndpoint, insyncMs);
    if (status.cutover) status.cutover.verified = checks;
    r.step('dns-verified', checks.join('; '));
  } else {
    await verifyWithTestDnsAnswer(r, newEndpoint, oldEndpoint);
  }
  // Done: nothing to undo any more.
  r.saga.clear();
}

/**
 * The approval may have waited days: if someone else repointed the record meanwhile, switching it (and a
 * rollback writing our old value back) would overwrite their change. Fail before anything changes, and
 * leave the record (and its TTL) to whoever owns it now.
 */
async function recheckRecordAfterApproval(r: RestoreRun): Promise<void> {
  const c = r.spec.cutover!;
  const now = await r.aws('check-record', () => r.a.getWeightedCname({ hostedZoneId: c.hostedZoneId, recordName: c.recordName, setIdentifier: c.setIdentifier, access: r.zoneAccess() }));
  const expected = r.record!;
  if (now && (sameHost(now.value, r.status.source.endpoint) || sameHost(now.value, r.status.target.endpoint))) {
    r.record = { ...now };
    return;
  }
  r.saga.drop('ttl');
  throw ApplicationFailure.nonRetryable(
    `${c.recordName} (set ${c.setIdentifier}) changed while the cutover waited for approval: it was ${expected.value} (TTL ${expected.ttlSeconds}s) and is now ${now ? `${now.value} (TTL ${now.ttlSeconds}s)` : 'gone'}. ` +
      `Nothing was stopped or switched, and the record is left as it is now (its TTL too); find out who changed it, then start the restore again with the same restoreId.`,
    'InvalidState',
  );
}

/** The on-call people hear "the applications are losing their database now" before it happens. */
async function announceOutage(r: RestoreRun, before: WeightedCname, newEndpoint: string, oldEndpoint: string): Promise<void> {
  const c = r.spec.cutover!;
  const ttl = before.ttlSeconds;
  const lowered = r.originalTtlSeconds !== undefined && r.originalTtlSeconds !== ttl ? `, lowered from ${r.originalTtlSeconds}s` : '';
  const text =
    `cutover starting now: stopping ${r.spec.source.instanceId}; the applications lose their database until ${c.recordName} points at ${newEndpoint} ` +
    `and cached answers expire (TTL ${ttl}s${lowered})`;
  r.step('cutover-announced', text);
  await r.notify('stage-started', text, { recordName: c.recordName, oldEndpoint, newEndpoint });
}

/** Changing DNS does not close existing connections: stop the old instance and wait until it is stopped. */
async function stopOldInstance(r: RestoreRun): Promise<void> {
  const id = r.spec.source.instanceId;
  r.saga.add({
    id: 'start-old',
    description: `start ${id} again and wait until it is available`,
    manual:
      `start ${id} again: \`aws rds start-db-instance --region ${r.region} --db-instance-identifier ${id}\` ` +
      `(once it is stopped), then wait until it is available: \`aws rds wait db-instance-available --region ${r.region} --db-instance-identifier ${id}\`.`,
    run: () => startOldInstance(r),
  });
  let stop;
  try {
    stop = await r.aws('stop-old-instance', () => r.a.stopInstance({ where: r.where(), instanceId: id }));
  } catch (err) {
    // Refused before StopDBInstance was sent: the instance runs as it did, and starting it is refused too.
    const refused = stopRefusal(err);
    if (refused && patched(OLD_STOP_REFUSED_PATCH)) {
      r.saga.drop('start-old');
      r.oldStopRefused = refused;
      r.step('old-instance-not-stopped', `RDS refused to stop ${id}: ${refused}`);
    }
    throw err;
  }
  r.step('old-instance-stopping', stop.detail);
  await r.waitInstance(id, 'stopped');
  r.oldStoppedMs = nowMs();
  r.step('old-instance-stopped', `${id} is stopped; no connection to it lingers`);
}

/** UPSERT the CNAME to the new endpoint (same set identifier, weight and TTL) and wait for INSYNC. */
async function switchCname(r: RestoreRun, switched: WeightedCname, originalRecord: WeightedCname): Promise<number> {
  const c = r.spec.cutover!;
  r.saga.add({
    id: 'cname',
    description: `${c.recordName} back to ${originalRecord.value} (TTL ${originalRecord.ttlSeconds}s)`,
    manual: upsertByHand(originalRecord),
    run: async () => {
      await putRecordBack(r, originalRecord);
      r.switchRevertedMs = nowMs();
    },
  });
  if (r.safeCutover) {
    r.switchSentMs = nowMs();
    if (r.status.cutover) r.status.cutover.switchedAt = iso(r.switchSentMs);
  }
  const up = await r.aws('switch-cname', () => r.a.upsertWeightedCname({ record: switched, access: r.zoneAccess() }));
  r.step('cname-upserted', up.detail);
  if (up.changeId) await r.waitInsync(up.changeId);
  r.step('cname-insync', `${c.recordName} → ${switched.value} on every Route 53 server`);
  return nowMs();
}

/**
 * Resolvers may still hold the old answer for the TTL in effect before the change; if the TTL was lowered
 * too recently, answers cached with the original TTL may outlive it.
 */
async function waitForCachedAnswersToExpire(r: RestoreRun, before: WeightedCname, insyncMs: number): Promise<void> {
  let cacheMs = before.ttlSeconds * 1000;
  if (r.ttlLoweredInsyncMs !== undefined && r.originalTtlSeconds !== undefined) {
    cacheMs = Math.max(cacheMs, r.originalTtlSeconds * 1000 - (insyncMs - r.ttlLoweredInsyncMs));
  }
  const recordName = r.spec.cutover!.recordName;
  r.setState('cutting-over', { kind: 'aws', description: `cached answers for ${recordName} to expire`, until: iso(insyncMs + cacheMs) });
  r.step('waiting-for-ttl', `${formatDuration(cacheMs)} until ${iso(insyncMs + cacheMs)}`);
  if (cacheMs > 0) await sleep(cacheMs, { summary: `cached answers for ${recordName} to expire (${formatDuration(cacheMs)} of TTL)` });
}

export async function putRecordBack(r: RestoreRun, record: WeightedCname): Promise<void> {
  const up = await r.aws('put-record-back', () => r.a.upsertWeightedCname({ record, access: r.zoneAccess() }), { maxRounds: CUTOVER_ROUNDS });
  if (up.changeId) await r.waitInsync(up.changeId);
}

/** The activity's refusal to stop an instance in its status (never sent to RDS), or undefined for any other failure. */
function stopRefusal(err: unknown): string | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  const refused = cause instanceof ApplicationFailure && (cause.type === FailureTypes.InvalidState || cause.type === FailureTypes.InstanceStuck);
  return refused ? cause.message : undefined;
}

/** The old instance may still be stopping when the failure came; it can only be started once stopped. */
async function startOldInstance(r: RestoreRun): Promise<void> {
  const id = r.spec.source.instanceId;
  const rounds = { maxRounds: CUTOVER_ROUNDS };
  const info = await r.aws('start-old-instance', () => r.a.describeInstance({ where: r.where(), instanceId: id }), rounds);
  if (info.status === 'stopping') await r.waitInstance(id, 'stopped');
  await r.aws('start-old-instance', () => r.a.startInstance({ where: r.where(), instanceId: id }), rounds);
  await r.waitInstance(id, AVAILABLE);
}
