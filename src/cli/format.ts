/** Readable summaries for `status` commands (the --json form is the raw query result). */
import type { AwsTrouble, CampaignStatus, FleetInstanceReport, IdentityStatus, RestoreStatus, StageReport, TimelineEntry, WaitingFor } from '../api';
import { countStates, describeCounts } from '../domain/fleet';
import { instanceCount, versionsOf } from '../domain/fleet-status';
import { describeWindow, describeWindowGroup } from '../domain/window-group';

/** How many instances (and waves, window groups, excluded ones) a fleet stage prints unless asked for all. */
export const SHOWN_BY_DEFAULT = 20;

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

/** The items to print: all, or the important ones first, filled up in their order to `limit` (printed in their order). */
export function instancesToShow<T>(all: T[], limit: number, important: (i: T) => boolean): T[] {
  if (all.length <= limit) return all;
  const chosen = new Set(all.filter(important).slice(0, limit));
  for (const i of all) {
    if (chosen.size >= limit) break;
    chosen.add(i);
  }
  return all.filter((i) => chosen.has(i));
}

export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${sec}s`;
  return `${sec}s`;
}

export function describeWait(w: WaitingFor | undefined, nowMs: number = Date.now()): string {
  if (!w) return '';
  const until = w.until ? ` (until ${w.until}, in ${humanDuration(Date.parse(w.until) - nowMs)})` : '';
  return `${w.kind}: ${w.description}${until}`;
}

/** An AWS call that keeps failing, in two lines a person can act on. */
export function describeTrouble(t: AwsTrouble | undefined): string[] {
  if (!t) return [];
  const limit = t.givesUpAfterAttempts ? `; gives up after ${t.givesUpAfterAttempts} attempts` : '';
  return [
    `AWS CALL FAILING at ${t.step}: ${t.operation}${t.endpoint ? ` against ${t.endpoint}` : ''}`,
    `  ${t.error}`,
    `  since ${t.since}, ${t.attempts} failed attempt(s)${t.nextAttemptAt ? `, next try ${t.nextAttemptAt}` : ''}${limit}`,
  ];
}

/** How the run knows who people are, in one line; and the options a person adds to act on it. */
export function describeIdentity(i: IdentityStatus | undefined): string {
  if (i?.mode !== 'verified') return `identities: UNVERIFIED (${i?.note ?? 'names typed with --as'})`;
  const req = i.requester ? `; requester ${i.requester.principal} proven by key ${i.requester.fingerprint}` : '';
  return `identities: verified by SSH signature against ${i.allowedSigners?.source} (${i.allowedSigners?.principals.join(', ')})${req}`;
}

function actorOptions(i: IdentityStatus | undefined): string {
  return i?.mode === 'verified' ? '--as PRINCIPAL --key YOUR_SSH_KEY' : '--as NAME';
}

/** Timeline entries, one a line: when, (the stage,) the step, who, what. */
export function formatTimeline(entries: TimelineEntry[], opts: { stage?: boolean } = {}): string[] {
  return entries.map((t) => `  ${t.at}${opts.stage === false ? '' : ` ${t.stage ?? '-'}`} ${t.step}${t.by ? ` by ${t.by}` : ''}${t.detail ? `: ${t.detail}` : ''}`);
}

/** A fleet stage's instances' versions, e.g. "15.5, 15.7" (a one-instance stage: its version). */
function stageFrom(st: StageReport): string {
  if (!st.fleet) return st.fromVersion ?? '?';
  return (st.fleet.listed?.fromVersions ?? versionsOf(st.fleet.instances)).join(',') || '?';
}

const shortIso = (t: string) => t.replace(':00.000Z', 'Z');

function instanceRows(instances: FleetInstanceReport[]): string[] {
  const rows = [
    ['WAVE', 'INSTANCE', 'FROM', 'STATE', 'WINDOW', 'DOWNTIME', 'NOTE'],
    ...instances.map((i) => [
      i.wave ? String(i.wave) : '-',
      `${i.region}/${i.instanceId}`,
      i.fromVersion,
      i.state,
      i.window ? shortIso(i.window.start) : '',
      i.downtimeSeconds !== undefined ? `${i.downtimeSeconds}s` : '',
      [...(i.note ? [i.note] : []), ...(i.flags ?? []).map((f) => `FLAG ${f}`)].join('; '),
    ]),
  ];
  return table(rows).split('\n').map((l) => `    ${l}`);
}

/**
 * A fleet stage in a few lines whatever its size: counts per state, the waves, the window groups with their
 * status-page maintenance, and the failed, running and flagged instances (at most SHOWN_BY_DEFAULT of each);
 * `all` lists every instance instead.
 */
export function formatFleetReport(st: StageReport, opts: { all?: boolean; campaignId?: string } = {}): string[] {
  const f = st.fleet!;
  const limit = opts.all ? Infinity : SHOWN_BY_DEFAULT;
  const how = f.maxConcurrent !== undefined ? `up to ${f.maxConcurrent} at a time, ${f.order}` : `one wave per window group, ${f.order}`;
  const totalWaves = f.waves || f.windowGroups?.length || 0;
  const total = instanceCount(f);
  const lines = [
    `[${st.name}] fleet: ${f.selection}`,
    `  ${how}; stops and asks after ${f.failureThreshold} failed instance(s)`,
    `  instances: ${total}: ${describeCounts(f.counts)}`,
    `  waves:     ${totalWaves ? `${f.currentWave ?? 0}/${totalWaves}` : 'not planned yet'}`,
  ];
  if (f.windowGroups?.length) {
    lines.push('  window groups:');
    for (const [n, g] of f.windowGroups.slice(0, limit).entries()) {
      const counts = describeCounts(g.counts ?? countStates(f.instances.filter((i) => i.wave === n + 1)));
      const names = f.instances.filter((i) => i.wave === n + 1).map((i) => i.instanceId);
      const group = describeWindowGroup({ ...g, instances: names.length === g.instances ? names : g.instances }, '--all lists them');
      lines.push(`    wave ${String(n + 1).padEnd(3)} ${group}  ${g.statusPageIncidentId ? `status page ${g.statusPageIncidentId}` : 'not announced'}  (${counts})`);
    }
    if (f.windowGroups.length > limit) lines.push(`    … ${f.windowGroups.length - limit} more window group(s)`);
  }
  if (opts.all) {
    lines.push(`  instances (${f.instances.length}):`, ...instanceRows(f.instances));
    return lines;
  }
  // A large stage's answer lists only its instances that need attention (at most STATUS_LISTS_AT_MOST): the counts say how many there are.
  const list = (title: string, which: FleetInstanceReport[], count = which.length) => {
    if (!count) return;
    const shown = which.slice(0, limit);
    lines.push(`  ${title} (${count}${shown.length < count ? `, first ${shown.length} shown` : ''}):`, ...instanceRows(shown));
  };
  list('FAILED', f.instances.filter((i) => i.state === 'failed'), f.counts.failed);
  list('running', f.instances.filter((i) => i.state === 'running'), f.counts.running);
  list('flagged', f.instances.filter((i) => i.flags?.length && i.state !== 'failed' && i.state !== 'running'));
  const more = opts.campaignId ? `campaign status ${opts.campaignId} --all lists all ${total}; --instance ID shows one instance's timeline` : '--all lists every instance';
  lines.push(`  (${more})`);
  return lines;
}

