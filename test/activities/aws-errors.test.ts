import assert from 'node:assert/strict';
import { DBInstanceNotFoundFault, PointInTimeRestoreNotEnabledFault } from '@aws-sdk/client-rds';
import { ApplicationFailure } from '@temporalio/common';
import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { ENDPOINT_FIELD, THROTTLE_STREAK_FIELD, callAws, classifyAwsFailure, isThrottlingError, throttleBackoffMs, toActivityError } from '../../src/activities/aws-errors';
import { RdsRequestBudgetExceeded, RequestPacer, budgetKey, createAwsClients } from '../../src/activities/clients';
import { FailureTypes } from '../../src/api';
import { ConfigError, loadConfig } from '../../src/config';
import { simulatorConfig } from '../../dev/simulator';
import { startSimulator, type RunningSimulator } from '../../sim';
import { awsError, expectFailure } from './helpers';

describe('aws error mapping', () => {
  const ctx = { operation: 'ModifyDBInstance', where: 'eu-west-2', instanceId: 'orders-db' };

  it('maps both spellings of DBInstanceNotFound to InstanceNotFound naming region and id', () => {
    for (const err of [
      new DBInstanceNotFoundFault({ message: 'DBInstance orders-db not found.', $metadata: {} }),
      awsError('DBInstanceNotFound', 'DBInstance orders-db not found.', 404),
    ]) {
      const mapped = toActivityError(err, ctx);
      assert.ok(mapped instanceof ApplicationFailure);
      assert.equal(mapped.type, FailureTypes.InstanceNotFound);
      assert.equal(mapped.nonRetryable, true);
      assert.match(mapped.message, /'orders-db'/);
      assert.match(mapped.message, /eu-west-2/);
    }
  });

  for (const name of ['InvalidParameterCombination', 'InvalidParameterValue']) {
    it(`maps ${name} to non-retryable InvalidInput with the AWS message`, async () => {
      await expectFailure(callAws(ctx, () => Promise.reject(awsError(name, 'Cannot modify engine version'))), {
        type: FailureTypes.InvalidInput,
        nonRetryable: true,
        message: [new RegExp(name), /Cannot modify engine version/, /ModifyDBInstance/],
      });
    });
  }

  it('what RDS refuses for good (a restore of a source without backups, a quota, a missing group) is non-retryable and says what to do; capacity is retried', () => {
    const restore = { operation: 'RestoreDBInstanceToPointInTime orders-db -> orders-restored', where: 'eu-west-2', instanceId: 'orders-db' };
    for (const [err, advice] of [
      [new PointInTimeRestoreNotEnabledFault({ message: 'Point-in-time restore is not enabled', $metadata: { httpStatusCode: 400 } }), /no automated backups \(BackupRetentionPeriod 0\)/],
      [awsError('PointInTimeRestoreNotEnabled', 'Point-in-time restore is not enabled'), /no automated backups/],
      [awsError('StorageQuotaExceeded', 'storage quota exceeded'), /raise it \(Service Quotas\)/],
      [awsError('InstanceQuotaExceededFault', 'instance quota exceeded'), /quota of DB instances/],
      [awsError('KMSKeyNotAccessibleFault', 'key disabled'), /KMS key/],
    ] as const) {
      const mapped = toActivityError(err, restore) as ApplicationFailure;
      assert.deepEqual([mapped.type, mapped.nonRetryable], [FailureTypes.InvalidState, true]);
      assert.match(mapped.message, /RestoreDBInstanceToPointInTime orders-db -> orders-restored in region eu-west-2 was refused/);
      assert.match(mapped.message, advice);
      assert.match(mapped.message, /retrying will not help/);
    }
    const capacity = toActivityError(awsError('InsufficientDBInstanceCapacity', 'no capacity'), restore) as ApplicationFailure;
    assert.deepEqual([capacity.type, capacity.nonRetryable], [FailureTypes.AwsCallFailed, false]);
  });

  it('names the role and its account when a call made as an assumed role is refused', () => {
    const asRole = { ...ctx, where: { region: 'eu-west-2', roleArn: 'arn:aws:iam::222222222222:role/rds-orchestrator', sessionName: 'pg-minor-15-8-preview' } };
    const mapped = toActivityError(awsError('AccessDenied', 'not authorized to perform rds:ModifyDBInstance', 403), asRole) as ApplicationFailure;
    assert.equal(mapped.type, FailureTypes.Unauthorized);
    assert.match(mapped.message, /ModifyDBInstance in region eu-west-2 as role arn:aws:iam::222222222222:role\/rds-orchestrator \(account 222222222222\) was refused \(AccessDenied\).*Give that role/);
  });

  it('maps access denied to non-retryable Unauthorized', () => {
    const mapped = toActivityError(awsError('AccessDenied', 'User is not authorized to perform: rds:ModifyDBInstance', 403), ctx);
    assert.ok(mapped instanceof ApplicationFailure);
    assert.equal(mapped.type, FailureTypes.Unauthorized);
    assert.equal(mapped.nonRetryable, true);
  });

  it('turns throttling, 5xx and network errors into retryable AwsCallFailed saying what kind of failure it was', () => {
    const cases: [unknown, string, RegExp][] = [
      [awsError('Throttling', 'Rate exceeded'), 'aws', /ModifyDBInstance \(eu-west-2\) failed: AWS answered Throttling \(HTTP 400\): Rate exceeded/],
      [awsError('ServiceUnavailable', 'try later', 503), 'aws', /AWS answered ServiceUnavailable \(HTTP 503\)/],
      [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'network', /no answer: connection reset \(ECONNRESET\)/],
      [Object.assign(new Error('Request timed out'), { name: 'TimeoutError' }), 'timeout', /no answer in time/],
      ['not even an error', 'unknown', /failed: not even an error/],
    ];
    for (const [err, kind, message] of cases) {
      const mapped = toActivityError(err, ctx);
      assert.ok(mapped instanceof ApplicationFailure);
      assert.equal(mapped.type, FailureTypes.AwsCallFailed);
      assert.equal(mapped.nonRetryable, false);
      assert.match(mapped.message, message);
      assert.equal((mapped.details?.[0] as { kind: string }).kind, kind);
    }
  });

  it('names the endpoint recorded on the error', () => {
    const err = Object.assign(awsError('InternalFailure', 'boom', 500), { [ENDPOINT_FIELD]: 'https://rds.eu-west-2.amazonaws.com' });
    const mapped = toActivityError(err, ctx) as ApplicationFailure;
    assert.match(mapped.message, /^ModifyDBInstance against https:\/\/rds\.eu-west-2\.amazonaws\.com \(eu-west-2\) failed/);
  });

  it('says when the answer is not from AWS at all (an HTML page)', () => {
    const err = Object.assign(new Error('@aws-sdk XML parse error: mismatched tags <title> and </html>.\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.'), {
      $metadata: { httpStatusCode: 500 },
      $response: { statusCode: 500, headers: { 'content-type': 'text/html' } },
      $responseBodyText: '<html><title>500</html>',
    });
    assert.deepEqual(classifyAwsFailure(err), {
      kind: 'not-aws',
      httpStatus: 500,
      error: 'HTTP 500 with a response that is not an AWS answer (text/html): "<html><title>500</html>"; is the endpoint right, or is a proxy in the way?',
    });
  });

  it('passes ApplicationFailures through', () => {
    const f = ApplicationFailure.retryable('not yet', FailureTypes.NotReady);
    assert.equal(toActivityError(f, ctx), f);
  });

  it('returns the call result when it succeeds', async () => {
    assert.equal(await callAws(ctx, async () => 42), 42);
  });

  describe('throttling backs off (exponential, jittered) instead of retrying at the fixed interval', () => {
    it('recognises the throttling codes of RDS, Route 53 and EC2, HTTP 429 and our own budget', () => {
      for (const name of ['Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'PriorRequestNotComplete', 'TooManyRequestsException']) {
        assert.equal(isThrottlingError(awsError(name, 'Rate exceeded')), true, name);
      }
      assert.equal(isThrottlingError(awsError('Whatever', 'slow down', 429)), true);
      assert.equal(isThrottlingError(new RdsRequestBudgetExceeded(12_000, 6, 'x')), true);
      assert.equal(isThrottlingError(awsError('InternalFailure', 'boom', 500)), false);
      assert.equal(isThrottlingError(awsError('InvalidParameterValue', 'bad')), false);
    });

    it('doubles from 2 s up to 2 min with equal jitter, and never comes back before the budget expects room', () => {
      const low = () => 0;
      const high = () => 0.999999;
      assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => throttleBackoffMs(n, 0, high)), [2000, 4000, 8000, 16000, 32000, 64000, 120000, 120000, 120000]);
      assert.deepEqual([1, 2, 3].map((n) => throttleBackoffMs(n, 0, low)), [1000, 2000, 4000]);
      assert.equal(throttleBackoffMs(1, 15_000, low), 15_000);
      assert.equal(throttleBackoffMs(1, 10 * 60_000, low), 120_000, 'capped');
    });

    it('a throttled call is a retryable AwsCallFailed with a nextRetryDelay growing with the throttles in a row', () => {
      const first = toActivityError(awsError('Throttling', 'Rate exceeded'), ctx) as ApplicationFailure;
      assert.equal(first.type, FailureTypes.AwsCallFailed);
      assert.equal(first.nonRetryable, false);
      assert.match(first.message, /ModifyDBInstance \(eu-west-2\) failed: AWS answered Throttling \(HTTP 400\): Rate exceeded; throttled, next attempt in \d+\.\d s/);
      const d1 = Number(first.nextRetryDelay);
      assert.ok(d1 >= 1000 && d1 <= 2000, `first delay ${d1}`);
      const fifth = toActivityError(Object.assign(awsError('Throttling', 'Rate exceeded'), { [THROTTLE_STREAK_FIELD]: 5 }), ctx) as ApplicationFailure;
      const d5 = Number(fifth.nextRetryDelay);
      assert.ok(d5 >= 16_000 && d5 <= 32_000, `fifth delay ${d5}`);
      // Other retryable failures keep the step's own retry policy.
      assert.equal((toActivityError(awsError('InternalFailure', 'boom', 500), ctx) as ApplicationFailure).nextRetryDelay, undefined);
    });

    it("our budget's refusal backs off at least as long as its queue", () => {
      const f = toActivityError(new RdsRequestBudgetExceeded(25_000, 6, '123456789012 in eu-west-2'), ctx) as ApplicationFailure;
      assert.equal(f.type, FailureTypes.AwsCallFailed);
      assert.ok(Number(f.nextRetryDelay) >= 25_000);
      assert.match(f.message, /RDS request budget for 123456789012 in eu-west-2 \(6 requests\/s\) is booked 25 s ahead/);
    });
  });

  describe('the RDS request budget (shared by every RDS client of an account and region in the process)', () => {
    it('ORCHESTRATOR_RDS_REQUESTS_PER_SECOND: default 6 per account and region (burst 10 s worth), off, split over ORCHESTRATOR_RDS_BUDGET_WORKERS', () => {
      assert.deepEqual(loadConfig({}).aws.rdsBudget, { requestsPerSecond: 6, burst: 60, workers: 1 });
      assert.equal(loadConfig({ ORCHESTRATOR_RDS_REQUESTS_PER_SECOND: 'off' }).aws.rdsBudget, undefined);
      assert.deepEqual(loadConfig({ ORCHESTRATOR_RDS_REQUESTS_PER_SECOND: '12', ORCHESTRATOR_RDS_BURST: '1', ORCHESTRATOR_RDS_BUDGET_WORKERS: '3' }).aws.rdsBudget, { requestsPerSecond: 12, burst: 1, workers: 3 });
      assert.throws(() => loadConfig({ ORCHESTRATOR_RDS_REQUESTS_PER_SECOND: 'fast' }), ConfigError);
      assert.throws(() => loadConfig({ ORCHESTRATOR_RDS_BURST: '0' }), ConfigError);
      assert.throws(() => loadConfig({ ORCHESTRATOR_RDS_BUDGET_WORKERS: '0' }), ConfigError);
    });

    it('ORCHESTRATOR_RDS_BUDGET_WORKERS is read with the RDS budget off too: CloudTrail\'s limit is split over the workers all the same', () => {
      const off = loadConfig({ ORCHESTRATOR_RDS_REQUESTS_PER_SECOND: 'off', ORCHESTRATOR_RDS_BUDGET_WORKERS: '4' }).aws;
      assert.deepEqual([off.rdsBudget, off.workers], [undefined, 4]);
      assert.equal(loadConfig({}).aws.workers, 1);
    });

    it('a token bucket that queues: `burst` at once, then one every 1/rate s in arrival order; refuses a wait beyond its bound', () => {
      let now = 0;
      const pacer = new RequestPacer(4, 4, 'acct in eu-west-2', 1100, () => now);
      assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map(() => pacer.reserve()), [0, 0, 0, 0, 250, 500, 750, 1000]);
      assert.throws(() => pacer.reserve(), (e: unknown) => e instanceof RdsRequestBudgetExceeded && e.retryAfterMs === 1250);
      now = 5000;
      assert.deepEqual([1, 2, 3, 4, 5].map(() => pacer.reserve()), [0, 0, 0, 0, 250], 'a quiet period refills the bucket');
      // burst 1: evenly spaced, never more than the rate in a second; a fractional rate too.
      const even = new RequestPacer(4, 1, 'acct in eu-west-2', 60_000, () => 0);
      assert.deepEqual([1, 2, 3, 4, 5].map(() => even.reserve()), [0, 250, 500, 750, 1000]);
      const slow = new RequestPacer(0.5, 1, 'acct in eu-west-2', 60_000, () => 0);
      assert.deepEqual([1, 2, 3].map(() => slow.reserve()), [0, 2000, 4000]);
    });

    it("keys the budget by account (a role's, or the worker's own) and region", () => {
      assert.equal(budgetKey({ region: 'eu-west-2', roleArn: 'arn:aws:iam::222222222222:role/rds-orchestrator' }), '222222222222 in eu-west-2');
      assert.equal(budgetKey({ region: 'eu-west-2', roleArn: 'arn:aws:iam::222222222222:role/other', sessionName: 's' }), '222222222222 in eu-west-2');
      assert.equal(budgetKey({ region: 'us-east-1' }), "the worker's own account in us-east-1");
    });

    describe('against the simulator throttling like RDS', function () {
      this.timeout(30_000);
      let sim: RunningSimulator;
      before(async () => {
        // A bucket much smaller than AWS's, so the test is quick: burst 4, 4 requests/s.
        sim = await startSimulator({ port: 0, rdsThrottle: { burst: 4, ratePerSecond: 4 } });
        await sim.engine.seed({ instances: [{ region: 'eu-west-2', id: 'db1', engineVersion: '15.5' }] });
      });
      after(async () => {
        await sim.close();
      });

      it('without a budget a burst of 12 is throttled; with a budget at the bucket rate none is, across clients of one account', async () => {
        const burst = async (rate: string) => {
          sim.engine.rdsThrottle.configure({ burst: 4, ratePerSecond: 4 });
          const since = sim.engine.calls.at(-1)?.seq ?? 0;
          const clients = createAwsClients(simulatorConfig(sim.url, { ORCHESTRATOR_RDS_REQUESTS_PER_SECOND: rate, ORCHESTRATOR_RDS_BURST: '1' }));
          // Two identities of the same account (two session names): two clients, one budget.
          const a = clients.rds({ region: 'eu-west-2' });
          const b = clients.rds({ region: 'eu-west-2', sessionName: 'other' });
          const t0 = Date.now();
          const results = await Promise.allSettled(
            Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db1' }))),
          );
          const calls = sim.engine.listCalls({ since, action: 'DescribeDBInstances' });
          return { seconds: (Date.now() - t0) / 1000, ok: results.filter((r) => r.status === 'fulfilled').length, throttled: calls.filter((c) => c.errorCode === 'Throttling').length, calls };
        };
        const unpaced = await burst('off');
        assert.ok(unpaced.throttled >= 1, `no budget: ${unpaced.throttled} throttled`);
        const paced = await burst('4');
        assert.equal(paced.throttled, 0, 'paced at the bucket rate: nothing throttled');
        assert.equal(paced.ok, 12);
        assert.ok(paced.seconds >= 1.9, `12 requests at 4/s take at least 2 s, took ${paced.seconds}`);
        const perSecond = new Map<number, number>();
        for (const c of paced.calls) perSecond.set(Math.floor(Date.parse(c.at) / 1000), (perSecond.get(Math.floor(Date.parse(c.at) / 1000)) ?? 0) + 1);
        assert.ok(Math.max(...perSecond.values()) <= 5, `peak per second ${JSON.stringify([...perSecond.values()])}`);
      });

      it('a request that would queue longer than 10 s is not sent: it fails at once as RdsRequestBudgetExceeded, which the activity backs off from', async () => {
        sim.engine.rdsThrottle.configure(undefined);
        const since = sim.engine.calls.at(-1)?.seq ?? 0;
        const rds = createAwsClients(simulatorConfig(sim.url, { ORCHESTRATOR_RDS_REQUESTS_PER_SECOND: '0.1', ORCHESTRATOR_RDS_BURST: '1' })).rds({ region: 'eu-west-2' });
        const first = rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db1' }));
        const second = rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db1' })); // its turn is 10 s away: it waits
        second.catch(() => undefined);
        const t0 = Date.now();
        const err = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db1' })).then(
          () => assert.fail('the third request is 20 s away and should be refused'),
          (e: unknown) => e,
        );
        assert.ok(err instanceof RdsRequestBudgetExceeded, String(err));
        assert.ok(Date.now() - t0 < 1000, 'refused at once');
        assert.ok(err.retryAfterMs > 10_000);
        await first;
        const mapped = toActivityError(err, ctx) as ApplicationFailure;
        assert.equal(mapped.type, FailureTypes.AwsCallFailed);
        assert.ok(Number(mapped.nextRetryDelay) >= err.retryAfterMs);
        assert.equal(sim.engine.listCalls({ since, action: 'DescribeDBInstances' }).length, 1, 'only the first was sent so far');
      });
    });
  });
});
