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
import { sleep } from '@temporalio/workflow';
import type { ResolvedStage, StageReport } from '../../api';
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
import type { CampaignRun } from './run';


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
export async function waitForMaintenanceWindow(c: CampaignRun, s: ResolvedStage, report: StageReport, w: Occurrence, x: WindowSubject = stageSubject(c, s, report)): Promise<WindowResult> {
  if (c.estateGuard) return waitAndWatchGuarded(c, s, report, w, x);
  report.window = windowOf(x, w);
  const wait = w.startMs - nowMs();
  if (wait > 0) {
    c.setState('waiting-for-window', { kind: 'window', description: `${s.name}: maintenance window ${report.window.start} – ${report.window.end}`, until: report.window.start });
    c.step(report, 'waiting-for-window', `${report.window.start} – ${report.window.end}`);
    await sleep(wait);
  }
  const target = c.spec.targetEngineVersion;
  c.setState('running', { kind: 'aws', description: `${s.instanceId} available at ${target}`, until: iso(w.endMs + s.graceMs) });
  c.step(report, 'watching-window', `until ${iso(w.endMs + s.graceMs)} (window end + grace ${formatDuration(s.graceMs)})`);
  try {
    const info = await c.waitForInstanceUntil(s, 'watching-window', w.endMs + s.graceMs, { status: 'available', engineVersion: target });
    c.step(report, 'upgraded', `${s.instanceId} is ${info.status} at ${info.engineVersion}`);
    c.setState('running');
    return 'upgraded';
  } catch (err) {
    if (!isActivityTimeout(err)) throw err;
    report.missedWindows += 1;
    c.step(report, 'window-missed', `not at ${target} by ${iso(w.endMs + s.graceMs)} (${report.missedWindows} missed)`);
    c.setState('running');
    return 'missed';
  }
}

/**
 * The estate-aware window: read the world again `rearmBefore` ahead and when the window opens (the flag,
 * RDS's automatic target, the version), page the person on call, then watch the version and the flag.
 */
async function waitAndWatchGuarded(c: CampaignRun, s: ResolvedStage, report: StageReport, w: Occurrence, x: WindowSubject): Promise<WindowResult> {
  const window = windowOf(x, w);
  if (!x.replica) report.window = window;
  const who = x.replica ? `${s.name}: replica ${x.instanceId}` : s.name;
  const lead = s.rearmBeforeMs ?? DEFAULT_REARM_BEFORE_MS;
  let announced = false;
  const sleepTowardsWindow = async (untilMs: number): Promise<void> => {
    c.setState('waiting-for-window', { kind: 'window', description: `${who}: maintenance window ${window.start} – ${window.end}`, until: window.start });
    if (!announced) c.step(report, 'waiting-for-window', `${x.replica ? `replica ${x.instanceId}: ` : ''}${window.start} – ${window.end} (read again ${formatDuration(lead)} before and as it opens)`);
    announced = true;
    await sleep(untilMs - nowMs());
  };
  // Done before the window (someone else upgraded it): an alert raised meanwhile is resolved.
  const doneEarly = async (r: GuardResult): Promise<WindowResult> => {
    if (r === 'upgraded' || r === 'past-target') await resolveOnCall(c, s, report, x, `${x.instanceId} runs ${report.engineVersionNow ?? c.spec.targetEngineVersion}: nothing to watch`);
    return r as WindowResult;
  };
  if (w.startMs - lead > nowMs()) {
    await sleepTowardsWindow(w.startMs - lead);
    const before = await guardWindow(c, s, report, w, x, 'before the window');
    if (before !== 'go') return doneEarly(before);
  }
  // The last look is taken just before the window opens: RDS may apply pending work as soon as it opens.
  const lastLookAt = w.startMs - Math.min(LAST_LOOK_BEFORE_MS, Math.floor(lead / 2));
  if (lastLookAt > nowMs()) await sleepTowardsWindow(lastLookAt);
  const opened = await guardWindow(c, s, report, w, x, 'as the window opens');
  if (opened !== 'go') return doneEarly(opened);
  if (w.startMs > nowMs()) await sleepTowardsWindow(w.startMs);
  if (x.track.mechanism === 'apply-in-window') await applyInWindow(c, s, report, x);
  await pageWindowOpened(c, s, report, w, x);
  const result = await watchWindow(c, s, report, w, x);
  if (result === 'missed') await escalateOnCall(c, s, report, x, `${x.instanceId} was not upgraded to ${c.spec.targetEngineVersion} in its window ${window.start} – ${window.end}`);
  else await resolveOnCall(c, s, report, x, `${x.instanceId} is available at ${x.track === report && report.engineVersionNow ? report.engineVersionNow : c.spec.targetEngineVersion}`);
  return result;
}

