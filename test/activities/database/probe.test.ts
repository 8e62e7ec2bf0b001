/**
 * The SQL availability probe against a real PostgreSQL server (test/postgres.ts), on the clock: it measures a
 * real restart (the server stopped for about 1.5 s, then started) as the HTTP probe measures an outage, keeps
 * probing after it, and refuses an access that cannot work before sending anything. The endpoint comes from an
 * RDS mock whose instance points at the test server; the same mock answers the stop condition.
 */
import assert from 'node:assert/strict';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Info } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { mockClient } from 'aws-sdk-client-mock';
import { createSqlProbeActivities } from '../../../src/activities/database/probe';
import type { ProbeProgress } from '../../../src/activities/probe';
import { FailureTypes, type ProbeResult } from '../../../src/api/activities';
import type { SqlProbeRequest } from '../../../src/api/database';
import { needPostgres, startTestPostgres, type TestPostgres } from '../../postgres';
import { expectFailure } from '../helpers';

const REGION = 'eu-west-2';
const ID = 'notify-db';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SQL availability probe (on the clock, real PostgreSQL)', function () {
  this.timeout(30_000);
  let server: TestPostgres;
  const rds = new RDSClient({ region: REGION });
  const rdsMock = mockClient(rds);
  const secrets = new SecretsManagerClient({ region: REGION });
  let env: NodeJS.ProcessEnv;
  /** What the stop condition reads: available at the target once `upgradedAt` has passed. */
  let upgradedAt: number;

  before(async function () {
    needPostgres(this);
    server = await startTestPostgres();
  });
  after(async function () {
    await server?.stop();
  });
  beforeEach(function () {
    rdsMock.reset();
    env = { PROBE_PASSWORD: server.password };
    upgradedAt = Infinity;
    rdsMock.on(DescribeDBInstancesCommand).callsFake(() => ({
      DBInstances: [
        {
          DBInstanceIdentifier: ID,
          DBInstanceStatus: Date.now() >= upgradedAt ? 'available' : 'upgrading',
          EngineVersion: Date.now() >= upgradedAt ? '15.7' : '15.5',
          Endpoint: { Address: '127.0.0.1', Port: server.port },
          MasterUsername: server.user,
        },
      ],
    }));
  });

  const probe = () => createSqlProbeActivities({ rdsClientFor: () => rds, secretsClientFor: () => secrets, env, stopCheckIntervalMs: 200, heartbeatIntervalMs: 250 });
  const request = (overrides: Partial<SqlProbeRequest> = {}): SqlProbeRequest => ({
    target: { where: REGION, instanceId: ID, access: { database: 'postgres', username: server.user, credentials: { kind: 'env', variable: 'PROBE_PASSWORD' }, tls: 'disable' } },
    ratePerSecond: 20,
    requestTimeoutMs: 1000,
    stopWhen: { region: REGION, instanceId: ID, engineVersion: '15.7', settleSeconds: 0.3 },
    maxDurationSeconds: 15,
    ...overrides,
  });
  const mockEnv = (info?: Partial<Info>) => new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });

  it('measures a real restart (stopped ~1.5 s) as the outage, and keeps probing after it', async function () {
    const env0 = mockEnv();
    const heartbeats: ProbeProgress[] = [];
    env0.on('heartbeat', (d: ProbeProgress) => heartbeats.push(d));
    const started = Date.now();
    const running = env0.run(probe().runSqlAvailabilityProbe, request()) as Promise<ProbeResult>;
    await sleep(1000);
    // pg_ctl -m fast: every session ends, new connections are refused until the start.
    const stopAt = Date.now();
    server.server.stop('fast');
    await sleep(1500 - (Date.now() - stopAt));
    server.server.start();
    const downMs = Date.now() - stopAt;
    // RDS shows the upgrade done 1.5 s after the restart; the probe then waits 0.3 s of settled state.
    upgradedAt = Date.now() + 1500;
    const result = await running;
    const elapsed = Date.now() - started;

    assert.equal(result.timedOut, false);
    // The server was down for downMs (1.5 s and the time pg_ctl takes); the outage is first failed send to next success.
    // Bounds a loaded machine keeps (probes late by up to a second or so) that a wrong measurement still breaks.
    assert.ok(
      result.longestOutageSeconds >= (0.8 * downMs) / 1000 && result.longestOutageSeconds <= downMs / 1000 + 1.5,
      `longestOutageSeconds ${result.longestOutageSeconds}, server down ${downMs} ms`,
    );
    assert.ok(result.failures >= 20 && result.failures <= 45, `failures ${result.failures}`);
    // ~1 s before the restart and ~1.8 s after it, at 20/s, all successful.
    const successes = result.requests - result.failures;
    assert.ok(successes >= 45, `only ${successes} successful requests: the probe did not carry on after the restart`);
    // At least the restart, the 1.5 s until RDS shows the upgrade and the settle time; well short of maxDurationSeconds (15 s).
    assert.ok(elapsed >= 4000 && elapsed < 12_000, `ended after ${elapsed} ms`);
    const last = heartbeats[heartbeats.length - 1];
    assert.ok(heartbeats.some((h) => h.failures > 0 && h.failures < result.failures) || heartbeats.some((h) => h.outageStartedAtMs !== undefined), 'the outage was heartbeated while it lasted');
    assert.deepEqual([last?.requests, last?.failures], [result.requests, result.failures]);
  });

  it('a healthy server: no failures; each request is its own connection (closed after)', async function () {
    upgradedAt = Date.now() + 1000;
    const result = (await mockEnv().run(probe().runSqlAvailabilityProbe, request())) as ProbeResult;
    assert.equal(result.failures, 0);
    assert.equal(result.longestOutageSeconds, 0);
    assert.ok(result.requests >= 20 && result.requests <= 40, `requests ${result.requests}`);
    await sleep(200);
    const [open] = await server.sql<{ n: string }>("SELECT count(*)::text AS n FROM pg_stat_activity WHERE application_name = 'rds-orchestrator'");
    assert.equal(open?.n, '0', 'probe connections left open');
  });

  it('resumes its totals from the heartbeat of a previous attempt', async function () {
    upgradedAt = 0;
    const previous: ProbeProgress = { startedAtMs: Date.now() - 30_000, requests: 500, failures: 12, longestOutageMs: 1800, heartbeatAtMs: Date.now() - 100 };
    const result = (await mockEnv({ heartbeatDetails: previous, attempt: 2 }).run(probe().runSqlAvailabilityProbe, request({ maxDurationSeconds: 60 }))) as ProbeResult;
    assert.equal(result.timedOut, false);
    assert.ok(result.requests > 500, `requests ${result.requests}`);
    assert.equal(result.failures, 12);
    assert.equal(result.longestOutageSeconds, 1.8);
    assert.equal(result.startedAt, new Date(previous.startedAtMs).toISOString());
  });

  it('an access that cannot work fails at once, non-retryable, without the password: wrong password, unset variable, bad request', async function () {
    env.PROBE_PASSWORD = 'not-the-Password-9876';
    const started = Date.now();
    const wrong = await expectFailure(mockEnv().run(probe().runSqlAvailabilityProbe, request()) as Promise<unknown>, {
      type: FailureTypes.DatabaseAccess,
      nonRetryable: true,
      message: [/28P01/, /environment variable PROBE_PASSWORD of the workers/],
    });
    assert.ok(Date.now() - started < 1500, 'not at once');
    assert.ok(!wrong.message.includes('not-the-Password-9876'));
    assert.equal(rdsMock.commandCalls(DescribeDBInstancesCommand).length, 1, 'the stop condition was never checked: nothing ran');
    delete env.PROBE_PASSWORD;
    await expectFailure(mockEnv().run(probe().runSqlAvailabilityProbe, request()) as Promise<unknown>, { type: FailureTypes.DatabaseAccess, nonRetryable: true, message: [/PROBE_PASSWORD/, /not set/] });
    await expectFailure(mockEnv().run(probe().runSqlAvailabilityProbe, request({ ratePerSecond: 0 })) as Promise<unknown>, { type: FailureTypes.InvalidInput, nonRetryable: true, message: [/Invalid SQL probe request/, /ratePerSecond/] });
  });
});
