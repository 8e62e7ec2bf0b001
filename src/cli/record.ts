/**
 * `campaign record ID` / `restore record ID`: the change record a change-advisory board or an auditor asks
 * for, from the run itself (its history's input and its status): what was asked (the resolved spec), the
 * plan and how each step ended, who requested, approved and acted (principal, key and signed text when
 * identities are verified), every change made to AWS (action, resource, account, region, time, AWS request
 * id, to find it in CloudTrail) and to the status page, the downtime measured, the outcome and follow-ups.
 * Markdown by default, `--json` for tools. Works on running and closed runs.
 */
import type { Command } from 'commander';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { campaignStatusQuery, restoreStatusQuery, type Approval, type CampaignStatus, type ChangeMade, type HumanAction, type IdentityStatus, type RestoreStatus } from '../api';
import { campaignHandle, restoreHandle } from '../client';
import { UNVERIFIED_NOTE } from '../domain/identity/identity';
import { describeCounts } from '../domain/fleet';
import type { RunKind } from '../domain/identity/signed-actions';
import type { CliContext } from './context';
import { wholeCampaignStatus } from './fleet-instance';

export interface ChangeRecord {
  kind: RunKind;
  id: string;
  workflowId: string;
  runId: string;
  outcome: { state: string; startedAt: string; endedAt?: string; failure?: string };
  identity: IdentityStatus;
  requester: { name: string; principal?: string; fingerprint?: string; signedAt?: string };
  /** The resolved spec the run was started with (its history's input). */
  spec: unknown;
  /** Campaign: one line per stage. Restore: source, target and cutover. */
  plan: Record<string, unknown>[];
  approvals: Approval[];
  humanActions: HumanAction[];
  changes: ChangeMade[];
  statusPage: { stage: string; incidentId: string; changes: ChangeMade[] }[];
  /** Campaign stages by Blue/Green: each deployment (its ARN), what is left of it, and every call that changed it. */
  blueGreen?: { stage: string; instance: string; deploymentId: string; arn?: string; status: string; green?: string; oldBlue?: string; calls: ChangeMade[] }[];
  downtime: { what: string; seconds?: number; from?: string; to?: string }[];
  followUps: string[];
}

async function startInput(handle: WorkflowHandle): Promise<{ spec: unknown; runId: string }> {
  const history = await handle.fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const payload = started?.input?.payloads?.[0];
  const spec = payload ? defaultPayloadConverter.fromPayload(payload as Parameters<typeof defaultPayloadConverter.fromPayload>[0]) : undefined;
  return { spec, runId: started?.originalExecutionRunId ?? '' };
}

function common(kind: RunKind, id: string, workflowId: string, s: CampaignStatus | RestoreStatus, spec: unknown, runId: string): Omit<ChangeRecord, 'plan' | 'statusPage' | 'downtime'> {
  const proven = s.identity?.requester;
  return {
    kind,
    id,
    workflowId,
    runId: s.identity?.runId ?? runId,
    outcome: { state: s.state, startedAt: s.startedAt, endedAt: s.endedAt, failure: s.failure },
    identity: s.identity ?? { mode: 'unverified', runId, namespace: 'rds-orchestrator', note: UNVERIFIED_NOTE },
    requester: { name: s.requester, principal: proven?.principal, fingerprint: proven?.fingerprint, signedAt: proven?.signedAt },
    spec,
    approvals: s.approvals,
    humanActions: s.humanActions,
    changes: s.changes ?? [],
    followUps: s.followUps,
  };
}

/**
 * An instance of a fleet stage, as its own workflow reports it (`campaign status --instance`): its changes and its
 * Blue/Green deployment are in its status, not in the campaign's.
 */
export interface FleetChildStatus {
  stage: string;
  instance: string;
  status: CampaignStatus;
}

