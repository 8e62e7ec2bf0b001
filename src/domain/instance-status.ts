/**
 * Reading an instance's DBInstanceStatus (DescribeDBInstances): whether what is waited for has come, whether an
 * upgrade is already under way, whether the instance can be stopped, started or modified now. Pure: the RDS
 * activities (their waits and their idempotence checks), the availability probe and the in-memory fake of the
 * workflow tests decide through these functions, so "done" means the same everywhere.
 *
 * The statuses are AWS's (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.DBInstance.Status.html):
 * `available` ("healthy and available") is the resting state every change ends in; ModifyDBInstance with
 * ApplyImmediately first shows `modifying`, an engine upgrade `upgrading`; `stopping` ends in `stopped`,
 * `starting` in `available`.
 */
import type { InstanceInfo, InstanceWant, PendingMaintenanceAction, WindowWatchOutcome, WindowWatchWant } from '../api/activities';
import { isPastTarget } from './engine-version';
import { pendingUpgradeTo } from './pending-maintenance';

/** The resting state: an instance that is available can be changed, and a change has ended. */
export const AVAILABLE = 'available';

/** Statuses in which RDS is already applying a modification; with a queued engine version, an upgrade in flight. */
export const UPGRADING_STATUSES: ReadonlySet<string> = new Set(['upgrading', 'modifying']);

/**
 * Statuses besides UPGRADING_STATUSES in which RDS may still be at a window's maintenance after the window's end
 * (AWS's status table: `maintenance`, "applying a maintenance update", and `rebooting`, which ends an engine upgrade):
 * the window's watch goes on in them rather than count the window as missed. Not `backing-up` or `configuring-…`: the
 * daily backup, or someone's other change.
 */
export function maybeStillInMaintenance(status: string): boolean {
  return status === 'maintenance' || status === 'rebooting';
}

/** An instance at rest at exactly `version`: an upgrade to it has ended. */
export function isAvailableAt(instance: { status?: string; engineVersion?: string }, version: string): boolean {
  return instance.status === AVAILABLE && instance.engineVersion === version;
}

/**
 * RDS is already upgrading the instance to `target` (a retry of apply-now after a crash must not start
 * another): an upgrading or modifying status with `target` as the pending engine version (ModifyDBInstance
 * EngineVersion with ApplyImmediately), or the pending db-upgrade to `target` opted in `immediate`
 * (ApplyPendingMaintenanceAction: "OptInStatus: indicates the type of opt-in request that has been received";
 * such an upgrade shows `upgrading` with no PendingModifiedValues). Found by the soak: an attempt that read only
 * PendingModifiedValues applied the action a second time.
 */
export function upgradeUnderWay(
  instance: Pick<InstanceInfo, 'status' | 'pendingEngineVersion'>,
  target: string,
  pending: PendingMaintenanceAction[] = [],
): boolean {
  if (UPGRADING_STATUSES.has(instance.status) && instance.pendingEngineVersion === target) return true;
  return pendingUpgradeTo(pending, target)?.optInStatus === 'immediate';
}

/** What a wait for an instance asks for (the api's type, named here too for the domain's readers). */
export type { InstanceWant };

/** Whether the instance is as wanted (waitForInstance is done). */
export function isAsWanted(instance: Pick<InstanceInfo, 'status' | 'engineVersion' | 'autoMinorVersionUpgrade'>, want: InstanceWant): boolean {
  return (
    (want.status === undefined || instance.status === want.status) &&
    (want.engineVersion === undefined || instance.engineVersion === want.engineVersion) &&
    (want.autoMinorVersionUpgrade === undefined || instance.autoMinorVersionUpgrade === want.autoMinorVersionUpgrade)
  );
}

/**
 * Statuses RDS leaves only when a person acts, or never (AWS's DB instance status table): what each means and
 * what to do. A wait for another status ends at once with this, rather than polling until its deadline (a
 * restore's is a day) for a state that can no longer come.
 */
export const STUCK_STATUSES: Readonly<Record<string, string>> = {
  failed: 'RDS cannot recover the instance; restore it to its latest restorable time to recover its data',
  'restore-error': 'the restore failed; read the instance\'s RDS events for why, then restore into another identifier (this instance is kept)',
  'incompatible-restore': 'RDS could not do this point-in-time restore (AWS names temporary tables among the causes); read the instance\'s RDS events, then restore into another identifier, at another time if need be',
  'insufficient-capacity': 'RDS has no capacity for its instance class in its Availability Zone; restore with another class or zone, or later',
  'inaccessible-encryption-credentials': 'its AWS KMS key cannot be accessed or recovered; restore the instance from a backup',
  'inaccessible-encryption-credentials-recoverable': 'its AWS KMS key cannot be accessed; enable the key, then start the instance',
  'incompatible-network': 'its VPC keeps RDS from a recovery action (for example no free IP address in a subnet); fix its subnets, then start the instance',
  'incompatible-option-group': 'an option group change is not compatible with it; correct its option group',
  'incompatible-parameters': 'its DB parameter group is not compatible with it; revert or fix the parameters, then reboot it',
  'storage-full': 'it has used all its allocated storage and storage autoscaling cannot raise it; scale the storage up (ModifyDBInstance AllocatedStorage)',
};

