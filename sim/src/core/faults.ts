/**
 * Injected faults (POST /_sim/faults) on AWS calls: throttling, server errors, timeouts and reset connections
 * for the next N calls or for a random fraction of every call (from a seeded generator, so a soak run can be
 * replayed), and latency on every answer, for good or for a slow period that ends by itself.
 *
 * A timeout and a reset happen at the simulator's front door: the service never sees the request, so nothing
 * changes (as when a load balancer or the network drops it). A timeout holds the request for `hangMs` (default
 * longer than the product's 20 s SDK request timeout) and then closes the connection without an answer; a reset
 * closes it at once. The client cannot tell either from a lost answer, so it must read before it tries again.
 */

export type FaultKind = 'throttle' | 'error' | 'timeout' | 'reset' | 'lost';
/** Every kind a random fault may be drawn from. */
export const FAULT_KINDS: readonly FaultKind[] = ['throttle', 'error', 'timeout', 'reset', 'lost'];
/**
 * The kinds drawn when `random.kinds` is not given: the four that never reach the service. `lost` (the change made,
 * the answer never sent) is drawn only when named, so a seed draws the same faults as before it existed.
 */
export const DEFAULT_RANDOM_KINDS: readonly FaultKind[] = ['throttle', 'error', 'timeout', 'reset'];

/** The product's AWS clients give up on a request after 20 s (src/activities/clients.ts): a timeout outlasts that. */
export const DEFAULT_HANG_MS = 25_000;

export interface RandomFaultSpec {
  /** The fraction of AWS calls (0..1) answered by a fault. */
  rate: number;
  /** Which faults, drawn with equal chance (default throttle, error, timeout and reset; `lost` only when named). */
  kinds?: FaultKind[];
  /** Seeds the generator (default 1): the same seed draws the same faults for the same sequence of calls. */
  seed?: number;
}

export interface FaultSpec {
  /** The next N AWS calls answer Throttling (RDS/Route 53: HTTP 400 `Throttling`; EC2: HTTP 503 `RequestLimitExceeded`). */
  throttleNext?: number;
  /** The next N AWS calls answer a server error with `status` (default 500). */
  errorNext?: number;
  status?: number;
  /** The next N AWS calls are held for `hangMs`, then their connection is closed unanswered. */
  timeoutNext?: number;
  /** The next N AWS calls have their connection closed at once, unanswered. */
  resetNext?: number;
  /**
   * The next N AWS calls are handled by the service (a change is made, and logged) but their connection is closed
   * before the answer is sent: the reply AWS made and the network lost. The call log has them with `fault` `lost`.
   */
  lostNext?: number;
  /** How long a timed-out call is held before its connection is closed (default 25 000). */
  hangMs?: number;
  /** A random fraction of every AWS call answered by a fault (after the counted ones above); null turns it off. */
  random?: RandomFaultSpec | null;
  /** Added before every AWS response until set back to 0 (or until `latencyForMs` has passed). */
  latencyMs?: number;
  /** With latencyMs: a slow period, the latency ends by itself after this many milliseconds of real time. */
  latencyForMs?: number;
}

export interface FaultState {
  throttleNext: number;
  errorNext: number;
  errorStatus: number;
  timeoutNext: number;
  resetNext: number;
  lostNext: number;
  hangMs: number;
  latencyMs: number;
  /** When the latency ends by itself (epoch ms, real time); absent: until set back to 0. */
  latencyUntil?: number;
  /** `state` is the generator's current state (it moves with every call drawn). */
  random: { rate: number; kinds: FaultKind[]; seed: number; state: number } | null;
  /** Faults answered so far, by kind (reset with the simulator). */
  injected: Record<FaultKind, number>;
}

export type InjectedFault = { kind: 'throttle' } | { kind: 'error'; status: number } | { kind: 'timeout'; hangMs: number } | { kind: 'reset' } | { kind: 'lost' };

export const noFaults = (): FaultState => ({
  throttleNext: 0,
  errorNext: 0,
  errorStatus: 500,
  timeoutNext: 0,
  resetNext: 0,
  lostNext: 0,
  hangMs: DEFAULT_HANG_MS,
  latencyMs: 0,
  random: null,
  injected: { throttle: 0, error: 0, timeout: 0, reset: 0, lost: 0 },
});

const fail = (what: string): never => {
  throw new Error(`faults: ${what}`);
};

function nonNegativeInt(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return v as number;
}

