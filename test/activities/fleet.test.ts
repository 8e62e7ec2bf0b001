/**
 * findFleet end to end: the product's RDS activity through the real SDK against the simulator (which lists
 * DescribeDBInstances with MaxRecords/Marker, TagList, and DescribePendingMaintenanceActions for a whole
 * region), plus the error mapping with a mocked client.
 */
import assert from 'node:assert/strict';
import { DescribeDBInstancesCommand, DescribePendingMaintenanceActionsCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { createActivities } from '../../src/activities';
import { createRdsActivities } from '../../src/activities/rds';
import { FailureTypes, type FleetQuery, type RdsActivities } from '../../src/api';
import { simulatorConfig } from '../../dev/simulator';
import { defaultCatalogue } from '../../sim';
import { SimAdminClient } from '../../sim';
import { ManualClock } from '../../sim';
import { startSimulator, type RunningSimulator } from '../../sim';
import type { SeedInstance } from '../../sim';
import { awsError, expectFailure } from './helpers';

const REGION = 'eu-west-2';
const ACCOUNT = '123456789012';
const arnOf = (id: string) => `arn:aws:rds:${REGION}:${ACCOUNT}:db:${id}`;
const PROD_ORDERS = { team: 'orders', env: 'prod' };

const instance = (id: string, extra: Partial<SeedInstance> = {}): SeedInstance => ({
  region: REGION,
  id,
  engineVersion: '15.5',
  instanceClass: 'db.r6g.large',
  allocatedStorage: 100,
  preferredMaintenanceWindow: 'sun:03:00-sun:03:30',
  autoMinorVersionUpgrade: false,
  ...extra,
});

describe('activities: findFleet against the simulator', function () {
  let sim: RunningSimulator;
  let admin: SimAdminClient;
  let client: RDSClient;
  let acts: RdsActivities;

  before(async function () {
    sim = await startSimulator({ port: 0, clock: new ManualClock(Date.UTC(2025, 0, 6, 12, 0, 0)) });
    admin = new SimAdminClient(sim.url);
    client = new RDSClient({ endpoint: sim.url, region: REGION, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    acts = createRdsActivities({ rdsClientFor: () => client });
    const big = Array.from({ length: 130 }, (_, n) => instance(`fleet-${String(n).padStart(3, '0')}`, { tags: { wave: 'big', n: String(n) } }));
    await admin.seed({
      reset: true,
      catalogue: [...defaultCatalogue(), { engine: 'mysql', major: '8', versions: ['8.0.35', '8.0.36'], autoUpgradeTarget: '8.0.36' }],
      instances: [
        instance('orders-b', { tags: { ...PROD_ORDERS } }),
        instance('orders-a', { tags: { ...PROD_ORDERS, owner: 'alice', cost: 'cc-1' }, autoMinorVersionUpgrade: true, preferredMaintenanceWindow: 'tue:02:00-tue:02:30' }),
        instance('orders-current', { engineVersion: '15.8', tags: { ...PROD_ORDERS } }),
        instance('orders-old', { engineVersion: '15.7', tags: { ...PROD_ORDERS } }),
        instance('orders-stopped', { status: 'stopped', tags: { ...PROD_ORDERS } }),
        instance('orders-mysql', { engine: 'mysql', engineVersion: '8.0.35', tags: { ...PROD_ORDERS } }),
        // Not the fleet: another value, a key or a value in another case, a tag missing, another team.
        instance('orders-staging', { tags: { team: 'orders', env: 'staging' } }),
        instance('orders-key-case', { tags: { Team: 'orders', env: 'prod' } }),
        instance('orders-value-case', { tags: { team: 'Orders', env: 'prod' } }),
        instance('orders-no-env', { tags: { team: 'orders' } }),
        instance('billing-a', { tags: { team: 'billing', env: 'prod' } }),
        // Same tags, another region: not this region's fleet.
        { ...instance('orders-elsewhere', { tags: { ...PROD_ORDERS } }), region: 'eu-west-1' },
        ...big,
      ],
    });
  });

  after(async function () {
    client?.destroy();
    await sim?.close();
  });

  const seqNow = async () => Math.max(0, ...(await admin.calls()).map((c) => c.seq));
  const callsSince = async (since: number, action: string) => (await admin.calls({ service: 'rds', action, since })).length;

  it('selects by two tags with exact values, every status, ordered by id; other engines and versions excluded with the reason', async function () {
    const since = await seqNow();
    const found = await acts.findFleet({ where: REGION, query: { tags: PROD_ORDERS, engine: 'postgres', engineVersion: '15.5' } });
    assert.deepEqual(
      found.members.map((m) => [m.instanceId, m.status, m.engineVersion]),
      [
        ['orders-a', 'available', '15.5'],
        ['orders-b', 'available', '15.5'],
        ['orders-stopped', 'stopped', '15.5'],
      ],
    );
    assert.deepEqual(found.excluded, [
      { instanceId: 'orders-current', reason: 'at 15.8, not 15.5' },
      { instanceId: 'orders-mysql', reason: 'engine mysql' },
      { instanceId: 'orders-old', reason: 'at 15.7, not 15.5' },
    ]);
    assert.deepEqual(found.missing, []);
    // 141 instances in the region: two pages of DescribeDBInstances; pending maintenance read once for the region.
    assert.equal(await callsSince(since, 'DescribeDBInstances'), 2);
    assert.equal(await callsSince(since, 'DescribePendingMaintenanceActions'), 2); // 140 with an action: two pages
  });

  it('returns each member with its fields, the kept tags only, and the pending actions of that instance', async function () {
    const query: FleetQuery = { tags: PROD_ORDERS, engine: 'postgres', keepTags: ['owner', 'absent'] };
    const found = await acts.findFleet({ where: REGION, query });
    const a = found.members.find((m) => m.instanceId === 'orders-a');
    assert.deepEqual(a, {
      region: REGION,
      instanceId: 'orders-a',
      engine: 'postgres',
      engineVersion: '15.5',
      status: 'available',
      preferredMaintenanceWindow: 'tue:02:00-tue:02:30',
      autoMinorVersionUpgrade: true,
      instanceClass: 'db.r6g.large',
      allocatedStorage: 100,
      tags: { team: 'orders', env: 'prod', owner: 'alice' },
      pending: await acts.listPendingMaintenance({ where: REGION, instanceId: 'orders-a' }),
    });
    assert.equal(a?.pending[0]?.action, 'db-upgrade');
    // Without engineVersion every postgres one is a member; the one at the preferred minor has nothing pending.
    const pending = Object.fromEntries(found.members.map((m) => [m.instanceId, m.pending.map((p) => `${p.action}: ${p.description ?? ''}`)]));
    assert.deepEqual(Object.keys(pending), ['orders-a', 'orders-b', 'orders-current', 'orders-old', 'orders-stopped']);
    assert.deepEqual(pending['orders-current'], []);
    for (const id of ['orders-a', 'orders-b', 'orders-old', 'orders-stopped']) {
      assert.deepEqual(found.members.find((m) => m.instanceId === id)?.pending, await acts.listPendingMaintenance({ where: REGION, instanceId: id }), id);
      assert.equal(pending[id]?.length, 1, id);
    }
    assert.deepEqual(found.excluded, [{ instanceId: 'orders-mysql', reason: 'engine mysql' }]);
    for (const m of found.members) assert.deepEqual(Object.keys(m.tags).sort(), ['env', 'team'].concat(m.instanceId === 'orders-a' ? ['owner'] : []).sort());
  });

  it('takes listed instances in the order given (any case), reports the missing ones, and excludes the ones that do not match', async function () {
    const since = await seqNow();
    const found = await acts.findFleet({ where: REGION, query: {
      instanceIds: ['orders-b', 'Orders-A', 'no-such-db', 'orders-mysql', 'orders-staging', 'orders-old', 'orders-b', 'orders-elsewhere'],
      tags: PROD_ORDERS,
      engine: 'postgres',
      engineVersion: '15.5',
    } });
    assert.deepEqual(found.members.map((m) => m.instanceId), ['orders-b', 'orders-a']);
    assert.deepEqual(found.missing, ['no-such-db', 'orders-elsewhere']);
    assert.deepEqual(found.excluded, [
      { instanceId: 'orders-mysql', reason: 'engine mysql' },
      { instanceId: 'orders-staging', reason: 'tag env=staging, not prod' },
      { instanceId: 'orders-old', reason: 'at 15.7, not 15.5' },
    ]);
    // A db-instance-id filter: one page, however large the region.
    assert.equal(await callsSince(since, 'DescribeDBInstances'), 1);
    assert.equal(await callsSince(since, 'DescribePendingMaintenanceActions'), 2);
  });

  it('listed instances without tags: only the engine and version must match', async function () {
    const found = await acts.findFleet({ where: REGION, query: { instanceIds: ['orders-staging', 'orders-no-env'], engine: 'postgres' } });
    assert.deepEqual(found.members.map((m) => [m.instanceId, m.tags]), [['orders-staging', {}], ['orders-no-env', {}]]);
    assert.deepEqual(found.excluded, []);
  });

  it('pages over more than 100 instances, by tags and by a list longer than one filter takes', async function () {
    const byTag = await acts.findFleet({ where: REGION, query: { tags: { wave: 'big' }, engine: 'postgres', keepTags: ['n'] } });
    assert.equal(byTag.members.length, 130);
    assert.deepEqual(byTag.members.map((m) => m.instanceId), Array.from({ length: 130 }, (_, n) => `fleet-${String(n).padStart(3, '0')}`));
    assert.ok(byTag.members.every((m) => m.pending.length === 1 && m.pending[0]?.action === 'db-upgrade'));
    assert.deepEqual(byTag.members[129]?.tags, { wave: 'big', n: '129' });

    const listed = Array.from({ length: 120 }, (_, n) => `fleet-${String(129 - n).padStart(3, '0')}`);
    const since = await seqNow();
    const byList = await acts.findFleet({ where: REGION, query: { instanceIds: [...listed, 'fleet-999'], engine: 'postgres' } });
    assert.deepEqual(byList.members.map((m) => m.instanceId), listed);
    assert.deepEqual(byList.missing, ['fleet-999']);
    assert.ok(byList.members.every((m) => m.pending.length === 1));
    // 121 identifiers are more than one db-instance-id filter takes: the region's listing, two pages.
    assert.equal(await callsSince(since, 'DescribeDBInstances'), 2);
  });

  it('an empty list selects nothing and calls nothing; a selection of no one reads no pending maintenance', async function () {
    const since = await seqNow();
    assert.deepEqual(await acts.findFleet({ where: REGION, query: { instanceIds: [], engine: 'postgres' } }), { members: [], missing: [], excluded: [] });
    assert.equal(await callsSince(since, 'DescribeDBInstances'), 0);
    const none = await acts.findFleet({ where: REGION, query: { tags: { team: 'nobody' }, engine: 'postgres' } });
    assert.deepEqual(none, { members: [], missing: [], excluded: [] });
    assert.equal(await callsSince(since, 'DescribePendingMaintenanceActions'), 0);
  });

  it('works through the worker activities (configured clients, request budget, keep-alive)', async function () {
    const all = createActivities({ config: simulatorConfig(sim.url), env: {}, notifyLog: () => undefined });
    const found = await all.findFleet({ where: { region: REGION }, query: { tags: PROD_ORDERS, engine: 'postgres', engineVersion: '15.5' } });
    assert.deepEqual(found.members.map((m) => m.instanceId), ['orders-a', 'orders-b', 'orders-stopped']);
    assert.deepEqual(found.members.find((m) => m.instanceId === 'orders-b')?.pending.map((p) => p.action), ['db-upgrade']);
  });

  it('a throttled listing is a retryable AwsCallFailed naming the fleet call', async function () {
    await admin.faults({ throttleNext: 1 });
    try {
      await expectFailure(acts.findFleet({ where: REGION, query: { tags: PROD_ORDERS, engine: 'postgres' } }), {
        type: FailureTypes.AwsCallFailed,
        nonRetryable: false,
        message: [/DescribeDBInstances \(fleet\)/, /Throttling/],
      });
    } finally {
      await admin.faults({ throttleNext: 0 });
    }
  });
});

describe('activities: findFleet error mapping', function () {
  const client = new RDSClient({ region: REGION });
  const rdsMock = mockClient(client);
  const acts = createRdsActivities({ rdsClientFor: () => client });
  afterEach(() => rdsMock.reset());

  it('AccessDenied is a non-retryable Unauthorized naming the fleet call and the region', async function () {
    rdsMock.on(DescribeDBInstancesCommand).rejects(awsError('AccessDenied', 'User is not authorized to perform: rds:DescribeDBInstances', 403));
    await expectFailure(acts.findFleet({ where: REGION, query: { tags: PROD_ORDERS, engine: 'postgres' } }), {
      type: FailureTypes.Unauthorized,
      nonRetryable: true,
      message: [/DescribeDBInstances \(fleet\)/, /eu-west-2/, /AccessDenied/],
    });
  });

  it('matches pending actions by ARN, whatever the case, and ignores resources that are not members', async function () {
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        { DBInstanceIdentifier: 'orders-a', DBInstanceArn: arnOf('orders-a'), Engine: 'postgres', EngineVersion: '15.5', DBInstanceStatus: 'available', TagList: [{ Key: 'team', Value: 'orders' }, { Key: 'env', Value: 'prod' }] },
      ],
    });
    rdsMock
      .on(DescribePendingMaintenanceActionsCommand, { Marker: undefined, MaxRecords: 100 })
      .resolves({ Marker: 'm2', PendingMaintenanceActions: [{ ResourceIdentifier: `arn:aws:rds:${REGION}:${ACCOUNT}:cluster:other`, PendingMaintenanceActionDetails: [{ Action: 'system-update' }] }] })
      .on(DescribePendingMaintenanceActionsCommand, { Marker: 'm2', MaxRecords: 100 })
      .resolves({ PendingMaintenanceActions: [{ ResourceIdentifier: arnOf('ORDERS-A'), PendingMaintenanceActionDetails: [{ Action: 'db-upgrade', Description: 'Upgrade to PostgreSQL 15.8', AutoAppliedAfterDate: new Date('2025-02-01T00:00:00Z') }] }] });
    const found = await acts.findFleet({ where: REGION, query: { tags: PROD_ORDERS, engine: 'postgres' } });
    assert.deepEqual(found.members[0]?.pending, [{ action: 'db-upgrade', description: 'Upgrade to PostgreSQL 15.8', autoAppliedAfterDate: '2025-02-01T00:00:00.000Z' }]);
    assert.equal(found.members[0]?.instanceClass, '');
    assert.deepEqual(rdsMock.commandCalls(DescribeDBInstancesCommand).map((c) => c.args[0].input), [{ Filters: undefined, MaxRecords: 100, Marker: undefined }]);
  });
});
