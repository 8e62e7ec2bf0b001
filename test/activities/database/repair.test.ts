/**
 * compareRows and writeRows against two real PostgreSQL 15 servers (test/postgres.ts): "restored" holds the rows
 * as they were, "original" lost some (deleted), changed some, and gained some since. Tables with a bigint key
 * beyond 2^53, a composite key with a foreign key, a table without a key; NULLs, jsonb, timestamptz, bytea,
 * numeric, arrays, more rows than one page.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Info } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import pg from 'pg';
import type { ExtractDeps } from '../../../src/activities/database/dump';
import { BATCH_ROWS, createRepairActivities } from '../../../src/activities/database/repair';
import { FailureTypes } from '../../../src/api/activities';
import type { RepairCompareRequest, RepairSummary, RepairWriteRequest, RepairWriteResult } from '../../../src/api/database';
import { needPostgres, startTestPostgres, type TestPostgres } from '../../postgres';
import { expectFailure } from '../helpers';
import { directDeps, holdTable as holdTableOf, targetOf, TEST_APP } from './extract-helpers';

const mockEnv = (info?: Partial<Info>) => new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits for `condition` (polling), failing after a deadline generous enough for a loaded machine. */
async function waitFor(condition: () => boolean | Promise<boolean>, what: string, deadlineMs = 15_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > until) assert.fail(`timed out waiting: ${what}`);
    await sleep(25);
  }
}
const BIG = '9007199254740993'; // 2^53 + 1: a JavaScript number would make it ...992
const CUSTOMERS = 2500; // more than two pages

const SCHEMA = `
  DROP SCHEMA IF EXISTS app CASCADE; DROP SCHEMA IF EXISTS rds_orchestrator CASCADE;
  DROP TABLE IF EXISTS public.customers, public.audit_log, public.scratch CASCADE;
  CREATE TABLE public.customers (id bigint PRIMARY KEY, name text NOT NULL, email text, meta jsonb, tags text[], balance numeric(12, 2),
    created_at timestamptz NOT NULL, avatar bytea, name_upper text GENERATED ALWAYS AS (upper(name)) STORED);
  INSERT INTO public.customers (id, name, email, meta, tags, balance, created_at, avatar)
    SELECT g, 'customer ' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'c' || g || '@example.com' END,
           CASE WHEN g % 5 = 0 THEN NULL ELSE jsonb_build_object('tier', g % 4, 'note', 'quote " and \\ back') END,
           ARRAY['a', 'b' || g], g * 1.25, timestamptz '2024-03-01 10:00:00+00' + g * interval '1 minute 0.123456 second',
           CASE WHEN g % 7 = 0 THEN NULL ELSE decode(md5(g::text), 'hex') END
      FROM generate_series(1, ${CUSTOMERS}) g;
  INSERT INTO public.customers (id, name, created_at) VALUES (${BIG}, 'big key', '2024-01-01T00:00:00Z');
  CREATE SCHEMA app;
  CREATE TABLE app.order_lines (customer_id bigint NOT NULL REFERENCES public.customers (id) ON DELETE CASCADE, line_no int NOT NULL,
    sku text NOT NULL, qty numeric(10, 2), PRIMARY KEY (customer_id, line_no));
  INSERT INTO app.order_lines SELECT c, l, 'sku-' || c || '-' || l, l * 0.5 FROM generate_series(1, 300) c, generate_series(1, 3) l;
  CREATE TABLE public.audit_log (at timestamptz, message text);
  CREATE TABLE public.scratch (id int PRIMARY KEY);`;

/** What the original lost or changed since the restore time. */
const DIVERGE = `
  DELETE FROM public.customers WHERE id % 100 = 7 OR id = ${BIG};           -- 25 + 1 lost, and their 3 lines each (cascade) for ids <= 300
  DELETE FROM app.order_lines WHERE line_no = 2 AND customer_id % 50 = 1;  -- 6 more lines lost
  UPDATE public.customers SET email = 'changed@example.com' WHERE id % 250 = 3;  -- 10 changed
  UPDATE app.order_lines SET qty = 99 WHERE customer_id = 10 AND line_no = 1;     -- 1 changed
  INSERT INTO public.customers (id, name, created_at) VALUES (100000, 'new since', now());  -- only in the original: not touched`;

