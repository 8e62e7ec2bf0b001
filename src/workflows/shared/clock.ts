/**
 * The workflow clock. Inside Temporal's workflow sandbox `Date.now()` is replaced by the deterministic
 * time of the current workflow task, so this is replay-safe; it is the one place workflows read time
 * (ESLint forbids Date.now()/new Date() everywhere else under src/workflows).
 */
export function nowMs(): number {
  return Date.now();
}

export function nowIso(): string {
  return new Date(Date.now()).toISOString();
}

export { iso } from '../../domain/duration';
