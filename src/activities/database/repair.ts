/**
 * The repair half of the runbook's extract ("use pg_dump to extract the data you need from the restored database
 * to restore to the original database"), made reviewable: compare, a human approves the summary, write.
 *
 * compareRows reads both databases in one REPEATABLE READ READ ONLY transaction each (one snapshot per side,
 * nothing written), page by page in primary-key order (keyset pagination, BATCH_ROWS a page; the original's rows
 * for a page's keys in one query), and writes the full difference to `directory/fileName` as JSON lines:
 *   {"kind":"table","table":"public.t","primaryKey":["id"],"columns":["id","name",...]}           one per table, first
 *   {"table":"public.t","kind":"missing","key":{"id":"7"},"row":{...}}                             in restored, not in original
 *   {"table":"public.t","kind":"changed","key":{"id":"8"},"row":{...},"original":{...}}            only when updateChanged
 * Rows are `to_jsonb` of the compared columns (every non-generated column of the restored table), rendered with
 * fixed session settings (UTC, ISO dates, hex bytea, exact floats) so both sides and the write agree; key values
 * are their text form. Whole rows are compared (the jsonb text); the summary carries counts, samples and the
 * file's sha256.
 *
 * writeRows refuses a file whose sha256 is not the approved summary's, then in ONE transaction on the original:
 * inserts the missing rows (`ON CONFLICT (primary key) DO NOTHING`: a row the application wrote meanwhile is kept
 * and counted as skipped), updates changed rows when the summary says so, and only where the original row is
 * still the one compared (otherwise skipped, as for inserts), and records `{repairId, counts, committedAt}` in
 * rds_orchestrator.repairs (created if missing). A retry that finds its repairId there returns the recorded
 * counts, `written: false`: nothing is written twice whether a crash came before or after the commit.
 * Tables are written in the summary's order (the request's): name tables referenced by foreign keys before the
 * tables referencing them. Nothing cleverer is attempted.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import pg from 'pg';
import { FailureTypes } from '../../api/activities';
import type { DatabaseTarget, QualifiedTable, RepairCompareRequest, RepairSummary, RepairTableSummary, RepairWriteRequest, RepairWriteResult } from '../../api/database';
import { activityContext } from '../waiting';
import type { ExtractDeps } from './dump';
import { checkWritableDirectory, fileNameProblems, invalidInput, nameProblems, parseTable, type TableName } from './names';

/** Rows per page of the comparison and per statement of the write. */
export const BATCH_ROWS = 1000;
export const LEDGER_SCHEMA = 'rds_orchestrator';
export const LEDGER_TABLE = 'repairs';
const LEDGER = `${LEDGER_SCHEMA}.${LEDGER_TABLE}`;
/** Each statement of a compare or a write (one page) gets this long. */
const STATEMENT_TIMEOUT_MS = 300_000;

const q = (identifier: string) => pg.escapeIdentifier(identifier);
const rel = (t: TableName) => `${q(t.schema)}.${q(t.table)}`;

/**
 * The same rendering of values on every connection of a repair: the compare's two sides, and the write's check
 * that a row is still the one compared (timestamps in UTC, hex bytea, shortest exact floats).
 */
async function fixRendering(client: pg.Client): Promise<void> {
  await client.query(
    `SELECT set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, YMD', true), set_config('IntervalStyle', 'postgres', true),
            set_config('bytea_output', 'hex', true), set_config('extra_float_digits', '1', true), set_config('statement_timeout', $1, true)`,
    [String(STATEMENT_TIMEOUT_MS)],
  );
}

/** A table as one side's catalog has it. */
interface TableShape {
  name: TableName;
  kind: string;
  primaryKey: string[];
  /** Non-generated columns in order, and their types (format_type). */
  columns: string[];
  types: string[];
  canSelect: boolean;
  canInsert: boolean;
  canUpdate: boolean;
}

