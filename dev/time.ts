/**
 * Time helpers of the dev tooling (demo, bench, history recorder, tests against a real dev server).
 * Durations come from src/domain/duration (SECOND_MS, MINUTE_MS, ...): written once for the whole tree.
 */
import { MINUTE_MS } from '../src/domain/duration';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * The first whole minute at least `leadMs` after `now`. Maintenance windows have minute granularity
 * (`ddd:hh24:mi`), so a window meant to open "in about a minute" opens at a whole minute.
 */
export function nextWholeMinute(leadMs: number, now = Date.now()): number {
  return Math.ceil((now + leadMs) / MINUTE_MS) * MINUTE_MS;
}

/** `hh:mm:ss` (UTC) of an instant or ISO timestamp, for progress lines. */
export function clockTime(at: number | string = Date.now()): string {
  return (typeof at === 'string' ? at : new Date(at).toISOString()).slice(11, 19);
}
