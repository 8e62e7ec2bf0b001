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
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import pg from 'pg';
import { FailureTypes } from '../../api/activities';
import type { RepairSummary, RepairWriteRequest, RepairWriteResult } from '../../api/database';
import { activityContext } from '../waiting';
import type { ExtractDeps } from './dump';
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

      const plan = await readApprovedDifference(summary);
      const problems: string[] = [];
      for (const t of plan) {
        const shape = await tableShape(client, parseTable(t.header.table) as TableName);
        problems.push(...writabilityProblems(t, shape, summary.updateChanged, where));
      }
      if (problems.length) throw invalidInput(`Cannot write the repair into ${where}; nothing was written`, problems);

      await client.query('BEGIN');
      inTransaction = true;
      await fixRendering(client);
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
        counts.push(await writeTable(client, t, summary.updateChanged, ctx));
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

async function writeTable(client: pg.Client, t: PlannedTable, updateChanged: boolean, ctx: ReturnType<typeof activityContext>): Promise<RepairWriteResult['tables'][number]> {
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
  const run = async (sql: string, lines: string[], field: 'inserted' | 'updated') => {
    for (let i = 0; i < lines.length; i += BATCH_ROWS) {
      const batch = lines.slice(i, i + BATCH_ROWS);
      const r = await client.query(sql, [`[${batch.join(',')}]`]);
      counts[field] += r.rowCount ?? 0;
      counts.skipped += batch.length - (r.rowCount ?? 0);
      ctx?.heartbeat({ phase: 'writing', ...counts });
      if (ctx?.cancellationSignal.aborted) await ctx.cancelled;
    }
  };
  await run(insert, t.missing, 'inserted');
  if (updateChanged && nonKey.length) await run(update, t.changed, 'updated');
  return counts;
}

/** A table of the approved difference: its header and its lines, raw (their numbers are never parsed by JavaScript). */
interface PlannedTable {
  header: TableHeader;
  missing: string[];
  changed: string[];
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

/** Reads the difference file, refusing one that is not exactly the approved summary's. */
async function readApprovedDifference(summary: RepairSummary): Promise<PlannedTable[]> {
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(summary.path);
  } catch (err) {
    throw ApplicationFailure.nonRetryable(
      `The approved difference file ${summary.path} cannot be read on this worker (${(err as NodeJS.ErrnoException).code ?? String(err)}): it must be on a volume every worker mounts; compare again`,
      FailureTypes.InvalidConfig,
    );
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== summary.sha256) {
    throw ApplicationFailure.nonRetryable(
      `The difference file ${summary.path} is not the one approved: its sha256 is ${sha256}, the approved summary's ${summary.sha256}. Nothing was written; compare again and have the new summary approved`,
      FailureTypes.ChecksumMismatch,
    );
  }
  const plan: PlannedTable[] = [];
  for (const line of bytes.toString('utf8').split('\n')) {
    if (!line) continue;
    const parsed = JSON.parse(line) as { kind: string; table: string };
    if (parsed.kind === 'table') {
      plan.push({ header: parsed as TableHeader, missing: [], changed: [] });
      continue;
    }
    const current = plan[plan.length - 1];
    if (!current || current.header.table !== parsed.table || (parsed.kind !== 'missing' && parsed.kind !== 'changed')) {
      throw ApplicationFailure.nonRetryable(`The difference file ${summary.path} is malformed near: ${line.slice(0, 200)}`, FailureTypes.InvalidInput);
    }
    (parsed.kind === 'missing' ? current.missing : current.changed).push(line);
  }
  const agrees =
    plan.length === summary.tables.length &&
    plan.every((t, i) => {
      const s = summary.tables[i];
      return t.header.table === s.table && t.missing.length === s.missing && t.changed.length === (summary.updateChanged ? s.changed : 0);
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
  if (t.missing.length && !shape.canInsert) problems.push(`the user may not INSERT into ${table} in ${where}`);
  if (updateChanged && t.changed.length && !shape.canUpdate) problems.push(`the user may not UPDATE ${table} in ${where}`);
  return problems;
}
