// What the blue/green tests do again and again: seed a source, create a deployment, describe it, wait for it.
import assert from 'node:assert/strict';
import { CreateBlueGreenDeploymentCommand, DescribeBlueGreenDeploymentsCommand } from '@aws-sdk/client-rds';
import type { BlueGreenDeployment, CreateBlueGreenDeploymentCommandInput } from '@aws-sdk/client-rds';
import { ACCOUNT, REGION } from '../helpers';
import type { SimHarness } from '../helpers';

export const instanceArn = (id: string): string => `arn:aws:rds:${REGION}:${ACCOUNT}:db:${id}`;

/** The default durations a green takes to become available with an engine upgrade: creating 60 + upgrading 30 + backing-up 20. */
export const PROVISIONING_SECONDS = 110;
/** The default `blueGreenSwitchover` duration. */
export const SWITCHOVER_SECONDS = 20;

export interface BlueGreenReads {
  /** Seeds an available PostgreSQL 15.5 instance on the custom parameter group `app-pg15` (and `app-pg16` for the green). */
  seedSource(id: string, extra?: Record<string, unknown>): Promise<void>;
  /** CreateBlueGreenDeployment of `source` to 16.4 on `app-pg16` unless `input` says otherwise; returns the deployment. */
  create(name: string, source: string, input?: Partial<CreateBlueGreenDeploymentCommandInput>): Promise<BlueGreenDeployment>;
  /** DescribeBlueGreenDeployments of one deployment. */
  describe(id: string): Promise<BlueGreenDeployment>;
  /** Advances the hand-driven clock until the deployment is AVAILABLE. */
  untilAvailable(id: string): Promise<BlueGreenDeployment>;
}

export function blueGreenReads(harness: () => SimHarness): BlueGreenReads {
  const describe = async (id: string): Promise<BlueGreenDeployment> => {
    const out = await harness().rds.send(new DescribeBlueGreenDeploymentsCommand({ BlueGreenDeploymentIdentifier: id }));
    assert.equal(out.BlueGreenDeployments?.length, 1);
    return out.BlueGreenDeployments[0] as BlueGreenDeployment;
  };
  return {
    seedSource: async (id, extra = {}) => {
      await harness().admin.seed({
        dbParameterGroups: [
          { region: REGION, name: 'app-pg15', family: 'postgres15' },
          { region: REGION, name: 'app-pg16', family: 'postgres16' },
        ],
        instances: [{ region: REGION, id, engineVersion: '15.5', parameterGroupName: 'app-pg15', preferredMaintenanceWindow: 'wed:03:00-wed:03:30', autoMinorVersionUpgrade: false, ...extra }],
      });
    },
    create: async (name, source, input = {}) => {
      const out = await harness().rds.send(
        new CreateBlueGreenDeploymentCommand({ BlueGreenDeploymentName: name, Source: instanceArn(source), TargetEngineVersion: '16.4', TargetDBParameterGroupName: 'app-pg16', ...input }),
      );
      return out.BlueGreenDeployment as BlueGreenDeployment;
    },
    describe,
    untilAvailable: async (id) => {
      for (let waited = 0; waited <= 600; waited += 10) {
        const d = await describe(id);
        if (d.Status === 'AVAILABLE') return d;
        harness().advance(10);
      }
      assert.fail(`blue/green deployment ${id} did not become AVAILABLE`);
    },
  };
}
