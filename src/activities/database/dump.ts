/**
 * The runbook's extract: `pg_dump -Fc` of the restored instance, with its exclusions or the tables to take
 * ("This command takes at least half an hour to run"), as one heartbeating activity.
 *
 * - The real pg_dump (./pg-binaries.ts) gets the login through its environment (PGPASSWORD, ...), never its
 *   argv (which `ps` shows) nor a log line.
 * - It writes `<fileName>.partial`; once pg_dump succeeded the file is synced, its sha256 and size are written to
 *   the manifest `<fileName>.manifest.json` (atomically), and only then is it renamed to `<fileName>`. So a
 *   finished `<fileName>` always has its manifest, and a retry that finds both (the checksum matching) returns
 *   it with `written: false` without connecting; anything else an earlier attempt left is deleted and redone.
 * - Before writing anything: the directory exists and is writable, every table to take exists in the restored
 *   database (to_regclass) and can be read, names are identifiers. A problem there is non-retryable.
 * - Heartbeats every few seconds: bytes written so far, elapsed seconds, the table pg_dump is on. When the
 *   activity is cancelled, pg_dump is stopped (SIGTERM, then SIGKILL) and its partial file deleted.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import { FailureTypes } from '../../api/activities';
import type { DatabaseTarget, DumpRequest, DumpResult } from '../../api/database';
import { activityContext } from '../waiting';
import { libpqEnv, type ConnectionParams } from './connect';
import { checkWritableDirectory, fileNameProblems, invalidInput, nameProblems, parseTable, type TableName } from './names';
import { checkDumpsServer, requirePgDump, type PgDumpProgram } from './pg-binaries';

/** How the extract reaches a database: connect.ts's functions with the worker's clients (tests: a local server). */
export interface ExtractDeps {
  /** A connected client for the target (connectDatabase). */
  connect: (target: DatabaseTarget) => Promise<pg.Client>;
  /** The target's endpoint and login, for pg_dump's environment (connectionParams). */
  params: (target: DatabaseTarget) => Promise<ConnectionParams>;
  /** The worker's environment: PG_DUMP, PATH (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** How often progress is heartbeated; default 5000 ms. */
  heartbeatIntervalMs?: number;
}

/** What dumpDatabase heartbeats. */
export interface DumpProgress {
  phase: 'checking' | 'dumping' | 'checksumming';
  bytesWritten: number;
  elapsedSeconds: number;
  /** The table pg_dump said it is dumping the contents of, last. */
  currentTable?: string;
}

/** The manifest beside a finished dump: what a retry checks before keeping the file. */
interface DumpManifest {
  file: string;
  sha256: string;
  sizeBytes: number;
  pgDumpVersion: string;
  startedAt: string;
  endedAt: string;
  /** What was asked: a retry (or a rerun with the same file name) asking something else does not get this file. */
  request: DumpFingerprint;
}

type DumpFingerprint = Pick<DumpRequest, 'tables' | 'excludeSchemas' | 'excludeTables'> & { instanceId: string; database: string };

const fingerprintOf = (req: DumpRequest): DumpFingerprint => ({
  instanceId: req.from.instanceId,
  database: req.from.access.database,
  tables: req.tables,
  excludeSchemas: req.excludeSchemas,
  excludeTables: req.excludeTables,
});

