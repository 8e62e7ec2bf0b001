/**
 * The simulator's state machine: state + clock + the service models, with seeding, faults, the call
 * log and persistence. No HTTP here (sim/src/server.ts), so tests can drive it directly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Catalogue } from './catalogue';
import type { Clock } from './clock';
import { SystemClock } from './clock';
import type { Durations, SimContext } from './context';
import { DEFAULT_DURATIONS } from './context';
import { Ec2Model } from './ec2-model';
import type { SimStateData } from './model';
import { STATE_FORMAT_VERSION, emptyState } from './model';
import { PagerDutyModel } from './pagerduty-model';
import { RdsModel } from './rds-model';
import { Route53Model } from './route53-model';
import { applySeed } from './seeding';
import { StatuspageModel } from './statuspage-model';
import { StsModel } from './sts-model';
import { RequestThrottle, type TokenBucketSpec } from './throttle';
import type { CallDetails, CallFilter, CallRecord, FaultSpec, FaultState, SeedResult, SeedSpec } from './types';

export interface EngineOptions {
  clock?: Clock;
  /** Divides every duration (default 1). */
  speed?: number;
  durations?: Partial<Durations>;
  stateFile?: string;
  /** RDS API token bucket per account and region (sim/src/throttle.ts); absent = no throttling. */
  rdsThrottle?: TokenBucketSpec;
}

const MAX_CALLS = 20_000;

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
  readonly sts: StsModel;
  readonly pagerDuty: PagerDutyModel;
  /** The RDS API's request throttling (off unless configured). */
  readonly rdsThrottle: RequestThrottle;
  faults: FaultState = { throttleNext: 0, errorNext: 0, errorStatus: 500, latencyMs: 0 };
  calls: CallRecord[] = [];
  /** What CloudTrail needs of an AWS call beyond its log entry (sim/src/cloudtrail-record.ts); goes with the entry. */
  readonly callDetails = new WeakMap<CallRecord, CallDetails>();
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
    this.ec2 = new Ec2Model(this);
    this.rds = new RdsModel(this, this.ec2);
    this.route53 = new Route53Model(this, this.ec2);
    this.statuspage = new StatuspageModel(this);
    this.sts = new StsModel(this);
    this.pagerDuty = new PagerDutyModel(this);
    // Real (or test) time, not simulated time: /_sim/advance must not refill the buckets.
    this.rdsThrottle = new RequestThrottle(() => this.clock.now(), opts.rdsThrottle);
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
    // The throttle's settings are the server's, like its speed: kept, with every bucket full again.
    this.rdsThrottle.configure(this.rdsThrottle.settings);
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

  recordCall(call: Omit<CallRecord, 'seq' | 'at'>, details?: CallDetails): CallRecord {
    const rec: CallRecord = { ...call, seq: ++this.seq, at: new Date(this.now()).toISOString() };
    if (details) this.callDetails.set(rec, details);
    this.calls.push(rec);
    if (this.calls.length > MAX_CALLS) this.calls.splice(0, this.calls.length - MAX_CALLS);
    return rec;
  }

  listCalls(filter: CallFilter = {}): CallRecord[] {
    return this.calls.filter(
      (c) =>
        (filter.service === undefined || c.service === filter.service) &&
        (filter.action === undefined || c.action === filter.action) &&
        (filter.account === undefined || c.account === filter.account) &&
        (filter.principal === undefined || c.principal === filter.principal) &&
        (filter.since === undefined || c.seq > filter.since) &&
        (!filter.mutationsOnly || c.isMutation),
    );
  }

  seed(spec: SeedSpec): SeedResult {
    const result = applySeed(this, spec);
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
