/**
 * dumpDatabase against a real PostgreSQL 15 (test/postgres.ts) with the real pg_dump, and the dump restored
 * with the real pg_restore, as the runbook does ("pg_restore -v -d local_test staging-db-dump").
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import type { Info } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import pg from 'pg';
import { createDumpActivities, type DumpProgress, type ExtractDeps } from '../../../src/activities/database/dump';
import { directDeps, holdTable, targetOf } from './extract-helpers';
import { findPgProgram, requirePgDump } from '../../../src/activities/database/pg-binaries';
import { FailureTypes } from '../../../src/api/activities';
import type { DumpRequest, DumpResult } from '../../../src/api/database';
import { needPostgres, startTestPostgres, type TestPostgres } from '../../postgres';
import { expectFailure, rejection } from '../helpers';

const mockEnv = (info?: Partial<Info>) => new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });
const sha256Of = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const modeOf = (file: string) => fs.statSync(file).mode & 0o777;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits for `condition` (polling), failing after a deadline generous enough for a loaded machine. */
async function waitFor(condition: () => boolean | Promise<boolean>, what: () => string, deadlineMs = 15_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > until) assert.fail(`timed out waiting: ${what()}`);
    await sleep(25);
  }
}

describe('database: dumpDatabase (real pg_dump, real pg_restore)', function () {
  this.timeout(30_000);
  let server: TestPostgres;
  let dir: string;
  const restored = () => targetOf('restored', 'notify');
  const request = (over: Partial<DumpRequest> = {}): DumpRequest => ({
    from: restored(),
    directory: dir,
    fileName: 'extract.dump',
    tables: [],
    excludeSchemas: ['hint_plan', 'pglogical'],
    excludeTables: ['notifications', 'public.ft_billing'],
    ...over,
  });
  const dump = (req: DumpRequest, extra: Partial<ExtractDeps> = {}, env = mockEnv()) =>
    env.run(createDumpActivities(directDeps({ restored: server }, extra)).dumpDatabase, req) as Promise<DumpResult>;

  /** The tables (schema.table) a fresh database has after pg_restore of `file`. */
  async function restoredTables(file: string, schemas: string[] = []): Promise<string[]> {
    const db = `check_${Math.random().toString(36).slice(2, 8)}`;
    await server.sql(`CREATE DATABASE ${db}`);
    for (const s of schemas) await server.sql(`CREATE SCHEMA ${s}`, [], db);
    const pgRestore = findPgProgram('pg_restore');
    assert.ok(pgRestore, 'pg_restore not found');
    const r = spawnSync(pgRestore, ['--no-owner', '--exit-on-error', '-d', db, file], {
      env: { ...process.env, PGHOST: server.host, PGPORT: String(server.port), PGUSER: server.user, PGPASSWORD: server.password },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `pg_restore failed: ${r.stderr}`);
    const rows = await server.sql<{ t: string }>(
      `SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
      [],
      db,
    );
    return rows.map((r) => r.t);
  }

  before(async function () {
    needPostgres(this);
    server = await startTestPostgres();
    await server.sql('CREATE DATABASE notify');
    await server.sql(
      `CREATE SCHEMA hint_plan; CREATE TABLE hint_plan.hints (id int PRIMARY KEY);
       CREATE SCHEMA app; CREATE TABLE app.templates (id int PRIMARY KEY, body text); INSERT INTO app.templates VALUES (1, 'hello');
       CREATE TABLE public.services (id int PRIMARY KEY, name text); INSERT INTO public.services SELECT g, 'service ' || g FROM generate_series(1, 500) g;
       CREATE TABLE public.notifications (id int PRIMARY KEY, body text); INSERT INTO public.notifications SELECT g, 'n' FROM generate_series(1, 100) g;
       CREATE TABLE public.ft_billing (id int PRIMARY KEY);
       CREATE TABLE app.notifications (id int PRIMARY KEY, kept boolean); INSERT INTO app.notifications VALUES (1, true);`,
      [],
      'notify',
    );
  });
  after(async () => server?.stop());
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dump-test-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('dumps without the excluded schemas and tables: pg_restore into an empty database has all the others; size and sha256 are the file\'s', async () => {
    const result = await dump(request());
    assert.equal(result.written, true);
    assert.equal(result.path, path.join(dir, 'extract.dump'));
    assert.equal(result.sizeBytes, fs.statSync(result.path).size);
    assert.equal(result.sha256, sha256Of(result.path));
    assert.match(result.pgDumpVersion, /^pg_dump \(PostgreSQL\) \d+/);
    assert.ok(Date.parse(result.startedAt) <= Date.parse(result.endedAt));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['extract.dump', 'extract.dump.manifest.json']);
    // Production data: only the worker's user may read the dump and its manifest.
    assert.deepEqual([modeOf(result.path), modeOf(`${result.path}.manifest.json`)], [0o600, 0o600]);
    // `notifications` is public.notifications (the contract's `table` is `public.table`): app.notifications stays.
    assert.deepEqual(await restoredTables(result.path), ['app.notifications', 'app.templates', 'public.services']);
  });

  it('takes only the named tables', async () => {
    const result = await dump(request({ tables: ['app.templates', 'services'], excludeSchemas: [], excludeTables: [] }));
    // pg_dump --table dumps no schema: the database restored into has it, as with the runbook's `create table` advice.
    assert.deepEqual(await restoredTables(result.path, ['app']), ['app.templates', 'public.services']);
  });

  it('a retry finds the finished file and returns it without dumping (written: false); what dead attempts left is deleted and redone', async () => {
    // An earlier version's partial, untouched for long; a crashed attempt's partial and its lock (its process is gone).
    const old = new Date(Date.now() - 3_600_000);
    fs.writeFileSync(path.join(dir, 'extract.dump.partial'), 'half a dump from a crashed attempt');
    fs.utimesSync(path.join(dir, 'extract.dump.partial'), old, old);
    fs.writeFileSync(path.join(dir, '.extract.dump.1-0123456789ab.partial'), 'half a dump from a crashed attempt');
    fs.writeFileSync(path.join(dir, '.extract.dump.lock'), JSON.stringify({ id: '1-0123456789ab', host: os.hostname(), pid: deadPid(), attempt: 1, acquiredAt: old.toISOString() }));
    // Another request's file whose name merely begins like this one's partials is not a leftover.
    fs.writeFileSync(path.join(dir, 'extract.dump.partial.keep'), 'not ours');
    fs.utimesSync(path.join(dir, 'extract.dump.partial.keep'), old, old);
    const first = await dump(request(), {}, mockEnv({ attempt: 2 }));
    assert.equal(first.written, true);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['extract.dump', 'extract.dump.manifest.json', 'extract.dump.partial.keep']);
    fs.rmSync(path.join(dir, 'extract.dump.partial.keep'));
    const mtime = fs.statSync(first.path).mtimeMs;
    // No pg_dump on this "worker": a retry that tried to dump again would fail.
    const again = await dump(request(), { env: { PG_DUMP: '/nonexistent/pg_dump', PATH: '' } });
    assert.deepEqual({ ...again, written: true }, first);
    assert.equal(again.written, false);
    assert.equal(fs.statSync(first.path).mtimeMs, mtime);

    // A finished file that changed since is not handed out as the dump.
    fs.appendFileSync(first.path, 'x');
    await expectFailure(dump(request()), { type: FailureTypes.InvalidState, nonRetryable: true, message: [/changed after it was written/] });
    // Another request with the same file name does not get this file.
    fs.rmSync(first.path);
    const other = await dump(request({ excludeTables: [] }));
    await expectFailure(dump(request()), { type: FailureTypes.InvalidState, nonRetryable: true, message: [/another request/] });
    assert.equal(other.written, true);
  });

  it('a table that does not exist is a clear non-retryable error before anything is written', async () => {
    await expectFailure(dump(request({ tables: ['app.templates', 'public.no_such_table', 'App.templates'], excludeSchemas: [] })), {
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message: [/No table public\.no_such_table, App\.templates in database 'notify' of the restored instance restored/],
    });
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('refuses names that are not identifiers, contradictions, and a directory that is not there, before connecting', async () => {
    const refuse = (req: DumpRequest, re: RegExp, type: string = FailureTypes.InvalidInput) =>
      expectFailure(dump(req, { connect: () => assert.fail('must not connect') }), { type, nonRetryable: true, message: [re] });
    await refuse(request({ excludeSchemas: ['hint_plan; rm -rf /'] }), /excludeSchemas: 'hint_plan; rm -rf \/' is not a schema name/);
    await refuse(request({ tables: ['public.*'] }), /tables: 'public\.\*' is not a table name/);
    await refuse(request({ tables: ['hint_plan.hints'] }), /hint_plan\.hints is in the excluded schema hint_plan/);
    await refuse(request({ fileName: '../escape.dump' }), /must be a plain file name/);
    await refuse(request({ directory: path.join(dir, 'missing') }), /does not exist on this worker/, FailureTypes.InvalidConfig);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('says to install postgresql-client-15 when no pg_dump is found', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'no-pg-'));
    try {
      const err = rejectionOf(() => requirePgDump({ PATH: empty }, empty));
      assert.equal(err.type, FailureTypes.InvalidConfig);
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, /pg_dump was not found.*apt-get install -y postgresql-client-15/);
      assert.match(rejectionOf(() => requirePgDump({ PG_DUMP: path.join(empty, 'pg_dump') })).message, /PG_DUMP names .* not an executable/);
    } finally {
      fs.rmSync(empty, { recursive: true });
    }
  });

  it('heartbeats its progress while pg_dump runs, keeps the password out of argv, and stops pg_dump when cancelled', async () => {
    // pg_dump waits for its lock on a table another session holds exclusively: a dump that does not finish by itself.
    const blocker = new pg.Client({ host: server.host, port: server.port, user: server.user, password: server.password, database: 'notify' });
    await blocker.connect();
    try {
      await blocker.query('BEGIN; LOCK TABLE public.services IN ACCESS EXCLUSIVE MODE');
      const env = mockEnv();
      const beats: DumpProgress[] = [];
      env.on('heartbeat', (d: DumpProgress) => beats.push(d));
      const running = dump(request(), { heartbeatIntervalMs: 100 }, env);
      const waiting = async () =>
        (await server.sql<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = 'rds-orchestrator' AND wait_event_type = 'Lock'`)).length;
      for (let i = 0; i < 100 && !(await waiting()); i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(await waiting(), 1, 'pg_dump should be waiting for its lock');
      const cmdlines = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map((p) => {
        try {
          return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
        } catch {
          return '';
        }
      });
      const ours = cmdlines.filter((c) => c.includes('pg_dump') && c.includes(dir));
      assert.equal(ours.length, 1);
      assert.ok(!ours[0].includes(server.password), 'the password must not be in pg_dump\'s argv');
      await waitFor(() => beats.filter((b) => b.phase === 'dumping').length >= 2, () => `heartbeats: ${JSON.stringify(beats)}`);
      assert.ok(beats.every((b) => typeof b.bytesWritten === 'number' && typeof b.elapsedSeconds === 'number'));

      env.cancel();
      const err = await rejection(running);
      assert.ok(err instanceof CancelledFailure, `expected CancelledFailure, got ${String(err)}`);
      for (let i = 0; i < 40 && (await waiting()); i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(await waiting(), 0, 'pg_dump\'s session is gone');
      assert.deepEqual(fs.readdirSync(dir), [], 'the partial dump and the lock are deleted');
    } finally {
      await blocker.end();
    }
  });

  /** A session holding public.services exclusively: pg_dump waits for it (a dump that lasts until `release`). */
  async function blockDump(): Promise<{ release: () => Promise<void>; pgDumpWaiting: () => Promise<boolean> }> {
    const held = await holdTable(server, 'notify', 'public.services');
    return { release: held.release, pgDumpWaiting: async () => (await held.waitingPid('rds-orchestrator')) !== undefined };
  }

  it('two live attempts (the first presumed dead, still dumping, when the retry starts) end with one file whose manifest matches it', async () => {
    const blocker = await blockDump();
    try {
      const first = dump(request(), { heartbeatIntervalMs: 50 }, mockEnv({ attempt: 1 }));
      await waitFor(blocker.pgDumpWaiting, () => 'the first attempt\'s pg_dump waiting for its lock');
      const env2 = mockEnv({ attempt: 2 });
      const beats2: DumpProgress[] = [];
      env2.on('heartbeat', (d: DumpProgress) => beats2.push(d));
      const second = dump(request(), { heartbeatIntervalMs: 50 }, env2);
      // The retry waits (heartbeating whom for) rather than deleting the first's file or dumping beside it.
      await waitFor(() => beats2.some((b) => b.phase === 'waiting'), () => `second attempt's heartbeats: ${JSON.stringify(beats2)}`);
      assert.match(beats2.find((b) => b.phase === 'waiting')?.waitingFor ?? '', /^attempt 1 \(1-[0-9a-f]+\)/);
      await blocker.release();
      const [a, b] = await Promise.all([first, second]);
      assert.equal(a.written, true);
      assert.deepEqual(b, { ...a, written: false }, 'the retry returns the file the first attempt finished');
      const manifest = JSON.parse(fs.readFileSync(`${a.path}.manifest.json`, 'utf8')) as { sha256: string; sizeBytes: number };
      assert.deepEqual([manifest.sha256, manifest.sizeBytes], [sha256Of(a.path), fs.statSync(a.path).size]);
      assert.deepEqual(fs.readdirSync(dir).sort(), ['extract.dump', 'extract.dump.manifest.json'], 'no partial file, no lock left');
    } finally {
      await blocker.release();
    }
  });

  it('an attempt whose lock was taken over (it went stale) publishes nothing; a stale lock of another host is taken over', async () => {
    const blocker = await blockDump();
    try {
      const zombie = dump(request(), { heartbeatIntervalMs: 50 }, mockEnv({ attempt: 1 }));
      await waitFor(blocker.pgDumpWaiting, () => 'pg_dump waiting for its lock');
      // Another worker took the lock over while this attempt was stuck.
      fs.writeFileSync(path.join(dir, '.extract.dump.lock'), JSON.stringify({ id: '2-other', host: 'another-worker', pid: 1, attempt: 2, acquiredAt: new Date().toISOString() }));
      await blocker.release();
      await expectFailure(zombie, { type: FailureTypes.DumpFailed, nonRetryable: false, message: [/Another attempt took over writing .*extract\.dump/] });
      assert.deepEqual(fs.readdirSync(dir), ['.extract.dump.lock'], 'neither the dump nor a manifest, nor its partial file');
    } finally {
      await blocker.release();
    }
    // That other worker is gone: its lock, no longer refreshed, goes stale and is taken over. Its last refresh is now
    // (a loaded machine may take longer than the stale time to get here from the write above).
    const now = new Date();
    fs.utimesSync(path.join(dir, '.extract.dump.lock'), now, now);
    const env = mockEnv({ attempt: 3 });
    const beats: DumpProgress[] = [];
    env.on('heartbeat', (d: DumpProgress) => beats.push(d));
    const result = await dump(request(), { lockStaleMs: 3000, heartbeatIntervalMs: 50 }, env);
    assert.equal(result.written, true);
    assert.ok(beats.some((b) => b.phase === 'waiting' && /2-other/.test(b.waitingFor ?? '')), 'it waited while the lock was fresh');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['extract.dump', 'extract.dump.manifest.json']);
  });

  it('heartbeats while hashing the dump, and while checking the finished file on a retry', async () => {
    const chunks = { hashChunkBytes: 512, heartbeatIntervalMs: 0 };
    const env = mockEnv();
    const beats: DumpProgress[] = [];
    env.on('heartbeat', (d: DumpProgress) => beats.push(d));
    const result = await dump(request(), chunks, env);
    const hashed = beats.filter((b) => b.phase === 'checksumming').map((b) => b.bytesChecksummed ?? -1);
    assert.ok(result.sizeBytes > 4 * 512, `a dump of ${result.sizeBytes} bytes is too small for this test`);
    assert.ok(hashed.length >= Math.floor(result.sizeBytes / 512), `checksumming heartbeats: ${JSON.stringify(hashed)}`);
    assert.deepEqual(hashed, [...hashed].sort((x, y) => x - y));
    assert.equal(hashed[hashed.length - 1], result.sizeBytes);
    assert.ok(beats.filter((b) => b.phase === 'checksumming').every((b) => b.bytesWritten === result.sizeBytes && typeof b.elapsedSeconds === 'number'));

    const env2 = mockEnv({ attempt: 2 });
    const beats2: DumpProgress[] = [];
    env2.on('heartbeat', (d: DumpProgress) => beats2.push(d));
    assert.equal((await dump(request(), chunks, env2)).written, false);
    const checked = beats2.filter((b) => b.phase === 'checking').map((b) => b.bytesChecksummed);
    assert.ok(checked.length >= Math.floor(result.sizeBytes / 512) && checked[checked.length - 1] === result.sizeBytes, `checking heartbeats: ${JSON.stringify(checked)}`);
  });
});

/** A process id no process has on this host (a crashed worker's). */
function deadPid(): number {
  for (let pid = 4_000_000; ; pid--) {
    try {
      process.kill(pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return pid;
    }
  }
}

function rejectionOf(fn: () => unknown): { type?: string; nonRetryable?: boolean; message: string } {
  try {
    fn();
  } catch (err) {
    return err as { type?: string; nonRetryable?: boolean; message: string };
  }
  return assert.fail('expected a throw');
}
