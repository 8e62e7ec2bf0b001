/**
 * Waiting for a maintenance window and watching it: a durable sleep until it opens, then watching (retry-
 * based polling, no history growth) until the instance is available at the target, up to the window's end
 * plus the grace period. A window that passes without the upgrade is recorded, the next one is watched,
 * and after `maxMissedWindows` misses the team decides whether to keep waiting.
 *
 * The estate moves while the campaign sleeps (estate.ts): the world is read again `rearmBefore` ahead of the
 * window and when it opens, and the flag is watched with the version. A flag turned off is turned on again
 * while the window is open; an instance already at (or past) the target is never watched for it.
 */
import { patched } from '@temporalio/workflow';
import { describeWindow } from '../../domain/window-group';
import { formatDuration } from '../../domain/duration';
import { DEFAULT_REARM_BEFORE_MS } from '../../domain/estate';
import { nextWindowStartingAfter, type Occurrence } from '../../domain/maintenance-window';
import { describePending } from '../../domain/pending-maintenance';
import { waiterUntil } from '../shared/aws-calls';
import { iso, nowMs } from '../shared/clock';
import { isActivityTimeout } from '../shared/failures';
import { stageSubject, type WindowSubject } from './auto-minor-upgrade';
import { applyInWindow, guardWindow, missedWindow, notePastTarget, onFlagReverted, type GuardResult } from './estate';
import { escalateOnCall, pageWindowOpened, resolveOnCall } from './on-call';
import type { StageRun } from './stage-run';
import { AVAILABLE, UPGRADING_STATUSES, maybeStillInMaintenance } from '../../domain/instance-status';


/** The last look at the instance before its window opens (RDS may start the upgrade the moment it opens). */
const LAST_LOOK_BEFORE_MS = 60_000;

/** How a window ended: the instance is at the target, it is past it (upgraded outside), or the window passed. */
export type WindowResult = 'upgraded' | 'past-target' | 'missed' | 'moved';

function windowOf(x: WindowSubject, w: Occurrence): { start: string; end: string } {
  const window = { start: iso(w.startMs), end: iso(w.endMs) };
  x.track.window = window;
  return window;
}

/** Sleeps until the window opens and watches it. */
export async function waitForMaintenanceWindow(st: StageRun, w: Occurrence, x: WindowSubject = stageSubject(st)): Promise<WindowResult> {
  const { stage: s, report } = st;
  if (st.estateGuard) return waitAndWatchGuarded(st, w, x);
  report.window = windowOf(x, w);
  const wait = w.startMs - nowMs();
  if (wait > 0) {
    st.setState('waiting-for-window', { kind: 'window', description: `${s.name}: maintenance window ${report.window.start} – ${report.window.end}`, until: report.window.start });
    st.step('waiting-for-window', `${report.window.start} – ${report.window.end}`);
    await st.sleep(wait, `${s.name} window ${describeWindow(w.startMs, w.endMs)} (${s.instanceId})`);
  }
  const target = st.target;
  st.setState('running', { kind: 'aws', description: `${s.instanceId} available at ${target}`, until: iso(w.endMs + s.graceMs) });
  st.step('watching-window', `until ${iso(w.endMs + s.graceMs)} (window end + grace ${formatDuration(s.graceMs)})`);
  try {
    const info = await st.waitForInstance('watching-window', w.endMs + s.graceMs, { status: AVAILABLE, engineVersion: target });
    st.step('upgraded', `${s.instanceId} is ${info.status} at ${info.engineVersion}`);
    st.setState('running');
    return 'upgraded';
  } catch (err) {
    if (!isActivityTimeout(err)) throw err;
    report.missedWindows += 1;
    st.step('window-missed', `not at ${target} by ${iso(w.endMs + s.graceMs)} (${report.missedWindows} missed)`);
    st.setState('running');
    return 'missed';
  }
}

/**
 * The estate-aware window: read the world again `rearmBefore` ahead and when the window opens (the flag,
 * RDS's automatic target, the version), page the person on call, then watch the version and the flag.
 */
