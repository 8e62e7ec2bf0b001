/**
 * Weekly RDS maintenance windows (`PreferredMaintenanceWindow`, "ddd:hh24:mi-ddd:hh24:mi" in UTC) and
 * the arithmetic the campaign needs: which occurrence contains an instant, which comes next, and which is
 * the first one far enough ahead for the production notice that does not fall in a freeze (blackout).
 *
 * Pure and deterministic (bundled into workflows): instants are epoch milliseconds passed in by the caller.
 */

export interface WeeklyWindow {
  /** Normalised text ("sun:23:30-mon:00:30", lowercase days). */
  text: string;
  /** Minutes since Monday 00:00 UTC, 0..10079. */
  startMinuteOfWeek: number;
  /** 1..10079; a window may wrap over the end of the week. */
  durationMinutes: number;
}

/** One concrete occurrence of a weekly window: [startMs, endMs). */
export interface Occurrence {
  startMs: number;
  endMs: number;
}

/** A freeze period [fromMs, toMs) during which no maintenance window may be used. */
export interface Blackout {
  fromMs: number;
  toMs: number;
  reason?: string;
}

export interface WindowChoice {
  window: Occurrence;
  /** Earlier occurrences passed over because they overlap a blackout, oldest first. */
  skipped: { window: Occurrence; reason: string }[];
}

export class InvalidWindowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidWindowError';
  }
}

/** Every occurrence for this many weeks overlapped a blackout. */
export class NoWindowAvailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoWindowAvailableError';
  }
}

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const MINUTES_PER_WEEK = 7 * 24 * 60;
export const MAX_WEEKS_SEARCHED = 104;

const MINUTE_MS = 60_000;
const WEEK_MS = MINUTES_PER_WEEK * MINUTE_MS;
/** 1970-01-05T00:00:00Z, the first Monday after the epoch (1970-01-01 was a Thursday). */
const FIRST_MONDAY_MS = 4 * 24 * 60 * MINUTE_MS;

const FORMAT_HINT = 'expected "ddd:hh24:mi-ddd:hh24:mi" in UTC, e.g. "sun:23:30-mon:00:30" (days mon..sun)';
const WINDOW_PATTERN = /^([a-z]{3}):(\d{2}):(\d{2})-([a-z]{3}):(\d{2}):(\d{2})$/i;

function minuteOfWeek(original: string, day: string, hh: string, mi: string): number {
  const dayIndex = DAYS.indexOf(day.toLowerCase() as (typeof DAYS)[number]);
  if (dayIndex < 0) {
    throw new InvalidWindowError(`Invalid maintenance window "${original}": unknown day "${day}"; ${FORMAT_HINT}`);
  }
  const hours = Number(hh);
  const minutes = Number(mi);
  if (hours > 23 || minutes > 59) {
    throw new InvalidWindowError(`Invalid maintenance window "${original}": ${hh}:${mi} is not a time of day (00:00..23:59); ${FORMAT_HINT}`);
  }
  return dayIndex * 24 * 60 + hours * 60 + minutes;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

function formatMinuteOfWeek(minute: number): string {
  const day = DAYS[Math.floor(minute / (24 * 60))];
  return `${day}:${pad2(Math.floor((minute % (24 * 60)) / 60))}:${pad2(minute % 60)}`;
}

/**
 * Parses an RDS PreferredMaintenanceWindow. Any positive length is accepted (AWS requires at least 30
 * minutes, but the simulator and the demo use shorter windows).
 */
export function parseMaintenanceWindow(text: string): WeeklyWindow {
  if (typeof text !== 'string') {
    throw new InvalidWindowError(`Invalid maintenance window ${JSON.stringify(text)}: not text; ${FORMAT_HINT}`);
  }
  const trimmed = text.trim();
  const match = WINDOW_PATTERN.exec(trimmed);
  if (!match) {
    throw new InvalidWindowError(`Invalid maintenance window "${text}": ${FORMAT_HINT}`);
  }
  const start = minuteOfWeek(text, match[1], match[2], match[3]);
  const end = minuteOfWeek(text, match[4], match[5], match[6]);
  const durationMinutes = (end - start + MINUTES_PER_WEEK) % MINUTES_PER_WEEK;
  if (durationMinutes === 0) {
    throw new InvalidWindowError(`Invalid maintenance window "${text}": it starts and ends at the same time (zero length); ${FORMAT_HINT}`);
  }
  return {
    text: `${formatMinuteOfWeek(start)}-${formatMinuteOfWeek(end)}`,
    startMinuteOfWeek: start,
    durationMinutes,
  };
}

function asWindow(w: WeeklyWindow | string): WeeklyWindow {
  return typeof w === 'string' ? parseMaintenanceWindow(w) : w;
}

function requireInstant(ms: number, name: string): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new RangeError(`${name} must be a finite number of epoch milliseconds, got ${String(ms)}`);
  }
}

