/**
 * The SQL availability probe (issue 22 part 4): `SELECT 1` at a fixed low rate while an upgrade or a restart
 * happens, measured exactly like the HTTP probe (../probe.ts runProbeLoop: open-model schedule, outage from the
 * first failed send to the next successful one, heartbeated totals resumed after a retry, the stop condition
 * read from RDS).
 *
 * Each request opens a new connection, runs `SELECT 1` and closes it, all within the request timeout. Why not
 * one kept connection, re-opened after a failure:
 * - an open-model schedule sends while earlier requests are still waiting; requests on one connection would
 *   queue behind a hung one, so a hang would read as one failure instead of one per second it lasts;
 * - what a restart takes from an application is, first of all, new connections: a pool re-opens connections
 *   after the restart drops them, and RDS's reboot, failover and upgrade refuse or hang new connections while
 *   the server is down or starting (SQLSTATE 57P03). A kept connection can look fine until its next query
 *   and then measure the reconnect of one client, not the service;
 * - the cost is small at a probe's rate (a few connections a second, each closed at once).
 * So a request succeeds only if a new client could log in and get an answer in time: the downtime an
 * application sees. The login (endpoint, user, password) is read and tried once at the start (so a wrong
 * password fails the probe at once, clearly, instead of reading as an outage), then read again every few minutes (an IAM token lasts 15 minutes, a secret may
 * rotate) and soon after a login is refused; a failed re-read keeps the previous login.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import pg from 'pg';
import { FailureTypes, type DatabaseActivities, type ProbeResult } from '../../api/activities';
import type { SqlProbeRequest } from '../../api/database';
import { runProbeLoop, scheduleProblems, type ProbeLoopDeps } from '../probe';
import { clientConfig, describeConnection, openClient, type DatabaseDeps, type DescribedConnection } from './connect';

export interface SqlProbeDeps extends DatabaseDeps, Omit<ProbeLoopDeps, 'rdsClientFor'> {
  /** How often the login is read again; default 5 min. */
  loginRefreshMs?: number;
  /** After a refused login, the soonest it is read again; default 10 s. */
  loginRetryAfterRefusalMs?: number;
}

const LOGIN_REFUSED = new Set(['28P01', '28000']);

function validate(req: SqlProbeRequest): void {
  const problems: string[] = [];
  if (!req.target?.instanceId) problems.push('target.instanceId is required');
  if (!req.target?.access?.database) problems.push('target.access.database is required');
  scheduleProblems(req, problems);
  if (problems.length) throw ApplicationFailure.nonRetryable(`Invalid SQL probe request: ${problems.join('; ')}`, FailureTypes.InvalidInput);
}

/** One request: a new connection, `SELECT 1`, closed; true when it answered within `timeoutMs`. Never throws. */
export async function selectOneOnce(
  conn: DescribedConnection,
  timeoutMs: number,
  cancel: AbortSignal,
): Promise<{ ok: boolean; code?: string }> {
  const client = new pg.Client(clientConfig(conn.params, { connectTimeoutMs: timeoutMs, statementTimeoutMs: timeoutMs }));
  // A server going down while this connection is open emits 'error'; unheard, it would crash the worker.
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  let onCancel: (() => void) | undefined;
  const cutOff = new Promise<{ ok: false; code: string }>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, code: 'timeout' }), timeoutMs);
    onCancel = () => resolve({ ok: false, code: 'cancelled' });
    cancel.addEventListener('abort', onCancel, { once: true });
  });
  const attempt = (async (): Promise<{ ok: boolean; code?: string }> => {
    try {
      await client.connect();
      const res = await client.query<{ one: number }>('SELECT 1 AS one');
      return { ok: res.rows[0]?.one === 1 };
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      return { ok: false, code: typeof code === 'string' ? code : undefined };
    }
  })();
  try {
    return await Promise.race([attempt, cutOff]);
  } finally {
    clearTimeout(timer);
    if (onCancel) cancel.removeEventListener('abort', onCancel);
    // Not awaited: closing (or giving up on a hung connect) is not part of the request's time.
    void client.end().catch(() => undefined);
  }
}

export function createSqlProbeActivities(deps: SqlProbeDeps): Pick<DatabaseActivities, 'runSqlAvailabilityProbe'> {
  const now = deps.clock ?? Date.now;
  const refreshMs = deps.loginRefreshMs ?? 5 * 60_000;
  const retryAfterRefusalMs = deps.loginRetryAfterRefusalMs ?? 10_000;

  async function runSqlAvailabilityProbe(req: SqlProbeRequest): Promise<ProbeResult> {
    validate(req);
    const ctx = Context.current();
    // Read once before the first request: an access that cannot work fails the activity here, saying why.
    let conn = await describeConnection(deps, req.target);
    if (ctx.info.heartbeatDetails === undefined) {
      // And log in once: a wrong password or database name would otherwise read as an outage lasting the
      // whole probe. Not on a retry: the database may be down right now, which is what the probe measures.
      const client = await openClient(conn, { connectTimeoutMs: Math.max(req.requestTimeoutMs, 5000) });
      await client.end().catch(() => undefined);
    }
    let readAtMs = now();
    let reading: Promise<void> | undefined;
    const readAgain = () => {
      if (reading) return;
      reading = describeConnection(deps, req.target)
        .then((fresh) => {
          conn = fresh;
        })
        .catch((err: unknown) => {
          // The message names the instance, database, user and source, never the password.
          ctx.log.warn('SQL probe could not read the login again; keeping the previous one', { error: (err as Error).message });
        })
        .finally(() => {
          readAtMs = now();
          reading = undefined;
        });
    };
    const result = await runProbeLoop({ ...deps, rdsClientFor: deps.rdsClientFor }, req, async (cancel) => {
      if (now() - readAtMs >= refreshMs) readAgain();
      const { ok, code } = await selectOneOnce(conn, req.requestTimeoutMs, cancel);
      if (!ok && code && LOGIN_REFUSED.has(code) && now() - readAtMs >= retryAfterRefusalMs) readAgain();
      return ok;
    });
    await reading;
    return result;
  }

  return { runSqlAvailabilityProbe };
}
