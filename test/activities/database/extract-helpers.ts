/** Reaching the test servers directly, as the extract's activities would through connect.ts. */
import pg from 'pg';
import type { ExtractDeps } from '../../../src/activities/database/dump';
import type { DatabaseTarget } from '../../../src/api/database';
import type { TestPostgres } from '../../postgres';

/** The application_name of the activities' own connections in these tests (pg_dump's is connect.ts's). */
export const TEST_APP = 'rds-orchestrator-dump-test';

/** Deps reaching the test server directly (connect.ts's functions would read RDS and a secret). */
export function directDeps(servers: Record<string, TestPostgres>, extra: Partial<ExtractDeps> = {}): ExtractDeps {
  const paramsOf = (target: DatabaseTarget) => {
    const s = servers[target.instanceId];
    return { host: s.host, port: s.port, user: s.user, password: s.password, database: target.access.database, ssl: false as const };
  };
  return {
    connect: async (target) => {
      const c = new pg.Client({ ...paramsOf(target), application_name: TEST_APP });
      c.on('error', () => undefined);
      await c.connect();
      return c;
    },
    params: async (target) => paramsOf(target),
    ...extra,
  };
}

export const targetOf = (instanceId: string, database: string): DatabaseTarget => ({
  where: 'eu-west-2',
  instanceId,
  access: { database, credentials: { kind: 'env', variable: 'UNUSED' }, tls: 'disable' },
});


/**
 * A session of `server` holding `table` exclusively until `release` (what it blocks waits inside its own
 * transaction), and the pid of a session of `application` waiting for a lock, seen from another session.
 */
export async function holdTable(server: TestPostgres, database: string, table: string): Promise<{ release: () => Promise<void>; waitingPid: (application: string) => Promise<number | undefined> }> {
  const blocker = new pg.Client({ host: server.host, port: server.port, user: server.user, password: server.password, database });
  await blocker.connect();
  await blocker.query(`BEGIN; LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      await blocker.end();
    },
    waitingPid: async (application) =>
      (await server.sql<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [application], database))[0]?.pid,
  };
}
