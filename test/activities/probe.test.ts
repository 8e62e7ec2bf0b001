import assert from 'node:assert/strict';
import { DBInstanceNotFoundFault, DescribeDBInstancesCommand, RDSClient, type DBInstance } from '@aws-sdk/client-rds';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { Info } from '@temporalio/activity';
import { mockClient } from 'aws-sdk-client-mock';
import { createProbeActivities, type ProbeProgress } from '../../src/activities/probe';
import { FailureTypes, type ProbeActivities, type ProbeRequest, type ProbeResult } from '../../src/api';
import { expectFailure, rejection, startServer, type TestServer } from './helpers';

const REGION = 'eu-west-2';
const ID = 'orders-db';

function db(status: string, version: string): { DBInstances: DBInstance[] } {
  return { DBInstances: [{ DBInstanceIdentifier: ID, DBInstanceStatus: status, EngineVersion: version }] };
}

/** Activity failures are expected here; keep the SDK's failure logs out of mocha's output. */
const mockEnv = (info?: Partial<Info>) => new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });

/** Runs the probe in the mock activity context (MockActivityEnvironment.run does not infer the result type). */
const runProbe = (env: MockActivityEnvironment, acts: ProbeActivities, req: ProbeRequest): Promise<ProbeResult> =>
  env.run(acts.runAvailabilityProbe, req) as Promise<ProbeResult>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('probe activities', function () {
  this.timeout(20_000);
  const client = new RDSClient({ region: REGION });
  const rdsMock = mockClient(client);
  let server: TestServer | undefined;

  const probe = (opts: { stopCheckIntervalMs?: number; heartbeatIntervalMs?: number; fetch?: typeof fetch } = {}) =>
    createProbeActivities({
      rdsClientFor: () => client,
      fetch: opts.fetch,
      stopCheckIntervalMs: opts.stopCheckIntervalMs ?? 100,
      heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 200,
    });

  function request(url: string, overrides: Partial<ProbeRequest> = {}): ProbeRequest {
    return {
      url,
      ratePerSecond: 20,
      // The servers here answer within milliseconds when healthy; the margin is for a busy machine, where an
      // event-loop stall of 100 ms (this process runs both the probe and the server) failed healthy requests.
      requestTimeoutMs: 1000,
      stopWhen: { region: REGION, instanceId: ID, engineVersion: '15.7', settleSeconds: 0.3 },
      maxDurationSeconds: 15,
      ...overrides,
    };
  }

  beforeEach(() => rdsMock.reset());
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('measures the outage from the first failure to the next success, folding results in send order', async () => {
    // Healthy for 0.5 s, then 0.7 s where requests hang past the probe's 1 s timeout (so their failures
    // are known only after the 503s that follow), then 0.8 s of 503s, then healthy again: a 1.5 s outage.
    // The phases go by when the probe sent each request (a header stamped as fetch is called), as the probe
    // measures: by arrival, an event-loop stall between send and arrival on a busy machine moved the phase
    // boundaries under the probe and shortened the outage it saw (1.07 s).
    const SENT_AT = 'x-test-sent-at';
    const stampedFetch: typeof fetch = (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), [SENT_AT]: String(Date.now()) } });
    let firstRequestAt: number | undefined;
    server = await startServer(async (req) => {
      const sentAt = Number(req.headers[SENT_AT]);
      firstRequestAt ??= sentAt;
      const t = sentAt - firstRequestAt;
      if (t >= 500 && t < 1200) {
        await sleep(1500);
        return { status: 200, body: 'too late' };
      }
      if (t >= 1200 && t < 2000) return { status: 503, body: 'db down' };
      return { status: 200, body: 'ok' };
    });
    // RDS shows the upgrade finished 2.5 s in; the probe then waits 0.3 s of settled state.
    const start = Date.now();
    rdsMock.on(DescribeDBInstancesCommand).callsFake(() => (Date.now() - start < 2500 ? db('upgrading', '15.5') : db('available', '15.7')));

    const env = mockEnv();
    const heartbeats: ProbeProgress[] = [];
    env.on('heartbeat', (d: ProbeProgress) => heartbeats.push(d));
    const result = await runProbe(env, probe({ fetch: stampedFetch }), request(`${server.url}/health`, { requestTimeoutMs: 1000 }));
    const elapsed = Date.now() - start;

    assert.equal(result.timedOut, false);
    assert.ok(Math.abs(result.longestOutageSeconds - 1.5) <= 0.2, `longestOutageSeconds ${result.longestOutageSeconds}, expected ~1.5`);
    // 20/s over ~1.5 s of outage
    assert.ok(result.failures >= 24 && result.failures <= 36, `failures ${result.failures}`);
    assert.ok(result.requests >= 50 && result.requests <= 75, `requests ${result.requests} in ${elapsed} ms`);
    assert.equal(result.requests, server.requests.length);
    assert.ok(elapsed >= 2700 && elapsed < 4500, `ended after ${elapsed} ms`);
    assert.ok(heartbeats.length >= 8, `heartbeats: ${heartbeats.length}`);
    assert.ok(heartbeats.some((h) => h.failures > 0 && h.failures < result.failures), 'running totals were heartbeated mid-way');
    const last = heartbeats[heartbeats.length - 1];
    assert.equal(last.requests, result.requests);
    assert.equal(last.failures, result.failures);
    assert.equal(new Date(result.startedAt).getTime(), last.startedAtMs);
    assert.ok(Date.parse(result.endedAt) >= Date.parse(result.startedAt) + 2700);
  });

  it('requires the stop condition to hold continuously for settleSeconds', async () => {
    server = await startServer(() => ({ status: 200, body: 'ok' }));
    const answers = [db('available', '15.7'), db('upgrading', '15.7')];
    const checkTimes: number[] = [];
    rdsMock.on(DescribeDBInstancesCommand).callsFake(() => {
      checkTimes.push(Date.now());
      return answers[checkTimes.length - 1] ?? db('available', '15.7');
    });
    const env = mockEnv();
    const result = await runProbe(env, probe({ stopCheckIntervalMs: 200 }), request(server.url));
    // available (t=0), upgrading (0.2: resets), available (0.4), 0.6 (< 0.3 s settled), 0.8 (settled): 5 checks
    // on time. On a busy machine a check can come late enough that 0.6 finds the 0.3 s already held: 4 checks,
    // and still right. Without the reset the third check (0.4 s after the first) would end the probe: 3 checks.
    const checks = rdsMock.commandCalls(DescribeDBInstancesCommand);
    assert.ok(checks.length >= 4, `only ${checks.length} checks: the interruption did not reset the settle timer`);
    assert.deepEqual(checks[0].args[0].input, { DBInstanceIdentifier: ID });
    // The settle time counts from the third check (available again), not from the first.
    assert.ok(
      Date.parse(result.endedAt) - checkTimes[2] >= 300,
      `ended ${Date.parse(result.endedAt) - checkTimes[2]} ms after the condition held again; settleSeconds is 0.3`,
    );
  });

  it('stops at maxDurationSeconds with timedOut when the upgrade never finishes', async () => {
    server = await startServer(() => ({ status: 200, body: 'ok' }));
    rdsMock.on(DescribeDBInstancesCommand).resolves(db('upgrading', '15.5'));
    const env = mockEnv();
    const started = Date.now();
    const result = await runProbe(env, probe(), request(server.url, { maxDurationSeconds: 1 }));
    const elapsed = Date.now() - started;
    assert.equal(result.timedOut, true);
    assert.equal(result.failures, 0);
    assert.equal(result.longestOutageSeconds, 0);
    assert.ok(elapsed >= 950 && elapsed < 1600, `ended after ${elapsed} ms`);
    assert.ok(result.requests >= 17 && result.requests <= 22, `requests ${result.requests}`);
  });

  it('resumes counts, outage and start time from the heartbeat of a previous attempt', async () => {
    server = await startServer(() => ({ status: 200, body: 'ok' }));
    rdsMock.on(DescribeDBInstancesCommand).resolves(db('available', '15.7'));
    const startedAtMs = Date.now() - 60_000;
    // The previous attempt died 3 s into an outage that had not ended.
    const previous: ProbeProgress = { startedAtMs, requests: 1000, failures: 40, longestOutageMs: 2000, outageStartedAtMs: Date.now() - 3000 };
    const env = mockEnv({ heartbeatDetails: previous, attempt: 2 });
    const result = await runProbe(env, probe(), request(server.url, { maxDurationSeconds: 600 }));
    assert.equal(result.timedOut, false);
    assert.equal(result.startedAt, new Date(startedAtMs).toISOString());
    assert.ok(result.requests > 1000 && result.requests < 1020, `requests ${result.requests}`);
    assert.equal(result.failures, 40);
    assert.ok(result.longestOutageSeconds >= 3 && result.longestOutageSeconds < 3.5, `longestOutageSeconds ${result.longestOutageSeconds}`);
  });

  it('counts the time nobody probed after a crash as outage, and reports it', async () => {
    server = await startServer(() => ({ status: 200, body: 'ok' }));
    rdsMock.on(DescribeDBInstancesCommand).resolves(db('available', '15.7'));
    // The previous attempt heartbeated 4 s ago with everything healthy, then its worker died.
    const heartbeatAtMs = Date.now() - 4000;
    const previous: ProbeProgress = { startedAtMs: Date.now() - 30_000, requests: 500, failures: 0, longestOutageMs: 0, heartbeatAtMs };
    const result = await runProbe(mockEnv({ heartbeatDetails: previous, attempt: 2 }), probe(), request(server.url, { maxDurationSeconds: 600 }));
    assert.equal(result.failures, 0, 'no request failed');
    assert.ok(result.unobservedSeconds! >= 4 && result.unobservedSeconds! < 4.5, `unobservedSeconds ${result.unobservedSeconds}`);
    assert.ok(result.longestOutageSeconds >= 4, `the gap counts as outage: ${result.longestOutageSeconds}`);
  });

  it('counts the remaining time against maxDurationSeconds from the original start', async () => {
    server = await startServer(() => ({ status: 200, body: 'ok' }));
    rdsMock.on(DescribeDBInstancesCommand).resolves(db('upgrading', '15.5'));
    const previous: ProbeProgress = { startedAtMs: Date.now() - 9_500, requests: 190, failures: 0, longestOutageMs: 0 };
    const env = mockEnv({ heartbeatDetails: previous });
    const started = Date.now();
    const result = await runProbe(env, probe(), request(server.url, { maxDurationSeconds: 10 }));
    assert.equal(result.timedOut, true);
    assert.ok(Date.now() - started < 1200, 'only the remaining half second was probed');
  });

  it('honours activity cancellation promptly', async () => {
    server = await startServer(() => ({ status: 200, body: 'ok' }));
    rdsMock.on(DescribeDBInstancesCommand).resolves(db('upgrading', '15.5'));
    const env = mockEnv();
    const running = runProbe(env, probe(), request(server.url));
    await sleep(300);
    const cancelledAt = Date.now();
    env.cancel();
    const err = await rejection(running);
    assert.ok(err instanceof CancelledFailure, `expected CancelledFailure, got ${String(err)}`);
    assert.ok(Date.now() - cancelledAt < 500, 'stopped within the request timeout');
    // A request sent just before the cancel may still be reaching the server; after that, silence.
    await sleep(50);
    const sent = server.requests.length;
    await sleep(300);
    assert.equal(server.requests.length, sent, 'no requests after cancellation');
  });

  it('fails non-retryably when the instance to watch does not exist', async () => {
    server = await startServer(() => ({ status: 200, body: 'ok' }));
    rdsMock.on(DescribeDBInstancesCommand).rejects(new DBInstanceNotFoundFault({ message: `DBInstance ${ID} not found.`, $metadata: {} }));
    const env = mockEnv();
    await expectFailure(runProbe(env, probe(), request(server.url)), {
      type: FailureTypes.InstanceNotFound,
      nonRetryable: true,
      message: [/orders-db/, /eu-west-2/],
    });
  });

  it('keeps probing through a throttled stop check', async () => {
    server = await startServer(() => ({ status: 200, body: 'ok' }));
    rdsMock
      .on(DescribeDBInstancesCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }))
      .resolves(db('available', '15.7'));
    const env = mockEnv();
    const result = await runProbe(env, probe(), request(server.url));
    assert.equal(result.timedOut, false);
    assert.ok(rdsMock.commandCalls(DescribeDBInstancesCommand).length >= 3);
  });

  it('rejects an invalid request as non-retryable InvalidInput', async () => {
    const env = mockEnv();
    await expectFailure(runProbe(env, probe(), request('not a url', { ratePerSecond: 0 })), {
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message: [/not a URL/, /ratePerSecond/],
    });
  });

  describe('checkHealth', () => {
    it('is healthy on 2xx and not on 5xx or timeout', async () => {
      let mode: 'ok' | 'down' | 'hang' = 'ok';
      server = await startServer(async () => {
        if (mode === 'hang') await sleep(500);
        return mode === 'down' ? { status: 503, body: 'down' } : { status: 200, body: 'ok' };
      });
      const acts = probe();
      const ok = await acts.checkHealth({ url: `${server.url}/health`, timeoutMs: 300 });
      assert.equal(ok.healthy, true);
      assert.match(ok.detail, /200/);
      mode = 'down';
      const down = await acts.checkHealth({ url: `${server.url}/health`, timeoutMs: 300 });
      assert.equal(down.healthy, false);
      assert.match(down.detail, /503/);
      mode = 'hang';
      const hang = await acts.checkHealth({ url: `${server.url}/health`, timeoutMs: 100 });
      assert.equal(hang.healthy, false);
      assert.match(hang.detail, /no answer within 100 ms/);
      assert.equal(server.requests.length, 3);
      assert.equal(server.requests[0].method, 'GET');
      assert.equal(server.requests[0].url, '/health');
    });

    it('reports a refused connection as unhealthy', async () => {
      const closed = await startServer(() => ({ status: 200 }));
      await closed.close();
      const r = await probe().checkHealth({ url: closed.url, timeoutMs: 500 });
      assert.equal(r.healthy, false);
      assert.match(r.detail, /request failed/);
    });
  });
});
