/**
 * Reading DBInstanceStatus (src/domain/instance-status.ts): when a wait is done, whether an upgrade is already
 * under way, whether a stop, start or modification can be sent now, and why a window watch ends. The statuses
 * are AWS's (available, modifying, upgrading, stopping, stopped, starting, backing-up, storage-optimization, ...).
 */
import assert from 'node:assert/strict';
import {
  UPGRADING_STATUSES,
  canModifyNow,
  isAsWanted,
  isAvailableAt,
  readinessToStart,
  readinessToStop,
  STUCK_STATUSES,
  stuckWhileWaiting,
  upgradeUnderWay,
  windowWatchEnd,
} from '../../src/domain/instance-status';

const at = (status: string, engineVersion = '15.5', autoMinorVersionUpgrade = false) => ({ status, engineVersion, autoMinorVersionUpgrade });

describe('domain: instance statuses (DescribeDBInstances DBInstanceStatus)', () => {
  it('an upgrade is under way while modifying or upgrading with the target queued as the pending engine version', () => {
    assert.deepEqual([...UPGRADING_STATUSES].sort(), ['modifying', 'upgrading']);
    assert.equal(upgradeUnderWay({ status: 'modifying', pendingEngineVersion: '15.8' }, '15.8'), true);
    assert.equal(upgradeUnderWay({ status: 'upgrading', pendingEngineVersion: '15.8' }, '15.8'), true);
    assert.equal(upgradeUnderWay({ status: 'upgrading', pendingEngineVersion: '15.7' }, '15.8'), false, 'another version in flight');
    assert.equal(upgradeUnderWay({ status: 'upgrading' }, '15.8'), false, 'nothing queued (a window applying another action)');
    assert.equal(upgradeUnderWay({ status: 'available', pendingEngineVersion: '15.8' }, '15.8'), false, 'queued for the next window, not running');
    assert.equal(upgradeUnderWay({ status: 'storage-optimization', pendingEngineVersion: '15.8' }, '15.8'), false);
    // ApplyPendingMaintenanceAction immediate: no pending version, the action opted in `immediate` (the soak's second duplicate).
    const action = (optInStatus?: string, description = 'Upgrade to PostgreSQL 15.8') => [{ action: 'db-upgrade', description, ...(optInStatus ? { optInStatus } : {}) }];
    assert.equal(upgradeUnderWay({ status: 'upgrading' }, '15.8', action('immediate')), true);
    assert.equal(upgradeUnderWay({ status: 'available' }, '15.8', action('immediate')), true, 'received, not started yet');
    assert.equal(upgradeUnderWay({ status: 'upgrading' }, '15.8', action('next-maintenance')), false, 'opted in for the window only');
    assert.equal(upgradeUnderWay({ status: 'upgrading' }, '15.8', action()), false);
    assert.equal(upgradeUnderWay({ status: 'upgrading' }, '15.8', action('immediate', 'Upgrade to PostgreSQL 15.12')), false, 'another version');
  });

  it('a wait is done when every wanted field matches; an unwanted one is not looked at', () => {
    assert.equal(isAsWanted(at('available', '15.8'), { status: 'available', engineVersion: '15.8' }), true);
    assert.equal(isAsWanted(at('upgrading', '15.8'), { status: 'available', engineVersion: '15.8' }), false);
    assert.equal(isAsWanted(at('available', '15.5'), { status: 'available', engineVersion: '15.8' }), false);
    assert.equal(isAsWanted(at('stopped', '15.5'), { status: 'stopped' }), true);
    assert.equal(isAsWanted(at('available', '15.5', true), { autoMinorVersionUpgrade: false }), false);
    assert.equal(isAsWanted(at('backing-up'), {}), true);
    assert.equal(isAvailableAt(at('available', '15.8'), '15.8'), true);
    assert.equal(isAvailableAt(at('upgrading', '15.8'), '15.8'), false, 'RDS shows the new version before the upgrade has ended');
    assert.equal(isAvailableAt({}, '15.8'), false);
  });

  describe('windowWatchEnd: why a window watch ends', () => {
    const want = { engineVersion: '15.8', autoMinorVersionUpgrade: true };
    for (const [what, instance, end] of [
      ['available at the target', at('available', '15.8', true), 'upgraded'],
      ['available past the target (15.10 > 15.8)', at('available', '15.10', true), 'past-target'],
      ['available with the flag turned off', at('available', '15.5', false), 'flag-off'],
      ['upgrading, flag off: the upgrade no longer needs it', at('upgrading', '15.5', false), undefined],
      ['at the target but still upgrading', at('upgrading', '15.8', true), undefined],
      ['available below the target with the flag on', at('available', '15.5', true), undefined],
      ['backing up before the window', at('backing-up', '15.5', true), undefined],
    ] as const) {
      it(`${what}: ${end ?? 'goes on'}`, () => assert.equal(windowWatchEnd(instance, want), end));
    }
    it('without the flag wanted, a flag found off does not end it', () => {
      assert.equal(windowWatchEnd(at('available', '15.5', false), { engineVersion: '15.8' }), undefined);
    });
  });

  describe('stuckWhileWaiting: a state that can no longer come by itself ends the wait', () => {
    it('names the statuses of AWS\'s table that RDS leaves only when a person acts, or never', () => {
      assert.deepEqual(Object.keys(STUCK_STATUSES).sort(), [
        'failed',
        'inaccessible-encryption-credentials',
        'inaccessible-encryption-credentials-recoverable',
        'incompatible-network',
        'incompatible-option-group',
        'incompatible-parameters',
        'incompatible-restore',
        'insufficient-capacity',
        'restore-error',
        'storage-full',
      ]);
    });
    for (const [what, status, want, stuck, storage] of [
      ['a restore that failed, waited for available', 'restore-error', { status: 'available' }, /restore into another identifier/],
      ['an upgrade RDS could not start at the target', 'incompatible-parameters', { status: 'available', engineVersion: '15.8' }, /parameter group/],
      ['a window watch (a version wanted) on a full disk', 'storage-full', { engineVersion: '15.8' }, /scale the storage up/],
      ['a stop waited for on a failed instance', 'failed', { status: 'stopped' }, /latest restorable time/],
      ['a restore still creating', 'creating', { status: 'available' }, undefined],
      ['an upgrade under way', 'upgrading', { status: 'available', engineVersion: '15.8' }, undefined],
      ['a stopped instance (RDS starts it again after 7 days)', 'stopped', { status: 'available' }, undefined],
      ['the status waited for itself', 'storage-full', { status: 'storage-full' }, undefined],
      ['a full disk storage autoscaling may still raise (MaxAllocatedStorage 200 above 100 GiB)', 'storage-full', { status: 'available' }, undefined, { allocatedStorage: 100, maxAllocatedStorage: 200 }],
      ['a full disk at its autoscaling limit', 'storage-full', { status: 'available' }, /autoscaling cannot raise it/, { allocatedStorage: 200, maxAllocatedStorage: 200 }],
      ['a wait for the flag alone (Terraform changes it, whatever the status)', 'storage-full', {}, undefined],
    ] as [string, string, { status?: string; engineVersion?: string }, RegExp | undefined, { allocatedStorage?: number; maxAllocatedStorage?: number }?][]) {
      it(`${what}: ${stuck ? 'ends' : 'goes on'}`, () => {
        const why = stuckWhileWaiting({ status, ...storage }, want);
        if (stuck) assert.match(why ?? '', stuck);
        else assert.equal(why, undefined);
      });
    }
  });

  it('a stop, a start and a modification: already done, now, or not yet', () => {
    assert.deepEqual(['stopped', 'stopping', 'available', 'modifying', 'starting'].map(readinessToStop), ['already', 'already', 'now', 'not-yet', 'not-yet']);
    assert.deepEqual(['available', 'starting', 'stopped', 'stopping', 'backing-up'].map(readinessToStart), ['already', 'already', 'now', 'not-yet', 'not-yet']);
    assert.deepEqual(['available', 'modifying', 'stopped', 'storage-optimization'].map(canModifyNow), [true, false, false, false]);
  });
});