async function waitAndWatchGuarded(st: StageRun, w: Occurrence, x: WindowSubject): Promise<WindowResult> {
  const { stage: s, report } = st;
  const window = windowOf(x, w);
  if (!x.replica) report.window = window;
  const who = x.replica ? `${s.name}: replica ${x.instanceId}` : s.name;
  const lead = s.rearmBeforeMs ?? DEFAULT_REARM_BEFORE_MS;
  let announced = false;
  const sleepTowardsWindow = async (untilMs: number): Promise<void> => {
    st.setState('waiting-for-window', { kind: 'window', description: `${who}: maintenance window ${window.start} – ${window.end}`, until: window.start });
    if (!announced) st.step('waiting-for-window', `${x.replica ? `replica ${x.instanceId}: ` : ''}${window.start} – ${window.end} (read again ${formatDuration(lead)} before and as it opens)`);
    announced = true;
    const readAgain = untilMs < w.startMs ? ` (read again ${formatDuration(lead)} before)` : '';
    await st.sleep(untilMs - nowMs(), `${who} window ${describeWindow(w.startMs, w.endMs)} (${x.instanceId})${readAgain}`);
  };
  // Done before the window (someone else upgraded it): an alert raised meanwhile is resolved.
  const doneEarly = async (r: GuardResult): Promise<WindowResult> => {
    if (r === 'upgraded' || r === 'past-target') await resolveOnCall(st, x, `${x.instanceId} runs ${report.engineVersionNow ?? st.target}: nothing to watch`);
    return r as WindowResult;
  };
  if (w.startMs - lead > nowMs()) {
    await sleepTowardsWindow(w.startMs - lead);
    const before = await guardWindow(st, w, x, 'before the window');
    if (before !== 'go') return doneEarly(before);
  }
  // The last look is taken just before the window opens: RDS may apply pending work as soon as it opens.
  const lastLookAt = w.startMs - Math.min(LAST_LOOK_BEFORE_MS, Math.floor(lead / 2));
  if (lastLookAt > nowMs()) await sleepTowardsWindow(lastLookAt);
  const opened = await guardWindow(st, w, x, 'as the window opens');
  if (opened !== 'go') return doneEarly(opened);
  if (w.startMs > nowMs()) await sleepTowardsWindow(w.startMs);
  if (x.track.mechanism === 'apply-in-window') await applyInWindow(st, x);
  await pageWindowOpened(st, w, x);
  const result = await watchWindow(st, w, x);
  if (result === 'missed') await escalateOnCall(st, x, `${x.instanceId} was not upgraded to ${st.target} in its window ${window.start} – ${window.end}`);
  else await resolveOnCall(st, x, `${x.instanceId} is available at ${x.track === report && report.engineVersionNow ? report.engineVersionNow : st.target}`);
  return result;
}

/**
 * patched() id, asked only when a window's watch reaches the window's end plus grace: since this change an instance
 * RDS still reports upgrading is watched on (each grace period again, up to OVERRUN_WATCHED_FOR_MS past the window's
 * end), where before the window counted as missed, the person on call was paged, and the next window was planned.
 */
export const WINDOW_OVERRUN_PATCH = 'campaign-window-overrun-watched';

/** patched() id: the overrun is watched while rebooting or in maintenance too (maybeStillInMaintenance), not only upgrading or modifying. */
export const OVERRUN_STATUSES_PATCH = 'campaign-window-overrun-rebooting-or-in-maintenance';
/**
 * "The maintenance window determines when pending operations start, but doesn't limit the total run time of these
 * operations. Maintenance operations aren't guaranteed to finish before the maintenance window ends, and can continue
 * beyond the specified end time" (RDS User Guide, "Maintaining a DB instance"). A day bounds the watch.
 */
export const OVERRUN_WATCHED_FOR_MS = 24 * 3_600_000;

