/**
 * A throwaway real PostgreSQL server for tests (sim/src/postgres/server.ts: Debian's postgresql-15): initdb
 * into a temporary folder, a free port, a superuser with a password; `stop()` stops it and deletes the
 * folder. Without the binaries the calling suite is skipped with the reason, except under CI (CI=true),
 * where a missing PostgreSQL is a failure: .ci/run installs it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { findPostgresBinDir, freePort, PostgresServer } from '../sim';

export interface TestPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Runs SQL as the superuser in `database` (default `postgres`). */
  sql<T extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: unknown[], database?: string): Promise<T[]>;
  server: PostgresServer;
  stop(): Promise<void>;
}

/** Skips the suite (`this` of a mocha `before`) when PostgreSQL is not installed, unless under CI. */
export function needPostgres(ctx: Mocha.Context): void {
  if (findPostgresBinDir()) return;
  if (process.env.CI) throw new Error('PostgreSQL server binaries are missing (apt-get install postgresql-15); CI must run the database tests');
  console.warn('    (skipped: PostgreSQL server binaries not found; sudo apt-get install -y postgresql-15)');
  ctx.skip();
}

export async function startTestPostgres(opts: { user?: string; password?: string; settings?: Record<string, string | number | boolean> } = {}): Promise<TestPostgres> {
  const bin = findPostgresBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found (apt-get install postgresql-15)');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-orchestrator-pg-'));
  fs.chmodSync(root, 0o755);
  const user = opts.user ?? 'master';
  const password = opts.password ?? `pw-${Math.random().toString(36).slice(2)}`;
  const port = await freePort();
  const server = new PostgresServer({ bin, dataDir: path.join(root, 'cluster', 'data'), port, settings: opts.settings });
  server.init(user, password);
  server.start();
  const sql: TestPostgres['sql'] = async (text, params, database = 'postgres') => {
    const c = new Client({ host: '127.0.0.1', port, user, password, database });
    await c.connect();
    try {
      return (await c.query(text, params)).rows;
    } finally {
      await c.end();
    }
  };
  return {
    host: '127.0.0.1', port, user, password, sql, server,
    async stop() {
      server.stop('immediate');
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
