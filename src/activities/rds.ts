/**
 * RDS activities: read an instance or a fleet of them (./fleet.ts), change its upgrade settings, upgrade it
 * now, restore it to a point in time, stop and start it. Every mutation reads first and only acts when the
 * instance is not already in the wanted state, so a retry after a worker crash never starts a second
 * upgrade or restore.
 */
import {
  ApplyPendingMaintenanceActionCommand,
  DescribeDBEngineVersionsCommand,
  type DescribeDBEngineVersionsCommandOutput,
  DescribeDBInstancesCommand,
  DescribePendingMaintenanceActionsCommand,
  ModifyDBInstanceCommand,
  RestoreDBInstanceToPointInTimeCommand,
  StartDBInstanceCommand,
  StopDBInstanceCommand,
  type DBInstance,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { ApplicationFailure } from '@temporalio/common';
import { callAws, isAwsError, toActivityError } from './aws-errors';
import { pollUntil } from './waiting';
import {
  FailureTypes,
  type InstanceInfo,
  type MutationResult,
  type PendingMaintenanceAction,
  type RdsActivities,
  type RestoreRequest,
  type UpgradeTarget,
  type AwsWhere,
  type WindowWatchOutcome,
} from '../api/activities';
import type { DescribeInstanceInput, FlagChange, InstanceRef, InstanceWait, PendingMaintenanceQuery, SecurityGroupAttachment, UpgradeNow, UpgradeTargetsQuery, WindowWatch } from '../api/activities';
import { describeIdentity, regionOf } from './location';
import { fleetFinder } from './fleet';
import { toInstanceInfo, toPendingAction, toUpgradeTarget } from './rds-shapes';
import { restoreInputFor, withPublishedRestoreWindow } from './rds-restore';
import { namesDbInstance } from '../domain/aws-identity';
import { AVAILABLE, canModifyNow, isAsWanted, stuckMessage, stuckWhileWaiting, readinessToStart, readinessToStop, unstoppableMessage, upgradeUnderWay, windowWatchEnd } from '../domain/instance-status';
import { upgradeNowBy, withAwsDates } from '../domain/pending-maintenance';
import { readRestoreTime } from '../domain/restore-source';

export interface RdsActivitiesDeps {
  rdsClientFor: (where: AwsWhere) => RDSClient;
  /** Injected for tests of the restore window; defaults to the wall clock. */
  now?: () => Date;
}

export function createRdsActivities(deps: RdsActivitiesDeps): RdsActivities {
  const now = deps.now ?? (() => new Date());
  /** A fleet stage's instances: one listing of the region (./fleet.ts). */
  const findFleet = fleetFinder(deps);

  async function findDbInstance(where: AwsWhere, instanceId: string): Promise<DBInstance | undefined> {
    try {
      const out = await deps.rdsClientFor(where).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceId }));
      return out.DBInstances?.find((d) => d.DBInstanceIdentifier === instanceId) ?? out.DBInstances?.[0];
    } catch (err) {
      if (isAwsError(err, 'DBInstanceNotFound', 'DBInstanceNotFoundFault')) return undefined;
      throw toActivityError(err, { operation: `DescribeDBInstances ${instanceId}`, where, instanceId });
    }
  }

  /** DescribeDBInstances of one instance that must exist, as the SDK gives it. */
  async function describeDbInstance(where: AwsWhere, instanceId: string): Promise<DBInstance> {
    const db = await findDbInstance(where, instanceId);
    if (!db) {
      throw ApplicationFailure.nonRetryable(
        `RDS instance '${instanceId}' not found in region ${regionOf(where)}${describeIdentity(where)}. Check the instance identifier, the region${typeof where === 'string' ? '' : ' and the account (the role)'}.`,
        FailureTypes.InstanceNotFound,
      );
    }
    return db;
  }

  async function describeInstance({ where, instanceId, restoreWindow }: DescribeInstanceInput): Promise<InstanceInfo> {
    const db = await describeDbInstance(where, instanceId);
    const info = toInstanceInfo(regionOf(where), db, now());
    return restoreWindow ? withPublishedRestoreWindow(deps.rdsClientFor(where), where, db, info) : info;
  }

  async function findInstance({ where, instanceId }: InstanceRef): Promise<InstanceInfo | undefined> {
    const region = regionOf(where);
    const db = await findDbInstance(where, instanceId);
    return db ? toInstanceInfo(region, db, now()) : undefined;
  }

  /**
   * Identical DescribeDBEngineVersions requests in flight at once share one: a fleet's instances read their
   * version's upgrade targets again as their window opens (estate.ts `inspect`), hundreds of the same question
   * within seconds, each waiting its turn in the account's RDS budget. One who asks while the same request waits
   * or runs gets its answer, which is no older than its own request would have been; a request asked after the
   * answer came is sent again (nothing is kept). Keyed by the client, which is one per account, role and region.
   */
  const versionReads = new WeakMap<object, Map<string, Promise<DescribeDBEngineVersionsCommandOutput>>>();
  function describeEngineVersion(where: UpgradeTargetsQuery['where'], engine: string, engineVersion: string): Promise<DescribeDBEngineVersionsCommandOutput> {
    const client = deps.rdsClientFor(where);
    let inFlight = versionReads.get(client);
    if (!inFlight) versionReads.set(client, (inFlight = new Map()));
    const key = `${engine}\n${engineVersion}`;
    const shared = inFlight.get(key);
    if (shared) return shared;
    // IncludeAll: an instance may run a version RDS deprecated (the usual reason to upgrade it), which the call lists
    // only with it ("The default is to list only available engine versions").
    const request = client.send(new DescribeDBEngineVersionsCommand({ Engine: engine, EngineVersion: engineVersion, IncludeAll: true }));
    inFlight.set(key, request);
    const settled = () => {
      if (inFlight.get(key) === request) inFlight.delete(key);
    };
    request.then(settled, settled);
    return request;
  }

  async function listUpgradeTargets({ where, engine, engineVersion }: UpgradeTargetsQuery): Promise<UpgradeTarget[]> {
    const region = regionOf(where);
    const out = await callAws({ operation: `DescribeDBEngineVersions ${engine} ${engineVersion}`, where }, () => describeEngineVersion(where, engine, engineVersion));
    const version = out.DBEngineVersions?.find((v) => v.EngineVersion === engineVersion);
    if (!version) {
      throw ApplicationFailure.nonRetryable(
        `RDS in ${region} knows no ${engine} engine version ${engineVersion}. Check the engine and version (aws rds describe-db-engine-versions --engine ${engine}).`,
        FailureTypes.InvalidInput,
      );
    }
    return (version.ValidUpgradeTarget ?? []).flatMap((t) => toUpgradeTarget(t) ?? []);
  }

  async function inspectInstance({ where, instanceId }: InstanceRef): Promise<{ info: InstanceInfo; targets: UpgradeTarget[] }> {
    const info = await describeInstance({ where, instanceId });
    return { info, targets: await listUpgradeTargets({ where, engine: info.engine, engineVersion: info.engineVersion }) };
  }

  async function listPendingMaintenance({ where, instanceId, preferredMaintenanceWindow }: PendingMaintenanceQuery): Promise<PendingMaintenanceAction[]> {
    const ctx = { operation: 'DescribePendingMaintenanceActions', where, instanceId };
    const actions: PendingMaintenanceAction[] = [];
    let marker: string | undefined;
    do {
      const out = await callAws(ctx, () =>
        deps.rdsClientFor(where).send(
          new DescribePendingMaintenanceActionsCommand({ Filters: [{ Name: 'db-instance-id', Values: [instanceId] }], Marker: marker }),
        ),
      );
      for (const resource of out.PendingMaintenanceActions ?? []) {
        // The filter matches identifiers and ARNs; keep only this instance's in case a simulator ignores it.
        if (!namesDbInstance(resource.ResourceIdentifier ?? '', instanceId)) continue;
        for (const a of resource.PendingMaintenanceActionDetails ?? []) {
          const action = toPendingAction(a);
          if (action) actions.push(action);
        }
      }
      marker = out.Marker;
    } while (marker);
    return withAwsDates(actions, preferredMaintenanceWindow);
  }

  async function setAutoMinorVersionUpgrade({ where, instanceId, enabled }: FlagChange): Promise<MutationResult> {
    const current = await describeInstance({ where, instanceId });
    if (current.autoMinorVersionUpgrade === enabled) {
      return { changed: false, detail: `AutoMinorVersionUpgrade is already ${enabled} on ${instanceId}` };
    }
    // No ApplyImmediately: the flag takes effect at once without it (ModifyDBInstance: "Amazon RDS applies the change as
    // soon as possible"), and with it RDS would also apply "any pending modifications" now, such as an instance class or
    // engine version someone queued for the maintenance window: an outage days before the announced window.
    const sent = await callAws({ operation: 'ModifyDBInstance AutoMinorVersionUpgrade', where, instanceId }, () =>
      deps.rdsClientFor(where).send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: instanceId, AutoMinorVersionUpgrade: enabled })),
    );
    return { changed: true, detail: `AutoMinorVersionUpgrade set to ${enabled} on ${instanceId}`, action: 'rds:ModifyDBInstance', resource: instanceId, requestId: sent.$metadata?.requestId };
  }

  /** A pending action RDS no longer has: "There is no pending db-upgrade action for arn:…" (InvalidParameterCombination). */
  const GONE = Symbol('the pending action is gone');
  const actionGone = (err: unknown): boolean =>
    isAwsError(err, 'InvalidParameterCombination', 'InvalidParameterCombinationException') && /no pending/i.test(err instanceof Error ? err.message : String(err));

  async function applyUpgradeNow({ where, instanceId, targetVersion }: UpgradeNow): Promise<MutationResult> {
    const current = await describeInstance({ where, instanceId });
    if (current.engineVersion === targetVersion) {
      return { changed: false, detail: `${instanceId} already runs ${current.engine} ${targetVersion}` };
    }
    const pending = await listPendingMaintenance({ where, instanceId });
    if (upgradeUnderWay(current, targetVersion, pending)) {
      return { changed: false, detail: `${instanceId} is already ${current.status} to ${targetVersion}` };
    }
    // Only an action that names exactly the target is applied: applying another would install another version.
    const by = upgradeNowBy(pending, targetVersion);
    // "If your PostgreSQL DB instance is using read replicas, you must upgrade all of the read replicas before
    // upgrading the source instance" (RDS User Guide, upgrading PostgreSQL): RDS refuses the source first.
    const replicasFirst = (err: unknown): never => {
      if (!isAwsError(err, 'DBUpgradeDependencyFailure', 'DBUpgradeDependencyFailureFault')) throw err;
      const replicas = current.readReplicaIds ?? [];
      throw ApplicationFailure.nonRetryable(
        `RDS refused to upgrade ${instanceId} to ${targetVersion} before its read replicas (DBUpgradeDependencyFailure: ${(err as Error).message}). ` +
          `Upgrade ${replicas.length ? replicas.join(', ') : 'its read replicas'} to ${targetVersion} first, then the source.`,
        FailureTypes.UpgradeDependency,
      );
    };
    if (by.kind === 'apply-pending-action' && current.arn) {
      const sent = await callAws({ operation: 'ApplyPendingMaintenanceAction db-upgrade', where, instanceId }, () =>
        deps.rdsClientFor(where)
          .send(new ApplyPendingMaintenanceActionCommand({ ResourceIdentifier: current.arn, ApplyAction: 'db-upgrade', OptInType: 'immediate' }))
          .catch((err: unknown) => (actionGone(err) ? GONE : replicasFirst(err))),
      );
      if (typeof sent !== 'symbol') {
        return { changed: true, detail: `applied the pending db-upgrade of ${instanceId} to ${targetVersion} immediately`, action: 'rds:ApplyPendingMaintenanceAction', resource: instanceId, requestId: sent.$metadata?.requestId };
      }
      // The action left the list after it was read: RDS started it itself (its window, its date), or the list was
      // behind (DescribePendingMaintenanceActions is eventually consistent). Read again; set the version if nothing runs.
      const now = await describeInstance({ where, instanceId });
      if (now.engineVersion === targetVersion) return { changed: false, detail: `${instanceId} already runs ${now.engine} ${targetVersion}` };
      // The action that named the target left the list as the instance began upgrading: that upgrade is the target's
      // (`modifying` may be anyone's other change: it counts only with the target as its pending version).
      if (now.status === 'upgrading' || upgradeUnderWay(now, targetVersion, await listPendingMaintenance({ where, instanceId }))) {
        return { changed: false, detail: `${instanceId} is already ${now.status} to ${targetVersion} (RDS had started its pending db-upgrade)` };
      }
    }
    const sent = await callAws({ operation: `ModifyDBInstance EngineVersion=${targetVersion}`, where, instanceId }, () =>
      deps.rdsClientFor(where)
        .send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: instanceId, EngineVersion: targetVersion, ApplyImmediately: true }))
        .catch(replicasFirst),
    );
    return { changed: true, detail: `started the upgrade of ${instanceId} from ${current.engineVersion} to ${targetVersion}`, action: 'rds:ModifyDBInstance', resource: instanceId, requestId: sent.$metadata?.requestId };
  }

  /** A wait for a state that can no longer come by itself ends now, saying what to do (STUCK_STATUSES). */
  function stopIfStuck(current: InstanceInfo, region: string, want: { status?: string; engineVersion?: string }, wanted: string): void {
    const why = stuckWhileWaiting(current, want);
    if (!why) return;
    throw ApplicationFailure.nonRetryable(stuckMessage(current, region, wanted, why), FailureTypes.InstanceStuck);
  }

  async function waitForInstance({ where, instanceId, want, poll }: InstanceWait): Promise<InstanceInfo> {
    const region = regionOf(where);
    const wanted = [
      want.status,
      want.engineVersion && `at ${want.engineVersion}`,
      want.autoMinorVersionUpgrade !== undefined && `with AutoMinorVersionUpgrade ${want.autoMinorVersionUpgrade}`,
    ].filter(Boolean).join(' ');
    return pollUntil(poll, async () => {
      const current = await describeInstance({ where, instanceId });
      if (isAsWanted(current, want)) return { done: true, value: current };
      stopIfStuck(current, region, want, wanted);
      return { done: false, waitingFor: `${instanceId} in ${region} is ${current.status} at ${current.engineVersion} (AutoMinorVersionUpgrade ${current.autoMinorVersionUpgrade}); waiting for ${wanted}` };
    });
  }

  async function watchMaintenanceWindow({ where, instanceId, want, poll }: WindowWatch): Promise<WindowWatchOutcome> {
    const region = regionOf(where);
    return pollUntil<WindowWatchOutcome>(poll, async () => {
      const info = await describeInstance({ where, instanceId });
      const end = windowWatchEnd(info, want);
      if (end) return { done: true, value: { kind: end, info } };
      stopIfStuck(info, region, { status: AVAILABLE, engineVersion: want.engineVersion }, `available at ${want.engineVersion}`);
      return { done: false, waitingFor: `${instanceId} in ${region} is ${info.status} at ${info.engineVersion}; watching its window for ${want.engineVersion}` };
    });
  }

  async function restoreToPointInTime(req: RestoreRequest): Promise<MutationResult & { instanceId: string }> {
    const { sourceInstanceId, targetInstanceId, ownerTag } = req;
    const where = req.region;
    const region = regionOf(where);
    const existing = await findInstance({ where, instanceId: targetInstanceId });
    if (existing) {
      if (existing.tags[ownerTag.key] === ownerTag.value) {
        return { changed: false, detail: `restore ${targetInstanceId} already exists (${existing.status})`, instanceId: targetInstanceId };
      }
      throw ApplicationFailure.nonRetryable(
        `An RDS instance named '${targetInstanceId}' already exists in ${region} and was not created by this restore ` +
          `(it lacks the tag ${ownerTag.key}=${ownerTag.value}). Choose another target instance identifier.`,
        FailureTypes.IdentifierTaken,
      );
    }

    const sourceDb = await describeDbInstance(where, sourceInstanceId);
    const estimated = toInstanceInfo(region, sourceDb, now());
    // The window is read only to check a restore time: the latest restorable time needs none.
    const source = req.restoreTime === undefined ? estimated : await withPublishedRestoreWindow(deps.rdsClientFor(where), where, sourceDb, estimated);
    let restoreTime: Date | undefined;
    if (req.restoreTime !== undefined) {
      restoreTime = new Date(req.restoreTime);
      if (Number.isNaN(restoreTime.getTime())) {
        throw ApplicationFailure.nonRetryable(
          `Restore time '${req.restoreTime}' is not an ISO-8601 instant (e.g. 2024-05-01T12:30:00Z).`,
          FailureTypes.InvalidInput,
        );
      }
      const reading = readRestoreTime(source, restoreTime.getTime());
      if (reading.kind === 'no-window') {
        throw ApplicationFailure.nonRetryable(
          `${sourceInstanceId} in ${region} has no restorable window (backup retention ${source.backupRetentionPeriodDays ?? 0} days). ` +
            'Enable automated backups before a point-in-time restore.',
          FailureTypes.RestoreTimeOutOfRange,
        );
      }
      if (reading.kind === 'outside') {
        throw ApplicationFailure.nonRetryable(
          `Restore time ${restoreTime.toISOString()} is outside the restorable window of ${sourceInstanceId} in ${region}: ` +
            `${reading.earliest} to ${reading.latest}${source.restoreWindowEstimated ? ` (its start estimated from the backup retention: ${source.restoreWindowEstimated})` : ''}. Choose a time inside that window, or omit it to restore to the latest restorable time.`,
          FailureTypes.RestoreTimeOutOfRange,
        );
      }
    }

    const input = restoreInputFor(req, source, sourceDb, restoreTime);
    if (req.extraSecurityGroupIds?.length) {
      input.VpcSecurityGroupIds = [...new Set([...(input.VpcSecurityGroupIds ?? []), ...req.extraSecurityGroupIds])];
    }
    const sent = await callAws({ operation: `RestoreDBInstanceToPointInTime ${sourceInstanceId} -> ${targetInstanceId}`, where, instanceId: sourceInstanceId }, () =>
      deps.rdsClientFor(where).send(new RestoreDBInstanceToPointInTimeCommand(input)),
    );
    const when = restoreTime ? restoreTime.toISOString() : 'the latest restorable time';
    return { changed: true, detail: `restoring ${sourceInstanceId} at ${when} into ${targetInstanceId}`, instanceId: targetInstanceId, action: 'rds:RestoreDBInstanceToPointInTime', resource: targetInstanceId, requestId: sent.$metadata?.requestId };
  }

  async function stopInstance({ where, instanceId }: InstanceRef): Promise<MutationResult> {
    const region = regionOf(where);
    const current = await describeInstance({ where, instanceId });
    const readiness = readinessToStop(current.status);
    if (readiness === 'already') {
      return { changed: false, detail: `${instanceId} is already ${current.status}` };
    }
    if (readiness === 'not-yet') {
      stopIfStuck(current, region, { status: 'stopped' }, 'stopped');
      throw ApplicationFailure.retryable(`${instanceId} in ${region} is ${current.status}; it can be stopped once available`, FailureTypes.InvalidState);
    }
    const unstoppable = unstoppableMessage(current, region);
    if (unstoppable) throw ApplicationFailure.nonRetryable(unstoppable, FailureTypes.InvalidState);
    const sent = await callAws({ operation: 'StopDBInstance', where, instanceId }, () =>
      deps.rdsClientFor(where).send(new StopDBInstanceCommand({ DBInstanceIdentifier: instanceId })),
    );
    return { changed: true, detail: `stopping ${instanceId}`, action: 'rds:StopDBInstance', resource: instanceId, requestId: sent.$metadata?.requestId };
  }

  async function startInstance({ where, instanceId }: InstanceRef): Promise<MutationResult> {
    const region = regionOf(where);
    const current = await describeInstance({ where, instanceId });
    const readiness = readinessToStart(current.status);
    if (readiness === 'already') {
      return { changed: false, detail: `${instanceId} is already ${current.status}` };
    }
    if (readiness === 'not-yet') {
      stopIfStuck(current, region, { status: AVAILABLE }, AVAILABLE);
      throw ApplicationFailure.retryable(`${instanceId} in ${region} is ${current.status}; it can be started once stopped`, FailureTypes.InvalidState);
    }
    const sent = await callAws({ operation: 'StartDBInstance', where, instanceId }, () =>
      deps.rdsClientFor(where).send(new StartDBInstanceCommand({ DBInstanceIdentifier: instanceId })),
    );
    return { changed: true, detail: `starting ${instanceId}`, action: 'rds:StartDBInstance', resource: instanceId, requestId: sent.$metadata?.requestId };
  }

  async function attachSecurityGroup({ where, instanceId, securityGroupId }: SecurityGroupAttachment): Promise<MutationResult> {
    const region = regionOf(where);
    const current = await describeInstance({ where, instanceId });
    if (current.vpcSecurityGroupIds.includes(securityGroupId)) {
      return { changed: false, detail: `${securityGroupId} is already attached to ${instanceId}` };
    }
    if (!canModifyNow(current.status)) {
      throw ApplicationFailure.retryable(`${instanceId} in ${region} is ${current.status}; its security groups can be changed once available`, FailureTypes.InvalidState);
    }
    // VpcSecurityGroupIds replaces the list: send the current groups plus the new one. Security-group changes
    // are applied asynchronously as soon as possible, whatever ApplyImmediately says (ModifyDBInstance reference), so
    // it is not sent: with it RDS would also apply "any pending modifications" now (a class change queued for the
    // window, on an instance that may already take traffic).
    const groups = [...current.vpcSecurityGroupIds, securityGroupId];
    const sent = await callAws({ operation: `ModifyDBInstance VpcSecurityGroupIds=${groups.join(',')}`, where, instanceId }, () =>
      deps.rdsClientFor(where).send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: instanceId, VpcSecurityGroupIds: groups })),
    );
    return { changed: true, detail: `attached ${securityGroupId} to ${instanceId} (now ${groups.join(', ')})`, action: 'rds:ModifyDBInstance', resource: instanceId, requestId: sent.$metadata?.requestId };
  }

  return {
    attachSecurityGroup,
    describeInstance,
    findInstance,
    findFleet,
    inspectInstance,
    listUpgradeTargets,
    listPendingMaintenance,
    setAutoMinorVersionUpgrade,
    applyUpgradeNow,
    waitForInstance,
    watchMaintenanceWindow,
    restoreToPointInTime,
    stopInstance,
    startInstance,
  };
}
