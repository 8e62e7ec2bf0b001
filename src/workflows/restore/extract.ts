/**
 * The extract, the restore's common ending (runbook: "In most cases you should be able to use pg_dump to
 * extract the data you need from the restored database to restore to the original database"; the cutover is
 * "only ... the worst case"): dump the restored instance; for the named tables, compare its rows with the
 * original's, ask a second person to approve exactly that difference (the runbook's writes are "reviewed by
 * another developer"), then write it into the original in one transaction. The restored instance is kept.
 */
import { CancellationScope, proxyActivities } from '@temporalio/workflow';
import { summarized } from '../shared/activity-summary';
import type { Activities, DatabaseTarget, RepairSummary, ResolvedExtract } from '../../api';
import { whoMayApprove } from '../../domain/approvals';
import { formatDuration } from '../../domain/duration';
import { askApproval } from '../shared/people';
import { NON_RETRYABLE_TYPES } from '../shared/failures';
import { PREFLIGHT_ROUNDS } from '../shared/aws-calls';
import { MIN_APPROVALS, type RestoreRun } from './run';

/**
 * Data activities: a dump takes as long as the database is big (the runbook: "at least half an hour"). They
 * heartbeat every few seconds (the dump its progress every 5 s, compare and write a keep-alive every 2 s), so a
 * worker lost mid-dump is noticed within 20 s and another one starts over (the dump) or finds the committed write
 * (the repair).
 */
const data = summarized(proxyActivities<Activities>({
  startToCloseTimeout: '12 hours',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '5m', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE_TYPES },
}));

/**
 * Before the restore (which takes hours): the worker reaches the original's database with the spec's access
 * (network, the password's source, the login, the database name), so a wrong access fails now, changing nothing.
 */
export async function checkOriginalDatabase(r: RestoreRun): Promise<void> {
  const e = r.spec.extract!;
  const original = r.database(r.spec.source.instanceId, e.database);
  const identity = await r.aws('database-checked', () => r.a.describeDatabase({ target: original }), { maxRounds: PREFLIGHT_ROUNDS });
  r.step('database-checked', `${e.database.database} on ${r.spec.source.instanceId} answers (PostgreSQL ${identity.serverVersion}${identity.address ? ` at ${identity.address}` : ''})`);
}

export async function extractFromRestored(r: RestoreRun): Promise<void> {
  const e = r.spec.extract!;
  r.phase = 'extract';
  r.status.extract = { database: e.database.database };
  if (e.dump) await dumpRestored(r, e);
  if (e.repair) {
    const summary = await compareWithOriginal(r, e);
    if (summary.tables.every((t) => t.missing === 0 && (!summary.updateChanged || t.changed === 0))) {
      r.step('nothing-to-repair', `${r.spec.source.instanceId} already has every row of ${summary.tables.map((t) => t.table).join(', ')} that ${r.spec.targetInstanceId} has`);
      return;
    }
    await obtainRepairApproval(r, summary);
    await writeIntoOriginal(r, summary);
  }
}

/** Both instances' database (RestoreRun.database: the restored one reads the source's master secret). */
function targets(r: RestoreRun, e: ResolvedExtract): { restored: DatabaseTarget; original: DatabaseTarget } {
  return { restored: r.database(r.spec.targetInstanceId, e.database), original: r.database(r.spec.source.instanceId, e.database) };
}

async function dumpRestored(r: RestoreRun, e: ResolvedExtract): Promise<void> {
  const d = e.dump!;
  const selection = [
    d.tables.length ? `tables ${d.tables.join(', ')}` : 'the whole database',
    d.excludeSchemas.length ? `without schemas ${d.excludeSchemas.join(', ')}` : '',
    d.excludeTables.length ? `without tables ${d.excludeTables.join(', ')}` : '',
  ].filter(Boolean).join(' ');
  r.setState('extracting', { kind: 'aws', description: `pg_dump of ${e.database.database} on ${r.spec.targetInstanceId} (${selection}) into ${e.directory}` });
  r.step('dump-started', `${e.database.database} on ${r.spec.targetInstanceId}: ${selection}`);
  const { restored } = targets(r, e);
  const dump = await r.aws('dump', () =>
    data.dumpDatabase({ from: restored, directory: e.directory, fileName: `${r.spec.restoreId}.dump`, tables: d.tables, excludeSchemas: d.excludeSchemas, excludeTables: d.excludeTables }),
  );
  r.status.extract!.dump = { path: dump.path, sizeBytes: dump.sizeBytes, sha256: dump.sha256, startedAt: dump.startedAt, endedAt: dump.endedAt };
  const took = formatDuration(Date.parse(dump.endedAt) - Date.parse(dump.startedAt));
  r.step('dumped', `${dump.path}: ${dump.sizeBytes} bytes, sha256 ${dump.sha256}${dump.written ? `, in ${took}` : ' (found from an earlier attempt)'} (${dump.pgDumpVersion})`);
}

