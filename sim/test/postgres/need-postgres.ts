/**
 * The simulator's tests stay inside sim/ (test/architecture.test.ts), so this mirrors test/postgres.ts's
 * needPostgres: the suite is skipped without the PostgreSQL binaries, except under CI (CI=true), where a
 * missing PostgreSQL is a failure (.ci/run installs it).
 */
import { findPostgresBinDir } from '../../src/postgres/server';

export function needPostgres(ctx: Mocha.Context): void {
  if (findPostgresBinDir()) return;
  if (process.env.CI) throw new Error('PostgreSQL server binaries are missing (apt-get install postgresql-15); CI must run the database tests');
  console.warn('    (skipped: PostgreSQL server binaries not found; sudo apt-get install -y postgresql-15)');
  ctx.skip();
}
