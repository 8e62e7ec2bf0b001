/**
 * RDS over time: status steps, maintenance windows, forced dates, the 7-day automatic restart, pending
 * maintenance actions and asynchronous security-group changes. Time is computed lazily: `tick()` moves
 * every instance to "now" one event at a time, in time order.
 */
import { DAY } from './clock';
import { compareVersions, majorOf } from './catalogue';
import type { SimContext } from './context';
import { SimError } from './errors';
import type { DbInstance, InstanceOperation } from './model';
import { defaultParameterGroupName, isDefaultParameterGroup } from './rds-resources';
import { nextWindowStartAfter, parseMaintenanceWindow } from './window';

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

export class RdsLifecycle {
  constructor(private readonly ctx: SimContext) {}

  steps(start: number, ...phases: Array<[string, Parameters<SimContext['durationMs']>[0]]>): InstanceOperation['steps'] {
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
      throw new SimError('InvalidParameterValue', `No pending maintenance action '${action}' for resource ${inst.arn}`);
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
      this.startUpgrade(inst, now, pending.targetVersion, 'pending-action-immediate');
    }
    this.ctx.markDirty();
  }

  // ---- time -------------------------------------------------------------------------------------

  /** Moves every instance forward to `now`, event by event, in time order. */
  tick(): void {
    const now = this.ctx.now();
    for (const inst of Object.values(this.ctx.state.instances)) this.tickInstance(inst, now);
  }

  private tickInstance(inst: DbInstance, now: number): void {
    for (let guard = 0; guard < 100_000; guard++) {
      let next: { at: number; run: (at: number) => void } | undefined;
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
        if (inst.status === 'available' && forced !== undefined && target) {
          consider(Math.max(forced, inst.statusSince, inst.maintenanceCheckedUntil), (at) => this.startUpgrade(inst, at, target, 'forced-apply'));
        }
      }
      const window = parseMaintenanceWindow(inst.preferredMaintenanceWindow);
      consider(nextWindowStartAfter(window, inst.maintenanceCheckedUntil), (at) => this.windowOpens(inst, at));
      if (!next) return;
      const event: { at: number; run: (at: number) => void } = next;
      event.run(event.at);
      this.ctx.markDirty();
    }
    throw new Error(`simulator: instance ${inst.id} did not settle (event loop guard)`);
  }

  /**
   * The maintenance window opens: apply what is queued. A version queued by ModifyDBInstance or an
   * opted-in pending action always runs; the catalogue's automatic minor upgrade runs only when
   * AutoMinorVersionUpgrade is on (or AutoAppliedAfterDate has passed).
   */
  private windowOpens(inst: DbInstance, at: number): void {
    inst.maintenanceCheckedUntil = at;
    if (inst.status !== 'available' || inst.op) return;
    if (inst.pendingEngineVersion) {
      this.startUpgrade(inst, at, inst.pendingEngineVersion, 'maintenance-window');
      return;
    }
    const target = this.pendingUpgradeTarget(inst);
    if (!target) return;
    const m = inst.maintenance;
    if (inst.autoMinorVersionUpgrade || m.optIn === 'next-maintenance' || (m.autoAppliedAfterDate !== undefined && m.autoAppliedAfterDate <= at)) {
      this.startUpgrade(inst, at, target, 'maintenance-window');
    }
  }

  private completeStep(inst: DbInstance, at: number): void {
    const op = inst.op as InstanceOperation;
    op.steps.shift();
    inst.statusSince = at;
    const nextStep = op.steps[0];
    if (nextStep) {
      inst.status = nextStep.status;
      return;
    }
    inst.op = undefined;
    inst.status = op.finalStatus;
    if (op.finalStatus === 'stopped') inst.stoppedAt = at;
    if (op.targetVersion) this.completeUpgrade(inst, at, op.targetVersion);
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
  }
}
