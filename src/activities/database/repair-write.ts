/**
 * The write half of a repair: it writes what a human approved and nothing else, once, and never over the
 * application's newer writes. It refuses a file whose sha256 is not the approved summary's, then in ONE transaction
 * on the original (all or nothing: a failed repair leaves the original as it was) inserts the missing rows
 * (`ON CONFLICT (primary key) DO NOTHING`: a row the application wrote meanwhile is kept and counted as skipped),
 * updates changed rows when the summary says so, and only where the original row is still the one compared
 * (otherwise skipped, as for inserts), and records `{repairId, counts, committedAt}` in rds_orchestrator.repairs
 * (created if missing). A retry that finds its repairId there returns the recorded counts, `written: false`:
 * nothing is written twice whether a crash came before or after the commit.
 * Tables are written in the summary's order (the request's): name tables referenced by foreign keys before the
 * tables referencing them. Nothing cleverer is attempted.
 * The difference file is streamed, never held whole: a first pass hashes it (and finds each table's lines) before
 * anything is written; the transaction then reads each table's lines again, checking they are still those bytes
 * before it commits. The transaction's session gives up its locks quickly when the worker is gone
 * (idle_in_transaction_session_timeout) and waits for a lock at most WRITE_LOCK_TIMEOUT_MS (a retryable failure).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import pg from 'pg';
import { FailureTypes } from '../../api/activities';
import type { RepairSummary, RepairWriteRequest, RepairWriteResult } from '../../api/database';
import { activityContext } from '../waiting';
import type { ExtractDeps } from './dump';
import { readLines } from './extract-files';
import { invalidInput, parseTable, type TableName } from './names';
import {
  BATCH_ROWS,
  databaseFailure,
  endQuietly,
  fixRendering,
  LEDGER,
  LEDGER_SCHEMA,
  q,
  rel,
  rollbackQuietly,
  sideName,
  type TableHeader,
  type TableShape,
  tableShape,
  WRITE_IDLE_IN_TRANSACTION_MS,
  WRITE_LOCK_TIMEOUT_MS,
} from './repair-tables';

export function createWriteRows(deps: ExtractDeps) {
  async function writeRows(req: RepairWriteRequest): Promise<RepairWriteResult> {
    const { summary, repairId } = req;
    if (!repairId || repairId.length > 200) throw invalidInput('Invalid repair write', [`repairId must be 1 to 200 characters, got '${repairId}'`]);
    const ctx = activityContext();
    const where = sideName(req.original, 'original');
    let client: pg.Client | undefined;
    let inTransaction = false;
    try {
      client = await deps.connect(req.original);
      const recorded = await recordedRepair(client, req);
      if (recorded) return recorded;

      const plan = await scanApprovedDifference(summary);
      const problems: string[] = [];
      for (const t of plan) {
        const shape = await tableShape(client, parseTable(t.header.table) as TableName);
        problems.push(...writabilityProblems(t, shape, summary.updateChanged, where));
      }
      if (problems.length) throw invalidInput(`Cannot write the repair into ${where}; nothing was written`, problems);

      await client.query('BEGIN');
      inTransaction = true;
      await fixRendering(client);
      // A worker that dies between statements frees its row and advisory locks within a minute, not when TCP notices.
      await client.query(`SELECT set_config('idle_in_transaction_session_timeout', $1, true), set_config('lock_timeout', $2, true)`, [
        String(deps.writeIdleInTransactionMs ?? WRITE_IDLE_IN_TRANSACTION_MS),
        String(deps.writeLockTimeoutMs ?? WRITE_LOCK_TIMEOUT_MS),
      ]);
      // Two attempts of one repair (a worker presumed dead still running) take turns; the second then finds the first's record.
      await client.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`rds-orchestrator repair ${repairId}`]);
      // Repairs with different ids creating the ledger at once would collide in the catalog (a unique violation): one at a time.
      await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('rds-orchestrator repair ledger', 0))`);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${q(LEDGER_SCHEMA)}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${LEDGER} (repair_id text PRIMARY KEY, summary_sha256 text NOT NULL, summary_path text NOT NULL,
           tables jsonb NOT NULL, committed_by text NOT NULL DEFAULT current_user, committed_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
      );
      const meanwhile = await recordedRepair(client, req);
      if (meanwhile) {
        await client.query('ROLLBACK');
        inTransaction = false;
        return meanwhile;
      }
      const counts: RepairWriteResult['tables'] = [];
      for (const t of plan) {
        counts.push(await writeTable(client, summary.path, t, summary.updateChanged, ctx));
      }
      const { rows } = await client.query<{ committed_at: Date }>(
        `INSERT INTO ${LEDGER} (repair_id, summary_sha256, summary_path, tables) VALUES ($1, $2, $3, $4::jsonb) RETURNING committed_at`,
        [repairId, summary.sha256, summary.path, JSON.stringify(counts)],
      );
      await client.query('COMMIT');
      inTransaction = false;
      return { tables: counts, written: true, committedAt: rows[0].committed_at.toISOString() };
    } catch (err) {
      if (client && inTransaction) await rollbackQuietly(client);
      throw databaseFailure(err, `Writing repair ${repairId} into ${where}`);
    } finally {
      await endQuietly(client);
    }
  }

  return writeRows;
}

async function writeTable(
  client: pg.Client,
  file: string,
  t: PlannedTable,
  updateChanged: boolean,
  ctx: ReturnType<typeof activityContext>,
): Promise<RepairWriteResult['tables'][number]> {
  const name = parseTable(t.header.table) as TableName;
  const { columns, primaryKey } = t.header;
  const source = `jsonb_array_elements($1::jsonb) AS l(line) CROSS JOIN LATERAL jsonb_populate_record(NULL::${rel(name)}, l.line->'row') AS r`;
  const insert =
    `INSERT INTO ${rel(name)} (${columns.map(q).join(', ')}) OVERRIDING SYSTEM VALUE ` +
    `SELECT ${columns.map((c) => `r.${q(c)}`).join(', ')} FROM ${source} ON CONFLICT (${primaryKey.map(q).join(', ')}) DO NOTHING`;
  const nonKey = columns.filter((c) => !primaryKey.includes(c));
  const update =
    `UPDATE ${rel(name)} AS t SET ${nonKey.map((c) => `${q(c)} = r.${q(c)}`).join(', ')} FROM ${source} ` +
    `WHERE (${primaryKey.map((c) => `t.${q(c)}`).join(', ')}) = (${primaryKey.map((c) => `r.${q(c)}`).join(', ')}) ` +
    // Only the row that was compared: one the application changed since is left as it is (skipped).
    `AND (SELECT to_jsonb(x) FROM (SELECT ${columns.map((c) => `t.${q(c)}`).join(', ')}) AS x) = l.line->'original'`;
  const counts = { table: t.header.table, inserted: 0, updated: 0, skipped: 0 };
  const send = async (sql: string, batch: string[], field: 'inserted' | 'updated') => {
    const r = await client.query(sql, [`[${batch.join(',')}]`]);
    counts[field] += r.rowCount ?? 0;
    counts.skipped += batch.length - (r.rowCount ?? 0);
    ctx?.heartbeat({ phase: 'writing', ...counts });
    if (ctx?.cancellationSignal.aborted) await ctx.cancelled;
  };
  /** Streams the table's lines of `kind` in pages; what was read must be the bytes the first pass hashed, or all is rolled back. */
  const run = async (sql: string, kind: 'missing' | 'changed', field: 'inserted' | 'updated') => {
    const hash = createHash('sha256');
    let batch: string[] = [];
    for await (const l of readLines(file, t)) {
      hash.update(l.raw);
      if (l.terminated) hash.update('\n');
      const line = l.raw.toString('utf8');
      if (!line || (JSON.parse(line) as { kind: string }).kind !== kind) continue;
      batch.push(line);
      if (batch.length === BATCH_ROWS) {
        await send(sql, batch, field);
        batch = [];
      }
    }
    if (batch.length) await send(sql, batch, field);
    if (hash.digest('hex') !== t.sha256) {
      throw ApplicationFailure.nonRetryable(
        `The difference file ${file} changed while repair was writing it (table ${t.header.table}): nothing was written; compare again and have the new summary approved`,
        FailureTypes.ChecksumMismatch,
      );
    }
  };
  if (t.missing) await run(insert, 'missing', 'inserted');
  if (updateChanged && nonKey.length && t.changed) await run(update, 'changed', 'updated');
  return counts;
}