export function formatCampaignStatus(s: CampaignStatus, nowMs: number = Date.now(), opts: { all?: boolean } = {}): string {
  const lines = [
    `Campaign ${s.campaignId}  →  ${s.targetEngineVersion}   state: ${s.state.toUpperCase()}   requested by ${s.requester}`,
    `started ${s.startedAt}${s.endedAt ? `, ended ${s.endedAt}` : ''}${s.currentStage ? `   at ${s.currentStage}/${s.currentStep}` : ''}`,
  ];
  lines.push(describeIdentity(s.identity));
  if (s.noticeOverride) lines.push(`notice override: ${s.noticeOverride}`);
  if (s.waitingFor) lines.push(`WAITING FOR ${describeWait(s.waitingFor, nowMs)}`);
  if (s.waitingFor?.plan) lines.push(`  approve: rds-orchestrator campaign approve ${s.campaignId} ${actorOptions(s.identity)}   (plan ${s.waitingFor.plan})`);
  if (s.waitingFor?.kind === 'decision') lines.push(`  answer:  rds-orchestrator campaign decide ${s.campaignId} ${(s.waitingFor.options ?? ['continue', 'abort']).map((o) => `--${o}`).join('|')} ${actorOptions(s.identity)}`);
  if (s.waitingFor?.kind === 'infra-change') lines.push('  the campaign goes on by itself when AWS shows the change');
  lines.push(...describeTrouble(s.trouble));
  if (s.failure) lines.push(`FAILURE: ${s.failure}`);
  lines.push('');
  lines.push(
    table([
      ['STAGE', 'INSTANCE', 'ACCOUNT', 'FROM', 'TO', 'STATUS', 'STEP', 'WINDOW', 'DOWNTIME'],
      ...s.stages.map((st) => [
        st.name,
        st.fleet ? `fleet: ${instanceCount(st.fleet)} instance(s)` : st.instanceId ? `${st.region}/${st.instanceId}` : 'fleet',
        st.account ?? '',
        stageFrom(st),
        st.toVersion,
        st.status,
        st.step ?? '',
        st.window ? shortIso(st.window.start) : st.fleet?.windowGroups?.length ? firstWindowGroup(st.fleet.windowGroups) : '',
        st.downtimeSeconds !== undefined ? `${st.downtimeSeconds}s` : '',
      ]),
    ]),
  );
  const estate = s.stages.flatMap(describeEstate);
  if (estate.length) lines.push('', ...estate);
  for (const st of s.stages.filter((x) => x.fleet)) lines.push('', ...formatFleetReport(st, { all: opts.all, campaignId: s.campaignId }));
  if (s.approvals.length) {
    lines.push('', 'Approvals:');
    for (const a of s.approvals) lines.push(`  ${a.at} ${a.by}${a.fingerprint ? ` (key ${a.fingerprint})` : ''} ${a.valid ? '' : '(no longer valid) '}${a.plan}${a.comment ? ` — ${a.comment}` : ''}`);
  }
  if (s.followUps.length) {
    lines.push('', 'Follow-ups:');
    for (const f of s.followUps) lines.push(`  - ${f}`);
  }
  lines.push('', 'Recent steps:', ...formatTimeline(s.timeline.slice(-8)));
  return lines.join('\n');
}

