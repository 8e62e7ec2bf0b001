/**
 * A PostgreSQL-backed instance across a restart of the simulator with a state file: close() stops its server, the
 * restarted simulator starts it again from `<state file>.postgres/`; and the demo fleet's opt-in.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { needPostgres } from './need-postgres';
import { SimAdminClient } from '../../src/client';
import { DEMO_MASTER_PASSWORD, DEMO_MASTER_USERNAME, demoFleet } from '../../src/demo-fleet';
import { startSimulator } from '../../src/server';

const REGION = 'eu-west-2';
const ACCOUNT = '123456789012';

async function query(port: number, text: string): Promise<Array<Record<string, unknown>>> {
  const c = new Client({ host: '127.0.0.1', port, user: DEMO_MASTER_USERNAME, password: DEMO_MASTER_PASSWORD, database: 'postgres', connectionTimeoutMillis: 2000 });
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
    let port: number;
    try {
      await new SimAdminClient(first.url).seed(demoFleet(first.engine.now(), { postgres: true }));
      const backed = first.engine.rds.list(ACCOUNT, REGION).filter((i) => i.postgres).map((i) => i.id);
      assert.deepEqual(backed, ['notifydb-production']);
      port = first.engine.rds.get(ACCOUNT, REGION, 'notifydb-production').endpoint.port;
      await query(port, 'CREATE TABLE notifications (id int); INSERT INTO notifications VALUES (42)');
      assert.ok(fs.existsSync(path.join(`${stateFile}.postgres`, ACCOUNT, REGION, 'notifydb-production', 'data', 'PG_VERSION')));
    } finally {
      await first.close();
    }
    await assert.rejects(query(port, 'SELECT 1'), /ECONNREFUSED/, 'close() stopped the server');

    const second = await startSimulator({ port: 0, stateFile });
    try {
      assert.deepEqual(await query(port, 'SELECT id FROM notifications'), [{ id: 42 }]);
    } finally {
      await second.close();
    }
    await assert.rejects(query(port, 'SELECT 1'), /ECONNREFUSED/);
  });
});
