/**
 * A mutation is sent at most once per activity attempt (src/activities/clients.ts `mutationGate`), through the
 * product's own clients (the SDK's default retries on) against the simulator. Found by the soak (docs/soak.md): an
 * attempt that Temporal had timed out kept running, and its SDK sent a held ModifyDBInstance again after the next
 * attempt had made the change; another attempt did not see an upgrade already started by
 * ApplyPendingMaintenanceAction and applied it a second time.
 */
import assert from 'node:assert/strict';
import { DescribeDBInstancesCommand, ModifyDBInstanceCommand, type RDSClient } from '@aws-sdk/client-rds';
import { CancelledFailure } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { isReadOnlyCall } from '../../src/activities/clients';
import { mayHaveBeenApplied } from '../../src/activities/mutation-gate';
import type { RdsActivities } from '../../src/api';
import type { RunningSimulator } from '../../sim';
import { rdsOnSimulator } from './on-simulator';

const REGION = 'eu-west-2';
const where = REGION;

describe('activities: a mutation is sent at most once per attempt (the soak\'s duplicates)', function () {
  this.timeout(30_000);
  let sim: RunningSimulator;
  let rds: RDSClient;
  let acts: RdsActivities;

  beforeEach(async function () {
    const seed = {
      instances: [
        { region: REGION, id: 'db-flag', engineVersion: '15.5', autoMinorVersionUpgrade: false },
        { region: REGION, id: 'db-pending', engineVersion: '15.5', pendingMaintenance: { targetVersion: '15.8' } },
        { region: REGION, id: 'db-modify', engineVersion: '15.5' },
      ],
    };
    // The upgrade stays in flight long enough for a second attempt to read it.
    ({ sim, rds, acts } = await rdsOnSimulator(REGION, seed, { durations: { upgrading: 120 } }));
  });
  afterEach(async function () {
    await sim?.close();
  });

  const since = () => sim.engine.calls.at(-1)?.seq ?? 0;
  const calls = (from: number, action: string) => sim.engine.listCalls({ since: from, action });

  it('reads and mutations are told apart by the call', function () {
    for (const c of ['DescribeDBInstancesCommand', 'ListTagsForResourceCommand', 'GetChangeCommand', 'TestDNSAnswerCommand', 'LookupEventsCommand', 'AssumeRoleCommand', 'GetCallerIdentityCommand']) {
      assert.equal(isReadOnlyCall(c), true, c);
    }
    for (const c of ['ModifyDBInstanceCommand', 'ApplyPendingMaintenanceActionCommand', 'RestoreDBInstanceToPointInTimeCommand', 'StopDBInstanceCommand', 'ChangeResourceRecordSetsCommand', 'CreateSecurityGroupCommand', 'AuthorizeSecurityGroupIngressCommand', 'SwitchoverBlueGreenDeploymentCommand', undefined]) {
      assert.equal(isReadOnlyCall(c), false, String(c));
    }
  });

  it('a failed attempt may have been applied unless AWS answered it 4xx or throttled it', function () {
    const answered = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    assert.equal(mayHaveBeenApplied(answered('Throttling', 400)), false);
    assert.equal(mayHaveBeenApplied(answered('RequestLimitExceeded', 503)), false, "EC2's throttling");
    assert.equal(mayHaveBeenApplied(answered('ExpiredToken', 400)), false, 'refused before anything was done: the credentials are refreshed and it is sent again');
    assert.equal(mayHaveBeenApplied(answered('InvalidDBInstanceState', 400)), false);
    assert.equal(mayHaveBeenApplied(answered('InternalFailure', 500)), true);
    assert.equal(mayHaveBeenApplied(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), true, 'no answer');
    assert.equal(mayHaveBeenApplied(Object.assign(new Error('timed out'), { name: 'TimeoutError' })), true);
  });

  it('a mutation whose connection was cut is not sent again by the SDK (a read is); the error goes back to the activity', async function () {
    // A read: the SDK retries a cut connection, and the answer comes.
    let from = since();
    sim.engine.setFaults({ resetNext: 1 });
    const read = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db-flag' }));
    assert.equal(read.DBInstances?.[0]?.DBInstanceIdentifier, 'db-flag');
    assert.deepEqual(calls(from, 'DescribeDBInstances').map((c) => c.fault ?? c.httpStatus), ['reset', 200]);

    // A mutation: the cut request may have reached AWS, so the SDK does not send it again.
    for (const fault of [{ resetNext: 1 }, { errorNext: 1, status: 500 }]) {
      from = since();
      sim.engine.setFaults(fault);
      const err = await rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db-flag', AutoMinorVersionUpgrade: true, ApplyImmediately: true })).then(
        () => assert.fail(`${JSON.stringify(fault)}: the mutation was sent again and answered`),
        (e: unknown) => e as Error,
      );
      assert.ok(err instanceof Error);
      assert.equal(calls(from, 'ModifyDBInstance').length, 1, `${JSON.stringify(fault)}: sent once`);
    }

    // The activity's next attempt reads first, then changes it once.
    from = since();
    const r = await acts.setAutoMinorVersionUpgrade({ where, instanceId: 'db-flag', enabled: true });
    assert.equal(r.changed, true);
    assert.deepEqual(calls(from, 'ModifyDBInstance').map((c) => c.httpStatus), [200]);
    assert.deepEqual(calls(from, 'DescribeDBInstances').map((c) => c.httpStatus), [200], 'read before the change');
  });

  it('a lost answer (AWS made the change, the reply never came): not sent again; the next attempt reads the change and sends nothing', async function () {
    const from = since();
    // The answer of the first ModifyDBInstance is lost (armed as it is sent, after the activity's read).
    let armed = false;
    rds.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ModifyDBInstanceCommand' && !armed) {
          armed = true;
          sim.engine.setFaults({ lostNext: 1 });
        }
        return next(args);
      },
      { step: 'initialize', name: 'testLoseTheFirstModifyAnswer' },
    );
    // The attempt reads (flag off), sends the change; AWS makes it, the answer is lost: the attempt fails.
    await assert.rejects(acts.setAutoMinorVersionUpgrade({ where, instanceId: 'db-flag', enabled: true }));
    assert.deepEqual(calls(from, 'ModifyDBInstance').map((c) => [c.fault, c.httpStatus]), [['lost', 200]], 'sent once, and made');
    // Temporal's next attempt reads first: already on, nothing sent.
    const next = await acts.setAutoMinorVersionUpgrade({ where, instanceId: 'db-flag', enabled: true });
    assert.equal(next.changed, false, next.detail);
    assert.equal(calls(from, 'ModifyDBInstance').length, 1, 'one change in all');
  });

  it('a throttled mutation is sent again by the SDK: AWS did not process it', async function () {
    const from = since();
    sim.engine.setFaults({ throttleNext: 1 });
    await rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db-flag', AutoMinorVersionUpgrade: true, ApplyImmediately: true }));
    assert.deepEqual(calls(from, 'ModifyDBInstance').map((c) => c.errorCode ?? c.httpStatus), ['Throttling', 200]);
  });

  it('an attempt cancelled by Temporal (its heartbeat refused) sends no mutation after its read, and ends as cancelled', async function () {
    const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
    const from = since();
    // Every answer 400 ms late: the activity's read is in flight when the attempt is given up.
    sim.engine.setFaults({ latencyMs: 400 });
    const running = env.run(() => acts.setAutoMinorVersionUpgrade({ where, instanceId: 'db-flag', enabled: true }));
    running.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 150));
    env.cancel('TIMED_OUT');
    const err = await running.then(
      () => assert.fail('the cancelled attempt changed the flag'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof CancelledFailure, `ended as ${String(err)}`);
    sim.engine.setFaults({ latencyMs: 0 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(calls(from, 'DescribeDBInstances').length, 1, 'its read was answered');
    assert.equal(calls(from, 'ModifyDBInstance').length, 0, 'and nothing was changed');
    assert.equal((await acts.describeInstance({ where, instanceId: 'db-flag' })).autoMinorVersionUpgrade, false);
  });

  it('an upgrade started by ApplyPendingMaintenanceAction is seen by the next attempt (OptInStatus immediate): not applied twice', async function () {
    const from = since();
    const first = await acts.applyUpgradeNow({ where, instanceId: 'db-pending', targetVersion: '15.8' });
    assert.equal(first.changed, true);
    assert.equal(first.action, 'rds:ApplyPendingMaintenanceAction');
    const during = await acts.describeInstance({ where, instanceId: 'db-pending' });
    assert.equal(during.pendingEngineVersion, undefined, 'an applied maintenance action names no pending version');
    const pending = await acts.listPendingMaintenance({ where, instanceId: 'db-pending' });
    assert.deepEqual(pending.map((p) => [p.action, p.optInStatus]), [['db-upgrade', 'immediate']]);

    const again = await acts.applyUpgradeNow({ where, instanceId: 'db-pending', targetVersion: '15.8' });
    assert.equal(again.changed, false, again.detail);
    assert.match(again.detail, /already .* to 15\.8/);
    assert.equal(calls(from, 'ApplyPendingMaintenanceAction').length, 1);
    assert.equal(calls(from, 'ModifyDBInstance').length, 0);
  });

  it('an upgrade started by ModifyDBInstance EngineVersion is seen by the next attempt the same way', async function () {
    const from = since();
    // 15.7: no pending maintenance action names it, so the version itself is set.
    const first = await acts.applyUpgradeNow({ where, instanceId: 'db-modify', targetVersion: '15.7' });
    assert.equal(first.action, 'rds:ModifyDBInstance');
    const again = await acts.applyUpgradeNow({ where, instanceId: 'db-modify', targetVersion: '15.7' });
    assert.equal(again.changed, false, again.detail);
    assert.equal(calls(from, 'ModifyDBInstance').length, 1);
  });
});