function checkRandom(spec: unknown): FaultState['random'] {
  if (spec === null) return null;
  if (typeof spec !== 'object' || Array.isArray(spec)) return fail(`random must be {rate, kinds?, seed?} or null, got ${JSON.stringify(spec)}`);
  const r = spec as Record<string, unknown>;
  const unknown = Object.keys(r).filter((k) => !['rate', 'kinds', 'seed'].includes(k));
  if (unknown.length) fail(`random has no ${unknown.join(', ')} (it takes rate, kinds and seed)`);
  if (typeof r.rate !== 'number' || !(r.rate >= 0 && r.rate <= 1)) fail(`random.rate must be a fraction from 0 to 1, got ${JSON.stringify(r.rate)}`);
  let kinds = [...DEFAULT_RANDOM_KINDS];
  if (r.kinds !== undefined) {
    if (!Array.isArray(r.kinds) || r.kinds.length === 0) fail(`random.kinds must be a non-empty list of ${FAULT_KINDS.join(', ')}`);
    const wrong = (r.kinds as unknown[]).filter((k) => !FAULT_KINDS.includes(k as FaultKind));
    if (wrong.length) fail(`random.kinds: ${JSON.stringify(wrong)} is not one of ${FAULT_KINDS.join(', ')}`);
    kinds = [...new Set(r.kinds as FaultKind[])];
  }
  const seed = r.seed === undefined ? 1 : nonNegativeInt(r.seed, 'random.seed');
  return { rate: r.rate as number, kinds, seed, state: seed >>> 0 };
}

/** Changes `state` as `spec` says (every value checked first, nothing changed when one is wrong); returns a copy of the result. */
export function setFaults(state: FaultState, spec: FaultSpec, nowMs: number = Date.now()): FaultState {
  const next = { ...state, injected: { ...state.injected } };
  if (spec.throttleNext !== undefined) next.throttleNext = nonNegativeInt(spec.throttleNext, 'throttleNext');
  if (spec.errorNext !== undefined) next.errorNext = nonNegativeInt(spec.errorNext, 'errorNext');
  if (spec.status !== undefined) {
    const s = nonNegativeInt(spec.status, 'status');
    if (s < 500 || s > 599) fail(`status must be a 5xx code, got ${s}`);
    next.errorStatus = s;
  }
  if (spec.timeoutNext !== undefined) next.timeoutNext = nonNegativeInt(spec.timeoutNext, 'timeoutNext');
  if (spec.resetNext !== undefined) next.resetNext = nonNegativeInt(spec.resetNext, 'resetNext');
  if (spec.lostNext !== undefined) next.lostNext = nonNegativeInt(spec.lostNext, 'lostNext');
  if (spec.hangMs !== undefined) next.hangMs = nonNegativeInt(spec.hangMs, 'hangMs');
  if (spec.random !== undefined) next.random = checkRandom(spec.random);
  if (spec.latencyForMs !== undefined && spec.latencyMs === undefined) fail('latencyForMs needs latencyMs (the latency of the slow period)');
  if (spec.latencyMs !== undefined) {
    next.latencyMs = nonNegativeInt(spec.latencyMs, 'latencyMs');
    delete next.latencyUntil;
    if (spec.latencyForMs !== undefined) next.latencyUntil = nowMs + nonNegativeInt(spec.latencyForMs, 'latencyForMs');
  }
  Object.assign(state, next);
  if (next.latencyUntil === undefined) delete state.latencyUntil;
  return { ...state, injected: { ...state.injected } };
}

/** The latency to add to an answer now; a slow period that has ended is cleared. */
export function currentLatency(state: FaultState, nowMs: number = Date.now()): number {
  if (state.latencyUntil !== undefined && nowMs >= state.latencyUntil) {
    state.latencyMs = 0;
    delete state.latencyUntil;
  }
  return state.latencyMs;
}

/** mulberry32: a small, fast generator with a 32-bit state; returns [0, 1) and the next state. */
export function nextRandom(stateIn: number): { value: number; state: number } {
  const state = (stateIn + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return { value: ((t ^ (t >>> 14)) >>> 0) / 4294967296, state };
}

function counted(state: FaultState): InjectedFault | undefined {
  if (state.throttleNext > 0) {
    state.throttleNext--;
    return { kind: 'throttle' };
  }
  if (state.errorNext > 0) {
    state.errorNext--;
    return { kind: 'error', status: state.errorStatus };
  }
  if (state.timeoutNext > 0) {
    state.timeoutNext--;
    return { kind: 'timeout', hangMs: state.hangMs };
  }
  if (state.resetNext > 0) {
    state.resetNext--;
    return { kind: 'reset' };
  }
  if (state.lostNext > 0) {
    state.lostNext--;
    return { kind: 'lost' };
  }
  return undefined;
}

/** One draw per call: whether it gets a fault, then which. */
function drawn(state: FaultState): InjectedFault | undefined {
  const r = state.random;
  if (!r || r.rate <= 0) return undefined;
  const hit = nextRandom(r.state);
  const which = nextRandom(hit.state);
  r.state = which.state;
  if (hit.value >= r.rate) return undefined;
  const kind = r.kinds[Math.floor(which.value * r.kinds.length)] as FaultKind;
  if (kind === 'error') return { kind, status: state.errorStatus };
  if (kind === 'timeout') return { kind, hangMs: state.hangMs };
  return { kind };
}

/** Takes the next injected fault, if any: the counted ones first (throttling, errors, timeouts, resets, lost answers), then a random one. */
export function takeFault(state: FaultState): InjectedFault | undefined {
  const fault = counted(state) ?? drawn(state);
  if (fault) state.injected[fault.kind]++;
  return fault;
}
