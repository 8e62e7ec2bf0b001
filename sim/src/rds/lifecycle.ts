/**
 * RDS over time: status steps, maintenance windows, forced dates, the 7-day automatic restart, pending
 * maintenance actions and asynchronous security-group changes. Time is computed lazily: `tick()` moves
 * every instance to "now" one event at a time, in time order.
 */
import { DAY } from '../core/clock';
import { compareVersions, majorOf } from './catalogue';
import type { RdsContext } from './context';
import type { InstanceDatabases } from './databases';
import { SimError } from '../core/errors';
import type { RdsReplicas } from './replicas';
import { defaultParameterGroupName, isDefaultParameterGroup } from './resources';
import type { DbInstance, InstanceOperation } from './state';
import { isInWindow, nextWindowStartAfter, parseMaintenanceWindow } from './window';

/** RDS starts a stopped instance again after this long. */
export const AUTO_RESTART_AFTER_MS = 7 * DAY;

export interface PendingActionView {
  action: 'db-upgrade';
  description: string;
  targetVersion: string;
  autoAppliedAfterDate?: number;
  forcedApplyDate?: number;
  currentApplyDate?: number;
  optInStatus?: string;
}

export function engineDisplayName(engine: string): string {
  return engine === 'postgres' ? 'PostgreSQL' : engine;
}

interface Due {
  at: number;
  run: (at: number) => void;
}

export class RdsLifecycle {
  constructor(
    private readonly ctx: RdsContext,
    private readonly replicas: RdsReplicas,
    private readonly databases: () => InstanceDatabases,
  ) {}

  steps(start: number, ...phases: Array<[string, Parameters<RdsContext['durationMs']>[0]]>): InstanceOperation['steps'] {
    let t = start;
    return phases.map(([status, kind]) => {
      t += this.ctx.durationMs(kind);
      return { status, until: t };
    });
  }

  startOp(inst: DbInstance, at: number, op: InstanceOperation): void {
    inst.op = op;
    inst.status = (op.steps[0] as { status: string }).status;
    inst.statusSince = at;
    if (op.kind === 'start') inst.stoppedAt = undefined;
    // A PostgreSQL-backed instance's server follows: it stops as `stopping` or `upgrading` begins.
    this.databases().statusChanged(inst);
  }

  /** ModifyDBInstance first shows `modifying`, then `upgrading`; maintenance goes straight to `upgrading`. */
  startUpgrade(inst: DbInstance, at: number, target: string, trigger: InstanceOperation['trigger']): void {
    const steps =
      trigger === 'apply-immediately' ? this.steps(at, ['modifying', 'modifying'], ['upgrading', 'upgrading']) : this.steps(at, ['upgrading', 'upgrading']);
    this.startOp(inst, at, { kind: 'upgrade', steps, finalStatus: 'available', targetVersion: target, trigger });
  }

  // ---- pending maintenance ----------------------------------------------------------------------

  /** The minor version the db-upgrade action would move to, when the instance is below it. */
  pendingUpgradeTarget(inst: DbInstance): string | undefined {
    const target = inst.maintenance.targetVersion ?? this.ctx.catalogue().autoUpgradeTargetFor(inst.engine, inst.engineVersion);
    return target !== undefined && compareVersions(target, inst.engineVersion) > 0 ? target : undefined;
  }

  /**
   * CurrentApplyDate "takes into account opt-in requests received from the ApplyPendingMaintenanceAction
   * API, the AutoAppliedAfterDate, and the ForcedApplyDate. This value is blank if an opt-in request has
   * not been received and nothing has been specified as AutoAppliedAfterDate or ForcedApplyDate"
   * (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_PendingMaintenanceAction.html).
   * AutoMinorVersionUpgrade alone therefore leaves it blank, even though the window will apply it.
   * AutoAppliedAfterDate: "applied to the resource during its first maintenance window after this date".
   */
  pendingActions(inst: DbInstance): PendingActionView[] {
    const target = this.pendingUpgradeTarget(inst);
    if (!target) return [];
    const m = inst.maintenance;
    const inFlight = inst.op?.kind === 'upgrade' && inst.op.targetVersion === target;
    let currentApplyDate: number | undefined;
    if (inFlight) currentApplyDate = inst.statusSince;
    else {
      const now = this.ctx.now();
      const window = parseMaintenanceWindow(inst.preferredMaintenanceWindow);
      const candidates: number[] = [];
      if (m.optIn === 'next-maintenance') candidates.push(nextWindowStartAfter(window, now));
      if (m.autoAppliedAfterDate !== undefined) candidates.push(nextWindowStartAfter(window, Math.max(now, m.autoAppliedAfterDate - 1)));
      if (m.forcedApplyDate !== undefined) candidates.push(Math.max(m.forcedApplyDate, now));
      if (candidates.length > 0) currentApplyDate = Math.min(...candidates);
    }
    return [
      {
        action: 'db-upgrade',
        description: m.description ?? `Upgrade to ${engineDisplayName(inst.engine)} ${target}`,
        targetVersion: target,
        autoAppliedAfterDate: m.autoAppliedAfterDate,
        forcedApplyDate: m.forcedApplyDate,
        currentApplyDate,
        optInStatus: inFlight ? 'immediate' : m.optIn,
      },
    ];
  }