/** Watches the window (version and flag) until the instance is done or the window's end plus grace. */
async function watchWindow(st: StageRun, w: Occurrence, x: WindowSubject): Promise<WindowResult> {
  const { stage: s } = st;
  const target = st.target;
  let deadline = w.endMs + s.graceMs;
  for (;;) {
    st.setState('running', { kind: 'aws', description: `${x.instanceId} available at ${target}`, until: iso(deadline) });
    st.step('watching-window', `${x.replica ? `replica ${x.instanceId} ` : ''}until ${iso(deadline)} (window end + grace ${formatDuration(s.graceMs)})`);
    const flag = x.track.mechanism === 'auto-minor-version-upgrade' ? true : undefined;
    let outcome;
    try {
      outcome = await st.aws('watching-window', () => waiterUntil(deadline, st.settings.pollIntervalMs).watchMaintenanceWindow({ where: x.where, instanceId: x.instanceId, want: { engineVersion: target, autoMinorVersionUpgrade: flag } }), { attemptsPerRound: 1 });
    } catch (err) {
      if (!isActivityTimeout(err)) throw err;
      const later = patched(WINDOW_OVERRUN_PATCH) ? await stillUpgrading(st, w, x) : undefined;
      if (later === undefined) return missedWindow(st, x, `not at ${target} by ${iso(deadline)}`);
      deadline = later;
      continue;
    }
    st.setState('running');
    if (outcome.kind === 'upgraded') {
      st.step('upgraded', `${x.instanceId} is ${outcome.info.status} at ${outcome.info.engineVersion}`);
      return 'upgraded';
    }
    if (outcome.kind === 'past-target') {
      await notePastTarget(st, x, outcome.info.engineVersion, 'while its window was watched', true);
      return 'past-target';
    }
    if ((await onFlagReverted(st, w, x)) === 'window-closed') return missedWindow(st, x, `the window closed with AutoMinorVersionUpgrade off`);
  }
}

/** The next deadline when RDS is still upgrading the instance past its window's end and grace (a day at most), else undefined. */
async function stillUpgrading(st: StageRun, w: Occurrence, x: WindowSubject): Promise<number | undefined> {
  const info = await st.aws('watching-window', () => st.a.describeInstance({ where: x.where, instanceId: x.instanceId }));
  const last = w.endMs + OVERRUN_WATCHED_FOR_MS;
  // Asked only in such a status, right after the read (a regular activity): runs before counted the window as missed.
  const stillAtIt = UPGRADING_STATUSES.has(info.status) || (maybeStillInMaintenance(info.status) && patched(OVERRUN_STATUSES_PATCH));
  if (!stillAtIt || nowMs() >= last) return undefined;
  const next = Math.min(last, nowMs() + st.stage.graceMs);
  st.step('window-overrun', `${x.instanceId} is still ${info.status} after its window ${iso(w.startMs)} – ${iso(w.endMs)} and the grace period (RDS lets maintenance run past a window's end): watching on until ${iso(next)}`);
  return next;
}

/** The instance's window changed: its next one, once the team agreed to it if the approved window was announced. */
export async function nextWindowAfterMove(st: StageRun, x: WindowSubject): Promise<Occurrence> {
  const { stage: s, report } = st;
  // The approved window was announced: another one needs the team's word.
  if (s.requiresApproval && !x.replica) {
    const next = nextWindowStartingAfter(x.windowText, nowMs());
    await st.ask(`${x.instanceId}'s maintenance window changed: the approved and announced window ${report.window?.start ?? ''} no longer comes. Continue with its next window ${iso(next.startMs)} – ${iso(next.endMs)} (not announced), or abort?`, 'escalation');
  }
  return nextWindowStartingAfter(x.windowText, nowMs());
}

/**
 * Watches windows from `first` until upgraded (or found past the target); asks the team after every
 * `maxMissedWindows` misses.
 */
export async function watchUntilUpgraded(st: StageRun, first: Occurrence, x: WindowSubject = stageSubject(st)): Promise<Exclude<WindowResult, 'missed' | 'moved'>> {
  const { stage: s, report } = st;
  let w = first;
  for (;;) {
    const result = await waitForMaintenanceWindow(st, w, x);
    if (result === 'moved') {
      w = await nextWindowAfterMove(st, x);
      continue;
    }
    if (result !== 'missed') return result;
    const pending = await st.aws('pending-maintenance', () => st.a.listPendingMaintenance({ where: x.where, instanceId: x.instanceId }));
    const pendingText = describePending(pending);
    if (report.missedWindows % s.maxMissedWindows === 0) {
      await st.notify('escalation', `${s.name}: ${x.instanceId} missed ${report.missedWindows} maintenance windows; pending maintenance: ${pendingText}`);
      await st.ask(`${x.instanceId} was not upgraded in ${report.missedWindows} windows (pending maintenance: ${pendingText}). Continue waiting for the next window?`, 'escalation');
    }
    w = nextWindowStartingAfter(x.windowText, nowMs());
  }
}
