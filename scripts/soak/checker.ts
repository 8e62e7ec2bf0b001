/**
 * The soak's checker. It believes two witnesses only, never the product's own status queries:
 *
 *   the simulator's call log  what reached AWS (read whole while the run went on: ./calls.ts), and the final
 *                             state through the SDK (DescribeDBInstances) and the Statuspage state
 *   Temporal's histories      every workflow of the run's task queue listed, each history fetched, payloads
 *                             decoded with the default payload converter
 *
 * and proves, printing each check: every fleet instance upgraded exactly once to the target; every mutation
 * made at most once per intent; no AutoMinorVersionUpgrade flag left on; every Statuspage maintenance completed
 * or cancelled; no workflow stuck, failed without a reason or lost; every refused operator action refused and
 * absent from history (and every accepted one in it once); the runs ended as the scenario says they should.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { CallRecord } from '../../sim';
import type { CollectedCalls } from './calls';
import type { OperatorAction } from './operator';
import type { FleetMember, RestorePlan, Started } from './scenario';

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface Check {
  name: string;
  ok: boolean;
  /** What it found (the first lines of what is wrong, or what it counted when all is well). */
  details: string[];
}

export interface WorkflowFacts {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  startMs: number;
  closeMs?: number;
  events: number;
  /** The result (completed), decoded. */
  result?: unknown;
  /** The failure's message (failed), or why it ended otherwise (terminated, timed out, cancelled). */
  endReason?: string;
  childrenStarted: string[];
  /** Updates accepted: the request as decoded, and whether it completed. */
  accepted: { updateId: string; name: string; request: unknown; completed: boolean }[];
}

export interface FinalInstance {
  account: string;
  region: string;
  id: string;
  engineVersion?: string;
  autoMinorVersionUpgrade?: boolean;
  status?: string;
}

export interface Incident {
  id: string;
  name: string;
  status: string;
  scheduled_for: string | null;
  scheduled_until: string | null;
}

export interface CheckInput {
  client: Client;
  taskQueue: string;
  target: string;
  started: Started[];
  fleet: FleetMember[];
  restores: RestorePlan[];
  operator: OperatorAction[];
  /** The restore the operator aborts (never approved: it can only end aborted). */
  abortedRestoreId?: string;
  calls: CollectedCalls;
  finalInstances: FinalInstance[];
  incidents: Incident[];
  /** Runs the driver meant to start and could not (why). */
  notStarted: string[];
}

export interface CheckReport {
  checks: Check[];
  workflows: WorkflowFacts[];
  mutations: { byAction: Record<string, number>; total: number; intents: number; duplicates: [string, number][]; refusedRepeats: [string, number][]; idempotentRepeats: [string, number][] };
}

const decode = (p: temporal.api.common.v1.IPayload | null | undefined): unknown => {
  if (!p) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(p as Parameters<typeof defaultPayloadConverter.fromPayload>[0]);
  } catch (err) {
    return `<undecodable: ${(err as Error).message}>`;
  }
};

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number | undefined =>
  t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : undefined;

/** What a history says: type, how it ended, the children it started, the updates it accepted. */
export function factsOf(workflowId: string, runId: string, events: HistoryEvent[]): WorkflowFacts {
  const f: WorkflowFacts = { workflowId, runId, type: '?', status: 'RUNNING', startMs: ms(events[0]?.eventTime) ?? 0, events: events.length, childrenStarted: [], accepted: [] };
  const byEventId = new Map<string, WorkflowFacts['accepted'][number]>();
  for (const e of events) {
    const end = ms(e.eventTime);
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        f.type = e.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '?';
        break;
      case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        f.childrenStarted.push(e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? '?');
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: {
        const a = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
        const rec = { updateId: a?.meta?.updateId ?? '?', name: a?.input?.name ?? '?', request: decode(a?.input?.args?.payloads?.[0]), completed: false };
        f.accepted.push(rec);
        byEventId.set(String(e.eventId), rec);
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: {
        const rec = byEventId.get(String(e.workflowExecutionUpdateCompletedEventAttributes?.acceptedEventId));
        if (rec) rec.completed = true;
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        f.status = 'COMPLETED';
        f.closeMs = end;
        f.result = decode(e.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0]);
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        f.status = 'FAILED';
        f.closeMs = end;
        f.endReason = e.workflowExecutionFailedEventAttributes?.failure?.message ?? '';
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
        f.status = 'TERMINATED';
        f.closeMs = end;
        f.endReason = e.workflowExecutionTerminatedEventAttributes?.reason ?? '';
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
        f.status = 'TIMED_OUT';
        f.closeMs = end;
        f.endReason = 'workflow execution timed out';
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
        f.status = 'CANCELED';
        f.closeMs = end;
        f.endReason = String(decode(e.workflowExecutionCanceledEventAttributes?.details?.payloads?.[0]) ?? '');
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
        f.status = 'CONTINUED_AS_NEW';
        f.closeMs = end;
        break;
    }
  }
  return f;
}