async function compareWithOriginal(r: RestoreRun, e: ResolvedExtract): Promise<RepairSummary> {
  const repair = e.repair!;
  const { restored, original } = targets(r, e);
  r.setState('extracting', { kind: 'aws', description: `comparing ${repair.tables.join(', ')} of ${r.spec.targetInstanceId} with ${r.spec.source.instanceId} by primary key` });
  const summary = await r.aws('compare', () =>
    data.compareRows({ restored, original, tables: repair.tables, updateChanged: repair.updateChanged, directory: e.directory, fileName: `${r.spec.restoreId}.repair.jsonl`, sampleSize: repair.sampleSize }),
  );
  r.status.extract!.repair = { tables: summary.tables, updateChanged: summary.updateChanged, path: summary.path, sha256: summary.sha256, comparedAt: summary.comparedAt };
  r.step('compared', `${describeDifference(summary)}; difference ${summary.path} (sha256 ${summary.sha256})`);
  return summary;
}

/** One table per clause: "public.orders: 12 missing, 3 changed (left as they are)". */
export function describeDifference(s: RepairSummary): string {
  return s.tables
    .map((t) => `${t.table}: ${t.missing} missing${t.changed ? `, ${t.changed} changed (${s.updateChanged ? 'overwritten' : 'left as they are'})` : ''}`)
    .join('; ');
}

/** Four eyes on exactly what is written: the plan names the difference file's digest. */
async function obtainRepairApproval(r: RestoreRun, summary: RepairSummary): Promise<void> {
  const { spec } = r;
  const repair = spec.extract!.repair!;
  const plan = `repair|${spec.source.instanceId}|${spec.extract!.database.database}|${summary.sha256}`;
  const policy = { requester: spec.requester, approvers: repair.approvers, minApprovals: MIN_APPROVALS };
  const samples = summary.tables
    .filter((t) => t.sampleMissing.length)
    .map((t) => `${t.table} e.g. ${t.sampleMissing.slice(0, 3).join(' | ')}`)
    .join('; ');
  const text =
    `approve writing rows restored in ${spec.targetInstanceId} back into ${spec.source.instanceId} (${spec.extract!.database.database}), in one transaction: ${describeDifference(summary)}` +
    `${samples ? ` (${samples})` : ''}; review the difference ${summary.path} (sha256 ${summary.sha256}) first (approval by ${whoMayApprove(policy)})`;
  if (!(await askApproval(r.run, { stage: 'extract', plan, text, policy, what: plan, step: (s, detail) => r.step(s, detail) }))) return;
  r.step('approved', plan);
}

/**
 * Once approved, the write is not cancelled half-way: it is one transaction, recorded in the original with
 * the difference's digest, so a retry after a crash finds it committed and writes nothing twice.
 */
async function writeIntoOriginal(r: RestoreRun, summary: RepairSummary): Promise<void> {
  const e = r.spec.extract!;
  const { original } = targets(r, e);
  r.setState('extracting', { kind: 'aws', description: `writing the approved rows into ${r.spec.source.instanceId} (${e.database.database})` });
  // Each attempt runs to its end (one transaction: all or nothing); an abort between attempts stops the retries.
  const result = await r.aws('write-rows', () =>
    CancellationScope.nonCancellable(() => data.writeRows({ original, summary, repairId: `${r.spec.restoreId}:${summary.sha256}` })),
  );
  const repair = r.status.extract!.repair!;
  repair.written = result.tables;
  repair.committedAt = result.committedAt;
  const counts = result.tables.map((t) => `${t.table}: ${t.inserted} inserted${t.updated ? `, ${t.updated} updated` : ''}${t.skipped ? `, ${t.skipped} skipped (written meanwhile)` : ''}`).join('; ');
  r.step('rows-written', `${counts}${result.written ? '' : ' (committed by an earlier attempt)'}`);
}
