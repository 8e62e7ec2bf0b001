/** Injected faults (POST /_sim/faults): throttling, server errors and latency for the next AWS calls. */

export interface FaultSpec {
  /** The next N AWS calls answer Throttling (RDS/Route 53: HTTP 400 `Throttling`; EC2: HTTP 503 `RequestLimitExceeded`). */
  throttleNext?: number;
  /** The next N AWS calls answer a server error with `status` (default 500). */
  errorNext?: number;
  status?: number;
  /** Added before every AWS response until set back to 0. */
  latencyMs?: number;
}

export interface FaultState {
  throttleNext: number;
  errorNext: number;
  errorStatus: number;
  latencyMs: number;
}

export const noFaults = (): FaultState => ({ throttleNext: 0, errorNext: 0, errorStatus: 500, latencyMs: 0 });

/** Changes `state` as `spec` says (every value checked first); returns a copy of the result. */
export function setFaults(state: FaultState, spec: FaultSpec): FaultState {
  const nonNegativeInt = (v: unknown, name: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`faults: ${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
    return v;
  };
  if (spec.throttleNext !== undefined) state.throttleNext = nonNegativeInt(spec.throttleNext, 'throttleNext');
  if (spec.errorNext !== undefined) state.errorNext = nonNegativeInt(spec.errorNext, 'errorNext');
  if (spec.status !== undefined) {
    const s = nonNegativeInt(spec.status, 'status');
    if (s < 500 || s > 599) throw new Error(`faults: status must be a 5xx code, got ${s}`);
    state.errorStatus = s;
  }
  if (spec.latencyMs !== undefined) state.latencyMs = nonNegativeInt(spec.latencyMs, 'latencyMs');
  return { ...state };
}

/** Takes the next injected fault, if any (throttling first). */
export function takeFault(state: FaultState): { kind: 'throttle' } | { kind: 'error'; status: number } | undefined {
  if (state.throttleNext > 0) {
    state.throttleNext--;
    return { kind: 'throttle' };
  }
  if (state.errorNext > 0) {
    state.errorNext--;
    return { kind: 'error', status: state.errorStatus };
  }
  return undefined;
}