/** A table of the approved difference: its header, how many lines of each kind, where they are in the file and their sha256. */
interface PlannedTable {
  header: TableHeader;
  missing: number;
  changed: number;
  /** The bytes [start, end) of the file: the header and the table's lines. */
  start: number;
  end: number;
  sha256: string;
}

/** The ledger's record of this repair, as the result of a retry; undefined when it has not committed. */
async function recordedRepair(client: pg.Client, req: RepairWriteRequest): Promise<RepairWriteResult | undefined> {
  const { rows: exists } = await client.query<{ t: string | null }>(`SELECT to_regclass($1)::text AS t`, [LEDGER]);
  if (!exists[0].t) return undefined;
  const { rows } = await client.query<{ summary_sha256: string; tables: RepairWriteResult['tables']; committed_at: Date }>(
    `SELECT summary_sha256, tables, committed_at FROM ${LEDGER} WHERE repair_id = $1`,
    [req.repairId],
  );
  if (!rows.length) return undefined;
  if (rows[0].summary_sha256 !== req.summary.sha256) {
    throw ApplicationFailure.nonRetryable(
      `Repair ${req.repairId} was already committed with another difference file (sha256 ${rows[0].summary_sha256}, not ${req.summary.sha256}): a repair id is used once`,
      FailureTypes.InvalidState,
    );
  }
  return { tables: rows[0].tables, written: false, committedAt: rows[0].committed_at.toISOString() };
}

