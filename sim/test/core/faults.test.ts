import assert from 'node:assert/strict';
import { DescribeDBInstancesCommand, ModifyDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { currentLatency, noFaults, setFaults, takeFault, type FaultKind } from '../../src/core/faults';
import { CREDENTIALS, REGION, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';

describe('sim: injected faults (timeouts, resets, a random fraction, slow periods)', function () {
  describe('the fault state', function () {
    it('takes the counted faults first, in order: throttling, errors, timeouts, resets, lost answers', function () {
      const s = noFaults();
      setFaults(s, { throttleNext: 1, errorNext: 1, status: 503, timeoutNext: 1, resetNext: 1, lostNext: 1, hangMs: 1234 });
      assert.deepEqual([takeFault(s), takeFault(s), takeFault(s), takeFault(s), takeFault(s), takeFault(s)], [
        { kind: 'throttle' },
        { kind: 'error', status: 503 },
        { kind: 'timeout', hangMs: 1234 },
        { kind: 'reset' },
        { kind: 'lost' },
        undefined,
      ]);
      assert.deepEqual(s.injected, { throttle: 1, error: 1, timeout: 1, reset: 1, lost: 1 });
    });

    it('a random fraction: about the rate, every kind drawn, the same draws for the same seed', function () {
      const draw = (seed: number) => {
        const s = noFaults();
        setFaults(s, { random: { rate: 0.05, seed } });
        return Array.from({ length: 20_000 }, () => takeFault(s)?.kind);
      };
      const a = draw(42);
      assert.deepEqual(draw(42), a, 'same seed, same faults');
      assert.notDeepEqual(draw(43), a, 'another seed, other faults');
      const hits = a.filter((k): k is FaultKind => k !== undefined);
      assert.ok(hits.length > 800 && hits.length < 1200, `${hits.length} faults in 20 000 calls at 5 %`);
      for (const kind of ['throttle', 'error', 'timeout', 'reset'] as const) {
        const n = hits.filter((k) => k === kind).length;
        assert.ok(n > hits.length / 8, `${kind}: ${n} of ${hits.length}`);
      }
    });

    it('random faults only of the kinds asked for; null turns them off; counted faults come first', function () {
      const s = noFaults();
      setFaults(s, { random: { rate: 1, kinds: ['reset'], seed: 3 }, errorNext: 1 });
      assert.deepEqual([takeFault(s)?.kind, takeFault(s)?.kind, takeFault(s)?.kind], ['error', 'reset', 'reset']);
      setFaults(s, { random: null });
      assert.equal(takeFault(s), undefined);
      // A lost answer is drawn only when named: a seed draws what it drew before the kind existed.
      setFaults(s, { random: { rate: 1, seed: 3 } });
      assert.ok(Array.from({ length: 200 }, () => takeFault(s)?.kind).every((k) => k !== 'lost'));
      setFaults(s, { random: { rate: 1, kinds: ['lost'], seed: 3 } });
      assert.equal(takeFault(s)?.kind, 'lost');
    });

    it('a slow period ends by itself; latency without latencyForMs stays until set back to 0', function () {
      const s = noFaults();
      setFaults(s, { latencyMs: 3000, latencyForMs: 60_000 }, 1_000_000);
      assert.equal(currentLatency(s, 1_059_999), 3000);
      assert.equal(currentLatency(s, 1_060_000), 0);
      assert.equal(s.latencyUntil, undefined);
      setFaults(s, { latencyMs: 200 }, 1_000_000);
      assert.equal(currentLatency(s, 9_000_000), 200);
    });

    it('refuses a wrong spec without changing anything', function () {
      const s = noFaults();
      const cases: [object, RegExp][] = [
        [{ random: { rate: 1.5 } }, /random\.rate must be a fraction/],
        [{ random: { rate: 0.1, kinds: ['dropped'] } }, /random\.kinds: \["dropped"\] is not one of/],
        [{ random: { rate: 0.1, kinds: [] } }, /non-empty list/],
        [{ random: { rate: 0.1, every: 2 } }, /random has no every/],
        [{ timeoutNext: -1 }, /timeoutNext must be a non-negative integer/],
        [{ latencyForMs: 1000 }, /latencyForMs needs latencyMs/],
        [{ resetNext: 2, hangMs: 'long' }, /hangMs must be a non-negative integer/],
      ];
      for (const [spec, message] of cases) assert.throws(() => setFaults(s, spec), message);
      assert.deepEqual(s, noFaults());
    });
  });

  describe('through the SDK', function () {
    let h: SimHarness;
    beforeEach(async function () {
      h = await startHarness();
      await h.admin.seed({ instances: [{ region: REGION, id: 'db1', engineVersion: '15.5', autoMinorVersionUpgrade: false }] });
    });
    afterEach(async function () {
      await h.close();
    });

    it('a timeout holds the request unanswered: the SDK gives up after its request timeout and retries to success', async function () {
      const rds = new RDSClient({ endpoint: h.sim.url, region: REGION, credentials: CREDENTIALS, requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true } });
      await h.admin.faults({ timeoutNext: 1, hangMs: 5000 });
      const t0 = Date.now();
      const out = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db1' }));
      rds.destroy();
      assert.equal(out.$metadata.attempts, 2);
      assert.ok(Date.now() - t0 < 4000, `the client gave up before the hang ended (${Date.now() - t0} ms)`);
      const calls = await h.admin.calls({ action: 'DescribeDBInstances' });
      assert.deepEqual(calls.map((c) => [c.fault, c.httpStatus]), [
        ['timeout', 0],
        [undefined, 200],
      ]);
    });

    it('a reset closes the connection unanswered and the service never sees the request: nothing changes', async function () {
      const once = new RDSClient({ endpoint: h.sim.url, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
      await h.admin.faults({ resetNext: 1 });
      await assert.rejects(once.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db1', AutoMinorVersionUpgrade: true })), (err: Error & { code?: string }) => {
        assert.match(`${err.name} ${err.code ?? ''} ${err.message}`, /ECONNRESET|socket hang up/i);
        return true;
      });
      once.destroy();
      assert.equal((await h.describeOne('db1')).AutoMinorVersionUpgrade, false);
      const [modify] = await h.admin.calls({ action: 'ModifyDBInstance' });
      assert.deepEqual([modify?.fault, modify?.httpStatus, modify?.isMutation], ['reset', 0, true]);
      // The SDK's default retries treat a reset as transient.
      await h.admin.faults({ resetNext: 1 });
      const out = await h.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db1' }));
      assert.equal(out.$metadata.attempts, 2);
    });

    it('a lost answer: the service makes the change and logs it, the client gets no answer (its SDK would send it again)', async function () {
      const once = new RDSClient({ endpoint: h.sim.url, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
      await h.admin.faults({ lostNext: 1 });
      await assert.rejects(once.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db1', AutoMinorVersionUpgrade: true, ApplyImmediately: true })), (err: Error & { code?: string }) => {
        assert.match(`${err.name} ${err.code ?? ''} ${err.message}`, /ECONNRESET|socket hang up/i);
        return true;
      });
      once.destroy();
      assert.equal((await h.describeOne('db1')).AutoMinorVersionUpgrade, true, 'the change was made');
      const [modify] = await h.admin.calls({ action: 'ModifyDBInstance' });
      assert.deepEqual([modify?.fault, modify?.httpStatus, modify?.isMutation], ['lost', 200, true]);
    });

    it('random faults and a slow period through the admin API; GET /_sim/faults counts what was injected', async function () {
      await h.admin.faults({ random: { rate: 1, kinds: ['throttle'], seed: 9 } });
      const noRetry = new RDSClient({ endpoint: h.sim.url, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
      await assert.rejects(noRetry.send(new DescribeDBInstancesCommand({})), { name: 'Throttling' });
      noRetry.destroy();
      const after = await h.admin.faults({ random: null, latencyMs: 150, latencyForMs: 400 });
      assert.equal(after.injected.throttle, 1);
      assert.equal(after.random, null);
      const t0 = Date.now();
      await h.rds.send(new DescribeDBInstancesCommand({}));
      assert.ok(Date.now() - t0 >= 140, `slow: ${Date.now() - t0} ms`);
      await new Promise((r) => setTimeout(r, 450));
      await h.rds.send(new DescribeDBInstancesCommand({}));
      // The period ended by itself (read from the simulator's state, not timed: a busy machine is slow anyway).
      const ended = (await (await fetch(`${h.sim.url}/_sim/faults`)).json()) as { latencyMs: number; latencyUntil?: number };
      assert.deepEqual([ended.latencyMs, ended.latencyUntil], [0, undefined], JSON.stringify(ended));
    });
  });
});
