/**
 * Reading DescribeDBEngineVersions' ValidUpgradeTarget (src/domain/upgrade-targets.ts): which targets are
 * minor, whether the campaign's target is one, which one RDS applies by itself and whether that moved. The
 * list is shaped as RDS answers for postgres 15.5 (its later 15.x minors, one marked AutoUpgrade, and the 16.x
 * majors), read through the activity's own conversion.
 */
import assert from 'node:assert/strict';
import { toUpgradeTarget } from '../../src/activities/rds-shapes';
import { assessStage } from '../../src/domain/preflight';
import { automaticMinorTarget, listedUpgradeTarget, minorTargets, movedAutomaticTarget, readTarget } from '../../src/domain/upgrade-targets';
import { resolveCampaignSpec } from '../../src/input';

/** ValidUpgradeTarget of postgres 15.5 as RDS lists it (SDK shape). */
const VALID_UPGRADE_TARGET = [
  { Engine: 'postgres', EngineVersion: '15.6', Description: 'PostgreSQL 15.6-R1', AutoUpgrade: false, IsMajorVersionUpgrade: false },
  { Engine: 'postgres', EngineVersion: '15.7', Description: 'PostgreSQL 15.7-R1', AutoUpgrade: false, IsMajorVersionUpgrade: false },
  { Engine: 'postgres', EngineVersion: '15.8', Description: 'PostgreSQL 15.8-R1', AutoUpgrade: true, IsMajorVersionUpgrade: false },
  { Engine: 'postgres', EngineVersion: '15.10', Description: 'PostgreSQL 15.10-R1', AutoUpgrade: false, IsMajorVersionUpgrade: false },
  { Engine: 'postgres', EngineVersion: '16.4', Description: 'PostgreSQL 16.4-R1', AutoUpgrade: false, IsMajorVersionUpgrade: true },
  { Engine: 'postgres', EngineVersion: '16.6', Description: 'PostgreSQL 16.6-R1', AutoUpgrade: false, IsMajorVersionUpgrade: true },
];
const targets = VALID_UPGRADE_TARGET.map((t) => toUpgradeTarget(t)!);

describe('domain: valid upgrade targets (DescribeDBEngineVersions ValidUpgradeTarget)', () => {
  it('reads each listed target with its two flags; an answer without a flag reads it false', () => {
    assert.deepEqual(targets[2], { engineVersion: '15.8', isMajorVersionUpgrade: false, autoUpgrade: true });
    assert.deepEqual(targets[4], { engineVersion: '16.4', isMajorVersionUpgrade: true, autoUpgrade: false });
    assert.deepEqual(listedUpgradeTarget({ engineVersion: '15.9' }), { engineVersion: '15.9', isMajorVersionUpgrade: false, autoUpgrade: false });
    assert.equal(toUpgradeTarget({ Description: 'no version' }), undefined, 'a target without EngineVersion is no target');
  });

  it('minor targets stay in the major version; the automatic one is the minor marked AutoUpgrade', () => {
    assert.deepEqual(minorTargets(targets).map((t) => t.engineVersion), ['15.6', '15.7', '15.8', '15.10']);
    assert.equal(automaticMinorTarget(targets), '15.8');
    assert.equal(automaticMinorTarget(targets.map((t) => ({ ...t, autoUpgrade: t.isMajorVersionUpgrade }))), undefined, 'a major marked AutoUpgrade is never what the flag brings');
    assert.equal(automaticMinorTarget([]), undefined);
  });

  it('readTarget: not valid, major, or minor applied automatically or not (unknown for a target recorded without the flag)', () => {
    assert.deepEqual(readTarget(targets, '15.8'), { kind: 'minor', automatic: true });
    assert.deepEqual(readTarget(targets, '15.10'), { kind: 'minor', automatic: false });
    assert.deepEqual(readTarget(targets, '16.4'), { kind: 'major' });
    assert.deepEqual(readTarget(targets, '15.4'), { kind: 'not-valid' }, 'a downgrade is no target');
    assert.deepEqual(readTarget(targets, '15.1'), { kind: 'not-valid' }, 'a prefix of 15.10 is not 15.10');
    assert.deepEqual(readTarget([{ engineVersion: '15.8', isMajorVersionUpgrade: false }], '15.8'), { kind: 'minor', automatic: undefined });
  });

  it('movedAutomaticTarget: RDS moved its automatic target away from the campaign\'s, or dropped it', () => {
    assert.equal(movedAutomaticTarget(targets, '15.8'), undefined);
    const moved = targets.map((t) => ({ ...t, autoUpgrade: t.engineVersion === '15.10' }));
    assert.deepEqual(movedAutomaticTarget(moved, '15.8'), { now: '15.10' });
    assert.deepEqual(movedAutomaticTarget(targets.map((t) => ({ ...t, autoUpgrade: false })), '15.8'), { now: undefined });
  });

  it('the preflight (assessStage) decides by the same reading for each kind', () => {
    const spec = resolveCampaignSpec({
      targetEngineVersion: '15.8',
      requester: 'alice',
      stages: [
        { name: 'preview', region: 'eu-west-2', instanceId: 'db', method: 'maintenance-window' },
        { name: 'staging', region: 'eu-west-2', instanceId: 'db-2', method: 'apply-now', probe: { url: 'https://status.example/_s' } },
      ],
    });
    const [window, now] = spec.stages;
    const info = { engine: 'postgres', engineVersion: '15.5', preferredMaintenanceWindow: 'sun:05:00-sun:05:30' };
    assert.equal(assessStage(window, info, '15.8', targets).kind, 'ready');
    assert.match(JSON.stringify(assessStage(window, info, '15.10', targets)), /cannot come through a maintenance window/);
    assert.equal(assessStage(now, info, '15.10', targets).kind, 'ready', 'apply-now sets any valid minor exactly');
    assert.match(JSON.stringify(assessStage(now, info, '16.4', targets)), /major version upgrade/);
    assert.match(JSON.stringify(assessStage(now, info, '15.9', targets)), /not a valid upgrade target.*valid minor targets: 15\.6, 15\.7, 15\.8, 15\.10/);
  });
});
