/**
 * Reading DescribePendingMaintenanceActions (src/domain/pending-maintenance.ts) and the identifiers RDS names
 * instances by (src/domain/aws-identity.ts): the rules the RDS activity, the workflows and `campaign plan`
 * share. The actions are shaped as AWS lists them (Action values from the API reference; descriptions as RDS
 * and the simulator write them).
 */
import assert from 'node:assert/strict';
import type { PendingMaintenanceAction } from '../../src/api';
import { dbInstanceIdOf, namesDbInstance } from '../../src/domain/aws-identity';
import { awsUpgradeDeadline, pendingUpgradeContaining, pendingUpgradeTo, upgradeNowBy } from '../../src/domain/pending-maintenance';

const ARN = 'arn:aws:rds:eu-west-2:123456789012:db:orders-db';

/** One PendingMaintenanceActionDetails entry, as the activity returns it. */
const action = (a: string, description?: string, extra: Partial<PendingMaintenanceAction> = {}): PendingMaintenanceAction => ({ action: a, ...(description ? { description } : {}), ...extra });

describe('domain: pending maintenance (DescribePendingMaintenanceActions)', () => {
  describe('pendingUpgradeTo: the pending db-upgrade to exactly the target', () => {
    for (const [description, target, found] of [
      ['Upgrade to PostgreSQL 15.8', '15.8', true],
      ['Automatic minor version upgrade to postgres 15.7.', '15.7', true],
      ['Upgrade to PostgreSQL 15.12', '15.1', false],
      ['Upgrade to PostgreSQL 15.10', '15.1', false],
      ['Upgrade to PostgreSQL 15.12', '5.12', false],
      ['Minor version upgrade', '15.8', false],
      ['Upgrade to PostgreSQL 15.6', '15.8', false],
    ] as const) {
      it(`"${description}" ${found ? 'is' : 'is not'} the upgrade to ${target}`, () => {
        const pending = [action('system-update', 'New Operating System update is available'), action('db-upgrade', description)];
        assert.equal(pendingUpgradeTo(pending, target), found ? pending[1] : undefined);
      });
    }

    it('only a db-upgrade counts: another action naming the version is not the engine upgrade', () => {
      assert.equal(pendingUpgradeTo([action('os-upgrade', 'Upgrade to PostgreSQL 15.8'), action('system-update', '15.8')], '15.8'), undefined);
      assert.equal(pendingUpgradeTo([], '15.8'), undefined);
      assert.equal(pendingUpgradeTo([action('db-upgrade')], '15.8'), undefined, 'a db-upgrade without a description names no version');
    });

    it('the replay rule of older runs (pendingUpgradeContaining) took 15.12 for 15.1; the current rule does not', () => {
      const pending = [action('db-upgrade', 'Upgrade to PostgreSQL 15.12')];
      assert.equal(pendingUpgradeContaining(pending, '15.1'), pending[0]);
      assert.equal(pendingUpgradeTo(pending, '15.1'), undefined);
      assert.equal(pendingUpgradeContaining(pending, '15.12'), pending[0]);
      assert.equal(pendingUpgradeContaining([action('system-update', '15.12')], '15.1'), undefined);
    });
  });

  describe('upgradeNowBy: how an upgrade now is started', () => {
    it('applies the pending db-upgrade that names the target', () => {
      const pending = [action('db-upgrade', 'Upgrade to PostgreSQL 15.8', { autoAppliedAfterDate: '2025-02-01T00:00:00.000Z' })];
      assert.deepEqual(upgradeNowBy(pending, '15.8'), { kind: 'apply-pending-action', action: pending[0] });
    });

    it('sets the version itself when the pending db-upgrade would install another one, names none, or there is none', () => {
      assert.deepEqual(upgradeNowBy([action('db-upgrade', 'Upgrade to PostgreSQL 15.12')], '15.1'), { kind: 'modify-engine-version' });
      assert.deepEqual(upgradeNowBy([action('db-upgrade', 'Minor version upgrade')], '15.8'), { kind: 'modify-engine-version' });
      assert.deepEqual(upgradeNowBy([action('system-update', 'Upgrade to PostgreSQL 15.8')], '15.8'), { kind: 'modify-engine-version' });
      assert.deepEqual(upgradeNowBy([], '15.8'), { kind: 'modify-engine-version' });
    });
  });

  it('awsUpgradeDeadline: the earlier of AutoAppliedAfterDate and ForcedApplyDate of a db-upgrade only', () => {
    const pending = [
      action('db-upgrade', 'Upgrade to PostgreSQL 15.8', { autoAppliedAfterDate: '2025-03-01T00:00:00.000Z', forcedApplyDate: '2025-02-15T00:00:00.000Z' }),
      action('system-update', 'OS patch', { forcedApplyDate: '2025-01-01T00:00:00.000Z' }),
    ];
    assert.equal(awsUpgradeDeadline(pending), Date.parse('2025-02-15T00:00:00Z'));
    assert.equal(awsUpgradeDeadline([action('db-upgrade', 'Upgrade to PostgreSQL 15.8', { currentApplyDate: '2025-01-01T00:00:00.000Z' })]), undefined, 'CurrentApplyDate alone is not AWS applying it by itself');
  });

  describe('which instance a ResourceIdentifier names (dbInstanceIdOf, namesDbInstance)', () => {
    it('an instance ARN names its instance, whatever the case; an identifier names itself', () => {
      assert.equal(dbInstanceIdOf(ARN), 'orders-db');
      assert.equal(dbInstanceIdOf('arn:aws:rds:eu-west-2:123456789012:db:Orders-DB'), 'orders-db');
      assert.equal(dbInstanceIdOf('arn:aws-cn:rds:cn-north-1:123456789012:db:orders-db'), 'orders-db');
      assert.equal(dbInstanceIdOf('Orders-DB'), 'orders-db');
      assert.equal(namesDbInstance(ARN, 'ORDERS-DB'), true);
      assert.equal(namesDbInstance('orders-db', 'orders-db'), true);
    });

    it('another instance, a longer name or a cluster ARN is not the instance', () => {
      assert.equal(namesDbInstance(ARN.replace('orders-db', 'orders-db-ro'), 'orders-db'), false);
      assert.equal(namesDbInstance(ARN, 'db'), false, 'the whole name, not a suffix');
      assert.equal(dbInstanceIdOf('arn:aws:rds:eu-west-2:123456789012:cluster:orders-db'), undefined);
      assert.equal(namesDbInstance('arn:aws:rds:eu-west-2:123456789012:cluster:orders-db', 'orders-db'), false);
      assert.equal(namesDbInstance('', 'orders-db'), false);
    });
  });
});
