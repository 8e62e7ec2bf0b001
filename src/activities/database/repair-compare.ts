/**
 * The compare half of a repair: what the restored database has that the original lacks (or holds otherwise), put
 * in a file a human can review and approve before anything is written. Each side is read in one REPEATABLE READ
 * READ ONLY transaction (one snapshot per side, nothing written), page by page in primary-key order (keyset
 * pagination, BATCH_ROWS a page; the original's rows for a page's keys in one query), so a large table is never
 * held in memory and the difference is of one moment. The full difference goes to `directory/fileName` as JSON lines:
 *   {"kind":"table","table":"public.t","primaryKey":["id"],"columns":["id","name",...]}           one per table, first
 *   {"table":"public.t","kind":"missing","key":{"id":"7"},"row":{...}}                             in restored, not in original
 *   {"table":"public.t","kind":"changed","key":{"id":"8"},"row":{...},"original":{...}}            only when updateChanged
 * Rows are `to_jsonb` of the compared columns (every non-generated column of the restored table), rendered with
 * fixed session settings (repair-tables.ts) so both sides and the write agree; key values are their text form.
 * Whole rows are compared (the jsonb text); the summary carries counts, samples and the file's sha256, which the
 * write checks so that only the approved file is ever written.
 * The file is written as the dump is (./extract-files.ts): 0600, a partial file of this attempt's own, published
 * by rename only while holding the file's lock (an attempt presumed dead but still comparing finishes first; the
 * retry then compares afresh), its sha256 read back from the bytes renamed into place.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { FailureTypes } from '../../api/activities';
import type { RepairCompareRequest, RepairSummary, RepairTableSummary } from '../../api/database';
import { activityContext } from '../waiting';
import type { ExtractDeps } from './dump';
import { acquireFileLock, attemptIdOf, FILE_MODE, fsyncPath, leftoverAgeMs, LOCK_STALE_MS, partialPathOf, removeLeftovers, requireLock, sha256File, type FileLock } from './extract-files';
import { checkWritableDirectory, fileNameProblems, invalidInput, nameProblems, parseTable, type TableName } from './names';
import {
  BATCH_ROWS,
  comparabilityProblems,
  databaseFailure,
  endQuietly,
  fixRendering,
  formatKey,
  keyObject,
  q,
  rel,
  sideName,
  type TableHeader,
  type TableShape,
  tableShape,
} from './repair-tables';

export function createCompareRows(deps: ExtractDeps) {
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
    const id = attemptIdOf(ctx);
    const partialPath = partialPathOf(finalPath, id);
    const staleMs = deps.lockStaleMs ?? LOCK_STALE_MS;
    let lock: FileLock | undefined;
    try {
      // Taken before the snapshots: a retry waiting for a live earlier attempt compares what is there after it.
      lock = await acquireFileLock(finalPath, id, { ctx, staleMs, onWait: (waitingFor) => ctx?.heartbeat({ phase: 'waiting', waitingFor }) });
      await removeLeftovers(finalPath, lock, leftoverAgeMs(ctx, staleMs));
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

      const out = await fs.promises.open(partialPath, 'wx', FILE_MODE);
      const write = async (text: string) => {
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
      // The digest of the bytes that become the file: nobody else writes this attempt's partial, nobody else renames while the lock is ours.
      const { sha256 } = await sha256File(partialPath, { ctx });
      await requireLock(lock, finalPath, FailureTypes.DatabaseUnavailable);
      await fs.promises.rename(partialPath, finalPath);
      await fsyncPath(req.directory);
      return { tables: summaries, updateChanged: req.updateChanged, path: finalPath, sha256, comparedAt: new Date().toISOString() };
    } catch (err) {
      await fs.promises.rm(partialPath, { force: true });
      throw databaseFailure(err, 'Comparing the restored rows with the original');
    } finally {
      await endQuietly(restored);
      await endQuietly(original);
      await lock?.release();
    }
  }

  return compareRows;
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
