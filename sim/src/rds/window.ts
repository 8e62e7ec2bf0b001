/**
 * Maintenance-window maths for RDS's `ddd:hh24:mi-ddd:hh24:mi` (UTC) windows, which may wrap from
 * Sunday into Monday. RDS requires a window of at least 30 minutes.
 */
import { MINUTE } from '../core/clock';
import { SimError } from '../core/errors';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const DAY_MINUTES = 24 * 60;
const WEEK_MINUTES = 7 * DAY_MINUTES;
const WEEK_MS = WEEK_MINUTES * MINUTE;

export interface MaintenanceWindow {
  /** Minutes after Monday 00:00 UTC. */
  startMinute: number;
  durationMinutes: number;
}

function parsePoint(s: string, whole: string): number {
  const m = /^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$/i.exec(s);
  if (!m) {
    throw new SimError('InvalidParameterValue', `Invalid maintenance window format '${whole}': expected ddd:hh24:mi-ddd:hh24:mi (UTC), e.g. sun:05:00-sun:05:30`);
  }
  const day = DAYS.indexOf((m[1] as string).toLowerCase() as (typeof DAYS)[number]);
  return day * 24 * 60 + Number(m[2]) * 60 + Number(m[3]);
}

export function parseMaintenanceWindow(s: string): MaintenanceWindow {
  const parts = s.split('-');
  if (parts.length !== 2) {
    throw new SimError('InvalidParameterValue', `Invalid maintenance window format '${s}': expected ddd:hh24:mi-ddd:hh24:mi (UTC)`);
  }
  const start = parsePoint(parts[0] as string, s);
  const end = parsePoint(parts[1] as string, s);
  const durationMinutes = (end - start + WEEK_MINUTES) % WEEK_MINUTES;
  if (durationMinutes < 30) {
    throw new SimError('InvalidParameterValue', `The maintenance window '${s}' must be at least 30 minutes long`);
  }
  return { startMinute: start, durationMinutes };
}

/**
 * A backup window, `hh24:mi-hh24:mi` (UTC, daily). CreateDBInstance/ModifyDBInstance PreferredBackupWindow: "Must be
 * in the format hh24:mi-hh24:mi", "Must be in Universal Coordinated Time (UTC)", "Must not conflict with the
 * preferred maintenance window", "Must be at least 30 minutes". Returns its start (minutes after 00:00) and length.
 */
export function parseBackupWindow(s: string): { startMinute: number; durationMinutes: number } {
  const m = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/.exec(s);
  if (!m) throw new SimError('InvalidParameterValue', `Invalid backup window format '${s}': expected hh24:mi-hh24:mi (UTC), e.g. 03:00-03:30`);
  const start = Number(m[1]) * 60 + Number(m[2]);
  const durationMinutes = (Number(m[3]) * 60 + Number(m[4]) - start + DAY_MINUTES) % DAY_MINUTES;
  if (durationMinutes < 30) throw new SimError('InvalidParameterValue', `The backup window '${s}' must be at least 30 minutes long`);
  return { startMinute: start, durationMinutes };
}

/** Whether a daily backup window meets a weekly maintenance window on any day (both as RDS takes them, in UTC). */
export function backupOverlapsMaintenance(backup: string, maintenance: string): boolean {
  const b = parseBackupWindow(backup);
  const w = parseMaintenanceWindow(maintenance);
  const meets = (aStart: number, aLen: number, bStart: number, bLen: number) => aStart < bStart + bLen && bStart < aStart + aLen;
  for (let day = -1; day <= 7; day++) {
    const start = day * DAY_MINUTES + b.startMinute;
    // The maintenance window, and its occurrence a week on (one that wraps from Sunday into Monday).
    if (meets(start, b.durationMinutes, w.startMinute, w.durationMinutes) || meets(start, b.durationMinutes, w.startMinute - WEEK_MINUTES, w.durationMinutes)) return true;
  }
  return false;
}

/**
 * The windows an instance is created or modified with: the maintenance window well formed, and the backup window (when
 * there is one) not meeting it, refused as RDS (and moto) do.
 */
export function checkWindows(backup: string | undefined, maintenance: string): void {
  parseMaintenanceWindow(maintenance);
  if (backup !== undefined && backupOverlapsMaintenance(backup, maintenance)) throw new SimError('InvalidParameterValue', 'The backup window and maintenance window must not overlap.');
}

/**
 * The backup window of an instance created without one: RDS picks "a 30-minute window selected at random from an
 * 8-hour block of time for each AWS Region", never one meeting the maintenance window. Here the first free half hour
 * from 03:00.
 */
export function defaultBackupWindow(maintenance: string): string {
  const hh = (n: number) => String(n % 24).padStart(2, '0');
  for (let h = 3; h < 27; h++) {
    const candidate = `${hh(h)}:00-${hh(h)}:30`;
    if (!backupOverlapsMaintenance(candidate, maintenance)) return candidate;
  }
  return '03:00-03:30';
}

/** Monday 00:00 UTC of the week containing `t`. */
function weekStart(t: number): number {
  const d = new Date(t);
  const dayIdx = (d.getUTCDay() + 6) % 7;
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - dayIdx * 24 * 60 * MINUTE;
}

/** The first instant strictly after `t` at which the window opens. */
export function nextWindowStartAfter(window: MaintenanceWindow, t: number): number {
  let candidate = weekStart(t) + window.startMinute * MINUTE - WEEK_MS;
  while (candidate <= t) candidate += WEEK_MS;
  return candidate;
}

/** True when `t` falls inside an occurrence of the window. */
export function isInWindow(window: MaintenanceWindow, t: number): boolean {
  const lastStart = nextWindowStartAfter(window, t) - WEEK_MS;
  return t >= lastStart && t < lastStart + window.durationMinutes * MINUTE;
}

/** Formats a window `durationMinutes` long starting at instant `start` (rounded down to the minute). */
export function formatMaintenanceWindow(start: number, durationMinutes = 30): string {
  const point = (ms: number): string => {
    const d = new Date(ms);
    const day = DAYS[(d.getUTCDay() + 6) % 7] as string;
    return `${day}:${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  };
  const s = Math.floor(start / MINUTE) * MINUTE;
  return `${point(s)}-${point(s + durationMinutes * MINUTE)}`;
}