export function campaignRecord(workflowId: string, s: CampaignStatus, spec: unknown, runId: string, children: FleetChildStatus[] = []): ChangeRecord {
  // The fleet's instances' changes, under their stage's name (each instance's workflow runs a stage of one instance).
  const childChanges = children.flatMap((c) => (c.status.changes ?? []).map((x) => ({ ...x, stage: c.stage })));
  const changes = [...(s.changes ?? []), ...childChanges].sort((a, b) => a.at.localeCompare(b.at));
  const childDeployments = children.flatMap((c) =>
    c.status.stages
      .filter((st) => st.blueGreen)
      .map((st) => {
        const b = st.blueGreen!;
        const calls = (c.status.changes ?? []).filter((x) => x.resource === b.arn || x.resource === b.deploymentId);
        return { stage: c.stage, instance: c.instance, deploymentId: b.deploymentId, arn: b.arn, status: b.status, green: b.greenInstanceId, oldBlue: b.oldInstanceId, calls };
      }),
  );
  return {
    ...common('campaign', s.campaignId, workflowId, s, spec, runId),
    changes,
    plan: s.stages.map((st) => ({
      stage: st.name,
      instance: st.fleet ? `fleet: ${st.fleet.selection}; ${st.fleet.instances.length} instance(s): ${describeCounts(st.fleet.counts)}` : `${st.region}/${st.instanceId}`,
      account: st.account,
      method: st.method,
      from: st.fromVersion,
      to: st.toVersion,
      window: st.window ? `${st.window.start} – ${st.window.end}` : undefined,
      status: st.status,
      note: st.note,
    })),
    statusPage: s.stages
      .filter((st) => st.statusPageIncidentId)
      .map((st) => ({ stage: st.name, incidentId: st.statusPageIncidentId!, changes: changes.filter((c) => c.resource === st.statusPageIncidentId) })),
    blueGreen: s.stages
      .filter((st) => st.blueGreen)
      .map((st) => {
        const b = st.blueGreen!;
        const calls = changes.filter((c) => c.stage === st.name && (c.resource === b.arn || c.resource === b.deploymentId));
        return { stage: st.name, instance: `${st.region}/${st.instanceId}`, deploymentId: b.deploymentId, arn: b.arn, status: b.status, green: b.greenInstanceId, oldBlue: b.oldInstanceId, calls };
      })
      .concat(childDeployments),
    downtime: s.stages
      .filter((st) => st.downtimeSeconds !== undefined)
      .map((st) => ({ what: `${st.name}: longest outage the probe saw (${st.probe?.requests ?? '?'} requests, ${st.probe?.failures ?? '?'} failed)`, seconds: st.downtimeSeconds })),
  };
}

export function restoreRecord(workflowId: string, s: RestoreStatus, spec: unknown, runId: string): ChangeRecord {
  const at = (step: string) => s.timeline.find((t) => t.step === step)?.at;
  const ttlWait = s.timeline.find((t) => t.step === 'waiting-for-ttl');
  const stoppedFrom = at('old-instance-stopping');
  const cachesExpire = ttlWait?.detail ? /until (\S+)$/.exec(ttlWait.detail)?.[1] : undefined;
  return {
    ...common('restore', s.restoreId, workflowId, s, spec, runId),
    plan: [
      { part: 'source', instance: `${s.source.region}/${s.source.instanceId}`, account: s.source.account, endpoint: s.source.endpoint },
      { part: 'restored', instance: `${s.source.region}/${s.target.instanceId}`, restoreTime: s.target.restoreTime, endpoint: s.target.endpoint, securityGroup: s.target.securityGroupId },
      ...(s.cutover ? [{ part: 'cutover', record: s.cutover.recordName, zone: s.cutover.zone, account: s.cutover.account, switchedAt: s.cutover.switchedAt }] : []),
      ...(s.extract?.dump ? [{ part: 'dump', database: s.extract.database, file: s.extract.dump.path, bytes: s.extract.dump.sizeBytes, sha256: s.extract.dump.sha256 }] : []),
      ...(s.extract?.repair?.tables ?? []).map((t) => {
        const w = s.extract!.repair!.written?.find((x) => x.table === t.table);
        return { part: 'repair', table: t.table, missing: t.missing, changed: t.changed, inserted: w?.inserted, updated: w?.updated, skipped: w?.skipped, committedAt: s.extract!.repair!.committedAt, difference: s.extract!.repair!.sha256 };
      }),
    ],
    statusPage: [],
    downtime: stoppedFrom
      ? [{ what: 'applications without their database: from the old instance stopping until DNS caches expired', from: stoppedFrom, to: cachesExpire, seconds: cachesExpire ? (Date.parse(cachesExpire) - Date.parse(stoppedFrom)) / 1000 : undefined }]
      : [],
  };
}

