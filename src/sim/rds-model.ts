/**
 * RDS behaviour: instance lifecycle over time, upgrades, maintenance windows, pending maintenance
 * actions and point-in-time restore, with the refusals RDS makes. Protocol-free: src/sim/rds.ts turns
 * requests into these calls and the results into XML.
 */
import { DAY, MINUTE } from './clock';
import { compareVersions, majorOf } from './catalogue';
import type { SimContext } from './context';
import { SimError, notFound } from './errors';
import type { DbInstance, InstanceOperation, Tag } from './model';
import { endpointSuffix, randomString, rdsEndpointHostedZoneId, regionalKey } from './model';
import { nextWindowStartAfter, parseMaintenanceWindow } from './window';

/** RDS starts a stopped instance again after this long. */
export const AUTO_RESTART_AFTER_MS = 7 * DAY;
/** LatestRestorableTime trails now by this much. */
export const RESTORE_LAG_MS = 5 * MINUTE;

export interface PendingActionView {
  action: 'db-upgrade';
  description: string;
  targetVersion: string;
  autoAppliedAfterDate?: number;
  forcedApplyDate?: number;
  currentApplyDate?: number;
  optInStatus?: string;
}

export interface CreateInstanceInput {
  id: string;
  instanceClass: string;
  engine: string;
  engineVersion?: string;
  allocatedStorage?: number;
  storageType?: string;
  iops?: number;
  storageEncrypted?: boolean;
  kmsKeyId?: string;
  multiAZ?: boolean;
  availabilityZone?: string;
  dbSubnetGroupName?: string;
  parameterGroupName?: string;
  vpcSecurityGroupIds?: string[];
  preferredMaintenanceWindow?: string;
  preferredBackupWindow?: string;
  backupRetentionPeriod?: number;
  autoMinorVersionUpgrade?: boolean;
  deletionProtection?: boolean;
  copyTagsToSnapshot?: boolean;
  masterUsername?: string;
  dbName?: string;
  port?: number;
  tags?: Tag[];
}

export interface ModifyInstanceInput {
  autoMinorVersionUpgrade?: boolean;
  engineVersion?: string;
  allowMajorVersionUpgrade?: boolean;
  applyImmediately?: boolean;
  deletionProtection?: boolean;
  preferredMaintenanceWindow?: string;
  backupRetentionPeriod?: number;
}

export interface RestoreInput {
  sourceId: string;
  targetId: string;
  restoreTime?: number;
  useLatestRestorableTime?: boolean;
  instanceClass?: string;
  dbSubnetGroupName?: string;
  parameterGroupName?: string;
  vpcSecurityGroupIds?: string[];
  multiAZ?: boolean;
  storageType?: string;
  allocatedStorage?: number;
  iops?: number;
  availabilityZone?: string;
  deletionProtection?: boolean;
  autoMinorVersionUpgrade?: boolean;
  copyTagsToSnapshot?: boolean;
  tags?: Tag[];
}

const IDENTIFIER_RE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

export function validateIdentifier(id: string, param = 'DBInstanceIdentifier'): string {
  const lower = id.toLowerCase();
  if (lower.length > 63 || !IDENTIFIER_RE.test(lower)) {
    throw new SimError(
      'InvalidParameterValue',
      `The parameter ${param} is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.`,
    );
  }
  return lower;
}

export class RdsModel {
  constructor(private readonly ctx: SimContext) {}

  // ---- lookup ---------------------------------------------------------------------------------

  find(account: string, region: string, id: string): DbInstance | undefined {
    return this.ctx.state.instances[regionalKey(account, region, id.toLowerCase())];
  }

  get(account: string, region: string, id: string): DbInstance {
    const inst = this.find(account, region, id);
    if (!inst) throw notFound('DBInstanceNotFound', `DBInstance ${id} not found.`);
    return inst;
  }