/** The first of a fleet stage's window groups, by start and end, and how many more ("Sun 2026-12-06 02:20–02:50 UTC +1"). */
function firstWindowGroup(groups: { start: string; end: string }[]): string {
  return `${describeWindow(groups[0].start, groups[0].end)}${groups.length > 1 ? ` +${groups.length - 1}` : ''}`;
}

/** What moved around a stage's instance: its replicas, who owns its flag, the flag turned off by others, the page. */
function describeEstate(st: StageReport): string[] {
  const out: string[] = [];
  if (st.changes === 'terraform') out.push(`[${st.name}] Terraform owns the flag: the campaign asks for each change and waits for AWS to show it`);
  if (st.replicas?.length) out.push(`[${st.name}] read replicas first: ${st.replicas.map((r) => `${r.region}/${r.instanceId} ${r.fromVersion ?? '?'} ${r.state}${r.window ? ` (window ${shortIso(r.window.start)})` : ''}${r.note ? `: ${r.note}` : ''}`).join('; ')}`);
  if (st.mechanism === 'apply-in-window') out.push(`[${st.name}] RDS's automatic target moved: the campaign applies ${st.toVersion} itself when the window opens`);
  if (st.flagReverts) out.push(`[${st.name}] AutoMinorVersionUpgrade turned off by someone else ${st.flagReverts} time(s) (see the flag-reverted steps: who, when)`);
  if (st.engineVersionNow) out.push(`[${st.name}] runs ${st.engineVersionNow}, past the target: upgraded outside the campaign`);
  if (st.onCall) out.push(`[${st.name}] on call (PagerDuty): ${st.onCall.state}, dedup key ${st.onCall.dedupKey}`);
  out.push(...describeBlueGreen(st));
  return out;
}