const cell = (v: unknown) => (v === undefined || v === null || v === '' ? '–' : String(v).replace(/\|/g, '\\|'));

function mdTable(rows: unknown[][]): string {
  const [head, ...body] = rows;
  return [`| ${head.map(cell).join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...body.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

export function formatRecord(r: ChangeRecord): string {
  const who = r.requester.principal
    ? `${r.requester.principal} (verified: start signed with key ${r.requester.fingerprint} at ${r.requester.signedAt})`
    : `${r.requester.name}${r.identity.mode === 'unverified' ? ' (unverified)' : ''}`;
  const identity =
    r.identity.mode === 'verified'
      ? `verified: SSH signatures (namespace ${r.identity.namespace}) against ${r.identity.allowedSigners?.source} (${r.identity.allowedSigners?.principals.join(', ')})`
      : `UNVERIFIED: ${r.identity.note ?? UNVERIFIED_NOTE}`;
  const out = [
    `# Change record: ${r.kind} ${r.id}`,
    '',
    mdTable([
      ['', ''],
      ['Workflow', `${r.workflowId} (run ${r.runId})`],
      ['Outcome', r.outcome.state + (r.outcome.failure ? `: ${r.outcome.failure}` : '')],
      ['Started', r.outcome.startedAt],
      ['Ended', r.outcome.endedAt],
      ['Requested by', who],
      ['Identities', identity],
    ]),
    '',
    r.kind === 'campaign' ? '## Plan and result per stage' : '## Plan',
    '',
    mdTable([Object.keys(r.plan[0] ?? { '': '' }), ...r.plan.map((p) => Object.values(p))]),
    '',
    '## People',
    '',
    mdTable([['When', 'Who', 'Action', 'Detail', 'Comment', 'Key'], ...r.humanActions.map((h) => [h.at, h.by, h.action, h.detail, h.comment, h.fingerprint ?? (r.identity.mode === 'verified' ? '' : 'unverified')])]),
  ];
  const signed = r.humanActions.filter((h) => h.signed);
  if (signed.length) {
    out.push('', 'Signed texts:', '');
    for (const h of signed) out.push(`- ${h.at} ${h.by} (${h.fingerprint}):`, '', '  ```', ...h.signed!.trimEnd().split('\n').map((l) => `  ${l}`), '  ```');
  }
  if (r.approvals.length) {
    out.push('', mdTable([['Approval', 'By', 'At', 'Plan', 'Still valid', 'Key'], ...r.approvals.map((a, i) => [i + 1, a.by, a.at, a.plan, a.valid ? 'yes' : 'no (plan changed)', a.fingerprint])]));
  }
  out.push('', `## Changes made (${r.changes.length})`, '');
  out.push(
    r.changes.length
      ? mdTable([['When', 'Stage', 'Step', 'Action', 'Resource', 'Account', 'Region', 'Request id'], ...r.changes.map((c) => [c.at, c.stage, c.step, c.action, c.resource, c.account ?? "worker's", c.region, c.requestId])])
      : 'None.',
  );
  if (r.statusPage.length) {
    out.push('', '## Status page', '', ...r.statusPage.map((p) => `- ${p.stage}: scheduled maintenance ${p.incidentId} (${p.changes.map((c) => c.action.replace('statuspage:', '')).join(', ')})`));
  }
  if (r.blueGreen?.length) {
    out.push('', '## Blue/Green deployments', '');
    for (const b of r.blueGreen) {
      out.push(`- ${b.stage} ${b.instance}: ${b.deploymentId} (${b.arn ?? 'ARN not listed'}), ${b.status}; green ${b.green ?? '–'}; old blue ${b.oldBlue ?? '– (not switched over)'}`);
      for (const c of b.calls) out.push(`  - ${c.at} ${c.action} (request ${c.requestId ?? '–'})`);
    }
  }
  out.push('', '## Downtime', '', ...(r.downtime.length ? r.downtime.map((d) => `- ${d.what}: ${d.seconds !== undefined ? `${d.seconds} s` : 'not measured'}${d.from ? ` (${d.from} → ${d.to ?? '?'})` : ''}`) : ['None measured.']));
  out.push('', '## Follow-ups', '', ...(r.followUps.length ? r.followUps.map((f) => `- ${f}`) : ['None.']));
  out.push('', '## What was asked (resolved spec)', '', '```json', JSON.stringify(r.spec, null, 2), '```', '');
  return out.join('\n');
}