async function pool<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/** Every workflow of the task queue, and any other id asked for (started by the driver, or by a parent), with its history. */
export async function readHistories(client: Client, taskQueue: string, alsoIds: (read: Map<string, WorkflowFacts>) => string[]): Promise<{ facts: Map<string, WorkflowFacts>; notFound: string[] }> {
  const facts = new Map<string, WorkflowFacts>();
  const listed: { workflowId: string; runId: string }[] = [];
  for await (const w of client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) listed.push({ workflowId: w.workflowId, runId: w.runId });
  const read = async (workflowId: string, runId?: string) => {
    const h = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const first = h.events?.[0];
    const id = runId ?? first?.workflowExecutionStartedEventAttributes?.originalExecutionRunId ?? '?';
    facts.set(workflowId, factsOf(workflowId, id, h.events ?? []));
  };
  await pool(listed, 8, (w) => read(w.workflowId, w.runId));
  const notFound: string[] = [];
  // Ids nobody listed (visibility lagging, or a workflow that is gone): fetched by id; gone means lost.
  for (let round = 0; round < 3; round++) {
    const missing = [...new Set(alsoIds(facts))].filter((id) => !facts.has(id) && !notFound.includes(id));
    if (missing.length === 0) break;
    await pool(missing, 8, async (id) => {
      try {
        await read(id);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError || /not found/i.test(String((err as Error).message))) notFound.push(id);
        else throw err;
      }
    });
  }
  return { facts, notFound };
}

// ---- the call log: intents -------------------------------------------------------------------------

const where = (c: CallRecord) => `${c.account}/${c.region}`;

/** The instance id of an RDS ARN (`arn:aws:rds:<region>:<account>:db:<id>`), or the value as given. */
const instanceOfArn = (v: string | undefined) => (v ?? '?').split(':db:').pop()!;

function xmlAll(body: string, tag: string): string[] {
  return [...body.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map((m) => m[1]!);
}

/**
 * What a mutation means to do, as one key: two calls with the same key are the same change made twice. The
 * upgrade of an instance is one intent whichever call makes it (ApplyPendingMaintenanceAction immediate, or
 * ModifyDBInstance EngineVersion).
 */
export function intentOf(c: CallRecord): string {
  const p = c.params;
  switch (`${c.service} ${c.action}`) {
    case 'rds ModifyDBInstance':
      if (p.EngineVersion) return `upgrade ${where(c)}/${p.DBInstanceIdentifier}`;
      if (p.AutoMinorVersionUpgrade !== undefined) return `AutoMinorVersionUpgrade=${p.AutoMinorVersionUpgrade} ${where(c)}/${p.DBInstanceIdentifier}`;
      return `modify ${where(c)}/${p.DBInstanceIdentifier} ${JSON.stringify(Object.entries(p).filter(([k]) => k !== 'DBInstanceIdentifier').sort())}`;
    case 'rds ApplyPendingMaintenanceAction':
      return p.OptInType === 'immediate' ? `upgrade ${where(c)}/${instanceOfArn(p.ResourceIdentifier)}` : `opt-in ${p.OptInType} ${where(c)}/${instanceOfArn(p.ResourceIdentifier)}`;
    case 'rds RestoreDBInstanceToPointInTime':
      return `restore ${where(c)}/${p.TargetDBInstanceIdentifier}`;
    case 'rds StopDBInstance':
    case 'rds StartDBInstance':
      return `${c.action} ${where(c)}/${p.DBInstanceIdentifier}`;
    case 'ec2 CreateSecurityGroup':
      return `security group ${where(c)} ${p.GroupName}`;
    case 'ec2 AuthorizeSecurityGroupIngress':
      return `ingress ${where(c)} ${JSON.stringify(Object.entries(p).sort())}`;
    case 'route53 ChangeResourceRecordSets': {
      const body = p.body ?? '';
      const changes = xmlAll(body, 'Action').map((action, i) => `${action} ${xmlAll(body, 'Name')[i]} ${xmlAll(body, 'SetIdentifier')[i] ?? ''} -> ${xmlAll(body, 'Value')[i]} TTL ${xmlAll(body, 'TTL')[i]}`);
      return `record ${c.account} ${p.HostedZoneId} ${changes.join('; ')}`;
    }
    case 'statuspage CreateIncident': {
      const incident = (safeJson(p.body) as { incident?: { scheduled_for?: string; metadata?: unknown } } | undefined)?.incident;
      return `announce ${c.account} ${incident?.scheduled_for} ${JSON.stringify(incident?.metadata ?? null)}`;
    }
    case 'statuspage UpdateIncident': {
      const incident = (safeJson(p.body) as { incident?: { status?: string } } | undefined)?.incident;
      return `incident ${c.account} ${p.id} -> ${incident?.status ?? JSON.stringify(incident)}`;
    }
    default:
      if (c.service === 'pagerduty') return `page ${p.dedup_key} ${c.action}`;
      return `${c.service} ${c.action} ${where(c)} ${JSON.stringify(Object.entries(p).sort())}`;
  }
}

function safeJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
}

