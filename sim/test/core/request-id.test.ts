/**
 * Every AWS answer carries one request id, as AWS's do: the SDK reads it into `$metadata.requestId`, and the
 * call log records the same id, so a change record can name the request of each change.
 */
import assert from 'node:assert/strict';
import { DescribeDBInstancesCommand, ModifyDBInstanceCommand } from '@aws-sdk/client-rds';
import { DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { ListHostedZonesCommand } from '@aws-sdk/client-route-53';
import { demoFleet } from '../../src/demo-fleet';
import { startHarness, type SimHarness } from '../helpers';

describe('simulator: request ids', function () {
  let h: SimHarness;
  before(async function () {
    h = await startHarness();
    await h.admin.seed(demoFleet(h.clock.now()));
  });
  after(async function () {
    await h.close();
  });

  it('the id the SDK reads from each answer is the one in the call log (RDS, EC2, Route 53; answers and errors)', async function () {
    const ids = [
      (await h.rds.send(new DescribeDBInstancesCommand({}))).$metadata.requestId,
      (await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'notifydb-preview', AutoMinorVersionUpgrade: true, ApplyImmediately: true }))).$metadata.requestId,
      (await h.ec2.send(new DescribeSecurityGroupsCommand({}))).$metadata.requestId,
      (await h.route53.send(new ListHostedZonesCommand({}))).$metadata.requestId,
    ];
    const failed = await h.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'nope' })).then(
      () => undefined,
      (err: { $metadata: { requestId?: string } }) => err.$metadata.requestId,
    );
    const logged = (await h.admin.calls()).map((c) => c.requestId);
    for (const id of [...ids, failed]) {
      assert.match(String(id), /^[0-9a-f-]{36}$/);
      assert.ok(logged.includes(id), `${id} is in the call log`);
    }
    assert.equal(new Set(logged).size, logged.length, 'one id per request');
    const modify = (await h.admin.calls({ mutationsOnly: true })).find((c) => c.action === 'ModifyDBInstance');
    assert.equal(modify?.requestId, ids[1]);
  });
});