  /** https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ApplyPendingMaintenanceAction.html */
  applyPendingAction(inst: DbInstance, action: string, optInType: string): void {
    const now = this.ctx.now();
    if (!['immediate', 'next-maintenance', 'undo-opt-in'].includes(optInType)) {
      throw new SimError('InvalidParameterValue', `Invalid OptInType '${optInType}': expected immediate, next-maintenance or undo-opt-in`);
    }
    const pending = this.pendingActions(inst).find((a) => a.action === action);
    if (!pending) {
      // As RDS answers it (cloud-custodian/cloud-custodian#1897): "InvalidParameterCombination ... There is no pending db-upgrade action for arn:…".
      throw new SimError('InvalidParameterCombination', `There is no pending ${action} action for ${inst.arn}`);
    }
    if (optInType === 'undo-opt-in') {
      inst.maintenance.optIn = undefined;
    } else if (optInType === 'next-maintenance') {
      inst.maintenance.optIn = 'next-maintenance';
    } else {
      if (pending.optInStatus === 'immediate') return; // already being applied
      if (inst.status !== 'available') {
        throw new SimError('InvalidDBInstanceState', `Database instance ${inst.id} is in ${inst.status} state; it must be available to apply maintenance.`);
      }
      // The same refusal as ModifyDBInstance: the reference names no error for it here (the model lists only
      // ResourceNotFoundFault, InvalidDBClusterStateFault and InvalidDBInstanceStateFault for this call); the
      // simulator answers DBUpgradeDependencyFailure, because the upgrade is refused for the same reason.
      this.replicas.checkUpgradeDependency(inst, pending.targetVersion);
      this.startUpgrade(inst, now, pending.targetVersion, 'pending-action-immediate');
    }
    this.ctx.markDirty();
  }

  // ---- time -------------------------------------------------------------------------------------

  /**
   * Moves every instance forward to `now`, one event at a time, in time order across all instances: a source's
   * window can depend on whether its replicas were upgraded first. At the same instant a replica goes before its
   * source (deeper replicas first), so a replica and a source sharing a window upgrade in the right order.
   */
  tick(): void {
    this.databases().observeClock();
    const now = this.ctx.now();
    const due = new Map<DbInstance, Due | undefined>();
    for (const inst of Object.values(this.ctx.state.instances)) due.set(inst, this.nextEvent(inst, now));
    for (let guard = 0; guard < 1_000_000; guard++) {
      let pick: { inst: DbInstance; event: Due; depth: number } | undefined;
      for (const [inst, event] of due) {
        if (!event || (pick && event.at > pick.event.at)) continue;
        const depth = inst.replicaOf ? this.replicas.depth(inst) : 0;
        if (!pick || event.at < pick.event.at || depth > pick.depth) pick = { inst, event, depth };
      }
      if (!pick) return;
      pick.event.run(pick.event.at);
      this.ctx.markDirty();
      due.set(pick.inst, this.nextEvent(pick.inst, now));
      // A source's forced upgrade waits for its replicas: look again once one of them moved.
      const source = this.replicas.sourceOf(pick.inst);
      if (source && due.has(source)) due.set(source, this.nextEvent(source, now));
    }
    throw new Error('simulator: RDS instances did not settle (event loop guard)');
  }

  /** The instance's earliest event due by `now`, if any. */
  private nextEvent(inst: DbInstance, now: number): Due | undefined {
    let next: Due | undefined;
    const consider = (at: number, run: (at: number) => void): void => {
      if (at <= now && (!next || at < next.at)) next = { at, run };
    };
    if (inst.securityGroupChange) {
      consider(inst.securityGroupChange.until, () => {
        inst.securityGroupChange = undefined;
      });
    }
    if (inst.op) {
      consider((inst.op.steps[0] as { until: number }).until, (at) => this.completeStep(inst, at));
    } else {
      if (inst.status === 'stopped' && inst.stoppedAt !== undefined) {
        consider(inst.stoppedAt + AUTO_RESTART_AFTER_MS, (at) => {
          this.startOp(inst, at, { kind: 'start', steps: this.steps(at, ['starting', 'starting']), finalStatus: 'available' });
        });
      }
      const forced = inst.maintenance.forcedApplyDate;
      const target = this.pendingUpgradeTarget(inst);
      // A forced upgrade of a source whose replicas are behind waits until they have been upgraded.
      if (inst.status === 'available' && forced !== undefined && target && this.replicas.upgradeMayStart(inst, target)) {
        const from = Math.max(forced, inst.statusSince, inst.maintenanceCheckedUntil, this.replicas.caughtUpAt(inst));
        consider(from, (at) => this.startUpgrade(inst, at, target, 'forced-apply'));
      }
    }
    const window = parseMaintenanceWindow(inst.preferredMaintenanceWindow);
    consider(nextWindowStartAfter(window, inst.maintenanceCheckedUntil), (at) => this.windowOpens(inst, at));
    return next;
  }