async function tableShape(client: pg.Client, t: TableName): Promise<TableShape | undefined> {
  const { rows } = await client.query<{ kind: string; pk: string[]; columns: string[] | null; types: string[] | null; can_select: boolean; can_insert: boolean; can_update: boolean }>(
    `SELECT c.relkind::text AS kind,
            (SELECT coalesce(array_agg(a.attname::text ORDER BY k.ord), '{}')
               FROM pg_catalog.pg_index i CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
              WHERE i.indrelid = c.oid AND i.indisprimary) AS pk,
            (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_catalog.pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '') AS columns,
            (SELECT array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum) FROM pg_catalog.pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '') AS types,
            has_table_privilege(c.oid, 'SELECT') AS can_select, has_table_privilege(c.oid, 'INSERT') AS can_insert,
            has_table_privilege(c.oid, 'UPDATE') AS can_update
       FROM pg_catalog.pg_class c WHERE c.oid = to_regclass(format('%I.%I', $1::text, $2::text))`,
    [t.schema, t.table],
  );
  const r = rows[0];
  if (!r || !['r', 'p'].includes(r.kind)) return undefined;
  return { name: t, kind: r.kind, primaryKey: r.pk, columns: r.columns ?? [], types: r.types ?? [], canSelect: r.can_select, canInsert: r.can_insert, canUpdate: r.can_update };
}

const sideName = (target: DatabaseTarget, side: string) => `the ${side} database '${target.access.database}' of instance ${target.instanceId}`;

/**
 * The problems of comparing `t` between the two sides: missing, no primary key, different keys, a compared column
 * the original lacks or types otherwise, not readable. Empty when it can be compared.
 */
function comparabilityProblems(display: string, restored: TableShape | undefined, original: TableShape | undefined, where: { restored: string; original: string }): string[] {
  if (!restored || !original) {
    const lacking = [!restored ? where.restored : undefined, !original ? where.original : undefined].filter(Boolean);
    return [`table ${display} does not exist in ${lacking.join(' nor in ')}`];
  }
  const problems: string[] = [];
  for (const [shape, side] of [[restored, where.restored], [original, where.original]] as const) {
    if (!shape.primaryKey.length) problems.push(`table ${display} has no primary key in ${side}: rows cannot be matched (add one, or repair this table by hand)`);
    if (!shape.canSelect) problems.push(`the user may not SELECT from ${display} in ${side}`);
  }
  if (problems.length) return problems;
  if (restored.primaryKey.join(',') !== original.primaryKey.join(',')) {
    problems.push(`table ${display} has primary key (${restored.primaryKey.join(', ')}) in ${where.restored} but (${original.primaryKey.join(', ')}) in ${where.original}`);
  }
  restored.columns.forEach((c, i) => {
    const j = original.columns.indexOf(c);
    if (j < 0) problems.push(`column ${display}.${c} of ${where.restored} is not in ${where.original} (the schemas differ: migrate the original first, or repair by hand)`);
    else if (original.types[j] !== restored.types[i]) problems.push(`column ${display}.${c} is ${restored.types[i]} in ${where.restored} but ${original.types[j]} in ${where.original}`);
  });
  return problems;
}

const formatKey = (primaryKey: string[], key: string[]) => primaryKey.map((c, i) => `${c}=${key[i]}`).join(', ');
const keyObject = (primaryKey: string[], key: string[]) => JSON.stringify(Object.fromEntries(primaryKey.map((c, i) => [c, key[i]])));

/** A header line of the difference file. */
interface TableHeader {
  kind: 'table';
  table: QualifiedTable;
  primaryKey: string[];
  columns: string[];
}

async function endQuietly(client: pg.Client | undefined): Promise<void> {
  await client?.end().catch(() => undefined);
}

async function rollbackQuietly(client: pg.Client): Promise<void> {
  await client.query('ROLLBACK').catch(() => undefined);
}