/** Start (ms) of the week (Monday 00:00 UTC) that contains `atMs`. */
function weekStartMs(atMs: number): number {
  const offset = (((atMs - FIRST_MONDAY_MS) % WEEK_MS) + WEEK_MS) % WEEK_MS;
  return atMs - offset;
}

function occurrenceStartingAt(w: WeeklyWindow, startMs: number): Occurrence {
  return { startMs, endMs: startMs + w.durationMinutes * MINUTE_MS };
}

/** The first occurrence whose start is >= atMs. */
function firstStartingAtOrAfter(w: WeeklyWindow, atMs: number): Occurrence {
  let start = weekStartMs(atMs) + w.startMinuteOfWeek * MINUTE_MS;
  if (start < atMs) start += WEEK_MS;
  return occurrenceStartingAt(w, start);
}

/** The occurrence with startMs <= atMs < endMs, if the instant falls inside one. */
export function windowContaining(w: WeeklyWindow | string, atMs: number): Occurrence | undefined {
  const window = asWindow(w);
  requireInstant(atMs, 'atMs');
  const thisWeek = weekStartMs(atMs) + window.startMinuteOfWeek * MINUTE_MS;
  // A window is shorter than a week, so only this week's or last week's occurrence can contain atMs.
  for (const start of [thisWeek, thisWeek - WEEK_MS]) {
    const occurrence = occurrenceStartingAt(window, start);
    if (occurrence.startMs <= atMs && atMs < occurrence.endMs) return occurrence;
  }
  return undefined;
}

/** The first occurrence that starts strictly after `afterMs`. */
export function nextWindowStartingAfter(w: WeeklyWindow | string, afterMs: number): Occurrence {
  const window = asWindow(w);
  requireInstant(afterMs, 'afterMs');
  let start = weekStartMs(afterMs) + window.startMinuteOfWeek * MINUTE_MS;
  if (start <= afterMs) start += WEEK_MS;
  return occurrenceStartingAt(window, start);
}

function overlaps(o: Occurrence, b: Blackout): boolean {
  return o.startMs < b.toMs && b.fromMs < o.endMs;
}

function describeBlackout(b: Blackout): string {
  const span = `${toIso(b.fromMs)} to ${toIso(b.toMs)}`;
  return b.reason ? `blackout "${b.reason}" (${span})` : `blackout ${span}`;
}

function chooseAvoidingBlackouts(window: WeeklyWindow, first: Occurrence, blackouts: Blackout[], earliestText: string): WindowChoice {
  const skipped: WindowChoice['skipped'] = [];
  let candidate = first;
  for (let week = 0; week < MAX_WEEKS_SEARCHED; week++) {
    const hits = blackouts.filter((b) => overlaps(candidate, b));
    if (hits.length === 0) return { window: candidate, skipped };
    skipped.push({ window: candidate, reason: `overlaps ${hits.map(describeBlackout).join(' and ')}` });
    candidate = occurrenceStartingAt(window, candidate.startMs + WEEK_MS);
  }
  throw new NoWindowAvailableError(
    `No occurrence of maintenance window "${window.text}" ${earliestText} is free of blackouts within ` +
      `${MAX_WEEKS_SEARCHED} weeks (first skipped: ${toIso(first.startMs)}); shorten or remove the blackouts, or change the window.`,
  );
}

/**
 * The first occurrence starting at or after `fromMs + minLeadMs` (e.g. now + 14 days' notice) that does
 * not overlap any blackout. Occurrences passed over because of a blackout are listed in `skipped`.
 *
 * @throws NoWindowAvailableError when blackouts cover every occurrence for MAX_WEEKS_SEARCHED weeks.
 */
export function firstWindowAtLeast(w: WeeklyWindow | string, fromMs: number, minLeadMs: number, blackouts: Blackout[] = []): WindowChoice {
  const window = asWindow(w);
  requireInstant(fromMs, 'fromMs');
  requireInstant(minLeadMs, 'minLeadMs');
  if (minLeadMs < 0) throw new RangeError(`minLeadMs must not be negative, got ${minLeadMs}`);
  const earliest = fromMs + minLeadMs;
  return chooseAvoidingBlackouts(window, firstStartingAtOrAfter(window, earliest), blackouts, `starting at or after ${toIso(earliest)}`);
}

/** The first occurrence starting strictly after `afterMs` that does not overlap any blackout. */
export function nextWindowAvoidingBlackouts(w: WeeklyWindow | string, afterMs: number, blackouts: Blackout[] = []): WindowChoice {
  const window = asWindow(w);
  return chooseAvoidingBlackouts(window, nextWindowStartingAfter(window, afterMs), blackouts, `starting after ${toIso(afterMs)}`);
}

export function toIso(ms: number): string {
  return new Date(ms).toISOString();
}

/** "2025-01-05T23:30:00.000Z to 2025-01-06T00:30:00.000Z": an occurrence for timelines and messages. */
export function describeOccurrence(o: Occurrence): string {
  return `${toIso(o.startMs)} to ${toIso(o.endMs)}`;
}
