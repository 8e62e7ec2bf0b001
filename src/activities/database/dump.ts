/**
 * The runbook's extract: `pg_dump -Fc` of the restored instance, with its exclusions or the tables to take
 * ("This command takes at least half an hour to run"), as one heartbeating activity.
 *
 * - The real pg_dump (./pg-binaries.ts) gets the login through its environment (PGPASSWORD, ...), never its
 *   argv (which `ps` shows) nor a log line.
 * - Each attempt writes its own partial file (./extract-files.ts: hidden, 0600, like everything it writes), and
 *   only while holding the lock of `<fileName>`, so an attempt presumed dead but still running and its retry never
 *   write one file: the retry waits for the lock (heartbeating), then finds the finished dump or takes over a stale
 *   one. Once pg_dump succeeded the file is synced, its sha256 and size are written to the manifest
 *   `<fileName>.manifest.json` (atomically), and only then is it renamed to `<fileName>`. So a finished
 *   `<fileName>` always has its manifest, and a retry that finds both (the checksum matching) returns it with
 *   `written: false` without connecting; what a dead attempt left is deleted (./extract-files.ts says when) and redone.
 * - Before writing anything: the directory exists and is writable, every table to take exists in the restored
 *   database (to_regclass) and can be read, names are identifiers. A problem there is non-retryable.
 * - Heartbeats every few seconds: bytes written so far, elapsed seconds, the table pg_dump is on; while hashing
 *   the dump (minutes for many GB), the bytes hashed; while waiting for another attempt, whom. When the
 *   activity is cancelled, pg_dump is stopped (SIGTERM, then SIGKILL) and its partial file deleted.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import { FailureTypes } from '../../api/activities';
import type { DatabaseTarget, DumpRequest, DumpResult } from '../../api/database';
import { activityContext } from '../waiting';
import { libpqEnv, type ConnectionParams } from './connect';
import {
  acquireFileLock,
  attemptIdOf,
  FILE_MODE,
  fsyncPath,
  leftoverAgeMs,
  LOCK_STALE_MS,
  partialPathOf,
  removeLeftovers,
  requireLock,
  sha256File,
  writeFileAtomically,
} from './extract-files';
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
  /** When another attempt's lock on a file counts as abandoned (not refreshed for this long); default LOCK_STALE_MS. */
  lockStaleMs?: number;
  /** Bytes read at a time while hashing a dump (tests: small, to see the hashing heartbeat). */
  hashChunkBytes?: number;
  /** The repair write's idle_in_transaction_session_timeout and lock_timeout; defaults in repair-tables.ts. */
  writeIdleInTransactionMs?: number;
  writeLockTimeoutMs?: number;
}

/** What dumpDatabase heartbeats. */
export interface DumpProgress {
  phase: 'checking' | 'waiting' | 'dumping' | 'checksumming';
  bytesWritten: number;
  elapsedSeconds: number;
  /** The table pg_dump said it is dumping the contents of, last. */
  currentTable?: string;
  /** While checksumming (or checking the file an earlier attempt finished): the bytes hashed so far. */
  bytesChecksummed?: number;
  /** While waiting: the other attempt writing this file. */
  waitingFor?: string;
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

async function removeIfPresent(file: string): Promise<void> {
  await fs.promises.rm(file, { force: true });
}

type HashOptions = Parameters<typeof sha256File>[1];

/** The finished dump an earlier attempt left, as its result (written: false), or undefined when there is none. */
async function finishedDump(req: DumpRequest, finalPath: string, manifestPath: string, hashing: HashOptions): Promise<DumpResult | undefined> {
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
  const { sha256, sizeBytes } = await sha256File(finalPath, hashing);
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

  const staleMs = deps.lockStaleMs ?? LOCK_STALE_MS;

  async function dumpDatabase(req: DumpRequest): Promise<DumpResult> {
    const { tables } = validate(req);
    await checkWritableDirectory('directory', req.directory);
    const finalPath = path.join(req.directory, req.fileName);
    const manifestPath = `${finalPath}.manifest.json`;
    const ctx = activityContext();
    const attemptStarted = Date.now();
    const elapsedSeconds = () => Math.round((Date.now() - attemptStarted) / 1000);
    const beat = (p: Omit<DumpProgress, 'elapsedSeconds'>) => {
      if (ctx && !ctx.info.isLocal) ctx.heartbeat({ ...p, elapsedSeconds: elapsedSeconds() } satisfies DumpProgress);
    };
    // Hashing many GB takes minutes: it heartbeats as the dump does, or the heartbeat timeout ends the attempt.
    const hashing = (phase: 'checking' | 'checksumming', file: string): HashOptions => ({
      progress: (bytesChecksummed) => beat({ phase, bytesWritten: fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0, bytesChecksummed }),
      everyMs: heartbeatIntervalMs,
      chunkBytes: deps.hashChunkBytes,
      ctx,
    });
    const kept = await finishedDump(req, finalPath, manifestPath, hashing('checking', finalPath));
    if (kept) return kept;

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

    const id = attemptIdOf(ctx);
    const lock = await acquireFileLock(finalPath, id, { ctx, staleMs, onWait: (waitingFor) => beat({ phase: 'waiting', bytesWritten: 0, waitingFor }) });
    const partialPath = partialPathOf(finalPath, id);
    try {
      // The attempt that held the lock may have finished this very dump.
      const done = await finishedDump(req, finalPath, manifestPath, hashing('checking', finalPath));
      if (done) return done;
      // What a dead attempt left unfinished: its partial dump, a manifest whose rename of the dump never came.
      await removeLeftovers(finalPath, lock, leftoverAgeMs(ctx, staleMs));
      await removeIfPresent(manifestPath);
      // Created 0600 before pg_dump opens it (it truncates the file and keeps its mode).
      await (await fs.promises.open(partialPath, 'wx', FILE_MODE)).close();
      const startedAt = new Date().toISOString();
      await runPgDump(program, pgDumpArgs(req, partialPath), pgDumpEnv(env, params), partialPath, where, ctx, heartbeatIntervalMs);

      beat({ phase: 'checksumming', bytesWritten: fs.statSync(partialPath).size, bytesChecksummed: 0 });
      await fsyncPath(partialPath);
      const { sha256, sizeBytes } = await sha256File(partialPath, hashing('checksumming', partialPath));
      const endedAt = new Date().toISOString();
      const manifest: DumpManifest = { file: req.fileName, sha256, sizeBytes, pgDumpVersion: program.version, startedAt, endedAt, request: fingerprintOf(req) };
      await requireLock(lock, finalPath, FailureTypes.DumpFailed);
      await writeFileAtomically(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
      await fs.promises.rename(partialPath, finalPath);
      await fsyncPath(req.directory);
      return { path: finalPath, sizeBytes, sha256, pgDumpVersion: program.version, startedAt, endedAt, written: true };
    } finally {
      await removeIfPresent(partialPath);
      await lock.release();
    }
  }

  return { dumpDatabase };
}