/** A PostgreSQL error during a repair, as an activity failure: what a retry cannot fix is non-retryable. */
function databaseFailure(err: unknown, doing: string): unknown {
  // Our own failures and the activity's cancellation pass as they are.
  if (err instanceof TemporalFailure) return err;
  const e = err as { code?: unknown; message?: unknown; detail?: unknown };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const said = `${typeof e?.message === 'string' ? e.message : String(err)}${typeof e?.detail === 'string' ? ` (${e.detail})` : ''}`;
  const message = `${doing} failed${code ? ` (SQLSTATE ${code})` : ''}: ${said}`;
  if (code === '42501') return ApplicationFailure.nonRetryable(`${message}. Grant the user what it needs`, FailureTypes.DatabaseAccess);
  if (code?.startsWith('23')) {
    return ApplicationFailure.nonRetryable(
      `${message}. The original refused a row; nothing was written. For a foreign key, list the referenced table before the referencing one`,
      FailureTypes.InvalidState,
    );
  }
  if (code?.startsWith('22') || code?.startsWith('42')) return ApplicationFailure.nonRetryable(`${message}; nothing was written`, FailureTypes.InvalidState);
  return ApplicationFailure.retryable(message, FailureTypes.DatabaseUnavailable);
}

export function createRepairActivities(deps: ExtractDeps) {
  async function compareRows(req: RepairCompareRequest): Promise<RepairSummary> {
    const problems = [
      ...fileNameProblems('fileName', req.fileName),
      ...nameProblems('tables', req.tables, 'table'),
      ...(req.tables.length ? [] : ['tables: name at least one table to compare']),
      ...(Number.isInteger(req.sampleSize) && req.sampleSize >= 0 && req.sampleSize <= 1000 ? [] : [`sampleSize must be an integer from 0 to 1000, got ${req.sampleSize}`]),
    ];
    const names = problems.length ? [] : req.tables.map((t) => parseTable(t) as TableName);
    const duplicates = names.filter((t, i) => names.findIndex((u) => u.display === t.display) !== i).map((t) => t.display);
    if (duplicates.length) problems.push(`tables: ${[...new Set(duplicates)].join(', ')} named twice`);
    if (problems.length) throw invalidInput('Invalid repair comparison', problems);
    await checkWritableDirectory('directory', req.directory);

    const ctx = activityContext();
    const where = { restored: sideName(req.restored, 'restored'), original: sideName(req.original, 'original') };
    let restored: pg.Client | undefined;
    let original: pg.Client | undefined;
    const finalPath = path.join(req.directory, req.fileName);
    const partialPath = `${finalPath}.partial`;
    try {
      restored = await deps.connect(req.restored);
      original = await deps.connect(req.original);
      for (const c of [restored, original]) {
        await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        await fixRendering(c);
      }
      const shapes: { restored: TableShape; original: TableShape }[] = [];
      const shapeProblems: string[] = [];
      for (const t of names) {
        const r = await tableShape(restored, t);
        const o = await tableShape(original, t);
        const p = comparabilityProblems(t.display, r, o, where);
        shapeProblems.push(...p);
        if (!p.length) shapes.push({ restored: r as TableShape, original: o as TableShape });
      }
      if (shapeProblems.length) throw invalidInput('Cannot compare', shapeProblems);

      const out = await fs.promises.open(partialPath, 'w');
      const hash = createHash('sha256');
      const write = async (text: string) => {
        hash.update(text);
        await out.write(text);
      };
      const summaries: RepairTableSummary[] = [];
      try {
        for (const shape of shapes) {
          summaries.push(await compareTable(restored, original, shape.restored, req, write, ctx));
        }
        await out.sync();
      } finally {
        await out.close();
      }
      for (const c of [restored, original]) await c.query('COMMIT');
      await fs.promises.rename(partialPath, finalPath);
      return { tables: summaries, updateChanged: req.updateChanged, path: finalPath, sha256: hash.digest('hex'), comparedAt: new Date().toISOString() };
    } catch (err) {
      await fs.promises.rm(partialPath, { force: true });
      throw databaseFailure(err, 'Comparing the restored rows with the original');
    } finally {
      await endQuietly(restored);
      await endQuietly(original);
    }
  }

  async function compareTable(
    restored: pg.Client,
    original: pg.Client,
    shape: TableShape,
    req: RepairCompareRequest,
    write: (text: string) => Promise<void>,
    ctx: ReturnType<typeof activityContext>,
  ): Promise<RepairTableSummary> {
    const { name, primaryKey, columns } = shape;
    const keyTypes = primaryKey.map((c) => shape.types[columns.indexOf(c)]);
    const header: TableHeader = { kind: 'table', table: name.display, primaryKey, columns };
    await write(`${JSON.stringify(header)}\n`);
    const selected = columns.map(q).join(', ');
    const keyList = primaryKey.map(q).join(', ');
    const keyText = `ARRAY[${primaryKey.map((c) => `r.${q(c)}::text`).join(', ')}]`;
    const orderOuter = primaryKey.map((c) => `r.${q(c)}`).join(', ');
    const after = `(${keyList}) > (${keyTypes.map((t, i) => `$${i + 2}::text::${t}`).join(', ')})`;
    const page = (first: boolean) =>
      `SELECT ${keyText} AS k, to_jsonb(r)::text AS j FROM (SELECT ${selected} FROM ${rel(name)} ${first ? '' : `WHERE ${after}`} ORDER BY ${keyList} LIMIT $1) AS r ORDER BY ${orderOuter}`;
    const theirs =
      `SELECT ${keyText} AS k, to_jsonb(r)::text AS j FROM (SELECT ${selected} FROM ${rel(name)} ` +
      `WHERE (${keyList}) IN (SELECT * FROM unnest(${keyTypes.map((t, i) => `$${i + 1}::text[]::${t}[]`).join(', ')}))) AS r`;

    const summary: RepairTableSummary = { table: name.display, primaryKey, missing: 0, changed: 0, sampleMissing: [], sampleChanged: [] };
    let last: string[] | undefined;
    let compared = 0;
    for (;;) {
      const mine = await restored.query<{ k: string[]; j: string }>(page(!last), [BATCH_ROWS, ...(last ?? [])]);
      if (!mine.rows.length) break;
      const found = await original.query<{ k: string[]; j: string }>(
        theirs,
        primaryKey.map((_, i) => mine.rows.map((r) => r.k[i])),
      );
      const originalRows = new Map(found.rows.map((r) => [JSON.stringify(r.k), r.j]));
      let lines = '';
      for (const row of mine.rows) {
        const theirsText = originalRows.get(JSON.stringify(row.k));
        const key = keyObject(primaryKey, row.k);
        if (theirsText === undefined) {
          summary.missing++;
          if (summary.sampleMissing.length < req.sampleSize) summary.sampleMissing.push(formatKey(primaryKey, row.k));
          lines += `{"table":${JSON.stringify(name.display)},"kind":"missing","key":${key},"row":${row.j}}\n`;
        } else if (theirsText !== row.j) {
          summary.changed++;
          if (summary.sampleChanged.length < req.sampleSize) summary.sampleChanged.push(formatKey(primaryKey, row.k));
          if (req.updateChanged) lines += `{"table":${JSON.stringify(name.display)},"kind":"changed","key":${key},"row":${row.j},"original":${theirsText}}\n`;
        }
      }
      await write(lines);
      compared += mine.rows.length;
      last = mine.rows[mine.rows.length - 1].k;
      ctx?.heartbeat({ phase: 'comparing', table: name.display, compared, missing: summary.missing, changed: summary.changed });
      if (ctx?.cancellationSignal.aborted) await ctx.cancelled;
      if (mine.rows.length < BATCH_ROWS) break;
    }
    return summary;
  }

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

  return { compareRows, writeRows };
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

export type RepairActivities = ReturnType<typeof createRepairActivities>;
