/**
 * The demo's data-loss scene, the runbook's common restore: notifications written to production's real
 * PostgreSQL (the simulator's `notifydb-production`, seeded with `postgres: true`), some of them lost by a DELETE
 * at a known time, production restored to just before it, the restored database dumped and the lost rows written
 * back after an approval. Dev tooling beside ./demo.ts; the product does the restore, this file only plays the
 * application that loses the rows and reads the outcome.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { DEMO_ACCOUNTS, DEMO_MASTER_PASSWORD, DEMO_MASTER_USERNAME, demoInstanceId, postgresAddress, type RunningSimulator } from '../sim';
import { DEMO_DATABASE, DEMO_TABLE, REGION } from './fixtures';
import { sleep } from './time';

export interface LostRows {
  /** Rows the application wrote. */
  written: number;
  /** Their ids lost by the DELETE. */
  lostIds: number[];
  /** Just before the DELETE (simulated time): the restore's target. */
  restoreTime: string;
  /** When the DELETE ran (simulated time). */
  lostAt: string;
}

const ROWS = 40;
/** The simulator's account when the fleet is seeded in one account (sim/src/core/aws.ts DEFAULT_ACCOUNT). */
const SINGLE_ACCOUNT = '123456789012';
/** How long the demo waits for the DELETE's WAL to be archived (the simulator archives within a minute). */
const ARCHIVE_WAIT_MS = 90_000;

/** The simulator's production instance: in production's account with the multi-account fleet, else the default one. */
function productionInstance(sim: RunningSimulator, multiAccount: boolean) {
  const account = multiAccount ? DEMO_ACCOUNTS.production : SINGLE_ACCOUNT;
  const inst = sim.engine.rds.find(account, REGION, demoInstanceId('production'));
  if (!inst?.postgres) throw new Error(`${demoInstanceId('production')} is not PostgreSQL-backed: seed the demo fleet with postgres`);
  return inst;
}

/** Production's database as its master user (the demo seeded the password), on its own address and the port RDS shows. */
export function productionClient(sim: RunningSimulator, multiAccount: boolean, database = DEMO_DATABASE): Promise<pg.Client> {
  return connect(sim, multiAccount, database);
}

async function connect(sim: RunningSimulator, multiAccount: boolean, database: string): Promise<pg.Client> {
  const { host, port } = postgresAddress(productionInstance(sim, multiAccount));
  const client = new pg.Client({ host, port, user: DEMO_MASTER_USERNAME, password: DEMO_MASTER_PASSWORD, database });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Rows of the demo's table in production now. */
export async function productionRowCount(sim: RunningSimulator, multiAccount: boolean): Promise<number> {
  const c = await connect(sim, multiAccount, DEMO_DATABASE);
  try {
    return Number((await c.query(`SELECT count(*) AS n FROM ${DEMO_TABLE}`)).rows[0].n);
  } finally {
    await c.end();
  }
}

/**
 * The application writes notifications (and an audit schema the dump leaves out), then a mistaken DELETE loses
 * every fourth. Waits until RDS's LatestRestorableTime is past the DELETE, so a restore to just before it is
 * within the restorable window (the simulator archives WAL within a minute; the demo hurries it with
 * pg_switch_wal(), as RDS's own five-minute upload would take longer).
 */
export async function loseSomeRows(sim: RunningSimulator, multiAccount: boolean, out: (l: string) => void): Promise<LostRows> {
  const admin = await connect(sim, multiAccount, 'postgres');
  try {
    const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DEMO_DATABASE])).rowCount;
    if (!exists) await admin.query(`CREATE DATABASE ${DEMO_DATABASE}`);
  } finally {
    await admin.end();
  }
  const c = await connect(sim, multiAccount, DEMO_DATABASE);
  let restoreTime: string;
  let lostAt: string;
  let lostIds: number[];
  try {
    await c.query(`CREATE TABLE IF NOT EXISTS ${DEMO_TABLE} (id bigint PRIMARY KEY, recipient text NOT NULL, body text NOT NULL, sent_at timestamptz NOT NULL DEFAULT now())`);
    await c.query('CREATE SCHEMA IF NOT EXISTS audit');
    await c.query('CREATE TABLE IF NOT EXISTS audit.events (id bigserial PRIMARY KEY, what text NOT NULL)');
    await c.query(`TRUNCATE ${DEMO_TABLE}`);
    await c.query(
      `INSERT INTO ${DEMO_TABLE} (id, recipient, body) SELECT i, 'user' || i || '@example.com', 'Your code is ' || (100000 + i * 7919 % 900000) FROM generate_series(1, $1::int) AS i`,
      [ROWS],
    );
    await c.query("INSERT INTO audit.events (what) VALUES ('notifications sent')");
    out(`  production (${demoInstanceId('production')}, a real PostgreSQL): ${ROWS} rows written to ${DEMO_DATABASE}.${DEMO_TABLE}`);
    await sleep(1500);
    restoreTime = new Date(sim.engine.now()).toISOString();
    await sleep(1500);
    const lost = await c.query<{ id: string }>(`DELETE FROM ${DEMO_TABLE} WHERE id % 4 = 0 RETURNING id`);
    lostAt = new Date(sim.engine.now()).toISOString();
    lostIds = lost.rows.map((r) => Number(r.id)).sort((a, b) => a - b);
    out(`  ${lostAt.slice(11, 19)} a mistaken DELETE loses ${lostIds.length} of them (ids ${lostIds.slice(0, 4).join(', ')}, …); the restore will go back to ${restoreTime.slice(11, 19)}`);
    await c.query('SELECT pg_switch_wal()');
  } finally {
    await c.end();
  }
  const inst = productionInstance(sim, multiAccount);
  const deadline = Date.now() + ARCHIVE_WAIT_MS;
  while (sim.engine.rds.restoreWindow(inst).latest <= Date.parse(lostAt)) {
    if (Date.now() > deadline) throw new Error(`LatestRestorableTime of ${inst.id} did not pass ${lostAt} within ${ARCHIVE_WAIT_MS / 1000}s: is WAL archiving working? (see its postgres.log)`);
    await sleep(500);
  }
  out(`  LatestRestorableTime of ${inst.id} is past the DELETE: the WAL holding it is archived`);
  return { written: ROWS, lostIds, restoreTime, lostAt };
}

/** The folder the extract writes to (git-ignored with the rest of .rds-orchestrator/). */
export function extractDirectory(root: string): string {
  const dir = path.join(root, '.rds-orchestrator', 'extracts');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
