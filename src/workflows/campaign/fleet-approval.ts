/**
 * Production across a fleet (fleet.ts runs the waves): each instance's first window with the notice, grouped
 * by window; one approval covering every instance and its window (asked again when any window moved
 * before it came); one status-page scheduled maintenance per window group.
 */
import type { FleetInstanceReport, StageReport } from '../../api';
import { invalidateOtherPlans, whoMayApprove } from '../../domain/approvals';
import { fleetApprovalPlanId, groupByWindow, memberKey, windowGroupKey, type FleetEntry, type WindowGroup } from '../../domain/fleet';
import { describeWindowGroup, describeWindowGroups, instanceNames } from '../../domain/window-group';
import { iso, nowMs } from '../shared/clock';
import { announceMaintenance } from './production';
import type { StageRun } from './stage-run';

/** One approval for every instance and its window; asked again when any window moved before it came. */
export async function obtainApprovalForWindows(st: StageRun, entries: FleetEntry[]): Promise<{ group: WindowGroup; entries: FleetEntry[] }[]> {
  const { stage: s, report, target } = st;
  const byKey = new Map(entries.map((e) => [memberKey(e.member), e]));
  const members = entries.map((e) => e.member);
  for (;;) {
    const groups = groupByWindow(members, nowMs(), s, st.settings.blackouts);
    reportWindowGroups(report, groups);
    const plan = fleetApprovalPlanId(s.name, target, groups);
    const invalidated = invalidateOtherPlans(st.status.approvals, s.name, plan);
    if (invalidated > 0) st.step('approvals-invalidated', `${invalidated} approval(s) were for another plan; approve ${plan}`);
    const withEntries = () => groups.map((group) => ({ group, entries: group.members.map((p) => byKey.get(memberKey(p.member))!) }));
    const policy = st.settings.approval!;
    const flagged = groups.flatMap((g) => g.members.filter((p) => p.flags.length > 0).map((p) => `${p.member.instanceId}: ${p.flags.join('; ')}`));
    const ask =
      (st.settings.windowGroupText ? approvalOfGroups(st, members.length, groups) : approvalOfStarts(st, members.length, groups)) +
      `${flagged.length ? `; FLAGGED ${flagged.length}: ${flagged.slice(0, 10).join(' | ')}${flagged.length > 10 ? ' | …' : ''}` : ''}` +
      ` (${policy.minApprovals} approval(s) by ${whoMayApprove(policy)})`;
    if (!(await st.askApproval(plan, ask, groups[0].window.startMs))) return withEntries();
    const now = fleetApprovalPlanId(s.name, target, groupByWindow(members, nowMs(), s, st.settings.blackouts));
    if (now === plan) {
      st.step('approved', plan);
      return withEntries();
    }
    st.step('plan-changed', `a window of the approved plan is now less than the notice ahead; asking again`);
  }
}

/** The approval's opening since WINDOW_GROUP_TEXT_PATCH: each group by its start and end, and its instances. */
function approvalOfGroups(st: StageRun, count: number, groups: WindowGroup[]): string {
  const regions = new Set(groups.flatMap((g) => g.members.map((p) => p.member.region))).size;
  const named = groups.map((g) => ({ start: g.window.startMs, end: g.window.endMs, instances: instanceNames(g.members.map((p) => p.member), regions) }));
  const list = `\`${st.run.command('status')} --all\` lists them`;
  const how = st.stage.method === 'blue-green' ? ' by Blue/Green switchover (a deployment per instance at the target, created at its window group\'s pre-check)' : '';
  return `approve ${st.name}: upgrade ${count} instance(s) to ${st.target}${how} in ${groups.length} window group(s): ${describeWindowGroups(named, list)}`;
}

/** The approval's opening for runs started before WINDOW_GROUP_TEXT_PATCH (what their people were asked): starts only. */
function approvalOfStarts(st: StageRun, count: number, groups: WindowGroup[]): string {
  const windows = groups.map((g) => `${iso(g.window.startMs)} (${g.members.length})`).join(', ');
  return `approve ${st.name}: upgrade ${count} instance(s) to ${st.target} in ${groups.length} maintenance window(s): ${windows}`;
}

function reportWindowGroups(report: StageReport, groups: WindowGroup[]): void {
  const fleet = report.fleet!;
  fleet.windowGroups = groups.map((g) => ({ start: iso(g.window.startMs), end: iso(g.window.endMs), instances: g.members.length }));
  // An index, not a search per member: a production stage of 3,333 instances searched 5.5 million reports on
  // each replay of the campaign (0.4 s of its 7.9 at 10,000 instances, bench/profile-replay.ts).
  const byKey = new Map<string, FleetInstanceReport>();
  for (const x of fleet.instances) if (!byKey.has(memberKey(x))) byKey.set(memberKey(x), x); // the first, as a search found
  groups.forEach((g, i) => {
    const start = iso(g.window.startMs);
    const end = iso(g.window.endMs);
    for (const p of g.members) {
      const r = byKey.get(memberKey(p.member))!;
      r.wave = i + 1;
      r.window = { start, end };
      if (p.flags.length) r.flags = p.flags;
      else delete r.flags;
    }
  });
}

/** One status-page maintenance per window group; returns the compensation ids to drop once the stage is done. */
export async function announceWindowGroups(st: StageRun, groups: { group: WindowGroup }[]): Promise<string[]> {
  const { stage: s, report } = st;
  const ids: string[] = [];
  for (const [i, { group }] of groups.entries()) {
    const w = group.window;
    const info = report.fleet!.windowGroups![i];
    const window = windowGroupKey(w);
    const id = `statuspage:${s.name}:${window}`;
    ids.push(id);
    const created = await announceMaintenance(st, w, {
      id,
      key: `${st.settings.campaignId}/${s.name}/${window}`,
      incidentId: () => info.statusPageIncidentId,
      body: `${s.statusPage.body} (${group.members.length} database(s))`,
    });
    info.statusPageIncidentId = created.incidentId;
    st.step('status-page-scheduled', `${created.incidentId}${created.shortlink ? ` ${created.shortlink}` : ''} for ${describeWindowGroup({ start: w.startMs, end: w.endMs, instances: group.members.length })}`);
  }
  return ids;
}
