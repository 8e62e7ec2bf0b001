/**
 * Which listed instances a fleet stage takes (src/domain/fleet-selection.ts), on instances shaped as
 * DescribeDBInstances lists them (the activity's own conversion of the SDK answer): the same rules for the RDS
 * activity, `campaign plan` and the workflow tests' fake.
 */
import assert from 'node:assert/strict';
import type { DBInstance } from '@aws-sdk/client-rds';
import { instanceBasics } from '../../src/activities/rds-shapes';
import type { FleetQuery } from '../../src/api';
import { keptTags, listedIds, selectFleet, toFleetMember } from '../../src/domain/fleet-selection';

const REGION = 'eu-west-2';
const db = (id: string, over: Partial<DBInstance> & { tags?: Record<string, string> } = {}): DBInstance => {
  const { tags = {}, ...rest } = over;
  return {
    DBInstanceIdentifier: id,
    DBInstanceArn: `arn:aws:rds:${REGION}:123456789012:db:${id}`,
    Engine: 'postgres',
    EngineVersion: '15.5',
    DBInstanceStatus: 'available',
    DBInstanceClass: 'db.r6g.large',
    AllocatedStorage: 100,
    AutoMinorVersionUpgrade: false,
    PreferredMaintenanceWindow: 'sun:03:00-sun:03:30',
    TagList: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    ...rest,
  };
};
const PROD = { team: 'orders', env: 'prod' };
const listing = [
  db('orders-b', { tags: PROD }),
  db('orders-a', { tags: { ...PROD, owner: 'alice' } }),
  db('orders-stopped', { tags: PROD, DBInstanceStatus: 'stopped' }),
  db('orders-old', { tags: PROD, EngineVersion: '15.4' }),
  db('orders-mysql', { tags: PROD, Engine: 'mysql', EngineVersion: '8.0.35' }),
  db('orders-staging', { tags: { team: 'orders', env: 'staging' } }),
  db('orders-key-case', { tags: { Team: 'orders', env: 'prod' } }),
].map((d) => instanceBasics(REGION, d));

describe('domain: fleet selection (DescribeDBInstances listing)', () => {
  it('by tags: exact keys and values, every status, ordered by id; another engine or version excluded with the reason', () => {
    const q: FleetQuery = { tags: PROD, engine: 'postgres', engineVersion: '15.5' };
    const s = selectFleet(listing, q);
    assert.deepEqual(s.chosen.map((c) => c.instanceId), ['orders-a', 'orders-b', 'orders-stopped']);
    assert.deepEqual(s.excluded, [
      { instanceId: 'orders-mysql', reason: 'engine mysql' },
      { instanceId: 'orders-old', reason: 'at 15.4, not 15.5' },
    ]);
    assert.deepEqual(s.missing, []);
  });

  it('listed instances: in the order given, any case, missing ones reported as given, mismatches excluded with every reason', () => {
    const q: FleetQuery = { instanceIds: ['Orders-B', 'orders-gone', 'orders-staging', 'ORDERS-B', 'orders-mysql'], tags: { env: 'prod' }, engine: 'postgres' };
    assert.deepEqual(listedIds(q), ['orders-b', 'orders-gone', 'orders-staging', 'orders-mysql']);
    const s = selectFleet(listing, q);
    assert.deepEqual(s.chosen.map((c) => c.instanceId), ['orders-b']);
    assert.deepEqual(s.missing, ['orders-gone']);
    assert.deepEqual(s.excluded, [
      { instanceId: 'orders-staging', reason: 'tag env=staging, not prod' },
      { instanceId: 'orders-mysql', reason: 'engine mysql' },
    ]);
    assert.equal(listedIds({ engine: 'postgres', tags: PROD }), undefined);
  });

  it('a member keeps the selection\'s and keepTags\' tags only, no ARN, with its pending actions', () => {
    const q: FleetQuery = { tags: PROD, engine: 'postgres', keepTags: ['owner', 'cost'] };
    const a = selectFleet(listing, q).chosen[0];
    assert.deepEqual(keptTags(a.tags, q), { team: 'orders', env: 'prod', owner: 'alice' });
    const member = toFleetMember(a, q, [{ action: 'db-upgrade', description: 'Upgrade to PostgreSQL 15.8' }]);
    assert.equal('arn' in member, false);
    assert.deepEqual(member, {
      region: REGION, instanceId: 'orders-a', engine: 'postgres', engineVersion: '15.5', status: 'available', preferredMaintenanceWindow: 'sun:03:00-sun:03:30',
      autoMinorVersionUpgrade: false, instanceClass: 'db.r6g.large', allocatedStorage: 100, tags: { team: 'orders', env: 'prod', owner: 'alice' },
      pending: [{ action: 'db-upgrade', description: 'Upgrade to PostgreSQL 15.8' }],
    });
  });
});