  list(account: string, region: string): DbInstance[] {
    return Object.values(this.ctx.state.instances)
      .filter((i) => i.account === account && i.region === region)
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  /** An instance by ARN (`arn:aws:rds:region:account:db:id`); undefined when the ARN names none. */
  findByArn(account: string, region: string, arn: string): DbInstance | undefined {
    const m = /^arn:aws[a-z-]*:rds:([a-z0-9-]+):(\d{12}):db:([A-Za-z0-9-]+)$/.exec(arn);
    if (!m) return undefined;
    const [, arnRegion, arnAccount, id] = m as unknown as [string, string, string, string];
    if (arnRegion !== region || arnAccount !== account) return undefined;
    return this.find(account, region, id);
  }

  // ---- create / restore ---------------------------------------------------------------------

  create(account: string, region: string, input: CreateInstanceInput, options: { status?: string; createdAt?: number } = {}): DbInstance {
    const now = this.ctx.now();
    const id = validateIdentifier(input.id);
    if (this.find(account, region, id)) throw new SimError('DBInstanceAlreadyExists', 'DB instance already exists');
    const cat = this.ctx.catalogue();
    if (!cat.engines().includes(input.engine)) {
      throw new SimError('InvalidParameterValue', `Invalid DB engine: ${input.engine}. The simulator's catalogue has: ${cat.engines().join(', ')}`);
    }
    const engineVersion = input.engineVersion ?? cat.defaultVersion(input.engine);
    if (!engineVersion || !cat.has(input.engine, engineVersion)) {
      throw new SimError('InvalidParameterCombination', `Cannot find version ${input.engineVersion} for ${input.engine}`);
    }
    const window = input.preferredMaintenanceWindow ?? 'sun:05:00-sun:05:30';
    parseMaintenanceWindow(window);
    const retention = input.backupRetentionPeriod ?? 31;
    if (retention < 0 || retention > 35) throw new SimError('InvalidParameterValue', `BackupRetentionPeriod must be between 0 and 35, got ${retention}`);
    const createdAt = options.createdAt ?? now;
    const inst: DbInstance = {
      account,
      region,
      id,
      arn: `arn:aws:rds:${region}:${account}:db:${id}`,
      resourceId: `db-${randomString(26)}`,
      engine: input.engine,
      engineVersion,
      versionHistory: [{ at: createdAt, version: engineVersion }],
      instanceClass: input.instanceClass,
      allocatedStorage: input.allocatedStorage ?? 20,
      storageType: input.storageType ?? 'gp2',
      iops: input.iops,
      storageEncrypted: input.storageEncrypted ?? Boolean(input.kmsKeyId),
      kmsKeyId: input.kmsKeyId,
      multiAZ: input.multiAZ ?? false,
      availabilityZone: input.availabilityZone ?? `${region}a`,
      dbSubnetGroupName: input.dbSubnetGroupName ?? 'default',
      parameterGroupName: input.parameterGroupName ?? `default.${input.engine}${majorOf(engineVersion)}`,
      optionGroupName: `default:${input.engine}-${majorOf(engineVersion)}`,
      vpcSecurityGroupIds: input.vpcSecurityGroupIds ?? [],
      preferredMaintenanceWindow: window.toLowerCase(),
      preferredBackupWindow: input.preferredBackupWindow ?? '03:00-03:30',
      backupRetentionPeriod: retention,
      autoMinorVersionUpgrade: input.autoMinorVersionUpgrade ?? true,
      deletionProtection: input.deletionProtection ?? false,
      copyTagsToSnapshot: input.copyTagsToSnapshot ?? false,
      masterUsername: input.masterUsername ?? 'postgres',
      dbName: input.dbName,
      endpoint: {
        address: `${id}.${endpointSuffix(account, region)}.${region}.rds.amazonaws.com`,
        port: input.port ?? 5432,
        hostedZoneId: rdsEndpointHostedZoneId(region),
      },
      tags: dedupeTags(input.tags ?? []),
      createdAt,
      status: 'available',
      statusSince: createdAt,
      maintenance: {},
      maintenanceCheckedUntil: createdAt,
    };
    if (options.status === 'available' || options.status === 'stopped') {
      inst.status = options.status;
      if (options.status === 'stopped') inst.stoppedAt = now;
    } else {
      this.startOp(inst, now, { kind: 'create', steps: this.steps(now, ['creating', 'creating'], ['backing-up', 'backingUp']), finalStatus: 'available' });
    }
    this.ctx.state.instances[regionalKey(account, region, id)] = inst;
    this.ctx.markDirty();
    return inst;
  }

  restoreWindow(inst: DbInstance): { earliest: number; latest: number } {
    const now = this.ctx.now();
    const frozenAt = inst.status === 'stopped' && inst.stoppedAt !== undefined ? inst.stoppedAt : now;
    const latest = Math.max(inst.createdAt, frozenAt - RESTORE_LAG_MS);
    const earliest = Math.min(latest, Math.max(inst.createdAt, now - inst.backupRetentionPeriod * DAY));
    return { earliest, latest };
  }

  restore(account: string, region: string, input: RestoreInput): DbInstance {
    const source = this.get(account, region, input.sourceId);
    const targetId = validateIdentifier(input.targetId, 'TargetDBInstanceIdentifier');
    if (this.find(account, region, targetId)) throw new SimError('DBInstanceAlreadyExists', 'DB instance already exists');
    if (source.backupRetentionPeriod === 0) {
      throw new SimError('PointInTimeRestoreNotEnabled', `Point-in-time restore is not enabled for DB instance ${source.id} (BackupRetentionPeriod is 0)`);
    }
    if (source.status === 'creating') {
      throw new SimError('InvalidDBInstanceState', `DB instance ${source.id} is still being created and has no restorable backup yet`);
    }
    if ((input.restoreTime !== undefined) === Boolean(input.useLatestRestorableTime)) {
      throw new SimError('InvalidParameterCombination', 'Specify exactly one of RestoreTime and UseLatestRestorableTime');
    }
    const { earliest, latest } = this.restoreWindow(source);
    const restoreTime = input.restoreTime ?? latest;
    if (restoreTime < earliest || restoreTime > latest) {
      throw new SimError(
        'InvalidRestoreFault',
        `Restore time ${new Date(restoreTime).toISOString()} is outside the restorable window of DB instance ${source.id}: ` +
          `earliest ${new Date(earliest).toISOString()}, latest ${new Date(latest).toISOString()}`,
      );
    }
    const versionThen = [...source.versionHistory].reverse().find((v) => v.at <= restoreTime)?.version ?? source.engineVersion;
    const restored = this.create(account, region, {
      id: targetId,
      instanceClass: input.instanceClass ?? source.instanceClass,
      engine: source.engine,
      engineVersion: versionThen,
      allocatedStorage: input.allocatedStorage ?? source.allocatedStorage,
      storageType: input.storageType ?? source.storageType,
      iops: input.iops ?? source.iops,
      storageEncrypted: source.storageEncrypted,
      kmsKeyId: source.kmsKeyId,
      multiAZ: input.multiAZ ?? false,
      availabilityZone: input.availabilityZone,
      // Like RDS: what is not given comes from the defaults, not from the source.
      dbSubnetGroupName: input.dbSubnetGroupName ?? 'default',
      parameterGroupName: input.parameterGroupName,
      vpcSecurityGroupIds: input.vpcSecurityGroupIds,
      preferredMaintenanceWindow: source.preferredMaintenanceWindow,
      preferredBackupWindow: source.preferredBackupWindow,
      backupRetentionPeriod: source.backupRetentionPeriod,
      autoMinorVersionUpgrade: input.autoMinorVersionUpgrade ?? true,
      deletionProtection: input.deletionProtection ?? false,
      copyTagsToSnapshot: input.copyTagsToSnapshot ?? false,
      masterUsername: source.masterUsername,
      dbName: source.dbName,
      port: source.endpoint.port,
      tags: input.tags ?? [],
    });
    restored.restoredFrom = { sourceInstanceId: source.id, restoreTime };
    return restored;
  }

  // ---- modify / stop / start ----------------------------------------------------------------

  modify(account: string, region: string, id: string, input: ModifyInstanceInput): DbInstance {
    const now = this.ctx.now();
    const inst = this.get(account, region, id);
    if (inst.status !== 'available') {
      throw new SimError('InvalidDBInstanceState', `Database instance ${inst.id} is in ${inst.status} state; it must be available to be modified.`);
    }
    // Validate everything before changing anything: a refused request changes nothing.
    let upgradeTo: string | undefined;
    if (input.engineVersion !== undefined && input.engineVersion !== inst.engineVersion) {
      upgradeTo = this.validateUpgrade(inst, input.engineVersion, input.allowMajorVersionUpgrade ?? false);
    }
    if (input.preferredMaintenanceWindow !== undefined) parseMaintenanceWindow(input.preferredMaintenanceWindow);
    if (input.backupRetentionPeriod !== undefined && (input.backupRetentionPeriod < 0 || input.backupRetentionPeriod > 35)) {
      throw new SimError('InvalidParameterValue', `BackupRetentionPeriod must be between 0 and 35, got ${input.backupRetentionPeriod}`);
    }

    if (input.autoMinorVersionUpgrade !== undefined) inst.autoMinorVersionUpgrade = input.autoMinorVersionUpgrade;
    if (input.deletionProtection !== undefined) inst.deletionProtection = input.deletionProtection;
    if (input.backupRetentionPeriod !== undefined) inst.backupRetentionPeriod = input.backupRetentionPeriod;
    if (input.preferredMaintenanceWindow !== undefined) {
      inst.preferredMaintenanceWindow = input.preferredMaintenanceWindow.toLowerCase();
      inst.maintenanceCheckedUntil = now;
    }
    if (upgradeTo !== undefined) {
      if (input.applyImmediately) {
        inst.pendingEngineVersion = undefined;
        this.startOp(inst, now, {
          kind: 'upgrade',
          steps: this.steps(now, ['modifying', 'modifying'], ['upgrading', 'upgrading']),
          finalStatus: 'available',
          targetVersion: upgradeTo,
          trigger: 'apply-immediately',
        });
      } else {
        inst.pendingEngineVersion = upgradeTo;
      }
    }
    this.ctx.markDirty();
    return inst;
  }

  /** Returns the version to upgrade to, or throws what RDS answers for an invalid target. */
  private validateUpgrade(inst: DbInstance, target: string, allowMajor: boolean): string {
    const cat = this.ctx.catalogue();
    if (!cat.has(inst.engine, target)) {
      throw new SimError('InvalidParameterCombination', `Cannot find version ${target} for ${inst.engine}`);
    }
    const valid = cat.validUpgradeTargets(inst.engine, inst.engineVersion).find((t) => t.engineVersion === target);
    if (!valid) {
      throw new SimError('InvalidParameterCombination', `Cannot upgrade ${inst.engine} from ${inst.engineVersion} to ${target}`);
    }
    if (valid.isMajorVersionUpgrade && !allowMajor) {
      throw new SimError('InvalidParameterCombination', 'The AllowMajorVersionUpgrade flag must be present when upgrading to a new major version.');
    }
    return target;
  }

  stop(account: string, region: string, id: string): DbInstance {
    const now = this.ctx.now();
    const inst = this.get(account, region, id);
    if (inst.status !== 'available') {
      throw new SimError('InvalidDBInstanceState', `DB Instance ${inst.id} is in ${inst.status} state but expected it to be one of available.`);
    }
    this.startOp(inst, now, { kind: 'stop', steps: this.steps(now, ['stopping', 'stopping']), finalStatus: 'stopped' });
    this.ctx.markDirty();
    return inst;
  }

  start(account: string, region: string, id: string): DbInstance {
    const now = this.ctx.now();
    const inst = this.get(account, region, id);
    if (inst.status !== 'stopped') {
      throw new SimError('InvalidDBInstanceState', `DB Instance ${inst.id} is in ${inst.status} state but expected it to be one of stopped, inaccessible-encryption-credentials-recoverable.`);
    }
    this.startOp(inst, now, { kind: 'start', steps: this.steps(now, ['starting', 'starting']), finalStatus: 'available' });
    this.ctx.markDirty();
    return inst;
  }

  // ---- tags -----------------------------------------------------------------------------------

  addTags(inst: DbInstance, tags: Tag[]): void {
    inst.tags = dedupeTags([...inst.tags, ...tags]);
    this.ctx.markDirty();
  }

  removeTags(inst: DbInstance, keys: string[]): void {
    inst.tags = inst.tags.filter((t) => !keys.includes(t.Key));
    this.ctx.markDirty();
  }

  // ---- pending maintenance --------------------------------------------------------------------

  /** The minor version the db-upgrade action would move to, when the instance is below it. */
  pendingUpgradeTarget(inst: DbInstance): string | undefined {
    const target = inst.maintenance.targetVersion ?? this.ctx.catalogue().autoUpgradeTargetFor(inst.engine, inst.engineVersion);
    return target !== undefined && compareVersions(target, inst.engineVersion) > 0 ? target : undefined;
  }

  pendingActions(inst: DbInstance): PendingActionView[] {
    const target = this.pendingUpgradeTarget(inst);
    if (!target) return [];
    const m = inst.maintenance;
    const inFlight = inst.op?.kind === 'upgrade' && inst.op.targetVersion === target;
    let currentApplyDate: number | undefined;
    if (inFlight) currentApplyDate = inst.statusSince;
    else {
      const now = this.ctx.now();
      const nextWindow = nextWindowStartAfter(parseMaintenanceWindow(inst.preferredMaintenanceWindow), now);
      const windowApplies = m.optIn === 'next-maintenance' || inst.autoMinorVersionUpgrade || (m.autoAppliedAfterDate !== undefined && m.autoAppliedAfterDate <= nextWindow);
      if (windowApplies) currentApplyDate = nextWindow;
      if (m.forcedApplyDate !== undefined) currentApplyDate = Math.min(currentApplyDate ?? Infinity, Math.max(m.forcedApplyDate, now));
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

  // ---- time -----------------------------------------------------------------------------------

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

  private startUpgrade(inst: DbInstance, at: number, target: string, trigger: InstanceOperation['trigger']): void {
    this.startOp(inst, at, { kind: 'upgrade', steps: this.steps(at, ['upgrading', 'upgrading']), finalStatus: 'available', targetVersion: target, trigger });
  }

  private steps(start: number, ...phases: Array<[string, Parameters<SimContext['durationMs']>[0]]>): InstanceOperation['steps'] {
    let t = start;
    return phases.map(([status, kind]) => {
      t += this.ctx.durationMs(kind);
      return { status, until: t };
    });
  }

  private startOp(inst: DbInstance, at: number, op: InstanceOperation): void {
    inst.op = op;
    inst.status = (op.steps[0] as { status: string }).status;
    inst.statusSince = at;
    if (op.kind === 'start') inst.stoppedAt = undefined;
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
    if (op.targetVersion) {
      inst.engineVersion = op.targetVersion;
      inst.versionHistory.push({ at, version: op.targetVersion });
      if (inst.pendingEngineVersion && compareVersions(inst.pendingEngineVersion, op.targetVersion) <= 0) inst.pendingEngineVersion = undefined;
      if (!this.pendingUpgradeTarget(inst)) inst.maintenance = {};
      else inst.maintenance.optIn = undefined;
    }
  }
}

function dedupeTags(tags: Tag[]): Tag[] {
  const byKey = new Map<string, Tag>();
  for (const t of tags) byKey.set(t.Key, { Key: t.Key, Value: t.Value });
  return [...byKey.values()];
}

export function engineDisplayName(engine: string): string {
  return engine === 'postgres' ? 'PostgreSQL' : engine;
}