/** A Blue/Green stage (or instance): the deployment as AWS last listed it, with AWS's tasks and switchover members. */
function describeBlueGreen(st: StageReport): string[] {
  const b = st.blueGreen;
  if (!b) return [];
  const out = [`[${st.name}] Blue/Green deployment ${b.deploymentId} (${b.name}): ${b.status}${b.statusDetails ? ` (${b.statusDetails})` : ''}${b.greenInstanceId ? `, green ${b.greenInstanceId}` : ''}${b.oldInstanceId ? `, old blue ${b.oldInstanceId}` : ''}`];
  if (b.arn) out.push(`[${st.name}]   ${b.arn}`);
  if (b.tasks?.length) out.push(`[${st.name}]   tasks: ${b.tasks.join(', ')}`);
  if (b.switchover?.length) out.push(`[${st.name}]   switchover: ${b.switchover.join(', ')}${b.switchoverStartedAt ? ` (started ${b.switchoverStartedAt}${b.switchoverEndedAt ? `, ended ${b.switchoverEndedAt}` : ''})` : ''}`);
  if (b.rolledBack) out.push(`[${st.name}]   AWS rolled back ${b.rolledBack} switchover(s)`);
  return out;
}

/**
 * One instance of a fleet stage: what the campaign counts it as, and its own workflow's status (`child`,
 * the campaignStatusQuery of its workflow) with its whole timeline.
 */
export function formatFleetInstanceStatus(stage: StageReport, instance: FleetInstanceReport, child: CampaignStatus, nowMs: number = Date.now()): string {
  const r = child.stages[0];
  const lines = [
    `Instance ${instance.region}/${instance.instanceId}  →  ${child.targetEngineVersion}   state: ${child.state.toUpperCase()}   stage ${stage.name}, wave ${instance.wave || '?'} of campaign ${child.campaignId}`,
    `workflow ${instance.workflowId}   started ${child.startedAt}${child.endedAt ? `, ended ${child.endedAt}` : ''}${child.currentStep ? `   at ${child.currentStep}` : ''}`,
    `${r?.fromVersion ?? instance.fromVersion} → ${child.targetEngineVersion} (${r?.method ?? stage.method})${r?.status ? `   ${r.status}` : ''}${r?.window ? `   window ${r.window.start} – ${r.window.end}` : instance.window ? `   window ${instance.window.start} – ${instance.window.end}` : ''}${r?.downtimeSeconds !== undefined ? `   downtime ${r.downtimeSeconds}s` : ''}`,
    `the campaign counts it as ${instance.state}${instance.note ? `: ${instance.note}` : ''}`,
  ];
  if (r?.account) lines.push(`account ${r.account}${r.role ? ` through ${r.role}` : ''}`);
  if (r) lines.push(...describeBlueGreen(r));
  for (const f of instance.flags ?? []) lines.push(`FLAG ${f}`);
  if (child.waitingFor) lines.push(`WAITING FOR ${describeWait(child.waitingFor, nowMs)}`);
  lines.push(...describeTrouble(child.trouble));
  if (child.failure) lines.push(`FAILURE: ${child.failure}`);
  if (child.followUps.length) lines.push('', 'Follow-ups:', ...child.followUps.map((f) => `  - ${f}`));
  lines.push('', `Timeline (${child.timeline.length} step(s)):`, ...formatTimeline(child.timeline, { stage: false }));
  return lines.join('\n');
}

