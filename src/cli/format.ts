/** Readable summaries for `status` commands (the --json form is the raw query result). */
import type { AwsTrouble, CampaignStatus, IdentityStatus, RestoreStatus, WaitingFor } from '../api';

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd()).join('\n');
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

export function formatCampaignStatus(s: CampaignStatus, nowMs: number = Date.now()): string {
  const lines = [
    `Campaign ${s.campaignId}  →  ${s.targetEngineVersion}   state: ${s.state.toUpperCase()}   requested by ${s.requester}`,
    `started ${s.startedAt}${s.endedAt ? `, ended ${s.endedAt}` : ''}${s.currentStage ? `   at ${s.currentStage}/${s.currentStep}` : ''}`,
  ];
  lines.push(describeIdentity(s.identity));
  if (s.noticeOverride) lines.push(`notice override: ${s.noticeOverride}`);
  if (s.waitingFor) lines.push(`WAITING FOR ${describeWait(s.waitingFor, nowMs)}`);
  if (s.waitingFor?.plan) lines.push(`  approve: rds-orchestrator campaign approve ${s.campaignId} ${actorOptions(s.identity)}   (plan ${s.waitingFor.plan})`);
  if (s.waitingFor?.kind === 'decision') lines.push(`  answer:  rds-orchestrator campaign decide ${s.campaignId} --continue|--abort ${actorOptions(s.identity)}`);
  lines.push(...describeTrouble(s.trouble));
  if (s.failure) lines.push(`FAILURE: ${s.failure}`);
  lines.push('');
  lines.push(
    table([
      ['STAGE', 'INSTANCE', 'ACCOUNT', 'FROM', 'TO', 'STATUS', 'STEP', 'WINDOW', 'DOWNTIME'],
      ...s.stages.map((st) => [
        st.name,
        `${st.region}/${st.instanceId}`,
        st.account ?? '',
        st.fromVersion ?? '?',
        st.toVersion,
        st.status,
        st.step ?? '',
        st.window ? st.window.start.replace(':00.000Z', 'Z') : '',
        st.downtimeSeconds !== undefined ? `${st.downtimeSeconds}s` : '',
      ]),
    ]),
  );
  if (s.approvals.length) {
    lines.push('', 'Approvals:');
    for (const a of s.approvals) lines.push(`  ${a.at} ${a.by}${a.fingerprint ? ` (key ${a.fingerprint})` : ''} ${a.valid ? '' : '(no longer valid) '}${a.plan}${a.comment ? ` — ${a.comment}` : ''}`);
  }
  if (s.followUps.length) {
    lines.push('', 'Follow-ups:');
    for (const f of s.followUps) lines.push(`  - ${f}`);
  }
  lines.push('', 'Recent steps:');
  for (const t of s.timeline.slice(-8)) lines.push(`  ${t.at} ${t.stage ?? '-'} ${t.step}${t.by ? ` by ${t.by}` : ''}${t.detail ? `: ${t.detail}` : ''}`);
  return lines.join('\n');
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
  lines.push(...describeTrouble(s.trouble));
  if (s.rollback) lines.push(`ROLLED BACK: ${s.rollback.reason}`, ...s.rollback.steps.map((x) => `  - ${x}`));
  if (s.rollback?.stranded) lines.push(`  writes made to ${s.rollback.stranded.instanceId} from ${s.rollback.stranded.from} to ${s.rollback.stranded.to} are stranded there (see follow-ups)`);
  if (s.failure) lines.push(`FAILURE: ${s.failure}`);
  if (s.followUps.length) lines.push('', 'Follow-ups:', ...s.followUps.map((f) => `  - ${f}`));
  lines.push('', 'Recent steps:');
  for (const t of s.timeline.slice(-8)) lines.push(`  ${t.at} ${t.step}${t.by ? ` by ${t.by}` : ''}${t.detail ? `: ${t.detail}` : ''}`);
  return lines.join('\n');
}
