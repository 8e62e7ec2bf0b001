/**
 * What a point-in-time restore reads of its source (src/domain/restore-source.ts): the restorable window from
 * DescribeDBInstances' InstanceCreateTime, BackupRetentionPeriod and LatestRestorableTime, whether a restore
 * time lies in it, and which settings a copy takes. The same reading in the RDS activity (describing the
 * instance, refusing a restore) and the restore workflow's preflight.
 */
import assert from 'node:assert/strict';
import type { DBInstance } from '@aws-sdk/client-rds';
import { toInstanceInfo } from '../../src/activities/rds-shapes';
import { DAY_MS } from '../../src/domain/duration';
import { copiedIops, copiedTags, earliestRestorableMs, readRestoreTime } from '../../src/domain/restore-source';

const NOW = Date.parse('2024-06-10T12:00:00Z');
/** The fields of a DescribeDBInstances answer the window is read from. */
const source = (over: Partial<DBInstance> = {}): DBInstance => ({
  DBInstanceIdentifier: 'orders-db',
  Engine: 'postgres',
  EngineVersion: '15.5',
  DBInstanceStatus: 'available',
  InstanceCreateTime: new Date('2023-01-01T00:00:00Z'),
  BackupRetentionPeriod: 7,
  LatestRestorableTime: new Date('2024-06-10T11:55:00Z'),
  ...over,
});
const windowOf = (over: Partial<DBInstance> = {}) => toInstanceInfo('eu-west-2', source(over), new Date(NOW));

describe('domain: the restorable window (RestoreDBInstanceToPointInTime)', () => {
  it('starts BackupRetentionPeriod days ago, or at InstanceCreateTime for a younger instance', () => {
    assert.equal(earliestRestorableMs(Date.parse('2023-01-01T00:00:00Z'), 7, NOW), NOW - 7 * DAY_MS);
    assert.equal(earliestRestorableMs(Date.parse('2024-06-09T08:00:00Z'), 7, NOW), Date.parse('2024-06-09T08:00:00Z'));
    assert.equal(earliestRestorableMs(Date.parse('2023-01-01T00:00:00Z'), 35, NOW), NOW - 35 * DAY_MS, 'the longest retention RDS allows');
  });

  it('there is none without automated backups (retention 0) or without a creation time', () => {
    assert.equal(earliestRestorableMs(Date.parse('2023-01-01T00:00:00Z'), 0, NOW), undefined);
    assert.equal(earliestRestorableMs(Date.parse('2023-01-01T00:00:00Z'), undefined, NOW), undefined);
    assert.equal(earliestRestorableMs(undefined, 7, NOW), undefined);
  });

  it('the activity describes an instance with that window', () => {
    const info = windowOf();
    assert.equal(info.earliestRestorableTime, '2024-06-03T12:00:00.000Z');
    assert.equal(info.latestRestorableTime, '2024-06-10T11:55:00.000Z');
    assert.equal(windowOf({ BackupRetentionPeriod: 0, LatestRestorableTime: undefined }).earliestRestorableTime, undefined);
  });

  it('a restore time inside the window, both ends included', () => {
    const info = windowOf();
    const inside = { kind: 'inside', earliest: '2024-06-03T12:00:00.000Z', latest: '2024-06-10T11:55:00.000Z' };
    assert.deepEqual(readRestoreTime(info, Date.parse('2024-06-08T00:00:00Z')), inside);
    assert.deepEqual(readRestoreTime(info, Date.parse('2024-06-03T12:00:00Z')), inside);
    assert.deepEqual(readRestoreTime(info, Date.parse('2024-06-10T11:55:00Z')), inside, 'LatestRestorableTime itself');
  });

  it('a restore time before the retention, after LatestRestorableTime, or with no window at all', () => {
    const info = windowOf();
    assert.equal(readRestoreTime(info, Date.parse('2024-06-03T11:59:59Z')).kind, 'outside');
    assert.equal(readRestoreTime(info, Date.parse('2024-06-10T11:55:01Z')).kind, 'outside', 'past the latest: not yet restorable');
    assert.equal(readRestoreTime(windowOf({ BackupRetentionPeriod: 0, LatestRestorableTime: undefined }), Date.parse('2024-06-08T00:00:00Z')).kind, 'no-window');
    assert.equal(readRestoreTime({ earliestRestorableTime: '2024-06-03T12:00:00.000Z' }, Date.parse('2024-06-08T00:00:00Z')).kind, 'no-window');
  });

  it('a copy takes the provisioned IOPS of io1, io2 and gp3 storage only, and every tag but the reserved aws: ones and the owner tag', () => {
    assert.equal(copiedIops({ storageType: 'io1', iops: 6000 }), 6000);
    assert.equal(copiedIops({ storageType: 'io2', iops: 6000 }), 6000);
    assert.equal(copiedIops({ storageType: 'gp3', iops: 12000, allocatedStorage: 400 }), 12000);
    assert.equal(copiedIops({ storageType: 'gp3', iops: 3000, allocatedStorage: 100 }), undefined, 'gp3 below 400 GiB runs at its baseline and takes no IOPS');
    assert.equal(copiedIops({ storageType: 'gp2', iops: 300 }), undefined, 'gp2 IOPS follow its size');
    assert.equal(copiedIops({ storageType: 'io1' }), undefined);
    assert.equal(copiedIops({ iops: 3000 }), undefined);
    assert.deepEqual(
      copiedTags({ team: 'orders', 'aws:cloudformation:stack-name': 'db', 'rds-orchestrator/restore': 'old-run', env: 'prod' }, 'rds-orchestrator/restore'),
      [['team', 'orders'], ['env', 'prod']],
    );
  });
});