/** A change made (the service answered 2xx), not a call answered by an injected fault or refused. */
// A lost answer reached the service: its change was made.
const made = (c: CallRecord) => (!c.fault || c.fault === 'lost') && c.httpStatus >= 200 && c.httpStatus < 300;
/** Reached the service and refused by it (a second try the service said no to). */
const refusedByService = (c: CallRecord) => (!c.fault || c.fault === 'lost') && c.httpStatus >= 300;

function counts(keys: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

const shown = (items: string[], max = 12) => (items.length > max ? [...items.slice(0, max), `… and ${items.length - max} more`] : items);

// ---- the checks -------------------------------------------------------------------------------------

export async function check(input: CheckInput): Promise<CheckReport> {
  const checks: Check[] = [];
  const add = (name: string, problems: string[], fine: string[]) => checks.push({ name, ok: problems.length === 0, details: problems.length ? shown(problems) : fine });
  const { calls } = input;

  add('the scenario ran whole (every run it meant to start was started)', input.notStarted, [`${input.started.length} runs started: ${input.started.map((s) => s.kind).join(', ')}`]);

  // 0. The witness itself: every call read.
  add('the call log was read whole (no calls dropped before they were read)', calls.gaps.map((g) => `calls ${g} were dropped from the log before the soak read them`), [`${calls.total} calls read, seq ${calls.firstSeq ?? 0}..${calls.lastSeq}`]);

  // 1. Mutations and intents.
  const madeCalls = calls.mutations.filter(made);
  const isPage = (k: string) => k.startsWith('page ');
  const intentCounts = counts(madeCalls.map(intentOf));
  const duplicates = [...intentCounts].filter(([k, n]) => n > 1 && !isPage(k));
  const idempotentRepeats = [...intentCounts].filter(([k, n]) => n > 1 && isPage(k));
  const refusedRepeats = [...counts(calls.mutations.filter(refusedByService).map(intentOf))].filter(([k]) => intentCounts.has(k));
  const byAction: Record<string, number> = {};
  for (const c of madeCalls) byAction[`${c.service} ${c.action}`] = (byAction[`${c.service} ${c.action}`] ?? 0) + 1;

  // 2. Every fleet instance upgraded exactly once to the target.
  const final = new Map(input.finalInstances.map((i) => [`${i.account}/${i.region}/${i.id}`, i]));
  const upgradeProblems: string[] = [];
  for (const m of input.fleet) {
    const key = `${m.account}/${m.region}/${m.id}`;
    const upgrades = intentCounts.get(`upgrade ${key}`) ?? 0;
    const on = intentCounts.get(`AutoMinorVersionUpgrade=true ${key}`) ?? 0;
    const version = final.get(key)?.engineVersion;
    if (version !== input.target) upgradeProblems.push(`${key} (${m.stage}) runs ${version ?? 'nothing found'}, not ${input.target}`);
    if (m.stage === 'now' && upgrades !== 1) upgradeProblems.push(`${key} (apply-now): ${upgrades} upgrade calls, not exactly 1`);
    if (m.stage === 'windows' && (on !== 1 || upgrades !== 0)) upgradeProblems.push(`${key} (window): AutoMinorVersionUpgrade turned on ${on} time(s) and ${upgrades} upgrade call(s); expected on once and the window to upgrade it`);
  }
  const nowCount = input.fleet.filter((m) => m.stage === 'now').length;
  add(
    `every instance of the fleet upgraded exactly once to ${input.target}`,
    upgradeProblems,
    [`${input.fleet.length} instances at ${input.target}: ${nowCount} by one upgrade call each (apply-now), ${input.fleet.length - nowCount} by their window after one flag change each`],
  );

  // 3. At most once per intent.
  const restoreLines: string[] = [];
  for (const r of input.restores) {
    const restores = [...intentCounts].filter(([k]) => k.startsWith('restore ') && k.endsWith(`/${r.targetId}`)).reduce((a, [, n]) => a + n, 0);
    const groups = madeCalls.filter((c) => c.action === 'CreateSecurityGroup' && Object.values(c.params).some((v) => v.includes(r.restoreId))).length;
    restoreLines.push(`${r.restoreId}: RestoreDBInstanceToPointInTime ${restores}, CreateSecurityGroup ${groups}`);
    if (restores > 1 || groups > 1) duplicates.push([`${r.restoreId}: ${restores} restores, ${groups} security groups`, Math.max(restores, groups)]);
  }
  add(
    'every mutation made at most once per intent (upgrade, flag, restore, security group, record change, stop, announcement)',
    duplicates.map(([k, n]) => `${n}x ${k}`),
    [`${madeCalls.length} mutations, ${intentCounts.size} intents, none twice`, ...restoreLines, ...(refusedRepeats.length ? [`refused by AWS on a second try (nothing changed): ${refusedRepeats.map(([k, n]) => `${n}x ${k}`).join('; ')}`] : []), ...(idempotentRepeats.length ? [`PagerDuty events repeated with their dedup_key (PagerDuty merges them): ${idempotentRepeats.length}`] : [])],
  );

  // 4. No AutoMinorVersionUpgrade flag left on (the final state, and the call log's last change per instance).
  const flagProblems: string[] = [];
  const lastFlag = new Map<string, string>();
  for (const c of madeCalls) if (c.action === 'ModifyDBInstance' && c.params.AutoMinorVersionUpgrade !== undefined) lastFlag.set(`${where(c)}/${c.params.DBInstanceIdentifier}`, c.params.AutoMinorVersionUpgrade);
  for (const [k, v] of lastFlag) if (v !== 'false') flagProblems.push(`${k}: the last flag change in the call log turned it ${v}`);
  for (const m of input.fleet) {
    const i = final.get(`${m.account}/${m.region}/${m.id}`);
    if (i?.autoMinorVersionUpgrade !== false) flagProblems.push(`${m.account}/${m.region}/${m.id}: DescribeDBInstances says AutoMinorVersionUpgrade ${i?.autoMinorVersionUpgrade}`);
  }
  add('no AutoMinorVersionUpgrade flag left on', flagProblems, [`${input.fleet.length} fleet instances off (DescribeDBInstances); ${lastFlag.size} instances whose last flag change turned it off`]);

  // 5. Statuspage.
  const announced = madeCalls.filter((c) => c.service === 'statuspage' && c.action === 'CreateIncident').length;
  add(
    'every Statuspage maintenance completed or cancelled',
    input.incidents.filter((i) => i.status !== 'completed').map((i) => `${i.id} "${i.name}" for ${i.scheduled_for}: ${i.status}`),
    [`${input.incidents.length} maintenance(s) on the page, all completed (created: ${announced}): ${input.incidents.map((i) => `${i.scheduled_for?.slice(11, 16)} ${i.status}`).join(', ')}`],
  );

  // 6. Histories.
  const childrenOf = (read: Map<string, WorkflowFacts>) => [...read.values()].flatMap((f) => f.childrenStarted);
  const { facts, notFound } = await readHistories(input.client, input.taskQueue, (read) => [...input.started.map((s) => s.workflowId), ...childrenOf(read)]);
  const parentsStarted = () => childrenOf(facts);
  const all = [...facts.values()];
  add('no workflow stuck (every one closed)', all.filter((f) => f.status === 'RUNNING').map((f) => `${f.workflowId} (${f.type}) still running`), [`${all.length} workflows, all closed`]);

  const reasonOf = (f: WorkflowFacts): string | undefined => {
    const r = f.result as { state?: string; failure?: string; note?: string } | undefined;
    if (f.status !== 'COMPLETED') return f.endReason;
    return r?.failure ?? r?.note;
  };
  const failedWithout = all.filter((f) => {
    const state = (f.result as { state?: string } | undefined)?.state;
    const failed = f.status === 'FAILED' || f.status === 'TERMINATED' || f.status === 'TIMED_OUT' || f.status === 'CANCELED' || state === 'failed';
    return failed && !(reasonOf(f) ?? '').trim();
  });
  add('none failed without a reason (a failure\'s message non-empty)', failedWithout.map((f) => `${f.workflowId} (${f.type}) ${f.status}${(f.result as { state?: string })?.state ? ` state ${(f.result as { state?: string }).state}` : ''} with no message`), [
    `${all.filter((f) => f.status !== 'COMPLETED' || (f.result as { state?: string })?.state === 'failed').length} failed or ended early, each with its reason`,
  ]);

  const lostStarted = input.started.filter((s) => notFound.includes(s.workflowId)).map((s) => `${s.workflowId}: started by the driver, not in Temporal`);
  const lostChildren = [...new Set(parentsStarted())].filter((id) => notFound.includes(id)).map((id) => `${id}: started by its parent's history, not in Temporal`);
  add('none lost (every workflow the driver started, and every child the parents started, is found)', [...lostStarted, ...lostChildren], [
    `${input.started.length} started by the driver and ${new Set(parentsStarted()).size} children started by their parents: all found`,
  ]);

  // 7. Operator actions against the histories.
  const acceptedWith = (marker: string) =>
    all.flatMap((f) => f.accepted.filter((a) => JSON.stringify(a.request ?? '').includes(marker)).map((a) => ({ f, a })));
  const opProblems: string[] = [];
  const opLines: string[] = [];
  for (const a of input.operator) {
    const inHistory = acceptedWith(a.marker);
    const where = inHistory.map((x) => `${x.f.workflowId} update ${x.a.name}${x.a.completed ? '' : ' (not completed)'}`).join(', ');
    if (a.outcome === 'refused' && inHistory.length > 0) opProblems.push(`#${a.n} ${a.label}: refused to the operator, but in the history: ${where}`);
    if (a.outcome === 'accepted' && (inHistory.length !== 1 || !inHistory[0]!.a.completed)) opProblems.push(`#${a.n} ${a.label}: accepted, but ${inHistory.length} accepted update(s) carry it${where ? `: ${where}` : ''}`);
    if (a.expected !== 'either' && a.outcome !== 'unknown' && a.outcome !== a.expected) opProblems.push(`#${a.n} ${a.label}: ${a.outcome}, expected ${a.expected} (${a.answer})`);
    opLines.push(`#${a.n} ${a.label} (${a.run}): ${a.outcome}${a.outcome === 'unknown' ? ` (no answer; history: ${inHistory.length ? 'accepted' : 'absent'})` : ''}`);
  }
  const refused = input.operator.filter((a) => a.outcome === 'refused').length;
  add('every refused operator action refused and absent from history; every accepted one in it once', opProblems, [`${input.operator.length} actions, ${refused} refused and absent from every history`, ...opLines]);

  // 8. The runs ended as the scenario says.
  const outcomeProblems: string[] = [];
  const state = (f?: WorkflowFacts) => (f?.result as { state?: string } | undefined)?.state;
  for (const s of input.started) {
    const f = facts.get(s.workflowId);
    if (!f) continue;
    const want = s.kind === 'cutover' && s.id === input.abortedRestoreId ? 'aborted' : 'completed';
    if (f.status !== 'COMPLETED' || state(f) !== want) outcomeProblems.push(`${s.kind} ${s.id}: ${f.status}${state(f) ? ` state ${state(f)}` : ''}, expected ${want}${reasonOf(f) ? `: ${reasonOf(f)!.slice(0, 300)}` : ''}`);
  }
  for (const f of all.filter((x) => x.type === 'upgradeFleetInstance')) {
    const r = f.result as { state?: string; toVersion?: string; note?: string } | undefined;
    if (f.status !== 'COMPLETED' || r?.state !== 'completed' || r.toVersion !== input.target) outcomeProblems.push(`${f.workflowId}: ${f.status} ${r?.state ?? ''} ${r?.toVersion ?? ''}${r?.note ? `: ${r.note.slice(0, 200)}` : ''}`);
  }
  const children = all.filter((x) => x.type === 'upgradeFleetInstance').length;
  if (children !== input.fleet.length) outcomeProblems.push(`${children} instance workflows for a fleet of ${input.fleet.length}`);
  add('the runs ended as the scenario says (campaign and every instance completed, restores completed but the aborted one)', outcomeProblems, [
    `campaign completed; ${children} instance workflows completed at ${input.target}; ${input.started.filter((s) => s.kind !== 'campaign').length} restores as expected`,
  ]);

  return {
    checks,
    workflows: all,
    mutations: { byAction, total: madeCalls.length, intents: intentCounts.size, duplicates, refusedRepeats, idempotentRepeats },
  };
}
