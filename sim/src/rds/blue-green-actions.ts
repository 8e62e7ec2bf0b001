/**
 * The blue/green deployment actions of the RDS query API, one handler each (sim/src/rds/protocol.ts serves them
 * beside the others): parameters as botocore's `rds` model names them, answers rendered by sim/src/rds/render.ts.
 */
import { SimError } from '../core/errors';
import { bool, int, required, str, structList, tags } from '../core/query';
import { leaf, node } from '../core/xml';
import type { RdsAction } from './answers';
import { paginate, rdsResponse } from './answers';
import type { RdsModel } from './model';
import { renderBlueGreenDeployment } from './render';
import type { BlueGreenDeploymentRecord } from './state';

export const BLUE_GREEN_MUTATIONS = ['CreateBlueGreenDeployment', 'SwitchoverBlueGreenDeployment', 'DeleteBlueGreenDeployment'];

/** The deployment an `arn:aws:rds:<region>:<account>:deployment:<id>` names (BlueGreenDeploymentNotFoundFault if none); undefined for other ARNs. */
export function deploymentByArn(rds: RdsModel, account: string, region: string, arn: string): BlueGreenDeploymentRecord | undefined {
  const m = /^arn:aws[a-z-]*:rds:([a-z0-9-]+):(\d{12}):deployment:(.+)$/.exec(arn);
  if (!m) return undefined;
  if (m[1] !== region || m[2] !== account) throw new SimError('BlueGreenDeploymentNotFoundFault', `BlueGreenDeploymentIdentifier ${m[3]} doesn't refer to an existing blue/green deployment.`, 404);
  return rds.blueGreen.get(account, region, m[3] as string);
}

export const BLUE_GREEN_ACTIONS: Record<string, RdsAction> = {
  /** https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateBlueGreenDeployment.html */
  CreateBlueGreenDeployment: (rds, p, account, region) => {
    // Accepted and not modelled: UpgradeTargetStorageConfig, TargetStorageThroughput, TargetDBClusterParameterGroupName
    // (no clusters), TargetResourceConfigurations.
    const d = rds.blueGreen.create(account, region, {
      name: required(p, 'BlueGreenDeploymentName'),
      source: required(p, 'Source'),
      targetEngineVersion: str(p, 'TargetEngineVersion'),
      targetParameterGroupName: str(p, 'TargetDBParameterGroupName'),
      targetInstanceClass: str(p, 'TargetDBInstanceClass'),
      targetAllocatedStorage: int(p, 'TargetAllocatedStorage'),
      targetStorageType: str(p, 'TargetStorageType'),
      targetIops: int(p, 'TargetIops'),
      tags: tags(p, 'Tags'),
    });
    return rdsResponse('CreateBlueGreenDeployment', renderBlueGreenDeployment(rds.blueGreen.view(d, { atCreate: true })));
  },
  /** https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeBlueGreenDeployments.html */
  DescribeBlueGreenDeployments: (rds, p, account, region) => {
    const found = rds.blueGreen.describe(account, region, p, structList(p, 'Filters'));
    const { page, marker } = paginate(p, found);
    return rdsResponse('DescribeBlueGreenDeployments', node('BlueGreenDeployments', ...page.map((d) => renderBlueGreenDeployment(rds.blueGreen.view(d), 'member'))) + leaf('Marker', marker));
  },
  /** https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_SwitchoverBlueGreenDeployment.html */
  SwitchoverBlueGreenDeployment: (rds, p, account, region) => {
    const view = rds.blueGreen.switchovers.start(account, region, required(p, 'BlueGreenDeploymentIdentifier'), int(p, 'SwitchoverTimeout'));
    return rdsResponse('SwitchoverBlueGreenDeployment', renderBlueGreenDeployment(view));
  },
  /** https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteBlueGreenDeployment.html */
  DeleteBlueGreenDeployment: (rds, p, account, region) => {
    const view = rds.blueGreen.delete(account, region, required(p, 'BlueGreenDeploymentIdentifier'), bool(p, 'DeleteTarget') ?? false);
    return rdsResponse('DeleteBlueGreenDeployment', renderBlueGreenDeployment(view));
  },
};
