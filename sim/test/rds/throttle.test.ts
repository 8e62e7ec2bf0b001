import assert from 'node:assert/strict';
import { DescribeDBInstancesCommand, RDSClient, RDSServiceException } from '@aws-sdk/client-rds';
import { DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { parseSimulatorArgs } from '../../src/main';
import { RequestThrottle } from '../../src/core/throttle';
import { CREDENTIALS, REGION, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';

// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-api-throttling.html: a token bucket per account
// and Region; by default 300 requests in a burst and 12 per second sustained.
describe('sim: RDS API request throttling (token bucket per account and region)', function () {
  describe('the bucket', function () {
    it('allows `burst` at once, then refills at `ratePerSecond` up to `burst`, per account and region', function () {
      let now = 0;
      const t = new RequestThrottle(() => now, { burst: 3, ratePerSecond: 2 });
      assert.deepEqual([1, 2, 3, 4].map(() => t.take('111111111111', 'eu-west-2')), [true, true, true, false]);
      // another account, another region: buckets of their own
      assert.equal(t.take('222222222222', 'eu-west-2'), true);
      assert.equal(t.take('111111111111', 'us-east-1'), true);
      now += 499;
      assert.equal(t.take('111111111111', 'eu-west-2'), false, 'less than a token refilled');
      now += 1;
      assert.equal(t.take('111111111111', 'eu-west-2'), true, 'one token after 0.5 s at 2/s');
      now += 60_000;
      assert.deepEqual([1, 2, 3, 4].map(() => t.take('111111111111', 'eu-west-2')), [true, true, true, false], 'never more than burst');
    });

    it('without settings nothing is throttled', function () {
      const t = new RequestThrottle(() => 0);
      for (let i = 0; i < 1000; i++) assert.equal(t.take('111111111111', 'eu-west-2'), true);
    });
  });

  describe('over the wire', function () {
    let h: SimHarness;
    let noRetry: RDSClient;
    beforeEach(async function () {
      h = await startHarness({ rdsThrottle: { burst: 5, ratePerSecond: 1 } });
      await h.admin.seed({ instances: [{ region: REGION, id: 'db1', engineVersion: '15.5' }] });
      noRetry = new RDSClient({ endpoint: h.sim.url, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
    });
    afterEach(async function () {
      noRetry.destroy();
      await h.close();
    });

    it("answers the burst, then RDS's Throttling error (HTTP 400, Rate exceeded), logged, until tokens refill", async function () {
      for (let i = 0; i < 5; i++) await noRetry.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db1' }));
      const err = await noRetry.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db1' })).then(
        () => assert.fail('the sixth request in the same instant should be throttled'),
        (e: unknown) => e as RDSServiceException,
      );
      assert.equal(err.name, 'Throttling');
      assert.equal(err.message, 'Rate exceeded');
      assert.equal(err.$metadata.httpStatusCode, 400);
      assert.equal(err.$fault, 'client');
      const calls = await h.admin.calls({ action: 'DescribeDBInstances' });
      assert.deepEqual(calls.map((c) => c.errorCode ?? 'ok'), ['ok', 'ok', 'ok', 'ok', 'ok', 'Throttling']);
      assert.equal(calls[5].fault, undefined, 'a throttle of the bucket, not an injected fault');
      assert.equal(calls[5].account, '123456789012');
      h.advance(1);
      await noRetry.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db1' }));
    });

    it("the SDK's own retry recognises Throttling as throttling and succeeds once a token is back", async function () {
      for (let i = 0; i < 5; i++) await noRetry.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db1' }));
      const retrying = h.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db1' }));
      // The first attempt is throttled; refill a token while the SDK backs off (throttling base delay 500 ms).
      await new Promise((r) => setTimeout(r, 100));
      h.advance(1);
      const out = await retrying;
      assert.ok((out.$metadata.attempts ?? 1) >= 2, `attempts ${out.$metadata.attempts}`);
      const codes = (await h.admin.calls({ action: 'DescribeDBInstances' })).map((c) => c.errorCode ?? 'ok');
      assert.equal(codes[5], 'Throttling');
      assert.equal(codes[codes.length - 1], 'ok');
    });

    it('throttles only RDS, per account: EC2 and another account are untouched', async function () {
      for (let i = 0; i < 5; i++) await noRetry.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db1' }));
      await assert.rejects(noRetry.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db1' })), { name: 'Throttling' });
      for (let i = 0; i < 10; i++) await h.ec2.send(new DescribeSecurityGroupsCommand({}));
      // A 12-digit access key is that account (like moto): its own bucket, full.
      const other = new RDSClient({ endpoint: h.sim.url, region: REGION, credentials: { accessKeyId: '210987654321', secretAccessKey: 'x' }, maxAttempts: 1 });
      try {
        const out = await other.send(new DescribeDBInstancesCommand({}));
        assert.deepEqual(out.DBInstances, []);
      } finally {
        other.destroy();
      }
      const state = await h.admin.throttleState();
      assert.deepEqual(state.rds, { burst: 5, ratePerSecond: 1 });
      assert.equal(state.tokens['123456789012|eu-west-2'], 0);
      assert.equal(state.tokens['210987654321|eu-west-2'], 4);
    });

    it('POST /_sim/throttle changes the bucket or turns throttling off; bad settings are refused', async function () {
      await h.admin.throttle(null);
      for (let i = 0; i < 20; i++) await noRetry.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db1' }));
      assert.equal((await h.admin.throttleState()).rds, null);
      await h.admin.throttle({ burst: 1, ratePerSecond: 0.5 });
      await noRetry.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db1' }));
      await assert.rejects(noRetry.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db1' })), { name: 'Throttling' });
      await assert.rejects(h.admin.throttle({ burst: 0, ratePerSecond: 1 }), /burst/);
      await assert.rejects(h.admin.throttle({ burst: 10, ratePerSecond: -1 }), /ratePerSecond/);
    });

    it('simulated time jumps (/_sim/advance) do not refill the bucket', async function () {
      for (let i = 0; i < 5; i++) await noRetry.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db1' }));
      await h.admin.advance(3600);
      await assert.rejects(noRetry.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db1' })), { name: 'Throttling' });
    });
  });

  it('npm run sim -- --rds-throttle aws | BURST/RATE', function () {
    assert.deepEqual(parseSimulatorArgs(['--rds-throttle', 'aws']).rdsThrottle, { burst: 300, ratePerSecond: 12 });
    assert.deepEqual(parseSimulatorArgs(['--rds-throttle', '50/2.5']).rdsThrottle, { burst: 50, ratePerSecond: 2.5 });
    assert.equal(parseSimulatorArgs([]).rdsThrottle, undefined);
    assert.throws(() => parseSimulatorArgs(['--rds-throttle', '12']), /BURST\/RATE/);
  });
});
