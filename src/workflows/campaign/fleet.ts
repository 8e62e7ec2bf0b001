/**
 * A fleet stage: every instance it selected is upgraded by a child workflow of its own
 * (fleet-instance.ts), in waves.
 *
 *   preview, staging (no approval): waves of `maxConcurrent` in the stage's order; the next wave starts when
 *     the previous one ended.
 *   production (approval): each instance's first window with the notice, grouped by window; one approval
 *     covers every instance and its window; one status-page maintenance per window group; a group's
 *     instances start at the group's pre-check time (each checks AWS's pending maintenance itself).
 *
 * Before each wave: the failure threshold (failed instances since the team last decided) stops the stage
 * and asks the team to continue or abort. Pause holds before the next wave and is passed on to running
 * instances (they hold at their next checkpoint); abort cancels every running instance, each compensating
 * its own changes, and the campaign cancels the announcements.
 */
import { countStates, describeCounts, memberKey, orderMembers, planWaves, type FleetEntry } from '../../domain/fleet';
import { nowIso } from '../shared/clock';
import { announceWindowGroups, obtainApprovalForWindows } from './fleet-approval';
import { FleetWaves } from './fleet-waves';
import type { StageRun } from './stage-run';

export async function runFleetStage(st: StageRun, entries: FleetEntry[]): Promise<void> {
  const { stage: s, report } = st;
  const fleet = report.fleet!;
  const target = st.target;
  report.status = 'running';
  report.startedAt = nowIso();
  st.setState('running');
  const todo = entries.length;
  st.step('stage-started', `${fleet.selection}: ${todo} instance(s) → ${target} (${s.method}), ${describeCounts(fleet.counts)}`);
  await st.notify('stage-started', `${s.name} started: ${todo} instance(s) → ${target} (${s.method}; ${fleet.selection})`);
  await st.checkpoint();

  const waves = new FleetWaves(st);
  try {
    if (s.requiresApproval) {
      const groups = await obtainApprovalForWindows(st, entries);
      await st.checkpoint();
      const announced = s.statusPage.enabled ? await announceWindowGroups(st, groups) : [];
      await waves.runWindowGroups(groups);
      for (const id of announced) st.saga.drop(id);
    } else {
      const ordered = orderMembers(
        entries.map((e) => e.member),
        s.fleet!.order,
      );
      const byKey = new Map(entries.map((e) => [memberKey(e.member), e]));
      await waves.runWaves(planWaves(ordered, s.fleet!).map((w) => w.map((m) => byKey.get(memberKey(m))!)));
    }
  } catch (err) {
    // The team aborted at the threshold, or the stage failed: no instance keeps running on its own.
    await waves.cancelRunning();
    throw err;
  } finally {
    waves.stopForwarding();
  }
  const counts = countStates(fleet.instances);
  report.status = 'completed';
  report.endedAt = nowIso();
  const followUp = `${s.name}: ${s.infraCodeHint}`;
  st.status.followUps.push(followUp);
  for (const i of fleet.instances.filter((x) => x.state === 'failed')) st.status.followUps.push(`${s.name}: ${i.region}/${i.instanceId} was not upgraded: ${i.note}`);
  st.step('stage-completed', `${describeCounts(counts)}. ${followUp}`);
  await st.notify('stage-completed', `${s.name} completed: ${describeCounts(counts)} at ${target}. Follow-up: ${s.infraCodeHint}`);
}
