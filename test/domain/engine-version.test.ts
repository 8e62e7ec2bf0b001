import assert from 'node:assert/strict';
import { compareEngineVersions, isPastTarget, namesVersion, versionsNamedIn } from '../../src/domain/engine-version';
import { pendingUpgradeTo } from '../../src/domain/pending-maintenance';
import { planStage } from '../../src/domain/plan';
import { resolveCampaignSpec } from '../../src/input';
import type { InstanceInfo } from '../../src/api';

describe('engine versions: one exact-version rule', () => {
  it('names a version only as a whole: 15.1 does not match 15.12 or 15.10', () => {
    assert.equal(namesVersion('Upgrade to PostgreSQL 15.12', '15.1'), false);
    assert.equal(namesVersion('Upgrade to PostgreSQL 15.10', '15.1'), false);
    assert.equal(namesVersion('Upgrade to PostgreSQL 15.1', '15.1'), true);
    assert.equal(namesVersion('Automatic minor version upgrade to postgres 15.1.', '15.1'), true, 'a sentence may end after the version');
    assert.equal(namesVersion('Upgrade to PostgreSQL 15.12', '5.12'), false, 'nor a suffix of a longer one');
    assert.deepEqual(versionsNamedIn('from 15.5 to 15.10 (R1)'), ['15.5', '15.10']);
    assert.deepEqual(versionsNamedIn('Minor version upgrade'), []);
  });

  it('compares numerically: 15.8 < 15.10, and past the target is newer than it', () => {
    assert.ok(compareEngineVersions('15.8', '15.10') < 0);
    assert.ok(compareEngineVersions('15.10', '15.9') > 0);
    assert.equal(compareEngineVersions('15.10', '15.10'), 0);
    assert.equal(isPastTarget('15.10', '15.8'), true);
    assert.equal(isPastTarget('15.8', '15.8'), false);
    assert.equal(isPastTarget('15.5', '15.8'), false);
  });

  it('the pending upgrade to the target is the db-upgrade naming exactly it', () => {
    const pending = [
      { action: 'system-update', description: 'OS upgrade 15.1' },
      { action: 'db-upgrade', description: 'Upgrade to PostgreSQL 15.12' },
    ];
    assert.equal(pendingUpgradeTo(pending, '15.1'), undefined);
    assert.equal(pendingUpgradeTo(pending, '15.12')?.description, 'Upgrade to PostgreSQL 15.12');
  });

  it('the plan reads a pending action by the same rule (target 15.1 is not pending when AWS lists 15.12)', () => {
    const spec = resolveCampaignSpec({
      targetEngineVersion: '15.1',
      requester: 'alice',
      stages: [{ name: 'staging', region: 'eu-west-2', instanceId: 'db', method: 'apply-now', probe: { url: 'https://status.example/_s' } }],
    });
    const info = { region: 'eu-west-2', instanceId: 'db', engine: 'postgres', engineVersion: '15.0', status: 'available', preferredMaintenanceWindow: 'sun:05:00-sun:05:30' } as InstanceInfo;
    const targets = [{ engineVersion: '15.1', isMajorVersionUpgrade: false, autoUpgrade: false }, { engineVersion: '15.12', isMajorVersionUpgrade: false, autoUpgrade: true }];
    const { plan } = planStage(spec.stages[0], spec, { info, targets, pending: [{ action: 'db-upgrade', description: 'Upgrade to PostgreSQL 15.12' }] }, Date.UTC(2026, 0, 1));
    assert.match(plan.what[0], /15\.1 exactly: ModifyDBInstance EngineVersion/);
  });
});
