/**
 * Durations as people write them in a spec ("14d", "3 days", "1h30m", "500ms") or as a number of
 * milliseconds. Pure and deterministic: bundled into workflows through src/input.
 */
import type { DurationSpec } from '../api';

/** A duration that cannot be read; the message starts with the field and says what is accepted. */
export class DurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DurationError';
  }
}

export const SECOND_MS = 1_000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
export const WEEK_MS = 7 * DAY_MS;

/** An instant as AWS and Statuspage write it (ISO 8601, UTC, milliseconds). */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

const UNIT_MS: Record<string, number> = {
  ms: 1, msec: 1, msecs: 1, millisecond: 1, milliseconds: 1,
  s: SECOND_MS, sec: SECOND_MS, secs: SECOND_MS, second: SECOND_MS, seconds: SECOND_MS,
  m: MINUTE_MS, min: MINUTE_MS, mins: MINUTE_MS, minute: MINUTE_MS, minutes: MINUTE_MS,
  h: HOUR_MS, hr: HOUR_MS, hrs: HOUR_MS, hour: HOUR_MS, hours: HOUR_MS,
  d: DAY_MS, day: DAY_MS, days: DAY_MS,
  w: WEEK_MS, wk: WEEK_MS, wks: WEEK_MS, week: WEEK_MS, weeks: WEEK_MS,
};

const EXAMPLES = 'a number of milliseconds or text like "14d", "3 days", "90s", "1h30m" or "500ms"';

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/**
 * Milliseconds for a duration spec. Parts may be separated by spaces, commas or "and"
 * ("1 hour and 30 minutes"); decimals are allowed ("1.5h") and rounded to whole milliseconds.
 * A bare number inside a string ("5000") is refused: it is ambiguous (seconds? ms?) so the unit must be written.
 *
 * @throws DurationError naming `field` and showing an example of what is accepted.
 */
export function parseDuration(spec: DurationSpec, field: string): number {
  if (typeof spec === 'number') {
    if (!Number.isFinite(spec) || spec < 0) {
      throw new DurationError(`${field}: ${spec} is not a valid duration; use ${EXAMPLES}`);
    }
    return spec;
  }
  if (typeof spec !== 'string') {
    throw new DurationError(`${field}: expected a duration (${EXAMPLES}), got ${describeValue(spec)}`);
  }
  const text = spec.trim().toLowerCase();
  if (text === '') {
    throw new DurationError(`${field}: empty duration; use ${EXAMPLES}`);
  }
  if (/^\d+(?:\.\d+)?$/.test(text)) {
    throw new DurationError(`${field}: "${spec}" has no unit; write it with one, e.g. "${text}ms" or "${text}s" (or give a plain number for milliseconds)`);
  }
  const part = /(\d+(?:\.\d+)?)\s*([a-z]+)/y;
  const separator = /(?:\s*,\s*|\s+and\s+|\s*)/y;
  let total = 0;
  let index = 0;
  while (index < text.length) {
    part.lastIndex = index;
    const match = part.exec(text);
    if (!match) {
      throw new DurationError(`${field}: could not read "${spec}" as a duration; use ${EXAMPLES}`);
    }
    const unitMs = UNIT_MS[match[2]];
    if (unitMs === undefined) {
      throw new DurationError(`${field}: unknown unit "${match[2]}" in "${spec}"; use ms, s, m (minutes), h, d or w, e.g. "14d" or "1h30m"`);
    }
    total += Number(match[1]) * unitMs;
    index = part.lastIndex;
    separator.lastIndex = index;
    separator.exec(text);
    index = separator.lastIndex;
  }
  return Math.round(total);
}

/** Compact human text for a duration: "14d", "2h 5m", "45s", "1m 30s", "500ms", "0s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  let rest = Math.round(ms);
  if (rest === 0) return '0s';
  const parts: string[] = [];
  for (const [unit, size] of [['d', DAY_MS], ['h', HOUR_MS], ['m', MINUTE_MS], ['s', SECOND_MS], ['ms', 1]] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      parts.push(`${count}${unit}`);
      rest -= count * size;
    }
  }
  return parts.join(' ');
}
