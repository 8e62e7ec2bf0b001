/**
 * Waiting for a maintenance window and watching it: a durable sleep until it opens, then watching (retry-
 * based polling, no history growth) until the instance is available at the target, up to the window's end
 * plus the grace period. A window that passes without the upgrade is recorded, the next one is watched,
 * and after `maxMissedWindows` misses the team decides whether to keep waiting.
 */
import { sleep } from '@temporalio/workflow';
import type { ResolvedStage, StageReport } from '../../api';
import { formatDuration } from '../../domain/duration';
import { nextWindowStartingAfter, type Occurrence } from '../../domain/maintenance-window';
import { describePending } from '../../domain/pending-maintenance';
import { iso, nowMs } from '../shared/clock';
import { isActivityTimeout } from '../shared/failures';
import type { CampaignRun } from './run';

/** Sleeps until the window opens and watches it; false when it passed without the upgrade. */
export async function waitForMaintenanceWindow(c: CampaignRun, s: ResolvedStage, report: StageReport, w: Occurrence): Promise<boolean> {
  report.window = { start: iso(w.startMs), end: iso(w.endMs) };
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
    return true;
  } catch (err) {
    if (!isActivityTimeout(err)) throw err;
    report.missedWindows += 1;
    c.step(report, 'window-missed', `not at ${target} by ${iso(w.endMs + s.graceMs)} (${report.missedWindows} missed)`);
    c.setState('running');
    return false;
  }
}

/** Watches windows from `first` until upgraded; asks the team after every `maxMissedWindows` misses. */
export async function watchUntilUpgraded(c: CampaignRun, s: ResolvedStage, report: StageReport, first: Occurrence): Promise<void> {
  let w = first;
  for (;;) {
    if (await waitForMaintenanceWindow(c, s, report, w)) return;
    const pending = await c.aws(s.name, 'pending-maintenance', () => c.a.listPendingMaintenance(c.where(s), s.instanceId));
    const pendingText = describePending(pending);
    if (report.missedWindows % s.maxMissedWindows === 0) {
      await c.notify('escalation', `${s.name}: ${s.instanceId} missed ${report.missedWindows} maintenance windows; pending maintenance: ${pendingText}`, s.name);
      await c.askDecision(report, `${s.instanceId} was not upgraded in ${report.missedWindows} windows (pending maintenance: ${pendingText}). Continue waiting for the next window?`, 'escalation');
    }
    w = nextWindowStartingAfter(c.instances.get(s.name)!.preferredMaintenanceWindow, nowMs());
  }
}
