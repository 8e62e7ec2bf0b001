/**
 * The RDS resources an instance refers to by name: DB subnet groups (which put the instance in a VPC)
 * and DB parameter groups (which belong to a family, e.g. postgres15), and the check that the VPC
 * security groups given to an instance exist and are in its subnet group's VPC.
 */
import { SimError } from '../core/errors';
import { regionalKey } from '../core/ids';
// RDS depends on EC2 (one way): an instance lives in an EC2 VPC, behind EC2 security groups.
import type { Ec2Model } from '../ec2/model';
import { defaultVpcId } from '../ec2/model';
import { majorOf } from './catalogue';
import type { RdsContext } from './context';
import type { DbParameterGroup, DbSubnetGroup } from './state';

export const DEFAULT_SUBNET_GROUP = 'default';

export const parameterGroupFamily = (engine: string, version: string): string => `${engine}${majorOf(version)}`;
export const defaultParameterGroupName = (engine: string, version: string): string => `default.${parameterGroupFamily(engine, version)}`;
/** RDS's own groups are named `default.<family>`; anything else was created by the customer. */
export const isDefaultParameterGroup = (name: string): boolean => name.startsWith('default.');

export class RdsResources {
  constructor(
    private readonly ctx: RdsContext,
    private readonly ec2: Ec2Model,
  ) {}

  // ---- DB subnet groups ---------------------------------------------------------------------------

  findSubnetGroup(account: string, region: string, name: string): DbSubnetGroup | undefined {
    const key = regionalKey(account, region, name.toLowerCase());
    const found = this.ctx.state.dbSubnetGroups[key];
    if (found || name.toLowerCase() !== DEFAULT_SUBNET_GROUP) return found;
    // Like a fresh account: RDS's `default` subnet group spans the default VPC.
    return this.createSubnetGroup(account, region, { name: DEFAULT_SUBNET_GROUP, description: 'default', vpcId: defaultVpcId(account, region) });
  }

  /**
   * DBSubnetGroupName "must match the name of an existing DB subnet group"; RDS answers
   * DBSubnetGroupNotFoundFault (404) otherwise
   * (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBInstanceToPointInTime.html#API_RestoreDBInstanceToPointInTime_Errors).
   */
  subnetGroup(account: string, region: string, name: string): DbSubnetGroup {
    const group = this.findSubnetGroup(account, region, name);
    if (!group) throw new SimError('DBSubnetGroupNotFoundFault', `DB subnet group '${name}' does not exist.`, 404);
    return group;
  }

  /** The VPC an instance in this subnet group lives in (the default VPC for a group the state no longer has). */
  vpcOfSubnetGroup(account: string, region: string, name: string): string {
    return this.findSubnetGroup(account, region, name)?.vpcId ?? defaultVpcId(account, region);
  }

  createSubnetGroup(account: string, region: string, input: { name: string; description?: string; vpcId: string; subnetIds?: string[] }): DbSubnetGroup {
    const name = input.name.toLowerCase();
    if (!/^[a-z0-9 ._-]{1,255}$/.test(name)) throw new Error(`seed: DB subnet group name '${input.name}' may contain only letters, digits, spaces, periods, underscores and hyphens`);
    const vpc = this.ec2.findVpc(account, region, input.vpcId);
    if (!vpc) throw new Error(`seed: DB subnet group '${input.name}' is in VPC ${input.vpcId}, which is not seeded in ${region} (seed it under vpcs)`);
    const group: DbSubnetGroup = {
      account,
      region,
      name,
      description: input.description ?? `${name} subnet group`,
      vpcId: vpc.id,
      subnetIds: input.subnetIds ?? [`subnet-${vpc.id.slice(4, 12)}a`, `subnet-${vpc.id.slice(4, 12)}b`],
    };
    this.ctx.state.dbSubnetGroups[regionalKey(account, region, name)] = group;
    this.ctx.markDirty();
    return group;
  }

  // ---- DB parameter groups ------------------------------------------------------------------------

  findParameterGroup(account: string, region: string, name: string): DbParameterGroup | undefined {
    const stored = this.ctx.state.dbParameterGroups[regionalKey(account, region, name.toLowerCase())];
    if (stored) return stored;
    // RDS has a default group for every family it offers.
    const m = /^default\.([a-z-]+)(\d+)$/.exec(name);
    if (!m) return undefined;
    const [, engine, major] = m as unknown as [string, string, string];
    if (!this.ctx.catalogue().majorsOf(engine).some((x) => x.major === major)) return undefined;
    return { account, region, name, family: `${engine}${major}`, description: `Default parameter group for ${engine}${major}` };
  }

  /**
   * DBParameterGroupName "must match the name of an existing DB parameter group": RDS answers
   * DBParameterGroupNotFound (404) (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html#API_ModifyDBInstance_Errors).
   */
  parameterGroup(account: string, region: string, name: string): DbParameterGroup {
    const group = this.findParameterGroup(account, region, name);
    if (!group) throw new SimError('DBParameterGroupNotFound', `DBParameterGroup not found: ${name}`, 404);
    return group;
  }

  /** A parameter group for an instance that will run `engine` `version`: it must be of that version's family. */
  parameterGroupFor(account: string, region: string, name: string, engine: string, version: string): DbParameterGroup {
    const group = this.parameterGroup(account, region, name);
    const family = parameterGroupFamily(engine, version);
    if (group.family !== family) {
      throw new SimError(
        'InvalidParameterCombination',
        `The parameter group ${group.name} with DBParameterGroupFamily ${group.family} can't be used for this instance. Use a parameter group with DBParameterGroupFamily ${family}.`,
      );
    }
    return group;
  }

  createParameterGroup(account: string, region: string, input: { name: string; family: string; description?: string }): DbParameterGroup {
    if (isDefaultParameterGroup(input.name)) throw new Error(`seed: parameter group '${input.name}': names starting with 'default.' belong to RDS`);
    const group: DbParameterGroup = { account, region, name: input.name, family: input.family, description: input.description ?? input.name };
    this.ctx.state.dbParameterGroups[regionalKey(account, region, input.name.toLowerCase())] = group;
    this.ctx.markDirty();
    return group;
  }

  // ---- VPC security groups ------------------------------------------------------------------------

  /**
   * VpcSecurityGroupIds: "If supplied, must match existing VPC security group IDs"
   * (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html). RDS does not
   * document the code for a missing or foreign group; it answers InvalidParameterValue for an unknown id
   * and InvalidParameterCombination ("The DB instance and EC2 security group are in different VPCs")
   * for a group of another VPC, as reported against the real service
   * (https://github.com/terraform-aws-modules/terraform-aws-rds/issues/560).
   */
  checkSecurityGroups(account: string, region: string, ids: string[], vpcId: string): string[] {
    const unique = [...new Set(ids)];
    for (const id of unique) {
      const group = this.ec2.find(account, region, id);
      if (!group) throw new SimError('InvalidParameterValue', `Invalid security group , groupId= ${id}, groupName=.`);
      if (group.vpcId !== vpcId) {
        throw new SimError(
          'InvalidParameterCombination',
          `The DB instance and EC2 security group are in different VPCs. The DB instance is in ${vpcId} and the EC2 security group is in ${group.vpcId}`,
        );
      }
    }
    return unique;
  }

  /** VpcSecurityGroupIds default: "The default EC2 VPC security group for the DB subnet group's VPC" (CreateDBInstance, RestoreDBInstanceToPointInTime). */
  defaultSecurityGroups(account: string, region: string, vpcId: string): string[] {
    return [this.ec2.defaultGroupId(account, region, vpcId)];
  }
}