const LOST_CUSTOMERS = Array.from({ length: CUSTOMERS }, (_, i) => i + 1).filter((id) => id % 100 === 7).length + 1;
const LOST_LINES = 3 * [7, 107, 207].length + [1, 51, 101, 151, 201, 251].length;

describe('database: compareRows and writeRows (two real PostgreSQL servers)', function () {
  this.timeout(30_000);
  let restoredServer: TestPostgres;
  let originalServer: TestPostgres;
  let dir: string;
  const restored = targetOf('restored', 'shop');
  const original = targetOf('original', 'shop');
  const acts = (extra: Partial<ExtractDeps> = {}) => createRepairActivities(directDeps({ restored: restoredServer, original: originalServer }, extra));
  const compare = (over: Partial<RepairCompareRequest> = {}, env = mockEnv()) =>
    env.run(acts().compareRows, {
      restored, original, tables: ['public.customers', 'app.order_lines'], updateChanged: false, directory: dir, fileName: 'difference.jsonl', sampleSize: 3, ...over,
    } satisfies RepairCompareRequest) as Promise<RepairSummary>;
  const write = (summary: RepairSummary, repairId = 'repair-1', env = mockEnv(), extra: Partial<ExtractDeps> = {}) =>
    env.run(acts(extra).writeRows, { original, summary, repairId } satisfies RepairWriteRequest) as Promise<RepairWriteResult>;
  /** A session of the original holding `table` exclusively (the write waits for it) until `release`. */
  async function holdTable(table: string): Promise<{ release: () => Promise<void>; waitingPid: () => Promise<number | undefined> }> {
    const held = await holdTableOf(originalServer, 'shop', table);
    return { release: held.release, waitingPid: () => held.waitingPid(TEST_APP) };
  }
  const originalSql = <T extends Record<string, unknown>>(text: string) => originalServer.sql<T>(text, [], 'shop');
  /** Every row of the compared tables, as text: what "nothing changed" is checked against. */
  const contents = async (server: TestPostgres) =>
    (await server.sql<{ c: string }>(
      `SELECT (SELECT md5(string_agg(c::text, '|' ORDER BY id)) FROM public.customers c) || (SELECT md5(string_agg(l::text, '|' ORDER BY customer_id, line_no)) FROM app.order_lines l) AS c`,
      [], 'shop',
    ))[0].c;
  const customerText = async (server: TestPostgres, id: string | number) =>
    (await server.sql<{ t: string }>(`SELECT c::text AS t FROM public.customers c WHERE id = $1`, [id], 'shop'))[0]?.t;

  before(async function () {
    needPostgres(this);
    [restoredServer, originalServer] = await Promise.all([startTestPostgres(), startTestPostgres()]);
    await Promise.all([restoredServer.sql('CREATE DATABASE shop'), originalServer.sql('CREATE DATABASE shop')]);
    await restoredServer.sql(SCHEMA, [], 'shop');
  });
  after(async () => {
    await restoredServer?.stop();
    await originalServer?.stop();
  });
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'repair-test-'));
    await originalServer.sql(SCHEMA + DIVERGE, [], 'shop');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('compare: exact missing and changed counts, samples in key order, the difference file and its sha256; nothing changes on either side', async () => {
    assert.ok(CUSTOMERS > 2 * BATCH_ROWS);
    const before = [await contents(restoredServer), await contents(originalServer)];
    const summary = await compare({ updateChanged: true });
    assert.deepEqual(summary.tables, [
      { table: 'public.customers', primaryKey: ['id'], missing: LOST_CUSTOMERS, changed: 10, sampleMissing: ['id=7', 'id=107', 'id=207'], sampleChanged: ['id=3', 'id=253', 'id=503'] },
      { table: 'app.order_lines', primaryKey: ['customer_id', 'line_no'], missing: LOST_LINES, changed: 1, sampleMissing: ['customer_id=1, line_no=2', 'customer_id=7, line_no=1', 'customer_id=7, line_no=2'], sampleChanged: ['customer_id=10, line_no=1'] },
    ]);
    assert.equal(summary.updateChanged, true);
    assert.equal(summary.path, path.join(dir, 'difference.jsonl'));
    assert.equal(summary.sha256, createHash('sha256').update(fs.readFileSync(summary.path)).digest('hex'));
    const lines = fs.readFileSync(summary.path, 'utf8').trim().split('\n');
    assert.equal(lines.length, 2 + LOST_CUSTOMERS + 10 + LOST_LINES + 1);
    assert.deepEqual(JSON.parse(lines[0]), {
      kind: 'table', table: 'public.customers', primaryKey: ['id'], columns: ['id', 'name', 'email', 'meta', 'tags', 'balance', 'created_at', 'avatar'],
    });
    const big = lines.find((l) => l.includes(`"key":{"id":"${BIG}"}`));
    assert.ok(big?.includes(`"id": ${BIG}`), `the big key exactly, in the row too: ${big}`);
    const changed = JSON.parse(lines.find((l) => l.includes('"kind":"changed"')) as string) as { row: { email: string }; original: { email: string } };
    assert.deepEqual([changed.row.email, changed.original.email], [null, 'changed@example.com'], 'id 3 had no email (NULL)');
    assert.deepEqual([await contents(restoredServer), await contents(originalServer)], before);
    assert.deepEqual(await originalSql(`SELECT to_regnamespace('rds_orchestrator') AS s`), [{ s: null }]);
    assert.deepEqual(fs.readdirSync(dir), ['difference.jsonl']);
    assert.equal(fs.statSync(summary.path).mode & 0o777, 0o600, 'production data: only the worker\'s user reads it');

    // Without updateChanged, changed rows are counted and sampled, not written to the file.
    const counted = await compare();
    assert.equal(counted.tables[0].changed, 10);
    assert.equal(fs.readFileSync(counted.path, 'utf8').trim().split('\n').length, 2 + LOST_CUSTOMERS + LOST_LINES);
  });

  it('compare: a table without a primary key, or missing on either side, is a clear error naming it before any file is written', async () => {
    await originalSql('DROP TABLE public.scratch');
    await expectFailure(compare({ tables: ['public.customers', 'audit_log', 'public.scratch', 'nowhere'] }), {
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message: [
        /table public\.audit_log has no primary key in the restored database 'shop' of instance restored/,
        /table public\.scratch does not exist in the original database 'shop' of instance original/,
        /table public\.nowhere does not exist in the restored database 'shop' of instance restored nor in the original/,
      ],
    });
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('compare: two live attempts (the first presumed dead, still comparing, when the retry starts) never mix their files: the file is the last one\'s, its sha256 the returned one', async () => {
    // The first attempt reads public.customers, then waits for app.order_lines, which this session of the restored holds.
    const blocker = new pg.Client({ host: restoredServer.host, port: restoredServer.port, user: restoredServer.user, password: restoredServer.password, database: 'shop' });
    await blocker.connect();
    try {
      await blocker.query('BEGIN; LOCK TABLE app.order_lines IN ACCESS EXCLUSIVE MODE');
      const first = compare({}, mockEnv({ attempt: 1 }));
      first.catch(() => undefined);
      await waitFor(
        async () => (await restoredServer.sql(`SELECT 1 FROM pg_stat_activity WHERE application_name = '${TEST_APP}' AND wait_event_type = 'Lock'`, [], 'shop')).length > 0,
        'the first attempt waiting for app.order_lines',
      );
      const env2 = mockEnv({ attempt: 2 });
      const beats: { phase?: string }[] = [];
      env2.on('heartbeat', (d: { phase?: string }) => beats.push(d));
      const second = compare({}, env2);
      await waitFor(() => beats.some((b) => b.phase === 'waiting'), 'the second attempt waiting for the first');
      // The restored database changes before the second attempt reads it: the two attempts' files differ.
      await blocker.query(`UPDATE public.customers SET name = 'renamed meanwhile' WHERE id = 7`);
      await blocker.query('COMMIT');
      const [a, b] = await Promise.all([first, second]);
      assert.notEqual(a.sha256, b.sha256, 'the attempts compared different rows');
      assert.equal(createHash('sha256').update(fs.readFileSync(b.path)).digest('hex'), b.sha256);
      assert.match(fs.readFileSync(b.path, 'utf8'), /renamed meanwhile/);
      assert.deepEqual(fs.readdirSync(dir), ['difference.jsonl'], 'no partial file, no lock left');
    } finally {
      await blocker.end();
      await restoredServer.sql(`UPDATE public.customers SET name = 'customer 7' WHERE id = 7`, [], 'shop');
    }
  });

  it('write: inserts exactly the missing rows, leaves changed rows alone without updateChanged, records the repair; a second call writes nothing and returns the recorded counts', async () => {
    const summary = await compare();
    const result = await write(summary);
    assert.equal(result.written, true);
    assert.deepEqual(result.tables, [
      { table: 'public.customers', inserted: LOST_CUSTOMERS, updated: 0, skipped: 0 },
      { table: 'app.order_lines', inserted: LOST_LINES, updated: 0, skipped: 0 },
    ]);
    for (const id of [7, 2407, BIG]) assert.equal(await customerText(originalServer, id), await customerText(restoredServer, id), `customer ${id} as it was`);
    assert.match(await customerText(originalServer, 3), /changed@example\.com/);
    const after = await contents(originalServer);
    const again = await write(summary);
    assert.deepEqual(again, { ...result, written: false });
    assert.equal(await contents(originalServer), after);
    assert.deepEqual(await originalSql(`SELECT repair_id, tables FROM rds_orchestrator.repairs`), [{ repair_id: 'repair-1', tables: result.tables }]);

    // Now only the changed rows differ.
    const next = await compare({ fileName: 'next.jsonl' });
    assert.deepEqual(next.tables.map((t) => [t.missing, t.changed]), [[0, 10], [0, 1]]);
  });

  it('write with updateChanged: updates the changed rows; a row the application inserted or changed since the comparison is kept and counted as skipped', async () => {
    const summary = await compare({ updateChanged: true });
    await originalSql(`INSERT INTO public.customers (id, name, created_at) VALUES (107, 'written by the app meanwhile', now());
                       UPDATE public.customers SET name = 'renamed by the app' WHERE id = 253`);
    const result = await write(summary);
    assert.deepEqual(result.tables, [
      { table: 'public.customers', inserted: LOST_CUSTOMERS - 1, updated: 9, skipped: 2 },
      { table: 'app.order_lines', inserted: LOST_LINES, updated: 1, skipped: 0 },
    ]);
    assert.match(await customerText(originalServer, 107), /written by the app meanwhile/);
    assert.match(await customerText(originalServer, 253), /renamed by the app/);
    assert.equal(await customerText(originalServer, 3), await customerText(restoredServer, 3));
    assert.deepEqual(await originalSql(`SELECT qty::text AS q FROM app.order_lines WHERE customer_id = 10 AND line_no = 1`), [{ q: '0.50' }]);
  });

  it('write: a connection killed mid-transaction leaves nothing written, and the retry writes each row once', async () => {
    const summary = await compare();
    const before = await contents(originalServer);
    // The write inserts the customers, then waits for app.order_lines, which this session holds: then its connection is killed.
    const blocker = new pg.Client({ host: originalServer.host, port: originalServer.port, user: originalServer.user, password: originalServer.password, database: 'shop' });
    await blocker.connect();
    await blocker.query('BEGIN; LOCK TABLE app.order_lines IN ACCESS EXCLUSIVE MODE');
    const running = write(summary);
    running.catch(() => undefined); // awaited below, after the kill
    const waitingPid = async () =>
      (await originalSql<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = '${TEST_APP}' AND wait_event_type = 'Lock'`))[0]?.pid;
    let pid: number | undefined;
    for (let i = 0; i < 100 && !(pid = await waitingPid()); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(pid, 'the write should be waiting for app.order_lines');
    await originalSql(`SELECT pg_terminate_backend(${Number(pid)})`);
    await blocker.query('ROLLBACK');
    await blocker.end();
    const failure = await expectFailure(running, { type: FailureTypes.DatabaseUnavailable, nonRetryable: false });
    assert.doesNotMatch(failure.message, new RegExp(originalServer.password));
    assert.equal(await contents(originalServer), before, 'nothing of the killed attempt remains');

    const retry = await write(summary);
    assert.equal(retry.written, true);
    assert.deepEqual(retry.tables.map((t) => [t.inserted, t.skipped]), [[LOST_CUSTOMERS, 0], [LOST_LINES, 0]]);
    assert.deepEqual(await originalSql(`SELECT count(*)::int AS n FROM rds_orchestrator.repairs`), [{ n: 1 }]);
  });

  it('write: a lock not granted within lock_timeout fails retryably; a session idle in its transaction (its worker gone) is ended: nothing written either way', async () => {
    const summary = await compare();
    const before = await contents(originalServer);
    const held = await holdTable('app.order_lines');
    try {
      const waited = Date.now();
      await expectFailure(write(summary, 'repair-1', mockEnv(), { writeLockTimeoutMs: 500 }), { type: FailureTypes.DatabaseUnavailable, nonRetryable: false, message: [/55P03/, /nothing was written/] });
      assert.ok(Date.now() - waited < 10_000, 'it gave up at its lock_timeout');
    } finally {
      await held.release();
    }
    assert.equal(await contents(originalServer), before);

    // The worker stalls (dies) between two statements of the transaction: the server ends the session, its locks freed.
    const stalling = directDeps({ restored: restoredServer, original: originalServer }, { writeIdleInTransactionMs: 300 });
    const connect = stalling.connect;
    stalling.connect = async (target) => {
      const c = await connect(target);
      const query = c.query.bind(c) as (...args: unknown[]) => Promise<unknown>;
      (c as unknown as { query: typeof query }).query = async (...args: unknown[]) => {
        if (typeof args[0] === 'string' && args[0].startsWith('INSERT INTO rds_orchestrator.repairs')) await sleep(4000);
        return query(...args);
      };
      return c;
    };
    const stalled = mockEnv().run(createRepairActivities(stalling).writeRows, { original, summary, repairId: 'repair-1' }) as Promise<RepairWriteResult>;
    stalled.catch(() => undefined);
    await waitFor(
      async () => (await originalSql(`SELECT 1 FROM pg_stat_activity WHERE application_name = '${TEST_APP}' AND state = 'idle in transaction'`)).length > 0,
      'the write idle in its transaction',
    );
    await waitFor(async () => (await originalSql(`SELECT 1 FROM pg_stat_activity WHERE application_name = '${TEST_APP}'`)).length === 0, 'the server ending the session');
    // Without the timeout the stalled statement would go through after 4 s and commit.
    await expectFailure(stalled, { type: FailureTypes.DatabaseUnavailable, nonRetryable: false });
    assert.equal(await contents(originalServer), before);
    assert.equal((await write(summary)).written, true, 'the retry writes');
  });

  it('write: a difference file changed after the check, while the transaction reads it again, is refused and nothing is written', async () => {
    const summary = await compare();
    const before = await contents(originalServer);
    const held = await holdTable('public.customers');
    try {
      const running = write(summary);
      running.catch(() => undefined);
      await waitFor(async () => (await held.waitingPid()) !== undefined, 'the write waiting for public.customers');
      // Same length, other bytes, in the app.order_lines part the write has not read yet.
      const text = fs.readFileSync(summary.path, 'utf8');
      assert.ok(text.includes('"sku-7-1"'));
      fs.writeFileSync(summary.path, text.replace('"sku-7-1"', '"sku-7-X"'));
      await held.release();
      await expectFailure(running, { type: FailureTypes.ChecksumMismatch, nonRetryable: true, message: [/changed while repair was writing it \(table app\.order_lines\)/] });
    } finally {
      await held.release();
    }
    assert.equal(await contents(originalServer), before);
    assert.deepEqual(await originalSql(`SELECT to_regclass('rds_orchestrator.repairs')::text AS t`), [{ t: null }]);
  });

  it('write: a tampered difference file, a table gone from the original, or another summary under a used repair id is refused and writes nothing', async () => {
    const summary = await compare({ tables: ['public.customers', 'public.scratch'] });
    const before = await contents(originalServer);
    const text = fs.readFileSync(summary.path, 'utf8');
    fs.writeFileSync(summary.path, text.replace('customer 7"', 'customer 7 (edited)"'));
    await expectFailure(write(summary), { type: FailureTypes.ChecksumMismatch, nonRetryable: true, message: [/is not the one approved.*Nothing was written/] });
    fs.writeFileSync(summary.path, text);

    await originalSql('DROP TABLE public.scratch');
    await expectFailure(write(summary), {
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message: [/nothing was written: table public\.scratch does not exist in the original database 'shop' of instance original/],
    });
    assert.equal(await contents(originalServer), before);
    assert.deepEqual(await originalSql(`SELECT to_regnamespace('rds_orchestrator') AS s`), [{ s: null }]);

    await originalSql('CREATE TABLE public.scratch (id int PRIMARY KEY)');
    await write(summary, 'repair-2');
    const other = await compare({ tables: ['app.order_lines'], fileName: 'other.jsonl' });
    await expectFailure(write(other, 'repair-2'), { type: FailureTypes.InvalidState, nonRetryable: true, message: [/already committed with another difference file/] });
  });
});
