/**
 * The simulator's whole state as plain JSON: what --state FILE holds. Times are epoch ms in simulated time.
 * Each service keeps its own members at the top level of the one object (RDS `instances`, Route 53
 * `hostedZones`, …; a service's StatePart lists them), so the file has the same shape however the code that
 * reads it is arranged, and one process can hold several accounts (the maps are keyed by account).
 */
import fs from 'node:fs';
import path from 'node:path';

export const STATE_FORMAT_VERSION = 1;

export interface SimState {
  formatVersion: number;
  /** Added to the clock by POST /_sim/advance. */
  clockOffsetMs: number;
  /** The services' members (see StatePart). */
  [member: string]: unknown;
}

/** The members a service keeps in the state, with their empty values. */
export interface StatePart<S extends object> {
  /** A fresh service's members; also what fills in the members a state file written before the service existed lacks. */
  empty(): S;
}

export const coreState = (): SimState => ({ formatVersion: STATE_FORMAT_VERSION, clockOffsetMs: 0 });

/** Adds the part's members that `state` lacks. */
export function addMissingMembers(state: SimState, part: StatePart<object>): void {
  for (const [member, empty] of Object.entries(part.empty())) if (!(member in state)) state[member] = empty;
}

export function loadState(file: string): SimState {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return coreState();
    throw new Error(`simulator: cannot read state file ${file}: ${(err as Error).message}`);
  }
  let parsed: SimState;
  try {
    parsed = JSON.parse(text) as SimState;
  } catch (err) {
    throw new Error(`simulator: state file ${file} is not valid JSON (${(err as Error).message}); move it away to start fresh`);
  }
  if (parsed.formatVersion !== STATE_FORMAT_VERSION) {
    throw new Error(`simulator: state file ${file} has format ${parsed.formatVersion}, this simulator reads ${STATE_FORMAT_VERSION}; move it away to start fresh`);
  }
  return { ...coreState(), ...parsed };
}

/** Writes the state file atomically (temp file + rename). */
export function writeState(file: string, state: SimState): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(tmp, JSON.stringify(state));
  fs.renameSync(tmp, file);
}
