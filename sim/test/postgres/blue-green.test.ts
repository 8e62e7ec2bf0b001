/**
 * A blue/green deployment of a PostgreSQL-backed instance, on the data path (sim/src/rds-postgres.ts): the green is a
 * real cluster of its own (recovered from the blue's backup and archive, read-only), the switchover stops writes
 * (both servers stop), the green's cluster becomes a copy of the blue's data directory as writes stopped and starts
 * on the blue's address and port, and `-old1` keeps its own copy, read-only, on the green's address. No row is lost.
 * Skipped without the PostgreSQL binaries (except under CI).
 */
import assert from 'node:assert/strict';
import { CreateBlueGreenDeploymentCommand, DescribeBlueGreenDeploymentsCommand, DescribeDBInstancesCommand, RDSClient, SwitchoverBlueGreenDeploymentCommand } from '@aws-sdk/client-rds';
import type { BlueGreenDeployment, DBInstance } from '@aws-sdk/client-rds';
import { Client } from 'pg';
import { needPostgres } from './need-postgres';
import { SimAdminClient } from '../../src/client';
import { postgresAddress } from '../../src/rds-postgres';
import { startSimulator } from '../../src/server';
import type { RunningSimulator } from '../../src/server';
import { ACCOUNT, CREDENTIALS, REGION } from '../helpers';

const PASSWORD = 'sim-master-pw';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
type At = { host: string; port: number };

describe('sim: a blue/green deployment of a PostgreSQL-backed instance (real servers)', function () {
  this.timeout(60_000);
  let sim: RunningSimulator;
  let rds: RDSClient;

  before(async function () {
    needPostgres(this);
    sim = await startSimulator({ port: 0, durations: { creating: 0.5, upgrading: 0.5, backingUp: 0.3, blueGreenSwitchover: 2 } });
    rds = new RDSClient({ endpoint: sim.url, region: REGION, credentials: CREDENTIALS });
  });
  after(async function () {
    rds?.destroy();
    await sim?.close();
  });

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
  const ids = async (where: At): Promise<number[]> => (await sql<{ id: number }>(where, 'SELECT id FROM orders ORDER BY id')).map((r) => r.id);
  const describeBg = async (id: string): Promise<BlueGreenDeployment> => (await rds.send(new DescribeBlueGreenDeploymentsCommand({ BlueGreenDeploymentIdentifier: id }))).BlueGreenDeployments?.[0] as BlueGreenDeployment;
  const describe1 = async (id: string): Promise<DBInstance> => (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0] as DBInstance;
  const waitFor = async <T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await read();
      if (ok(v)) return v;
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
      await sleep(150);
    }
  };

  it('switchover: every row under the original address and port, writable; -old1 keeps its own read-only copy; writes stop during the switchover', async function () {
    await new SimAdminClient(sim.url).seed({ instances: [{ region: REGION, id: 'orders-db', engineVersion: '15.5', postgres: true, masterUsername: 'master', masterUserPassword: PASSWORD }] });
    const blue = at('orders-db');
    const blueEndpoint = (await describe1('orders-db')).Endpoint;
    await sql(blue, 'CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders SELECT generate_series(1, 100)');

    const created = await rds.send(
      new CreateBlueGreenDeploymentCommand({ BlueGreenDeploymentName: 'orders-minor', Source: `arn:aws:rds:${REGION}:${ACCOUNT}:db:orders-db`, TargetEngineVersion: '15.8' }),
    );
    const id = created.BlueGreenDeployment?.BlueGreenDeploymentIdentifier as string;
    const ready = await waitFor('the deployment AVAILABLE', () => describeBg(id), (d) => d.Status === 'AVAILABLE');
    const greenId = ready.Target?.split(':db:')[1] as string;
    const green = at(greenId);
    assert.notDeepEqual(green, blue, 'the green is a cluster of its own, on an address and a port of its own');
    // The green is read-only by default; the blue keeps taking writes.
    await assert.rejects(sql(green, 'CREATE TABLE scratch (x int)'), /read-only transaction/);
    await sql(blue, 'INSERT INTO orders SELECT generate_series(101, 150)');

    await rds.send(new SwitchoverBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: id, SwitchoverTimeout: 60 }));
    // The write outage: the blue's server is stopped at once.
    await assert.rejects(sql(blue, 'INSERT INTO orders VALUES (999)'), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED' || /shutting down|ECONNREFUSED/.test(err.message));
    const done = await waitFor('SWITCHOVER_COMPLETED', () => describeBg(id), (d) => d.Status === 'SWITCHOVER_COMPLETED');
    assert.deepEqual([done.Source?.split(':db:')[1], done.Target?.split(':db:')[1]], ['orders-db-old1', 'orders-db']);

    const production = await describe1('orders-db');
    assert.deepEqual([production.EngineVersion, production.Endpoint?.Address, production.Endpoint?.Port], ['15.8', blueEndpoint?.Address, blueEndpoint?.Port]);
    assert.deepEqual(at('orders-db'), blue, 'the new production server listens where the blue did');
    const wanted = Array.from({ length: 150 }, (_, n) => n + 1);
    assert.deepEqual(await ids(blue), wanted, 'no row lost');
    await sql(blue, 'INSERT INTO orders VALUES (151)');
    assert.equal((await ids(blue)).length, 151, 'the new production instance takes writes');

    const old = at('orders-db-old1');
    assert.deepEqual(old, green, '-old1 on the green’s former address and port');
    assert.equal((await describe1('orders-db-old1')).Endpoint?.Port, green.port);
    assert.deepEqual(await ids(old), wanted, '-old1 keeps its own copy, as writes stopped');
    await assert.rejects(sql(old, 'INSERT INTO orders VALUES (152)'), /read-only transaction/);
    // The new production instance has a base backup of its own: it can be restored from.
    assert.ok(sim.engine.rds.get(ACCOUNT, REGION, 'orders-db').postgres?.backupEnd !== undefined);
  });
});
