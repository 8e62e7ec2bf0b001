import assert from 'node:assert/strict';
import { DescribeDBInstancesCommand, DescribePendingMaintenanceActionsCommand, RDSClient, type DBInstance, type PendingMaintenanceAction } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ManualClock } from '../src/core/clock';
import { SimAdminClient } from '../src/client';
import { startSimulator } from '../src/server';
import type { RunningSimulator, SimulatorOptions } from '../src/server';

export const REGION = 'eu-west-2';
export const ACCOUNT = '123456789012';
export const CREDENTIALS = { accessKeyId: 'x', secretAccessKey: 'x' };

export interface SimHarness {
  sim: RunningSimulator;
  clock: ManualClock;
  admin: SimAdminClient;
  rds: RDSClient;
  route53: Route53Client;
  ec2: EC2Client;
  /** Moves the fake clock (not the simulator's offset). */
  advance(seconds: number): void;
  /** DescribeDBInstances of one instance, through the SDK. */
  describeOne(id: string): Promise<DBInstance>;
  /** The instance's first pending maintenance action (DescribePendingMaintenanceActions), if any. */
  pendingAction(id: string): Promise<PendingMaintenanceAction | undefined>;
  close(): Promise<void>;
}

/** A simulator on a random port with a hand-driven clock, and real SDK clients pointed at it. */
export async function startHarness(opts: Omit<SimulatorOptions, 'clock'> & { startAt?: number } = {}): Promise<SimHarness> {
  const clock = new ManualClock(opts.startAt ?? Date.UTC(2025, 0, 6, 12, 0, 0)); // a Monday, 12:00 UTC
  const sim = await startSimulator({ ...opts, port: 0, clock });
  const config = { endpoint: sim.url, region: REGION, credentials: CREDENTIALS };
  const rds = new RDSClient(config);
  const route53 = new Route53Client(config);
  const ec2 = new EC2Client(config);
  return {
    sim,
    clock,
    admin: new SimAdminClient(sim.url),
    rds,
    route53,
    ec2,
    advance: (seconds: number) => clock.advance(seconds * 1000),
    describeOne: async (id) => (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0] as DBInstance,
    pendingAction: async (id) =>
      (await rds.send(new DescribePendingMaintenanceActionsCommand({ Filters: [{ Name: 'db-instance-id', Values: [id] }] }))).PendingMaintenanceActions?.[0]?.PendingMaintenanceActionDetails?.[0],
    close: async () => {
      rds.destroy();
      route53.destroy();
      ec2.destroy();
      await sim.close();
    },
  };
}

/** Asserts that `p` rejects with an SDK error of that name (and optional message fragment). */
export async function rejectsWith(p: Promise<unknown>, name: string, messageIncludes?: string | RegExp): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    assert.equal(e.name, name, `expected ${name}, got ${e.name}: ${e.message}`);
    if (messageIncludes !== undefined) {
      if (typeof messageIncludes === 'string') assert.ok(e.message.includes(messageIncludes), `message "${e.message}" should include "${messageIncludes}"`);
      else assert.match(e.message, messageIncludes);
    }
    return e;
  }
  assert.fail(`expected the call to fail with ${name}, it succeeded`);
}
