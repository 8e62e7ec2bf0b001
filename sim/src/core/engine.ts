/**
 * The simulator's engine: the clock, the state and its file, the call log and injected faults, and a registry
 * of the services plugged into it (sim/src/core/service.ts), which it ticks, resets and seeds. It knows no
 * service; sim/src/simulator.ts plugs them in. No HTTP here (sim/src/core/http-server.ts), so tests can drive
 * it directly.
 */
import type { AwsProtocol } from './aws-protocol';
import type { CallDetails, CallFilter, CallRecord } from './call-log';
import { CallLog } from './call-log';
import type { Clock } from './clock';
import { SystemClock } from './clock';
import type { SimContext } from './context';
import type { FaultSpec, FaultState } from './faults';
import { noFaults, setFaults, takeFault } from './faults';
import type { IdentityProvider } from './identity';
import type { AdminRoute, HttpEndpoint, SeedStep, SimService } from './service';
import type { SimState } from './state';
import { addMissingMembers, coreState, loadState, writeState } from './state';

export interface EngineOptions {
  clock?: Clock;
  /** Divides every duration (default 1). */
  speed?: number;
  /** Overrides of the services' durations, in simulated seconds before `speed`. */
  durations?: Readonly<Record<string, number | undefined>>;
  stateFile?: string;
}

export class SimEngine implements SimContext {
  state: SimState;
  readonly clock: Clock;
  readonly speed: number;
  readonly stateFile?: string;
  faults: FaultState = noFaults();
  readonly callLog = new CallLog();
  private readonly services: SimService[] = [];
  private readonly durations: Record<string, number> = {};
  private readonly durationOverrides: Readonly<Record<string, number | undefined>>;
  private seedSteps: SeedStep[] = [];
  private dirty = false;

  constructor(opts: EngineOptions = {}) {
    this.clock = opts.clock ?? new SystemClock();
    this.speed = opts.speed ?? 1;
    if (!(this.speed > 0)) throw new Error(`speed must be a positive number, got ${opts.speed}`);
    this.durationOverrides = opts.durations ?? {};
    this.stateFile = opts.stateFile;
    this.state = this.stateFile ? loadState(this.stateFile) : coreState();
  }

  // ---- the registry ---------------------------------------------------------------------------

  /** Plugs a service in: its state members (added to the state when missing), durations, tick, seeding, API and routes. */
  register(service: SimService): void {
    if (this.services.some((s) => s.name === service.name)) throw new Error(`simulator: service ${service.name} is registered twice`);
    this.services.push(service);
    if (service.state) addMissingMembers(this.state, service.state);
    Object.assign(this.durations, service.durations);
  }

  /**
   * The order POST /_sim/seed applies the seed spec's members in, so later ones may refer to earlier ones (the
   * composition knows it: a DB subnet group names an EC2 VPC). Every member a service seeds must be in it.
   */
  seedInOrder(members: readonly string[]): void {
    const steps = this.services.flatMap((s) => s.seed?.steps ?? []);
    const unordered = steps.filter((s) => !members.includes(s.member)).map((s) => s.member);
    const unseeded = members.filter((m) => !steps.some((s) => s.member === m));
    if (unordered.length > 0 || unseeded.length > 0) throw new Error(`simulator: seed order ${members.join(', ')} lacks ${unordered.join(', ') || '-'}; nothing seeds ${unseeded.join(', ') || '-'}`);
    this.seedSteps = members.map((m) => steps.find((s) => s.member === m) as SeedStep);
  }

  get protocols(): AwsProtocol[] {
    return this.services.flatMap((s) => s.protocols ?? []);
  }

  get adminRoutes(): AdminRoute[] {
    return this.services.flatMap((s) => s.adminRoutes ?? []);
  }

  get httpEndpoints(): HttpEndpoint[] {
    return this.services.flatMap((s) => s.httpEndpoints ?? []);
  }

  get identity(): IdentityProvider {
    const provider = this.services.find((s) => s.identity)?.identity;
    if (!provider) throw new Error('simulator: no service tells who a request is (register STS)');
    return provider;
  }

  // ---- the context ----------------------------------------------------------------------------

  now(): number {
    return this.clock.now() + this.state.clockOffsetMs;
  }

  durationMs(kind: string): number {
    const seconds = this.durationOverrides[kind] ?? this.durations[kind];
    if (seconds === undefined) throw new Error(`simulator: no service registered the duration ${kind}`);
    return Math.round((seconds * 1000) / this.speed);
  }

  markDirty(): void {
    this.dirty = true;
  }

  // ---- time -----------------------------------------------------------------------------------

  /** Brings every service up to the current simulated time. */
  tick(): void {
    for (const s of this.services) s.tick?.();
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

  // ---- reset, seed, faults, the call log --------------------------------------------------------

  reset(): void {
    const state = coreState();
    for (const s of this.services) if (s.state) addMissingMembers(state, s.state);
    this.state = state;
    this.faults = noFaults();
    this.callLog.clear();
    for (const s of this.services) s.reset?.();
    this.markDirty();
    this.persistIfDirty();
  }

  /** POST /_sim/seed: each member of the spec, by the service that owns it, in the seed order. */
  seed(spec: object): Record<string, unknown[]> {
    const members = spec as Record<string, unknown>;
    if (members.reset) this.reset();
    const now = this.now();
    const result: Record<string, unknown[]> = {};
    for (const s of this.services) for (const name of s.seed?.results ?? []) result[name] = [];
    for (const step of this.seedSteps) step.run(members, result, now);
    this.markDirty();
    this.persistIfDirty();
    return result;
  }

  setFaults(spec: FaultSpec): FaultState {
    return setFaults(this.faults, spec);
  }

  /** Takes the next injected fault, if any (the counted ones first, throttling first; then a random one). */
  takeFault(): ReturnType<typeof takeFault> {
    return takeFault(this.faults);
  }

  get calls(): CallRecord[] {
    return this.callLog.calls;
  }

  recordCall(call: Omit<CallRecord, 'seq' | 'at'>, details?: CallDetails): CallRecord {
    return this.callLog.record(call, this.now(), details);
  }

  listCalls(filter: CallFilter = {}): CallRecord[] {
    return this.callLog.list(filter);
  }

  /** Writes the state file atomically when something changed. */
  persistIfDirty(): void {
    if (!this.dirty) return;
    this.dirty = false;
    if (this.stateFile) writeState(this.stateFile, this.state);
  }
}