/**
 * Reads the difference file once (streamed), refusing one that is not exactly the approved summary's, before
 * anything is written: its tables, their counts, and where each table's lines are (what the write reads again).
 */
async function scanApprovedDifference(summary: RepairSummary): Promise<PlannedTable[]> {
  try {
    await fs.promises.access(summary.path, fs.constants.R_OK);
  } catch (err) {
    throw ApplicationFailure.nonRetryable(
      `The approved difference file ${summary.path} cannot be read on this worker (${(err as NodeJS.ErrnoException).code ?? String(err)}): it must be on a volume every worker mounts; compare again`,
      FailureTypes.InvalidConfig,
    );
  }
  const whole = createHash('sha256');
  const plan: (PlannedTable & { hash?: ReturnType<typeof createHash> })[] = [];
  // A malformed file is said so only once its sha256 is known to be the approved one's (a tampered file is a mismatch).
  let malformed: unknown;
  let size = 0;
  for await (const l of readLines(summary.path)) {
    const bytes = l.terminated ? Buffer.concat([l.raw, Buffer.from('\n')]) : l.raw;
    whole.update(bytes);
    size = l.offset + bytes.length;
    const line = l.raw.toString('utf8');
    if (malformed !== undefined || !line) {
      plan[plan.length - 1]?.hash?.update(bytes);
      continue;
    }
    try {
      const parsed = JSON.parse(line) as { kind: string; table: string };
      if (parsed.kind === 'table') {
        const previous = plan[plan.length - 1];
        if (previous) previous.end = l.offset;
        plan.push({ header: parsed as TableHeader, missing: 0, changed: 0, start: l.offset, end: l.offset, sha256: '', hash: createHash('sha256') });
      } else {
        const current = plan[plan.length - 1];
        if (!current || current.header.table !== parsed.table || (parsed.kind !== 'missing' && parsed.kind !== 'changed')) {
          throw ApplicationFailure.nonRetryable(`The difference file ${summary.path} is malformed near: ${line.slice(0, 200)}`, FailureTypes.InvalidInput);
        }
        current[parsed.kind === 'missing' ? 'missing' : 'changed']++;
      }
    } catch (err) {
      malformed = err;
    }
    plan[plan.length - 1]?.hash?.update(bytes);
  }
  const sha256 = whole.digest('hex');
  if (sha256 !== summary.sha256) {
    throw ApplicationFailure.nonRetryable(
      `The difference file ${summary.path} is not the one approved: its sha256 is ${sha256}, the approved summary's ${summary.sha256}. Nothing was written; compare again and have the new summary approved`,
      FailureTypes.ChecksumMismatch,
    );
  }
  if (malformed !== undefined) throw malformed;
  const last = plan[plan.length - 1];
  if (last) last.end = size;
  for (const t of plan) {
    t.sha256 = t.hash?.digest('hex') ?? '';
    delete t.hash;
  }
  const agrees =
    plan.length === summary.tables.length &&
    plan.every((t, i) => {
      const s = summary.tables[i];
      return t.header.table === s.table && t.missing === s.missing && t.changed === (summary.updateChanged ? s.changed : 0);
    });
  if (!agrees) {
    throw ApplicationFailure.nonRetryable(
      `The difference file ${summary.path} does not hold what its summary counts (tables ${summary.tables.map((t) => t.table).join(', ')}): nothing was written; compare again`,
      FailureTypes.ChecksumMismatch,
    );
  }
  return plan;
}

function writabilityProblems(t: PlannedTable, shape: TableShape | undefined, updateChanged: boolean, where: string): string[] {
  const { table, primaryKey, columns } = t.header;
  if (!shape) return [`table ${table} does not exist in ${where}`];
  const problems: string[] = [];
  if (shape.primaryKey.join(',') !== primaryKey.join(',')) problems.push(`table ${table} has primary key (${shape.primaryKey.join(', ')}) in ${where}, compared by (${primaryKey.join(', ')})`);
  const lacking = columns.filter((c) => !shape.columns.includes(c));
  if (lacking.length) problems.push(`table ${table} in ${where} has no column ${lacking.join(', ')} (its schema changed since the comparison)`);
  if (t.missing && !shape.canInsert) problems.push(`the user may not INSERT into ${table} in ${where}`);
  if (updateChanged && t.changed && !shape.canUpdate) problems.push(`the user may not UPDATE ${table} in ${where}`);
  return problems;
}