/** Relation kinds pg_dump --table takes: tables, partitioned tables, views, materialized views, sequences, foreign tables. */
const DUMPABLE_KINDS = ['r', 'p', 'v', 'm', 'S', 'f'];
/** How long pg_dump gets to stop after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 5000;

function validate(req: DumpRequest): { tables: TableName[]; excludeTables: TableName[] } {
  const problems = [
    ...fileNameProblems('fileName', req.fileName),
    ...(req.fileName.endsWith('.partial') || req.fileName.endsWith('.manifest.json') ? [`fileName '${req.fileName}' must not end in .partial or .manifest.json (the dump's own companions)`] : []),
    ...nameProblems('tables', req.tables, 'table'),
    ...nameProblems('excludeSchemas', req.excludeSchemas, 'schema'),
    ...nameProblems('excludeTables', req.excludeTables, 'table'),
  ];
  if (problems.length) throw invalidInput('Invalid dump request', problems);
  const tables = req.tables.map((t) => parseTable(t) as TableName);
  const excludeTables = req.excludeTables.map((t) => parseTable(t) as TableName);
  // pg_dump ignores --exclude-schema for the tables named by --table: a table both taken and excluded is a mistake to say, not to guess.
  for (const t of tables) {
    if (req.excludeSchemas.includes(t.schema)) problems.push(`table ${t.display} is in the excluded schema ${t.schema}`);
    if (excludeTables.some((x) => x.display === t.display)) problems.push(`table ${t.display} is both taken and excluded`);
  }
  if (problems.length) throw invalidInput('Contradictory dump request', problems);
  return { tables, excludeTables };
}

/** A pg_dump pattern matching exactly this name (double quotes: no case folding, no wildcards). */
const exactPattern = (...parts: string[]) => parts.map((p) => `"${p}"`).join('.');

export function pgDumpArgs(req: DumpRequest, outFile: string): string[] {
  const { tables, excludeTables } = validate(req);
  return [
    '--format=custom',
    `--file=${outFile}`,
    // Never prompt: the password is in the environment or the login fails.
    '--no-password',
    '--verbose',
    ...tables.map((t) => `--table=${exactPattern(t.schema, t.table)}`),
    ...req.excludeSchemas.map((s) => `--exclude-schema=${exactPattern(s)}`),
    ...excludeTables.map((t) => `--exclude-table=${exactPattern(t.schema, t.table)}`),
  ];
}

export async function sha256File(file: string): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  for await (const chunk of fs.createReadStream(file)) {
    hash.update(chunk as Buffer);
    sizeBytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), sizeBytes };
}

async function removeIfPresent(file: string): Promise<void> {
  await fs.promises.rm(file, { force: true });
}

async function fsyncPath(file: string): Promise<void> {
  const handle = await fs.promises.open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `file` so that it is either absent or complete: a temporary beside it, synced, renamed. */
export async function writeFileAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.promises.writeFile(tmp, text);
  await fsyncPath(tmp);
  await fs.promises.rename(tmp, file);
}

/** The finished dump an earlier attempt left, as its result (written: false), or undefined when there is none. */
async function finishedDump(req: DumpRequest, finalPath: string, manifestPath: string): Promise<DumpResult | undefined> {
  if (!fs.existsSync(finalPath)) return undefined;
  let manifest: DumpManifest;
  try {
    manifest = JSON.parse(await fs.promises.readFile(manifestPath, 'utf8')) as DumpManifest;
  } catch {
    throw ApplicationFailure.nonRetryable(
      `${finalPath} already exists without the manifest this activity writes (${manifestPath}): it is not a dump of this run. Move it away, or give the extract another file name`,
      FailureTypes.InvalidState,
    );
  }
  if (JSON.stringify(manifest.request) !== JSON.stringify(fingerprintOf(req))) {
    throw ApplicationFailure.nonRetryable(
      `${finalPath} is a finished dump of another request (${JSON.stringify(manifest.request)}), not of this one (${JSON.stringify(fingerprintOf(req))}): give the extract another file name`,
      FailureTypes.InvalidState,
    );
  }
  const { sha256, sizeBytes } = await sha256File(finalPath);
  if (sha256 !== manifest.sha256 || sizeBytes !== manifest.sizeBytes) {
    throw ApplicationFailure.nonRetryable(
      `${finalPath} changed after it was written: its sha256 is ${sha256} (${sizeBytes} bytes), the manifest says ${manifest.sha256} (${manifest.sizeBytes} bytes). ` +
        'Find out who changed it; delete it and its manifest to dump again',
      FailureTypes.InvalidState,
    );
  }
  return { path: finalPath, sizeBytes, sha256, pgDumpVersion: manifest.pgDumpVersion, startedAt: manifest.startedAt, endedAt: manifest.endedAt, written: false };
}

