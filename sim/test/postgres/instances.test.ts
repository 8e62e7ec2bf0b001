/**
 * Real PostgreSQL behind simulated RDS instances (issue 22, part 1), through the real SDK and node-postgres:
 * point-in-time recovery, LatestRestorableTime from archived WAL, stop/start and a minor upgrade that really
 * restart the server, the endpoint's name in the simulator's DNS (each instance's own loopback address), and no
 * process for an instance without `postgres: true`. Skipped without the PostgreSQL binaries (except under CI).
 */
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import fs from 'node:fs';
import os from 'node:os';
import {
  DescribeDBInstancesCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  RestoreDBInstanceToPointInTimeCommand,
  StartDBInstanceCommand,
  StopDBInstanceCommand,
  type DBInstance,
} from '@aws-sdk/client-rds';
import { Client } from 'pg';
import { needPostgres } from './need-postgres';
import { SimAdminClient, SimAdminError } from '../../src/client';
import { postgresAddress } from '../../src/rds-postgres';
import { startSimulator } from '../../src/server';
import type { RunningSimulator } from '../../src/server';
import { ACCOUNT, CREDENTIALS, REGION, rejectsWith } from '../helpers';

const PASSWORD = 'sim-master-pw';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('sim: PostgreSQL-backed instances (real servers)', function () {
  this.timeout(30_000);
  let sim: RunningSimulator;
  let rds: RDSClient;
  let admin: SimAdminClient;

  before(async function () {
    needPostgres(this);
    // Short statuses, so a stop, a start or an upgrade takes a second or two of wall time.
    sim = await startSimulator({ port: 0, dnsPort: 0, durations: { modifying: 0.3, upgrading: 1.5, stopping: 0.3, starting: 0.5, creating: 0.5, backingUp: 0.3 } });
    rds = new RDSClient({ endpoint: sim.url, region: REGION, credentials: CREDENTIALS });
    admin = new SimAdminClient(sim.url);
  });
  after(async function () {
    rds?.destroy();
    await sim?.close();
  });

  const describe1 = async (id: string): Promise<DBInstance> => (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0] as DBInstance;
  const seed = async (id: string, extra: Record<string, unknown> = { postgres: true, masterUsername: 'master', masterUserPassword: PASSWORD }): Promise<DBInstance> => {
    await admin.seed({ instances: [{ region: REGION, id, engineVersion: '15.5', ...extra }] });
    return describe1(id);
  };
  /** Where an instance's server listens: its own loopback address and Endpoint.Port. */
  type At = { host: string; port: number };
  const at = (id: string): At => postgresAddress(sim.engine.rds.get(ACCOUNT, REGION, id));
  const connect = async ({ host, port }: At): Promise<Client> => {
    const c = new Client({ host, port, user: 'master', password: PASSWORD, database: 'postgres', connectionTimeoutMillis: 2000 });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  };
  const sql = async <T extends Record<string, unknown>>(where: At, text: string): Promise<T[]> => {
    const c = await connect(where);
    try {
      return (await c.query<T>(text)).rows;
    } finally {
      await c.end();
    }
  };
  const waitFor = async <T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await read();
      if (ok(v)) return v;
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
      await sleep(150);
    }
  };
  const refused = async (where: At): Promise<void> => {
    await assert.rejects(connect(where), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED' || /shutting down|starting up|ECONNREFUSED/.test(err.message));
  };
  const statusOf = (id: string) => async (): Promise<string | undefined> => (await describe1(id)).DBInstanceStatus;

  it('a point-in-time restore recovers exactly the rows that existed at RestoreTime, into its own PostgreSQL-backed instance', async function () {
    // Three real servers (the source, two restores: a base backup, WAL replayed, promoted each): 18-23 s inside
    // `npm test` with the machine's two cores shared by ten other groups, and once over 30 s in a fresh-clone CI.
    this.timeout(120_000);
    const source = await seed('orders');
    const db = at('orders');
    assert.equal(db.port, source.Endpoint?.Port);
    assert.notEqual(db.port, 5432);
    await sql(db, 'CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders SELECT generate_series(1, 5)');
    await sleep(600);
    const restoreTime = new Date(sim.engine.now());
    await sleep(600);
    await sql(db, 'DELETE FROM orders WHERE id > 3');
    const deletedAt = sim.engine.now();
    await sql(db, 'SELECT pg_switch_wal()');
    await waitFor('LatestRestorableTime past the DELETE', () => describe1('orders'), (d) => (d.LatestRestorableTime?.getTime() ?? 0) > deletedAt);

    // Before the base backup: nothing to restore from, refused as RDS refuses a time outside the window.
    await rejectsWith(rds.send(new RestoreDBInstanceToPointInTimeCommand({ SourceDBInstanceIdentifier: 'orders', TargetDBInstanceIdentifier: 'orders-early', RestoreTime: new Date(restoreTime.getTime() - 3600_000) })), 'InvalidRestoreFault');

    await rds.send(new RestoreDBInstanceToPointInTimeCommand({ SourceDBInstanceIdentifier: 'orders', TargetDBInstanceIdentifier: 'orders-then', RestoreTime: restoreTime }));
    await rds.send(new RestoreDBInstanceToPointInTimeCommand({ SourceDBInstanceIdentifier: 'orders', TargetDBInstanceIdentifier: 'orders-latest', UseLatestRestorableTime: true }));
    // A restore that failed (restore-error) ends the wait at once: its status is what the assertion shows.
    const restored = (d: DBInstance) => d.DBInstanceStatus === 'available' || d.DBInstanceStatus === 'restore-error';
    const then = await waitFor('orders-then available', () => describe1('orders-then'), restored, 90_000);
    const latest = await waitFor('orders-latest available', () => describe1('orders-latest'), restored, 90_000);
    assert.deepEqual([then.DBInstanceStatus, latest.DBInstanceStatus], ['available', 'available']);
    const ids = async (p: At): Promise<number[]> => (await sql<{ id: number }>(p, 'SELECT id FROM orders ORDER BY id')).map((r) => r.id);
    assert.deepEqual(await ids(at('orders-then')), [1, 2, 3, 4, 5]);
    assert.deepEqual(await ids(at('orders-latest')), [1, 2, 3]);
    assert.deepEqual(await ids(db), [1, 2, 3], 'the source keeps its own rows');
    // The restored instance is a cluster of its own, on an address and a port of its own: writable, with its own restorable window.
    const thenDb = at('orders-then');
    assert.equal(thenDb.port, then.Endpoint?.Port);
    assert.equal(at('orders-latest').port, latest.Endpoint?.Port);
    assert.equal(new Set([db.port, at('orders-latest').port, thenDb.port]).size, 3);
    assert.equal(new Set([db.host, at('orders-latest').host, thenDb.host]).size, 3);
    // A client still led to the source's address (a CNAME not yet moved) does not reach the restored server on its port.
    await refused({ host: db.host, port: thenDb.port });
    await sql(thenDb, 'INSERT INTO orders VALUES (6)');
    assert.deepEqual(await ids(thenDb), [1, 2, 3, 4, 5, 6]);
    assert.ok((then.LatestRestorableTime?.getTime() ?? 0) >= deletedAt);
  });

  it('LatestRestorableTime follows the archived WAL: not past a write until it is archived, past it once it is', async function () {
    await seed('ledger');
    const db = at('ledger');
    await sql(db, 'CREATE TABLE entries (n int)');
    await sql(db, 'SELECT pg_switch_wal()');
    await waitFor('the table archived', () => describe1('ledger'), (x) => (x.LatestRestorableTime?.getTime() ?? 0) > sim.engine.now() - 2000);
    await sql(db, 'INSERT INTO entries VALUES (1)');
    const wroteAt = sim.engine.now();
    await sleep(2500); // two background readings: the insert's WAL is not archived yet
    const before = (await describe1('ledger')).LatestRestorableTime?.getTime() ?? 0;
    assert.ok(before < wroteAt, `LatestRestorableTime ${new Date(before).toISOString()} should not pass an unarchived write at ${new Date(wroteAt).toISOString()}`);
    await sql(db, 'SELECT pg_switch_wal()');
    const after = await waitFor('LatestRestorableTime past the write', () => describe1('ledger'), (x) => (x.LatestRestorableTime?.getTime() ?? 0) > wroteAt, 5000);
    assert.ok((after.LatestRestorableTime?.getTime() as number) <= sim.engine.now());
  });

  it('StopDBInstance ends every session and refuses connections until StartDBInstance; the data is there again', async function () {
    await seed('shop');
    const db = at('shop');
    await sql(db, 'CREATE TABLE carts (id int); INSERT INTO carts VALUES (7)');
    const open = await connect(db);
    const ended = new Promise<void>((resolve) => open.once('end', () => resolve()));
    await rds.send(new StopDBInstanceCommand({ DBInstanceIdentifier: 'shop' }));
    await Promise.race([ended, sleep(5000).then(() => assert.fail('the open connection was not ended by the stop'))]);
    await refused(db);
    await waitFor('shop stopped', statusOf('shop'), (s) => s === 'stopped');
    await refused(db);
    await rds.send(new StartDBInstanceCommand({ DBInstanceIdentifier: 'shop' }));
    await waitFor('shop available', statusOf('shop'), (s) => s === 'available');
    assert.deepEqual(await sql(db, 'SELECT id FROM carts'), [{ id: 7 }]);
  });

  it('an apply-now minor upgrade restarts the server: refused while upgrading, accepted after', async function () {
    await seed('billing');
    const db = at('billing');
    await sql(db, 'SELECT 1');
    await rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'billing', EngineVersion: '15.8', ApplyImmediately: true }));
    await waitFor('billing upgrading', statusOf('billing'), (s) => s === 'upgrading');
    await refused(db);
    const done = await waitFor('billing available', () => describe1('billing'), (x) => x.DBInstanceStatus === 'available');
    assert.equal(done.EngineVersion, '15.8');
    assert.deepEqual(await sql(db, 'SELECT 1 AS one'), [{ one: 1 }]);
  });

  it("each instance's endpoint name resolves (DNS server) to its own loopback address, where only its server answers", async function () {
    const a = await seed('dns-a');
    const b = await seed('dns-b');
    const resolver = new Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([sim.dnsAddress as string]);
    const [hostA] = await resolver.resolve4(a.Endpoint?.Address as string);
    const [hostB] = await resolver.resolve4(b.Endpoint?.Address as string);
    assert.match(hostA as string, /^127\.\d+\.\d+\.\d+$/);
    assert.notEqual(hostA, '127.0.0.1');
    assert.notEqual(hostA, hostB, 'two instances, two addresses');
    assert.deepEqual({ host: hostA, port: a.Endpoint?.Port }, at('dns-a'));
    assert.deepEqual({ host: hostB, port: b.Endpoint?.Port }, at('dns-b'));
    assert.notEqual(a.Endpoint?.Port, b.Endpoint?.Port, 'and two ports');
    // Each server answers on its own address and port, and inet_server_addr() says which address that is.
    const [onA] = await sql<{ addr: string }>({ host: hostA as string, port: a.Endpoint?.Port as number }, 'SELECT host(inet_server_addr()) AS addr');
    assert.equal(onA?.addr, hostA);
    await sql({ host: hostB as string, port: b.Endpoint?.Port as number }, 'SELECT 1');
    // A's port on B's address (or on 127.0.0.1): nothing listens there.
    await refused({ host: hostB as string, port: a.Endpoint?.Port as number });
    await refused({ host: '127.0.0.1', port: a.Endpoint?.Port as number });
    // At the end of a CNAME chain too (a private zone's record pointing at A's endpoint name).
    await admin.seed({ hostedZones: [{ name: 'dns.internal', records: [{ name: 'db.dns.internal', type: 'CNAME', ttl: 60, values: [a.Endpoint?.Address as string] }] }] });
    assert.deepEqual(await resolver.resolve4('db.dns.internal'), [hostA]);
    const plain = await seed('dns-plain', {});
    await assert.rejects(resolver.resolve4(plain.Endpoint?.Address as string));
  });

  it('an instance without postgres: true starts no process and keeps the default port; postgres: true needs a valid password', async function () {
    const tmpBefore = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith(`rds-sim-postgres-${process.pid}-`));
    const other = await startSimulator({ port: 0 });
    try {
      const otherAdmin = new SimAdminClient(other.url);
      await otherAdmin.seed({ instances: [{ region: REGION, id: 'plain', engineVersion: '15.5' }] });
      const inst = other.engine.rds.get(ACCOUNT, REGION, 'plain');
      assert.equal(inst.postgres, undefined);
      assert.equal(inst.endpoint.port, 5432);
      const tmpAfter = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith(`rds-sim-postgres-${process.pid}-`));
      assert.deepEqual(tmpAfter, tmpBefore, 'no PostgreSQL folder was made');
      await assert.rejects(otherAdmin.seed({ instances: [{ region: REGION, id: 'nopw', engineVersion: '15.5', postgres: true }] }), (err: SimAdminError) => err.status === 400 && /masterUserPassword/.test(err.message));
      await assert.rejects(otherAdmin.seed({ instances: [{ region: REGION, id: 'badpw', engineVersion: '15.5', postgres: true, masterUserPassword: 'a@b' }] }), /MasterUserPassword is not valid/);
      assert.equal(other.engine.rds.find(ACCOUNT, REGION, 'nopw'), undefined);
    } finally {
      await other.close();
    }
  });
});