/** Watches the window (version and flag) until the instance is done or the window's end plus grace. */
async function watchWindow(c: CampaignRun, s: ResolvedStage, report: StageReport, w: Occurrence, x: WindowSubject): Promise<WindowResult> {
  const target = c.spec.targetEngineVersion;
  const deadline = w.endMs + s.graceMs;
  for (;;) {
    c.setState('running', { kind: 'aws', description: `${x.instanceId} available at ${target}`, until: iso(deadline) });
    c.step(report, 'watching-window', `${x.replica ? `replica ${x.instanceId} ` : ''}until ${iso(deadline)} (window end + grace ${formatDuration(s.graceMs)})`);
    const flag = x.track.mechanism === 'auto-minor-version-upgrade' ? true : undefined;
    let outcome;
    try {
      outcome = await c.aws(s.name, 'watching-window', () => waiterUntil(deadline, c.spec.pollIntervalMs).watchMaintenanceWindow(x.where, x.instanceId, { engineVersion: target, autoMinorVersionUpgrade: flag }), { attemptsPerRound: 1 });
    } catch (err) {
      if (!isActivityTimeout(err)) throw err;
      return missedWindow(c, report, x, `not at ${target} by ${iso(deadline)}`);
    }
    c.setState('running');
    if (outcome.kind === 'upgraded') {
      c.step(report, 'upgraded', `${x.instanceId} is ${outcome.info.status} at ${outcome.info.engineVersion}`);
      return 'upgraded';
    }
    if (outcome.kind === 'past-target') {
      await notePastTarget(c, s, report, x, outcome.info.engineVersion, 'while its window was watched', true);
      return 'past-target';
    }
    if ((await onFlagReverted(c, s, report, w, x)) === 'window-closed') return missedWindow(c, report, x, `the window closed with AutoMinorVersionUpgrade off`);
  }
}

/**
 * Watches windows from `first` until upgraded (or found past the target); asks the team after every
 * `maxMissedWindows` misses.
 */
export async function watchUntilUpgraded(c: CampaignRun, s: ResolvedStage, report: StageReport, first: Occurrence, x: WindowSubject = stageSubject(c, s, report)): Promise<Exclude<WindowResult, 'missed' | 'moved'>> {
  let w = first;
  for (;;) {
    const result = await waitForMaintenanceWindow(c, s, report, w, x);
    if (result === 'moved') {
      // The approved window was announced: another one needs the team's word.
      if (s.requiresApproval && !x.replica) {
        const next = nextWindowStartingAfter(x.windowText, nowMs());
        await c.askDecision(report, `${x.instanceId}'s maintenance window changed: the approved and announced window ${report.window?.start ?? ''} no longer comes. Continue with its next window ${iso(next.startMs)} – ${iso(next.endMs)} (not announced), or abort?`, 'escalation');
      }
      w = nextWindowStartingAfter(x.windowText, nowMs());
      continue;
    }
    if (result !== 'missed') return result;
    const pending = await c.aws(s.name, 'pending-maintenance', () => c.a.listPendingMaintenance(x.where, x.instanceId));
    const pendingText = describePending(pending);
    if (report.missedWindows % s.maxMissedWindows === 0) {
      await c.notify('escalation', `${s.name}: ${x.instanceId} missed ${report.missedWindows} maintenance windows; pending maintenance: ${pendingText}`, s.name);
      await c.askDecision(report, `${x.instanceId} was not upgraded in ${report.missedWindows} windows (pending maintenance: ${pendingText}). Continue waiting for the next window?`, 'escalation');
    }
    w = nextWindowStartingAfter(x.windowText, nowMs());
  }
}