/** Every table to take exists in the restored database and can be read, before anything is written. */
async function checkTables(client: pg.Client, req: DumpRequest, tables: TableName[]): Promise<void> {
  if (!tables.length) return;
  const { rows } = await client.query<{ name: string; kind: string | null; readable: boolean | null }>(
    `SELECT x.name, c.relkind::text AS kind, CASE WHEN c.oid IS NULL THEN NULL ELSE has_table_privilege(c.oid, 'SELECT') END AS readable
       FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS x(name, schema_name, table_name, ord)
       LEFT JOIN pg_catalog.pg_class c ON c.oid = to_regclass(format('%I.%I', x.schema_name, x.table_name))
      ORDER BY x.ord`,
    [tables.map((t) => t.display), tables.map((t) => t.schema), tables.map((t) => t.table)],
  );
  const where = `database '${req.from.access.database}' of the restored instance ${req.from.instanceId}`;
  const missing = rows.filter((r) => r.kind === null || !DUMPABLE_KINDS.includes(r.kind)).map((r) => r.name);
  if (missing.length) {
    throw ApplicationFailure.nonRetryable(
      `No table ${missing.join(', ')} in ${where} (names are schema.table, or table in public, spelled as the catalog has them): correct the extract's tables`,
      FailureTypes.InvalidInput,
    );
  }
  const unreadable = rows.filter((r) => r.readable === false).map((r) => r.name);
  if (unreadable.length) {
    throw ApplicationFailure.nonRetryable(
      `User '${(await client.query<{ u: string }>('SELECT current_user AS u')).rows[0].u}' may not read ${unreadable.join(', ')} in ${where}: GRANT SELECT, or dump as a user who may`,
      FailureTypes.DatabaseAccess,
    );
  }
}

/** pg_dump's error lines (its stderr with --verbose is mostly progress), for a message. */
function errorLines(stderrTail: string[]): string {
  const errors = stderrTail.filter((l) => /error|fatal|detail|hint|could not|permission|denied|mismatch/i.test(l));
  return (errors.length ? errors : stderrTail.slice(-5)).join(' | ').slice(0, 2000);
}

function pgDumpFailure(code: number | null, signal: string | null, stderrTail: string[], where: string): ApplicationFailure {
  const said = errorLines(stderrTail);
  const message = `pg_dump of ${where} failed (${signal ? `killed by ${signal}` : `exit ${code}`}): ${said}`;
  if (/server version mismatch/i.test(said)) return ApplicationFailure.nonRetryable(`${message}. Install a pg_dump of the server's major (postgresql-client-<major>) or set PG_DUMP`, FailureTypes.InvalidConfig);
  if (/permission denied|password authentication failed|no pg_hba\.conf entry/i.test(said)) return ApplicationFailure.nonRetryable(`${message}. Grant the user what it needs, or exclude what it may not read`, FailureTypes.DatabaseAccess);
  if (/no matching (tables|schemas)/i.test(said)) return ApplicationFailure.nonRetryable(`${message}. Correct the extract's tables`, FailureTypes.InvalidInput);
  if (/No space left on device|ENOSPC/i.test(said)) return ApplicationFailure.nonRetryable(`${message}. Free space in the dump directory`, FailureTypes.InvalidConfig);
  return ApplicationFailure.retryable(message, FailureTypes.DumpFailed);
}

