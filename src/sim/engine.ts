/**
 * The simulator's state machine: state + clock + the service models, with seeding, faults, the call
 * log and persistence. No HTTP here (src/sim/server.ts), so tests can drive it directly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Catalogue } from './catalogue';
import type { Clock } from './clock';
import { DAY, SystemClock } from './clock';
import type { Durations, SimContext } from './context';
import { DEFAULT_DURATIONS } from './context';
import { Ec2Model } from './ec2-model';
import type { SimStateData } from './model';
import { DEFAULT_ACCOUNT, STATE_FORMAT_VERSION, emptyState } from './model';
import { RdsModel } from './rds-model';
import { Route53Model } from './route53-model';
import { StatuspageModel } from './statuspage-model';
import type { CallFilter, CallRecord, FaultSpec, FaultState, SeedResult, SeedSpec } from './types';

export interface EngineOptions {
  clock?: Clock;
  /** Divides every duration (default 1). */
  speed?: number;
  durations?: Partial<Durations>;
  stateFile?: string;
}

const MAX_CALLS = 20_000;

function toMs(v: string | number | undefined, field: string): number | undefined {
  if (v === undefined) return undefined;
  const ms = typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(ms)) throw new Error(`seed: ${field} is not a valid instant: ${String(v)}`);
  return ms;
}

export class SimEngine implements SimContext {
  state: SimStateData;
  readonly clock: Clock;
  readonly speed: number;
  readonly durations: Durations;
  readonly stateFile?: string;
  readonly rds: RdsModel;
  readonly route53: Route53Model;
  readonly ec2: Ec2Model;
  readonly statuspage: StatuspageModel;
  faults: FaultState = { throttleNext: 0, errorNext: 0, errorStatus: 500, latencyMs: 0 };
  calls: CallRecord[] = [];
  private seq = 0;
  private dirty = false;
  private catalogueCache?: { source: SimStateData['catalogue']; catalogue: Catalogue };

  constructor(opts: EngineOptions = {}) {
    this.clock = opts.clock ?? new SystemClock();
    this.speed = opts.speed ?? 1;
    if (!(this.speed > 0)) throw new Error(`speed must be a positive number, got ${opts.speed}`);
    this.durations = { ...DEFAULT_DURATIONS, ...opts.durations };
    this.stateFile = opts.stateFile;
    this.state = this.stateFile ? loadState(this.stateFile) : emptyState();
    this.rds = new RdsModel(this);
    this.route53 = new Route53Model(this);
    this.ec2 = new Ec2Model(this);
    this.statuspage = new StatuspageModel(this);
  }

  now(): number {
    return this.clock.now() + this.state.clockOffsetMs;
  }

  durationMs(kind: keyof Durations): number {
    return Math.round((this.durations[kind] * 1000) / this.speed);
  }

  catalogue(): Catalogue {
    if (this.catalogueCache?.source !== this.state.catalogue) {
      this.catalogueCache = { source: this.state.catalogue, catalogue: new Catalogue(this.state.catalogue) };
    }
    return this.catalogueCache.catalogue;
  }

  markDirty(): void {
    this.dirty = true;
  }

  /** Brings every model up to the current simulated time. */
  tick(): void {
    this.rds.tick();
    this.route53.tick();
    this.statuspage.tick();
  }

  /** Moves simulated time forward (POST /_sim/advance), then ticks. */
  advance(seconds: number): number {
    if (!(seconds >= 0)) throw new Error(`advance: seconds must be >= 0, got ${seconds}`);
    this.state.clockOffsetMs += Math.round(seconds * 1000);
    this.markDirty();
    this.tick();
    this.persistIfDirty();
    return this.now();
  }

  reset(): void {
    this.state = emptyState();
    this.faults = { throttleNext: 0, errorNext: 0, errorStatus: 500, latencyMs: 0 };
    this.calls = [];
    this.markDirty();
    this.persistIfDirty();
  }