export function recordCommand(group: Command, ctx: CliContext, kind: RunKind): void {
  group
    .command('record <id>')
    .description(`the change record of a ${kind}: spec, plan, people (with their keys), every AWS change with its request id, downtime, outcome`)
    .option('--json', 'machine-readable')
    .action(async (id: string, opts: { json?: boolean }) => {
      const client = await ctx.client();
      const handle = kind === 'campaign' ? campaignHandle(client, id) : restoreHandle(client, id);
      const { spec, runId } = await startInput(handle);
      let record: ChangeRecord;
      if (kind === 'campaign') {
        const status = await wholeCampaignStatus(campaignHandle(client, id));
        record = campaignRecord(handle.workflowId, status, spec, runId, await fleetChildren(client, status, (line) => ctx.io.err(line)));
      } else {
        record = restoreRecord(handle.workflowId, await restoreHandle(client, id).query(restoreStatusQuery), spec, runId);
      }
      ctx.io.out(opts.json ? JSON.stringify(record, null, 2) : formatRecord(record));
    });
}

/** Children read at once by `campaign record` (each query replays a closed child's history on a worker). */
const CHILDREN_AT_ONCE = 8;

/**
 * Every started instance of the campaign's fleet stages, read from its own workflow. A child that cannot be read
 * (deleted by the namespace's retention) is said on stderr, and the record says what it has.
 */
async function fleetChildren(client: Client, status: CampaignStatus, warn: (line: string) => void): Promise<FleetChildStatus[]> {
  const started = status.stages.flatMap((st) => (st.fleet?.instances ?? []).filter((i) => i.wave !== undefined && i.state !== 'pending').map((i) => ({ stage: st.name, instance: i })));
  const out: (FleetChildStatus | undefined)[] = new Array(started.length);
  let next = 0;
  const lost: string[] = [];
  await Promise.all(
    Array.from({ length: Math.min(CHILDREN_AT_ONCE, started.length) }, async () => {
      for (let k = next++; k < started.length; k = next++) {
        const { stage, instance } = started[k];
        try {
          out[k] = { stage, instance: `${instance.region}/${instance.instanceId}`, status: await client.workflow.getHandle(instance.workflowId).query(campaignStatusQuery) };
        } catch (err) {
          lost.push(`${instance.region}/${instance.instanceId} (${instance.workflowId}): ${(err as Error).message}`);
        }
      }
    }),
  );
  if (lost.length) warn(`campaign record: ${lost.length} instance workflow(s) could not be read, their changes are missing from the record: ${lost.slice(0, 5).join('; ')}${lost.length > 5 ? '; …' : ''}`);
  return out.filter((c): c is FleetChildStatus => c !== undefined);
}
