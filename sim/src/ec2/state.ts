/** What EC2 keeps in the simulator's state: VPCs and security groups, keyed `${account}/${region}/${id}`. */
import type { Tag } from '../core/aws';
import type { StatePart } from '../core/state';

export interface SecurityGroupRule {
  ruleId: string;
  protocol: string;
  fromPort?: number;
  toPort?: number;
  sourceGroupId?: string;
  sourceUserId?: string;
  cidrIp?: string;
  description?: string;
}

export interface SecurityGroup {
  account: string;
  region: string;
  id: string;
  name: string;
  description: string;
  vpcId: string;
  tags: Tag[];
  ingress: SecurityGroupRule[];
  egress: SecurityGroupRule[];
}

export interface Vpc {
  account: string;
  region: string;
  id: string;
  cidrBlock: string;
  isDefault: boolean;
  tags: Tag[];
}

export interface Ec2State {
  securityGroups: Record<string, SecurityGroup>;
  vpcs: Record<string, Vpc>;
}

export const EC2_STATE: StatePart<Ec2State> = { empty: () => ({ securityGroups: {}, vpcs: {} }) };
