/**
 * What a database says it is, for the cutover's check on the data path: connected through the CNAME, do we
 * reach the restored instance? `pg_control_system().system_identifier` is set by initdb and kept by every
 * physical copy: a point-in-time restore (a base backup plus WAL) has its source's identifier. It tells the
 * restored database from an unrelated one, not from its source; `inet_server_addr()` (the address the server
 * answered on) tells which server of that lineage answered. Read-only; retries are harmless.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes, type DatabaseActivities } from '../../api/activities';
import type { DatabaseIdentity, DatabaseIdentityRequest } from '../../api/database';
import { describeInstanceOf } from './credentials';
import { describeConnection, openClient, redact, type DatabaseDeps } from './connect';
import { resolveThrough } from './dns';

export function createDatabaseIdentityActivities(deps: DatabaseDeps): Pick<DatabaseActivities, 'describeDatabase'> {
  async function describeDatabase(req: DatabaseIdentityRequest): Promise<DatabaseIdentity> {
    const host = req.host && req.resolvers?.length ? await resolveThrough(req.host, req.resolvers) : req.host;
    const conn = await describeConnection(deps, req.target, { host, port: req.port });
    const client = await openClient(conn);
    try {
      const { rows } = await client.query<{ system_identifier: string; server_version: string; address: string | null; port: number | null }>(
        "SELECT (SELECT system_identifier::text FROM pg_control_system()) AS system_identifier, current_setting('server_version') AS server_version, " +
          'host(inet_server_addr()) AS address, inet_server_port() AS port',
      );
      const row = rows[0];
      if (!row) throw new Error('the identity query returned no row');
      return {
        systemIdentifier: row.system_identifier,
        serverVersion: row.server_version,
        ...(row.address ? { address: `${row.address}:${row.port ?? conn.params.port}` } : {}),
      };
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const said = redact((err as Error).message ?? String(err), conn.params.password);
      const what = `database '${conn.params.database}' on ${describeInstanceOf(req.target)} at ${conn.params.host}:${conn.params.port} as user '${conn.params.user}' (password from ${conn.source})`;
      if (code === '42501') {
        throw ApplicationFailure.nonRetryable(
          `Reading what ${what} is was refused (SQLSTATE 42501: ${said}): GRANT EXECUTE ON FUNCTION pg_control_system() TO ${conn.params.user}, or use a user that may run it.`,
          FailureTypes.DatabaseAccess,
        );
      }
      throw ApplicationFailure.retryable(`Reading what ${what} is failed: ${typeof code === 'string' ? `${code}: ` : ''}${said}`, FailureTypes.DatabaseUnavailable);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  return { describeDatabase };
}