/** Runs pg_dump into `outFile`, heartbeating its progress; stops it when the activity is cancelled. */
async function runPgDump(
  program: PgDumpProgram,
  args: string[],
  env: NodeJS.ProcessEnv,
  outFile: string,
  where: string,
  ctx: Context | undefined,
  heartbeatIntervalMs: number,
): Promise<void> {
  const started = Date.now();
  const child = spawn(program.path, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const stderrTail: string[] = [];
  let currentTable: string | undefined;
  let pending = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const table = /dumping contents of table "([^"]+)"/.exec(line)?.[1];
      if (table) currentTable = table;
      stderrTail.push(line);
      if (stderrTail.length > 40) stderrTail.shift();
    }
  });
  const heartbeat = () => {
    let bytesWritten = 0;
    try {
      bytesWritten = fs.statSync(outFile).size;
    } catch {
      // pg_dump has not created the file yet.
    }
    const progress: DumpProgress = { phase: 'dumping', bytesWritten, elapsedSeconds: Math.round((Date.now() - started) / 1000), currentTable };
    ctx?.heartbeat(progress);
  };
  const timer = ctx && !ctx.info.isLocal ? setInterval(heartbeat, heartbeatIntervalMs) : undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  };
  const cancel = ctx?.cancellationSignal;
  cancel?.addEventListener('abort', stop, { once: true });
  try {
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    if (pending) stderrTail.push(pending);
    if (cancel?.aborted) {
      await removeIfPresent(outFile);
      // Rethrows the SDK's CancelledFailure so Temporal records the activity as cancelled.
      await ctx?.cancelled;
    }
    if (exit.code !== 0) {
      await removeIfPresent(outFile);
      throw pgDumpFailure(exit.code, exit.signal, stderrTail, where);
    }
  } finally {
    if (timer) clearInterval(timer);
    if (killTimer) clearTimeout(killTimer);
    cancel?.removeEventListener('abort', stop);
  }
}

/** The environment pg_dump runs with: the worker's, minus any PG* of its own, plus the target's login. */
function pgDumpEnv(base: NodeJS.ProcessEnv, params: ConnectionParams): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!k.startsWith('PG')) env[k] = v;
  return { ...env, ...libpqEnv(params) };
}

export function createDumpActivities(deps: ExtractDeps) {
  const env = deps.env ?? process.env;
  const heartbeatIntervalMs = deps.heartbeatIntervalMs ?? 5000;

  async function dumpDatabase(req: DumpRequest): Promise<DumpResult> {
    const { tables } = validate(req);
    await checkWritableDirectory('directory', req.directory);
    const finalPath = path.join(req.directory, req.fileName);
    const partialPath = `${finalPath}.partial`;
    const manifestPath = `${finalPath}.manifest.json`;
    const kept = await finishedDump(req, finalPath, manifestPath);
    if (kept) return kept;

    const ctx = activityContext();
    const program = requirePgDump(env);
    const where = `database '${req.from.access.database}' of the restored instance ${req.from.instanceId}`;
    const client = await deps.connect(req.from);
    try {
      const { rows } = await client.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`);
      checkDumpsServer(program, Number(rows[0].v));
      await checkTables(client, req, tables);
    } finally {
      await client.end().catch(() => undefined);
    }
    const params = await deps.params(req.from);

    // What an earlier attempt left unfinished: its partial dump, a manifest whose rename of the dump never came.
    await removeIfPresent(partialPath);
    await removeIfPresent(manifestPath);
    const startedAt = new Date().toISOString();
    await runPgDump(program, pgDumpArgs(req, partialPath), pgDumpEnv(env, params), partialPath, where, ctx, heartbeatIntervalMs);

    ctx?.heartbeat({ phase: 'checksumming', bytesWritten: fs.statSync(partialPath).size, elapsedSeconds: Math.round((Date.now() - Date.parse(startedAt)) / 1000) } satisfies DumpProgress);
    await fsyncPath(partialPath);
    const { sha256, sizeBytes } = await sha256File(partialPath);
    const endedAt = new Date().toISOString();
    const manifest: DumpManifest = { file: req.fileName, sha256, sizeBytes, pgDumpVersion: program.version, startedAt, endedAt, request: fingerprintOf(req) };
    await writeFileAtomically(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    await fs.promises.rename(partialPath, finalPath);
    await fsyncPath(req.directory);
    return { path: finalPath, sizeBytes, sha256, pgDumpVersion: program.version, startedAt, endedAt, written: true };
  }

  return { dumpDatabase };
}
