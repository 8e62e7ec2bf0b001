/**
 * Production across a fleet (fleet.ts runs the waves): each instance's first window with the notice, grouped
 * by window; one approval covering every instance and its window (asked again when any window moved
 * before it came); one status-page scheduled maintenance per window group.
 */
import type { ResolvedStage, StageReport } from '../../api';
import { invalidateOtherPlans, validApprovalCount } from '../../domain/approvals';
import { fleetApprovalPlanId, groupByWindow, memberKey, windowGroupKey, type FleetEntry, type WindowGroup } from '../../domain/fleet';
import { iso, nowIso, nowMs } from '../shared/clock';
import { announceMaintenance } from './production';
import type { CampaignRun } from './run';

/** One approval for every instance and its window; asked again when any window moved before it came. */
export async function obtainApprovalForWindows(c: CampaignRun, s: ResolvedStage, report: StageReport, entries: FleetEntry[]): Promise<{ group: WindowGroup; entries: FleetEntry[] }[]> {
  const target = c.spec.targetEngineVersion;
  const byKey = new Map(entries.map((e) => [memberKey(e.member), e]));
  const members = entries.map((e) => e.member);
  for (;;) {
    const groups = groupByWindow(members, nowMs(), s, c.spec.blackouts);
    describeWindowGroups(report, groups);
    const plan = fleetApprovalPlanId(s.name, target, groups);
    const invalidated = invalidateOtherPlans(c.status.approvals, s.name, plan);
    if (invalidated > 0) c.step(report, 'approvals-invalidated', `${invalidated} approval(s) were for another plan; approve ${plan}`);
    const withEntries = () => groups.map((group) => ({ group, entries: group.members.map((p) => byKey.get(memberKey(p.member))!) }));
    if (validApprovalCount(c.status.approvals, plan) >= c.spec.approval.minApprovals) return withEntries();

    await c.identity.refresh(c.status.timeline, s.name);
    const askedAt = nowIso();
    c.approvalPlan = { stage: s.name, plan, windowStartMs: groups[0].window.startMs, askedAt };
    const flagged = groups.flatMap((g) => g.members.filter((p) => p.flags.length > 0).map((p) => `${p.member.instanceId}: ${p.flags.join('; ')}`));
    const who = c.spec.approval.approvers.length ? `one of ${c.spec.approval.approvers.join(', ')}` : `anyone but ${c.spec.requester}`;
    const windows = groups.map((g) => `${iso(g.window.startMs)} (${g.members.length})`).join(', ');
    const ask =
      `approve ${s.name}: upgrade ${members.length} instance(s) to ${target} in ${groups.length} maintenance window(s): ${windows}` +
      `${flagged.length ? `; FLAGGED ${flagged.length}: ${flagged.slice(0, 10).join(' | ')}${flagged.length > 10 ? ' | …' : ''}` : ''}` +
      ` (${c.spec.approval.minApprovals} approval(s) by ${who})`;
    c.setState('waiting-for-approval', { kind: 'approval', description: ask, plan, askedAt });
    c.step(report, 'waiting-for-approval', plan);
    await c.notify('approval-needed', `${ask}. Run \`campaign approve ${c.spec.campaignId} ${c.actorHint()}\`.`, s.name, { plan });
    try {
      await c.waitForHuman(
        () => validApprovalCount(c.status.approvals, plan) >= c.spec.approval.minApprovals,
        () => c.notify('reminder', `still waiting: ${ask}`, s.name, { plan }),
      );
    } finally {
      c.approvalPlan = undefined;
    }
    c.setState('running');
    const now = fleetApprovalPlanId(s.name, target, groupByWindow(members, nowMs(), s, c.spec.blackouts));
    if (now === plan) {
      c.step(report, 'approved', plan);
      return withEntries();
    }
    c.step(report, 'plan-changed', `a window of the approved plan is now less than the notice ahead; asking again`);
  }
}

function describeWindowGroups(report: StageReport, groups: WindowGroup[]): void {
  const fleet = report.fleet!;
  fleet.windowGroups = groups.map((g) => ({ start: iso(g.window.startMs), end: iso(g.window.endMs), instances: g.members.length }));
  groups.forEach((g, i) => {
    for (const p of g.members) {
      const r = fleet.instances.find((x) => x.region === p.member.region && x.instanceId === p.member.instanceId)!;
      r.wave = i + 1;
      r.window = { start: iso(g.window.startMs), end: iso(g.window.endMs) };
      if (p.flags.length) r.flags = p.flags;
      else delete r.flags;
    }
  });
}

/** One status-page maintenance per window group; returns the compensation ids to drop once the stage is done. */
export async function announceWindowGroups(c: CampaignRun, s: ResolvedStage, report: StageReport, groups: { group: WindowGroup }[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, { group }] of groups.entries()) {
    const w = group.window;
    const info = report.fleet!.windowGroups![i];
    const window = windowGroupKey(w);
    const id = `statuspage:${s.name}:${window}`;
    ids.push(id);
    const created = await announceMaintenance(c, s, w, {
      id,
      key: `${c.spec.campaignId}/${s.name}/${window}`,
      incidentId: () => info.statusPageIncidentId,
      body: `${s.statusPage.body} (${group.members.length} database(s))`,
    });
    info.statusPageIncidentId = created.incidentId;
    c.step(report, 'status-page-scheduled', `${created.incidentId}${created.shortlink ? ` ${created.shortlink}` : ''} for ${iso(w.startMs)} – ${iso(w.endMs)} (${group.members.length} instance(s))`);
  }
  return ids;
}