/** The extract: the dump's file, the repair's difference per table, and the rows written once committed. */
function describeExtract(s: RestoreStatus): string[] {
  const x = s.extract!;
  const lines = [`extract of database ${x.database}`];
  if (x.dump) lines.push(`  dump: ${x.dump.path} (${x.dump.sizeBytes} bytes, sha256 ${x.dump.sha256})`);
  const r = x.repair;
  if (r) {
    lines.push(`  repair difference: ${r.path} (sha256 ${r.sha256}, compared ${r.comparedAt}${r.updateChanged ? ', changed rows overwritten' : ', changed rows left as they are'})`);
    for (const t of r.tables) {
      const written = r.written?.find((w) => w.table === t.table);
      const wrote = written ? `; written: ${written.inserted} inserted, ${written.updated} updated, ${written.skipped} skipped` : '';
      lines.push(`    ${t.table} (key ${t.primaryKey.join(', ')}): ${t.missing} missing, ${t.changed} changed${wrote}`);
      if (!written && t.sampleMissing.length) lines.push(`      missing e.g. ${t.sampleMissing.join(' | ')}`);
      if (!written && t.sampleChanged.length) lines.push(`      changed e.g. ${t.sampleChanged.join(' | ')}`);
    }
    if (r.committedAt) lines.push(`  committed into ${s.source.instanceId} at ${r.committedAt}`);
  }
  return lines;
}

export function formatRestoreStatus(s: RestoreStatus, nowMs: number = Date.now()): string {
  const lines = [
    `Restore ${s.restoreId}   state: ${s.state.toUpperCase()}   requested by ${s.requester}`,
    `source ${s.source.region}/${s.source.instanceId}${s.source.endpoint ? ` (${s.source.endpoint})` : ''}${s.source.account ? `   account ${s.source.account} through ${s.source.role}` : ''}`,
    `target ${s.target.instanceId} at ${s.target.restoreTime}${s.target.endpoint ? ` → ${s.target.endpoint}` : ''}${s.target.securityGroupId ? ` (own security group ${s.target.securityGroupId})` : ''}`,
    `started ${s.startedAt}${s.endedAt ? `, ended ${s.endedAt}` : ''}${s.currentStep ? `   step ${s.currentStep}` : ''}`,
    describeIdentity(s.identity),
  ];
  if (s.waitingFor) lines.push(`WAITING FOR ${describeWait(s.waitingFor, nowMs)}`);
  if (s.waitingFor?.kind === 'approval') lines.push(`  approve: rds-orchestrator restore approve ${s.restoreId} ${actorOptions(s.identity)}`);
  if (s.waitingFor?.kind === 'decision') lines.push(`  answer:  rds-orchestrator restore decide ${s.restoreId} --keep|--roll-back ${actorOptions(s.identity)}`);
  if (s.cutover) {
    lines.push(`cutover of ${s.cutover.recordName} (${s.cutover.zone} zone${s.cutover.account ? ` in account ${s.cutover.account} through ${s.cutover.role}` : ''})${s.cutover.switchedAt ? `: CNAME switched at ${s.cutover.switchedAt}, writes may reach ${s.target.instanceId} since` : ''}`);
    for (const v of s.cutover.verified ?? []) lines.push(`  verified: ${v}`);
  }
  if (s.extract) lines.push(...describeExtract(s));
  lines.push(...describeTrouble(s.trouble));
  if (s.rollback) lines.push(`ROLLED BACK: ${s.rollback.reason}`, ...s.rollback.steps.map((x) => `  - ${x}`));
  if (s.rollback?.stranded) lines.push(`  writes made to ${s.rollback.stranded.instanceId} from ${s.rollback.stranded.from} to ${s.rollback.stranded.to} are stranded there (see follow-ups)`);
  if (s.failure) lines.push(`FAILURE: ${s.failure}`);
  if (s.followUps.length) lines.push('', 'Follow-ups:', ...s.followUps.map((f) => `  - ${f}`));
  lines.push('', 'Recent steps:');
  for (const t of s.timeline.slice(-8)) lines.push(`  ${t.at} ${t.step}${t.by ? ` by ${t.by}` : ''}${t.detail ? `: ${t.detail}` : ''}`);
  return lines.join('\n');
}