  /**
   * The maintenance window opens: apply what is queued. A version queued by ModifyDBInstance or an
   * opted-in pending action always runs; the catalogue's automatic minor upgrade runs only when
   * AutoMinorVersionUpgrade is on (or AutoAppliedAfterDate has passed). Replicas first: a minor upgrade of a
   * source whose replicas run below the target does not start; the window passes and the work stays queued
   * (the pending action, its opt-in, a queued version) for a later window.
   */
  private windowOpens(inst: DbInstance, at: number): void {
    inst.maintenanceCheckedUntil = at;
    this.startWindowWork(inst, at);
  }

  /**
   * What the window starts: a version queued by ModifyDBInstance or an opted-in pending action always; the
   * catalogue's automatic minor upgrade only when AutoMinorVersionUpgrade is on (or AutoAppliedAfterDate has
   * passed); nothing for a source whose replicas run below the target.
   */
  private startWindowWork(inst: DbInstance, at: number): void {
    if (inst.status !== 'available' || inst.op) return;
    if (inst.pendingEngineVersion) {
      if (this.replicas.upgradeMayStart(inst, inst.pendingEngineVersion)) this.startUpgrade(inst, at, inst.pendingEngineVersion, 'maintenance-window');
      return;
    }
    const target = this.pendingUpgradeTarget(inst);
    if (!target || !this.replicas.upgradeMayStart(inst, target)) return;
    const m = inst.maintenance;
    if (inst.autoMinorVersionUpgrade || m.optIn === 'next-maintenance' || (m.autoAppliedAfterDate !== undefined && m.autoAppliedAfterDate <= at)) {
      this.startUpgrade(inst, at, target, 'maintenance-window');
    }
  }

  /**
   * Work started while the window is still open, not only as it opens: "If a maintenance event is scheduled for
   * a given week, it's initiated during the 30-minute maintenance window you identify" (RDS User Guide, "The
   * Amazon RDS maintenance window"). So AutoMinorVersionUpgrade turned on inside an open window, or a source's
   * last replica catching up inside the source's window, starts the upgrade then. (When exactly inside the
   * window RDS starts is not documented; the simulator starts at the opening, or at once when the work becomes
   * possible later in it.)
   */
  applyInOpenWindow(inst: DbInstance, at: number): void {
    const window = parseMaintenanceWindow(inst.preferredMaintenanceWindow);
    if (!isInWindow(window, at)) return;
    const openedAt = nextWindowStartAfter(window, at) - 7 * DAY;
    // The opening itself is handled by tick(); only a window already opened is looked at again.
    if (inst.maintenanceCheckedUntil < openedAt) return;
    this.startWindowWork(inst, at);
  }

  private completeStep(inst: DbInstance, at: number): void {
    const op = inst.op as InstanceOperation;
    op.steps.shift();
    inst.statusSince = at;
    const nextStep = op.steps[0];
    if (nextStep) {
      inst.status = nextStep.status;
      this.databases().statusChanged(inst);
      return;
    }
    inst.op = undefined;
    inst.status = op.finalStatus;
    if (op.finalStatus === 'stopped') inst.stoppedAt = at;
    if (op.targetVersion) this.completeUpgrade(inst, at, op.targetVersion);
    // A PostgreSQL-backed instance is `available` only once its server accepts connections (started here, synchronously).
    this.databases().statusChanged(inst);
  }

  /**
   * A major upgrade moves the instance to the new family's parameter group: the one given with the
   * request, or RDS's default for the new family when the instance was on a default group (a custom
   * group without a new one is refused up front, see RdsModel.modify).
   */
  private completeUpgrade(inst: DbInstance, at: number, version: string): void {
    const wasMajor = majorOf(version) !== majorOf(inst.engineVersion);
    inst.engineVersion = version;
    inst.versionHistory.push({ at, version });
    if (wasMajor) {
      inst.parameterGroupName = inst.pendingParameterGroupName ?? (isDefaultParameterGroup(inst.parameterGroupName) ? defaultParameterGroupName(inst.engine, version) : inst.parameterGroupName);
      inst.optionGroupName = `default:${inst.engine}-${majorOf(version)}`;
    }
    inst.pendingParameterGroupName = undefined;
    inst.parameterApplyStatus = undefined; // the upgrade reboots the instance
    if (inst.pendingEngineVersion && compareVersions(inst.pendingEngineVersion, version) <= 0) inst.pendingEngineVersion = undefined;
    if (!this.pendingUpgradeTarget(inst)) inst.maintenance = {};
    else inst.maintenance.optIn = undefined;
    // A replica done inside its source's open window lets the source's upgrade start in it.
    const source = this.replicas.sourceOf(inst);
    if (source) this.applyInOpenWindow(source, at);
  }
}
