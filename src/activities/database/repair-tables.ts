/**
 * What the compare and the write of a repair must see alike, or the write's check that a row is "still the one
 * compared" would fail for rows nobody touched: the same rendering of values on every connection, the same reading
 * of a table's catalog (primary key, non-generated columns and their types, privileges), the same difference-file
 * header and key text. Also the page size both use, the ledger's name (rds_orchestrator.repairs, exported from
 * repair.ts) and how a PostgreSQL error becomes an activity failure, so both halves fail alike (retryable or not).
 */
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import pg from 'pg';
import { FailureTypes } from '../../api/activities';
import type { DatabaseTarget, QualifiedTable } from '../../api/database';
import type { TableName } from './names';

/** Rows per page of the comparison and per statement of the write. */
export const BATCH_ROWS = 1000;
export const LEDGER_SCHEMA = 'rds_orchestrator';
export const LEDGER_TABLE = 'repairs';
export const LEDGER = `${LEDGER_SCHEMA}.${LEDGER_TABLE}`;
/** Each statement of a compare or a write (one page) gets this long. */
const STATEMENT_TIMEOUT_MS = 300_000;
/** The write's session ends when idle inside its transaction this long (a worker that died between statements). */
export const WRITE_IDLE_IN_TRANSACTION_MS = 60_000;
/** The write waits for a lock (the application's rows, another attempt's advisory lock) at most this long, then fails retryably. */
export const WRITE_LOCK_TIMEOUT_MS = 300_000;

export const q = (identifier: string) => pg.escapeIdentifier(identifier);
export const rel = (t: TableName) => `${q(t.schema)}.${q(t.table)}`;

/**
 * The same rendering of values on every connection of a repair: the compare's two sides, and the write's check
 * that a row is still the one compared (timestamps in UTC, hex bytea, shortest exact floats).
 */
export async function fixRendering(client: pg.Client): Promise<void> {
  await client.query(
    `SELECT set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, YMD', true), set_config('IntervalStyle', 'postgres', true),
            set_config('bytea_output', 'hex', true), set_config('extra_float_digits', '1', true), set_config('statement_timeout', $1, true)`,
    [String(STATEMENT_TIMEOUT_MS)],
  );
}

/** A table as one side's catalog has it. */
export interface TableShape {
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

export async function tableShape(client: pg.Client, t: TableName): Promise<TableShape | undefined> {
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

export const sideName = (target: DatabaseTarget, side: string) => `the ${side} database '${target.access.database}' of instance ${target.instanceId}`;

/**
 * The problems of comparing `t` between the two sides: missing, no primary key, different keys, a compared column
 * the original lacks or types otherwise, not readable. Empty when it can be compared.
 */
export function comparabilityProblems(display: string, restored: TableShape | undefined, original: TableShape | undefined, where: { restored: string; original: string }): string[] {
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

export const formatKey = (primaryKey: string[], key: string[]) => primaryKey.map((c, i) => `${c}=${key[i]}`).join(', ');
export const keyObject = (primaryKey: string[], key: string[]) => JSON.stringify(Object.fromEntries(primaryKey.map((c, i) => [c, key[i]])));

/** A header line of the difference file. */
export interface TableHeader {
  kind: 'table';
  table: QualifiedTable;
  primaryKey: string[];
  columns: string[];
}

export async function endQuietly(client: pg.Client | undefined): Promise<void> {
  await client?.end().catch(() => undefined);
}

export async function rollbackQuietly(client: pg.Client): Promise<void> {
  await client.query('ROLLBACK').catch(() => undefined);
}

/** A PostgreSQL error during a repair, as an activity failure: what a retry cannot fix is non-retryable. */
export function databaseFailure(err: unknown, doing: string): unknown {
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
  if (code === '55P03') {
    return ApplicationFailure.retryable(`${message}. A lock was not granted in time (the application, or another attempt of this repair, holds it); nothing was written`, FailureTypes.DatabaseUnavailable);
  }
  if (code?.startsWith('22') || code?.startsWith('42')) return ApplicationFailure.nonRetryable(`${message}; nothing was written`, FailureTypes.InvalidState);
  return ApplicationFailure.retryable(message, FailureTypes.DatabaseUnavailable);
}
