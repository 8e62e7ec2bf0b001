/**
 * What a point-in-time restore reads of its source instance (DescribeDBInstances): the restorable window (where
 * it starts, whether a restore time lies inside it) and which of the source's settings a copy can be given.
 * Pure: the RDS activity (describing an instance, and refusing a restore before it is sent) and the restore
 * workflow's preflight read it the same way.
 *
 * AWS (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBInstanceToPointInTime.html):
 * "You can restore to any point in time before the time identified by the LatestRestorableTime property.
 * You can restore to a point up to the number of days specified by the BackupRetentionPeriod property."
 * DescribeDBInstances gives LatestRestorableTime, BackupRetentionPeriod and InstanceCreateTime; the start of
 * the window is derived from them (a retention of 0 days turns automated backups, and the window, off).
 */
import type { InstanceInfo } from '../api/activities';
import { DAY_MS } from './duration';

/**
 * The earliest restorable instant (epoch ms): BackupRetentionPeriod days before `nowMs`, or InstanceCreateTime
 * for an instance younger than that. None without automated backups (retention 0 or unknown) or a creation time.
 */
export function earliestRestorableMs(instanceCreateMs: number | undefined, backupRetentionDays: number | undefined, nowMs: number): number | undefined {
  if (instanceCreateMs === undefined || backupRetentionDays === undefined || backupRetentionDays <= 0) return undefined;
  return Math.max(nowMs - backupRetentionDays * DAY_MS, instanceCreateMs);
}

/** What an instance's window says about a restore time: no window at all, or the time inside or outside it. */
export type RestoreTimeReading =
  | { kind: 'no-window' }
  | { kind: 'inside'; earliest: string; latest: string }
  | { kind: 'outside'; earliest: string; latest: string };

/**
 * Whether `restoreTimeMs` lies in the source's restorable window, both ends included (LatestRestorableTime
 * itself is what UseLatestRestorableTime restores to). An instance without both ends has no window.
 */
export function readRestoreTime(source: Pick<InstanceInfo, 'earliestRestorableTime' | 'latestRestorableTime'>, restoreTimeMs: number): RestoreTimeReading {
  const { earliestRestorableTime: earliest, latestRestorableTime: latest } = source;
  if (!earliest || !latest) return { kind: 'no-window' };
  const inside = restoreTimeMs >= Date.parse(earliest) && restoreTimeMs <= Date.parse(latest);
  return { kind: inside ? 'inside' : 'outside', earliest, latest };
}

/**
 * Storage types whose restore takes the source's provisioned IOPS: "If you specify io1, io2, or gp3, you must
 * also include a value for the Iops parameter" (RestoreDBInstanceToPointInTime, StorageType).
 */
export const IOPS_STORAGE_TYPES: ReadonlySet<string> = new Set(['io1', 'io2', 'gp3']);

/**
 * gp3 volumes of RDS for PostgreSQL below this size run at the fixed baseline (3,000 IOPS, 125 MiB/s) and take no
 * IOPS: provisioned IOPS and throughput apply only from 400 GiB on (Amazon RDS User Guide, "General Purpose SSD
 * storage", gp3 baseline performance). DescribeDBInstances still shows the baseline as Iops, and sending it back
 * is refused (InvalidParameterCombination).
 */
export const GP3_PROVISIONED_FROM_GIB = 400;

/** The source's IOPS when a restore copying its settings passes them (its storage type takes them), else undefined. */
export function copiedIops(source: Pick<InstanceInfo, 'storageType' | 'iops' | 'allocatedStorage'>): number | undefined {
  if (source.iops === undefined || source.storageType === undefined || !IOPS_STORAGE_TYPES.has(source.storageType)) return undefined;
  if (source.storageType === 'gp3' && source.allocatedStorage !== undefined && source.allocatedStorage < GP3_PROVISIONED_FROM_GIB) return undefined;
  return source.iops;
}

/** The source's gp3 throughput when its IOPS are copied (provisioned together, from 400 GiB), else undefined. */
export function copiedThroughput(source: Pick<InstanceInfo, 'storageType' | 'iops' | 'allocatedStorage' | 'storageThroughput'>): number | undefined {
  return source.storageType === 'gp3' && copiedIops(source) !== undefined ? source.storageThroughput : undefined;
}

/**
 * The source's tags a restore copying its settings writes on the copy: not the reserved "aws:" ones (a tag key
 * "can't start with aws:", AWS's tagging rules), and not the owner tag (the restore writes its own).
 */
export function copiedTags(tags: Record<string, string>, ownerTagKey: string): [string, string][] {
  return Object.entries(tags).filter(([k]) => !k.startsWith('aws:') && k !== ownerTagKey);
}