  setFaults(spec: FaultSpec): FaultState {
    const nonNegativeInt = (v: unknown, name: string): number => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`faults: ${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
      return v;
    };
    if (spec.throttleNext !== undefined) this.faults.throttleNext = nonNegativeInt(spec.throttleNext, 'throttleNext');
    if (spec.errorNext !== undefined) this.faults.errorNext = nonNegativeInt(spec.errorNext, 'errorNext');
    if (spec.status !== undefined) {
      const s = nonNegativeInt(spec.status, 'status');
      if (s < 500 || s > 599) throw new Error(`faults: status must be a 5xx code, got ${s}`);
      this.faults.errorStatus = s;
    }
    if (spec.latencyMs !== undefined) this.faults.latencyMs = nonNegativeInt(spec.latencyMs, 'latencyMs');
    return { ...this.faults };
  }

  /** Takes the next injected fault, if any (throttling first). */
  takeFault(): { kind: 'throttle' } | { kind: 'error'; status: number } | undefined {
    if (this.faults.throttleNext > 0) {
      this.faults.throttleNext--;
      return { kind: 'throttle' };
    }
    if (this.faults.errorNext > 0) {
      this.faults.errorNext--;
      return { kind: 'error', status: this.faults.errorStatus };
    }
    return undefined;
  }

  recordCall(call: Omit<CallRecord, 'seq' | 'at'>): CallRecord {
    const rec: CallRecord = { ...call, seq: ++this.seq, at: new Date(this.now()).toISOString() };
    this.calls.push(rec);
    if (this.calls.length > MAX_CALLS) this.calls.splice(0, this.calls.length - MAX_CALLS);
    return rec;
  }

  listCalls(filter: CallFilter = {}): CallRecord[] {
    return this.calls.filter(
      (c) =>
        (filter.service === undefined || c.service === filter.service) &&
        (filter.action === undefined || c.action === filter.action) &&
        (filter.since === undefined || c.seq > filter.since) &&
        (!filter.mutationsOnly || c.isMutation),
    );
  }

  seed(spec: SeedSpec): SeedResult {
    if (spec.reset) this.reset();
    const now = this.now();
    if (spec.catalogue) {
      new Catalogue(structuredClone(spec.catalogue)); // validates before replacing
      this.state.catalogue = structuredClone(spec.catalogue);
    }
    const result: SeedResult = { instances: [], hostedZones: [], securityGroups: [] };

    for (const g of spec.securityGroups ?? []) {
      const account = g.account ?? DEFAULT_ACCOUNT;
      const existing = g.id ? this.ec2.find(account, g.region, g.id) : undefined;
      const group =
        existing ??
        this.ec2.create(account, g.region, {
          id: g.id,
          name: g.name,
          description: g.description ?? g.name,
          vpcId: g.vpcId,
          tags: Object.entries(g.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
        });
      result.securityGroups.push({ region: g.region, account, id: group.id, name: group.name });
    }
    // Ingress after all groups exist, so groups may refer to each other.
    for (const g of spec.securityGroups ?? []) {
      if (!g.ingress?.length) continue;
      const account = g.account ?? DEFAULT_ACCOUNT;
      const group = this.ec2.get(account, g.region, g.id ? { groupId: g.id } : { groupName: g.name });
      for (const r of g.ingress) {
        const perm = {
          protocol: r.protocol,
          fromPort: r.fromPort,
          toPort: r.toPort,
          groups: r.sourceGroupId ? [{ groupId: r.sourceGroupId, description: r.description }] : [],
          cidrs: r.cidrIp ? [{ cidrIp: r.cidrIp, description: r.description }] : [],
        };
        try {
          this.ec2.authorizeIngress(account, g.region, group, [perm]);
        } catch (err) {
          if ((err as { code?: string }).code !== 'InvalidPermission.Duplicate') throw err;
        }
      }
    }

    for (const s of spec.instances ?? []) {
      const account = s.account ?? DEFAULT_ACCOUNT;
      const createdAt = toMs(s.createdAt, `instances[${s.id}].createdAt`) ?? now - 400 * DAY;
      const inst = this.rds.create(
        account,
        s.region,
        {
          id: s.id,
          instanceClass: s.instanceClass ?? 'db.t3.medium',
          engine: s.engine ?? 'postgres',
          engineVersion: s.engineVersion,
          allocatedStorage: s.allocatedStorage,
          storageType: s.storageType,
          iops: s.iops,
          kmsKeyId: s.kmsKeyId,
          multiAZ: s.multiAZ,
          dbSubnetGroupName: s.dbSubnetGroupName,
          parameterGroupName: s.parameterGroupName,
          vpcSecurityGroupIds: s.vpcSecurityGroupIds ?? [this.ec2.defaultGroupId(account, s.region)],
          preferredMaintenanceWindow: s.preferredMaintenanceWindow,
          backupRetentionPeriod: s.backupRetentionPeriod,
          autoMinorVersionUpgrade: s.autoMinorVersionUpgrade,
          deletionProtection: s.deletionProtection,
          port: s.endpoint?.port,
          tags: Object.entries(s.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
        },
        { status: s.status ?? 'available', createdAt },
      );
      // A seeded fleet starts now: windows before the seed are history, not pending work.
      inst.maintenanceCheckedUntil = now;
      inst.statusSince = now;
      if (s.endpoint?.address) inst.endpoint.address = s.endpoint.address;
      if (s.endpoint?.hostedZoneId) inst.endpoint.hostedZoneId = s.endpoint.hostedZoneId;
      const pm = s.pendingMaintenance;
      if (pm) {
        if (pm.targetVersion && !this.catalogue().has(inst.engine, pm.targetVersion)) {
          throw new Error(`seed: instances[${s.id}].pendingMaintenance.targetVersion ${pm.targetVersion} is not in the catalogue`);
        }
        inst.maintenance = {
          targetVersion: pm.targetVersion,
          description: pm.description,
          autoAppliedAfterDate: toMs(pm.autoAppliedAfterDate, 'autoAppliedAfterDate'),
          forcedApplyDate: toMs(pm.forcedApplyDate, 'forcedApplyDate'),
        };
      }
      result.instances.push({ region: s.region, account, id: inst.id, arn: inst.arn, address: inst.endpoint.address });
    }

    for (const z of spec.hostedZones ?? []) {
      const account = z.account ?? DEFAULT_ACCOUNT;
      const { zone } = this.route53.createZone(account, {
        id: z.id,
        name: z.name,
        callerReference: `sim-seed-${z.id ?? z.name}-${now}`,
        comment: z.comment,
        privateZone: z.privateZone,
      });
      if (z.records?.length) {
        this.route53.changeRecords(
          account,
          zone.id,
          z.records.map((r) => ({
            action: 'UPSERT',
            record: { name: r.name, type: r.type, ttl: r.ttl ?? 300, values: r.values, setIdentifier: r.setIdentifier, weight: r.weight },
          })),
        );
      }
      // Seeded records are already live: publish them without waiting for INSYNC.
      zone.published = zone.records;
      for (const c of Object.values(this.state.changes)) {
        if (c.zoneId === zone.id && c.account === account) {
          c.insyncAt = Math.min(c.insyncAt, now);
          c.published = true;
          c.recordsAfter = undefined;
        }
      }
      result.hostedZones.push({ account, id: zone.id, name: zone.name });
    }
    this.markDirty();
    this.persistIfDirty();
    return result;
  }

  /** Writes the state file atomically (temp file + rename) when something changed. */
  persistIfDirty(): void {
    if (!this.dirty) return;
    this.dirty = false;
    if (!this.stateFile) return;
    const tmp = `${this.stateFile}.${process.pid}.tmp`;
    fs.mkdirSync(path.dirname(path.resolve(this.stateFile)), { recursive: true });
    fs.writeFileSync(tmp, JSON.stringify(this.state));
    fs.renameSync(tmp, this.stateFile);
  }
}

export function loadState(file: string): SimStateData {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw new Error(`simulator: cannot read state file ${file}: ${(err as Error).message}`);
  }
  let parsed: SimStateData;
  try {
    parsed = JSON.parse(text) as SimStateData;
  } catch (err) {
    throw new Error(`simulator: state file ${file} is not valid JSON (${(err as Error).message}); move it away to start fresh`);
  }
  if (parsed.formatVersion !== STATE_FORMAT_VERSION) {
    throw new Error(`simulator: state file ${file} has format ${parsed.formatVersion}, this simulator reads ${STATE_FORMAT_VERSION}; move it away to start fresh`);
  }
  return { ...emptyState(), ...parsed };
}
