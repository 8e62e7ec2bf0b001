/**
 * A PostgreSQL-backed instance across a restart of the simulator with a state file: close() stops its server, the
 * restarted simulator starts it again from `<state file>.postgres/`, on the same address of its own; and the demo
 * fleet's opt-in.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { needPostgres } from './need-postgres';
import { SimAdminClient } from '../../src/client';
import { DEMO_MASTER_PASSWORD, DEMO_MASTER_USERNAME, demoFleet } from '../../src/demo-fleet';
import { postgresAddress } from '../../src/rds-postgres';
import { startSimulator } from '../../src/server';

const REGION = 'eu-west-2';
const ACCOUNT = '123456789012';

async function query({ host, port }: { host: string; port: number }, text: string): Promise<Array<Record<string, unknown>>> {
  const c = new Client({ host, port, user: DEMO_MASTER_USERNAME, password: DEMO_MASTER_PASSWORD, database: 'postgres', connectionTimeoutMillis: 2000 });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return (await c.query(text)).rows;
  } finally {
    await c.end();
  }
}

describe('sim: PostgreSQL-backed instances across a restart', function () {
  this.timeout(30_000);
  let dir: string;

  before(function () {
    needPostgres(this);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-sim-state-'));
    fs.chmodSync(dir, 0o755);
  });
  after(function () {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("demoFleet(now, { postgres: true }) backs only the production database; a restart with the state file starts its server again with its data", async function () {
    const stateFile = path.join(dir, 'sim.json');
    const first = await startSimulator({ port: 0, stateFile });
    let at: { host: string; port: number };
    try {
      await new SimAdminClient(first.url).seed(demoFleet(first.engine.now(), { postgres: true }));
      const backed = first.engine.rds.list(ACCOUNT, REGION).filter((i) => i.postgres).map((i) => i.id);
      assert.deepEqual(backed, ['notifydb-production']);
      at = postgresAddress(first.engine.rds.get(ACCOUNT, REGION, 'notifydb-production'));
      assert.notEqual(at.host, '127.0.0.1', 'an address of its own');
      await query(at, 'CREATE TABLE notifications (id int); INSERT INTO notifications VALUES (42)');
      assert.ok(fs.existsSync(path.join(`${stateFile}.postgres`, ACCOUNT, REGION, 'notifydb-production', 'data', 'PG_VERSION')));
    } finally {
      await first.close();
    }
    await assert.rejects(query(at, 'SELECT 1'), /ECONNREFUSED/, 'close() stopped the server');

    const second = await startSimulator({ port: 0, stateFile });
    try {
      assert.deepEqual(postgresAddress(second.engine.rds.get(ACCOUNT, REGION, 'notifydb-production')), at, 'the same address and port');
      assert.deepEqual(await query(at, 'SELECT id FROM notifications'), [{ id: 42 }]);
      // The counter of given addresses is in the state: an instance made after the restart gets a new one.
      await new SimAdminClient(second.url).seed({ instances: [{ region: REGION, id: 'after-restart', engineVersion: '15.5', postgres: true, masterUsername: DEMO_MASTER_USERNAME, masterUserPassword: DEMO_MASTER_PASSWORD }] });
      const after = postgresAddress(second.engine.rds.get(ACCOUNT, REGION, 'after-restart'));
      assert.notEqual(after.host, at.host);
      assert.notEqual(after.port, at.port);
      assert.deepEqual(await query(after, 'SELECT 1 AS one'), [{ one: 1 }]);
    } finally {
      await second.close();
    }
    await assert.rejects(query(at, 'SELECT 1'), /ECONNREFUSED/);

    // A state file written before instances had addresses of their own: each gets one as the simulator starts.
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { instances: Record<string, { postgres?: { host?: string } }>; postgresHostsGiven?: number };
    for (const inst of Object.values(state.instances)) delete inst.postgres?.host;
    delete state.postgresHostsGiven;
    fs.writeFileSync(stateFile, JSON.stringify(state));
    const third = await startSimulator({ port: 0, stateFile });
    try {
      const given = ['notifydb-production', 'after-restart'].map((id) => postgresAddress(third.engine.rds.get(ACCOUNT, REGION, id)));
      assert.equal(new Set(given.map((g) => g.host)).size, 2);
      assert.deepEqual(await query(given[0] as { host: string; port: number }, 'SELECT id FROM notifications'), [{ id: 42 }]);
    } finally {
      await third.close();
    }
  });
});
