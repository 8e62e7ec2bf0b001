/**
 * What a fleet listing relies on (src/activities/rds.ts findFleet): DescribeDBInstances filters and the
 * TagList of every instance, and DescribePendingMaintenanceActions for a whole region.
 */
import assert from 'node:assert/strict';
import { DescribeDBInstancesCommand, DescribePendingMaintenanceActionsCommand } from '@aws-sdk/client-rds';
import type { Filter } from '@aws-sdk/client-rds';
import { defaultCatalogue } from '../../src/rds/catalogue';
import { ACCOUNT, REGION, rejectsWith, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';

describe('sim: RDS filters and whole-region listings', function () {
  let h: SimHarness;

  before(async function () {
    h = await startHarness();
    await h.admin.seed({
      catalogue: [...defaultCatalogue(), { engine: 'mysql', major: '8', versions: ['8.0.35', '8.0.36'], autoUpgradeTarget: '8.0.36' }],
      instances: [
        { region: REGION, id: 'pg-a', engineVersion: '15.5', tags: { team: 'orders', env: 'prod' } },
        { region: REGION, id: 'pg-b', engineVersion: '15.8', tags: { team: 'orders' } },
        { region: REGION, id: 'pg-stopped', engineVersion: '15.5', status: 'stopped' },
        { region: REGION, id: 'my-a', engine: 'mysql', engineVersion: '8.0.35', tags: { team: 'orders', env: 'prod' } },
        { region: 'us-east-1', id: 'pg-elsewhere', engineVersion: '15.5' },
      ],
    });
  });
  after(async function () {
    await h.close();
  });

  const ids = async (Filters: Filter[]) => (await h.rds.send(new DescribeDBInstancesCommand({ Filters }))).DBInstances?.map((i) => i.DBInstanceIdentifier);

  // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBInstances.html: Filters
  // db-cluster-id, db-instance-id ("DB instance identifiers and DB instance ARNs"), dbi-resource-id, domain,
  // engine ("Accepts engine names"); several values of one filter match any of them.
  it('DescribeDBInstances filters by engine and by db-instance-id (identifiers and ARNs), all filters at once', async function () {
    assert.deepEqual(await ids([{ Name: 'engine', Values: ['postgres'] }]), ['pg-a', 'pg-b', 'pg-stopped']);
    assert.deepEqual(await ids([{ Name: 'engine', Values: ['mysql', 'postgres'] }]), ['my-a', 'pg-a', 'pg-b', 'pg-stopped']);
    assert.deepEqual(await ids([{ Name: 'db-instance-id', Values: ['pg-b', `arn:aws:rds:${REGION}:${ACCOUNT}:db:my-a`, 'no-such-db'] }]), ['my-a', 'pg-b']);
    assert.deepEqual(await ids([{ Name: 'db-instance-id', Values: ['pg-b', 'my-a'] }, { Name: 'engine', Values: ['mysql'] }]), ['my-a']);
    // Another region's instance is not this region's, by id or by filter.
    assert.deepEqual(await ids([{ Name: 'db-instance-id', Values: ['pg-elsewhere'] }]), []);
  });

  // RDS has no tag filter: a `tag:` filter is refused with InvalidParameterValue (boto/boto3#3119, the
  // feature request aws/aws-sdk#177); tags are read from each instance's TagList instead.
  it('DescribeDBInstances refuses a tag filter, and every listed instance carries its TagList', async function () {
    await rejectsWith(h.rds.send(new DescribeDBInstancesCommand({ Filters: [{ Name: 'tag:team', Values: ['orders'] }] })), 'InvalidParameterValue', 'Unrecognized filter name: tag:team');
    const all = await h.rds.send(new DescribeDBInstancesCommand({}));
    const tags = Object.fromEntries((all.DBInstances ?? []).map((i) => [i.DBInstanceIdentifier, (i.TagList ?? []).map((t) => `${t.Key}=${t.Value}`)]));
    assert.deepEqual(tags, { 'my-a': ['team=orders', 'env=prod'], 'pg-a': ['team=orders', 'env=prod'], 'pg-b': ['team=orders'], 'pg-stopped': [] });
  });

  // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribePendingMaintenanceActions.html:
  // ResourceIdentifier and Filters are optional; without them the answer covers the region's resources.
  it('DescribePendingMaintenanceActions without a resource or filter lists every instance of the region with an action, by ARN', async function () {
    const out = await h.rds.send(new DescribePendingMaintenanceActionsCommand({}));
    const listed = (out.PendingMaintenanceActions ?? []).map((r) => [r.ResourceIdentifier, r.PendingMaintenanceActionDetails?.map((a) => a.Action)]);
    assert.deepEqual(listed, [
      [`arn:aws:rds:${REGION}:${ACCOUNT}:db:my-a`, ['db-upgrade']],
      [`arn:aws:rds:${REGION}:${ACCOUNT}:db:pg-a`, ['db-upgrade']],
      [`arn:aws:rds:${REGION}:${ACCOUNT}:db:pg-stopped`, ['db-upgrade']],
    ]);
  });
});
