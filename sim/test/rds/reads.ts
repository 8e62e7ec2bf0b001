// What the RDS tests read and seed again and again: one instance described, one instance seeded.
import assert from 'node:assert/strict';
import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import type { DBInstance } from '@aws-sdk/client-rds';
import { REGION } from '../helpers';
import type { SimHarness } from '../helpers';

export interface RdsReads {
  /** DescribeDBInstances of exactly one instance. */
  describeOne(id: string): Promise<DBInstance>;
  /** Seeds one available instance (created long ago, 15.5, flag off) with a Monday 12:10 window; `extra` overrides. */
  seedInstance(id: string, extra?: Record<string, unknown>): Promise<void>;
}

/** The reads on the harness of the current test (`harness()` is called at each use: mocha makes one per test). */
export function rdsReads(harness: () => SimHarness): RdsReads {
  return {
    describeOne: async (id) => {
      const out = await harness().rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
      assert.equal(out.DBInstances?.length, 1);
      return out.DBInstances[0] as DBInstance;
    },
    seedInstance: async (id, extra = {}) => {
      await harness().admin.seed({
        instances: [{ region: REGION, id, engineVersion: '15.5', preferredMaintenanceWindow: 'mon:12:10-mon:12:40', autoMinorVersionUpgrade: false, ...extra }],
      });
    },
  };
}