/**
 * Why the wanted state cannot come by itself (the instance is in a STUCK_STATUSES status it is not waited in),
 * or undefined while it may. A wait for a setting alone (the flag, by Terraform) is not ended by a status. A full
 * disk is not stuck while storage autoscaling may still raise it (MaxAllocatedStorage above AllocatedStorage: RDS
 * grows it once its cooldown since the last change has passed).
 */
export function stuckWhileWaiting(instance: Pick<InstanceInfo, 'status' | 'allocatedStorage' | 'maxAllocatedStorage'>, want: { status?: string; engineVersion?: string }): string | undefined {
  if (want.status === undefined && want.engineVersion === undefined) return undefined;
  if (instance.status === want.status) return undefined;
  if (instance.status === 'storage-full' && instance.maxAllocatedStorage !== undefined && instance.maxAllocatedStorage > (instance.allocatedStorage ?? 0)) return undefined;
  return STUCK_STATUSES[instance.status];
}

/** What a wait that ends on a stuck status says (the activity's failure message, and the fake's). */
export function stuckMessage(instance: Pick<InstanceInfo, 'instanceId' | 'status'>, region: string, wanted: string, why: string): string {
  return `${instance.instanceId} in ${region} is ${instance.status}, which RDS does not leave by itself, so it will not become ${wanted}: ${why}.`;
}

/**
 * Why a window watch ends now, or undefined while it goes on. Only an instance at rest ends it: available at the
 * target (upgraded), available at a newer version (past the target: the target will never come), or available
 * with the flag the window needs found off (an upgrade under way no longer needs the flag).
 */
export function windowWatchEnd(instance: Pick<InstanceInfo, 'status' | 'engineVersion' | 'autoMinorVersionUpgrade'>, want: WindowWatchWant): WindowWatchOutcome['kind'] | undefined {
  if (instance.status !== AVAILABLE) return undefined;
  if (instance.engineVersion === want.engineVersion) return 'upgraded';
  if (isPastTarget(instance.engineVersion, want.engineVersion)) return 'past-target';
  if (want.autoMinorVersionUpgrade && !instance.autoMinorVersionUpgrade) return 'flag-off';
  return undefined;
}

/** Whether a stop or a start is already done (or under way), can be sent now, or must wait for another status. */
export type StatusReadiness = 'already' | 'now' | 'not-yet';

/** StopDBInstance: nothing to do while stopping or stopped; sent only to an available instance. */
export function readinessToStop(status: string): StatusReadiness {
  if (status === 'stopped' || status === 'stopping') return 'already';
  return status === AVAILABLE ? 'now' : 'not-yet';
}

/**
 * Why RDS will not stop this instance whatever its status, or undefined: the User Guide's "Limitations of stopping
 * your DB instance" ("You can't stop a DB instance that has a read replica, or that is a read replica").
 */
export function unstoppableBecause(instance: Pick<InstanceInfo, 'readReplicaIds' | 'replicaSourceId'>): string | undefined {
  if (instance.replicaSourceId) return `it is a read replica of ${instance.replicaSourceId}, and RDS cannot stop a read replica`;
  if (instance.readReplicaIds?.length) return `it has read replicas (${instance.readReplicaIds.join(', ')}), and RDS cannot stop an instance that has a read replica`;
  return undefined;
}

/** What a refused stop says of an instance RDS will not stop (unstoppableBecause), or undefined: one text for the activity and the test fake. */
export function unstoppableMessage(instance: Pick<InstanceInfo, 'instanceId' | 'readReplicaIds' | 'replicaSourceId'>, region: string): string | undefined {
  const why = unstoppableBecause(instance);
  return why && `${instance.instanceId} in ${region} cannot be stopped: ${why}.`;
}

/** StartDBInstance: nothing to do while starting or available; sent only to a stopped instance. */
export function readinessToStart(status: string): StatusReadiness {
  if (status === AVAILABLE || status === 'starting') return 'already';
  return status === 'stopped' ? 'now' : 'not-yet';
}

/** A modification (a security group attached) is sent only to an available instance. */
export function canModifyNow(status: string): boolean {
  return status === AVAILABLE;
}
