/**
 * The RDS activities through the product's own clients (the SDK's retries on, no request budget) against a simulator
 * of their own, seeded for the test: what tests of how RDS answers start from.
 */
import type { RDSClient } from '@aws-sdk/client-rds';
import { createAwsClients } from '../../src/activities/clients';
import { createRdsActivities } from '../../src/activities/rds';
import type { RdsActivities } from '../../src/api';
import { simulatorConfig } from '../../dev/simulator';
import { startSimulator, type RunningSimulator } from '../../sim';

export interface RdsOnSimulator {
  sim: RunningSimulator;
  rds: RDSClient;
  acts: RdsActivities;
}

export async function rdsOnSimulator(region: string, seed: object, options: Omit<Parameters<typeof startSimulator>[0], 'port'> = {}): Promise<RdsOnSimulator> {
  const sim = await startSimulator({ ...options, port: 0 });
  await sim.engine.seed(seed as never);
  const rds = createAwsClients(simulatorConfig(sim.url, { ORCHESTRATOR_RDS_REQUESTS_PER_SECOND: 'off' })).rds({ region });
  return { sim, rds, acts: createRdsActivities({ rdsClientFor: () => rds }) };
}
