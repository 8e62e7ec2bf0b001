/**
 * EC2 VPCs and security groups: create, describe, authorize ingress. Each region has a default VPC with
 * a `default` group (as in a fresh AWS account), and every other VPC gets its own `default` group.
 * The refusals are EC2's own codes, listed in "Error codes for the Amazon EC2 API"
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
 */
import type { Tag } from '../core/aws';
import type { ServiceContext } from '../core/context';
import { SimError } from '../core/errors';
import { endpointSuffix, randomHex, regionalKey } from '../core/ids';
import type { Ec2State, SecurityGroup, SecurityGroupRule, Vpc } from './state';

export interface IngressPermission {
  protocol: string;
  fromPort?: number;
  toPort?: number;
  groups: Array<{ groupId?: string; groupName?: string; userId?: string; description?: string }>;
  cidrs: Array<{ cidrIp: string; description?: string }>;
}

export function defaultVpcId(account: string, region: string): string {
  return `vpc-${endpointSuffix(account, region).replace(/[^a-f0-9]/g, '0').slice(0, 8)}`;
}

function normalizeProtocol(p: string): string {
  const lower = p.toLowerCase();
  return ({ '6': 'tcp', '17': 'udp', '1': 'icmp', all: '-1' } as Record<string, string>)[lower] ?? lower;
}

function describeRule(r: SecurityGroupRule): string {
  const peer = r.sourceGroupId ?? r.cidrIp ?? '?';
  const proto = r.protocol === '-1' ? 'ALL' : r.protocol.toUpperCase();
  return `peer: ${peer}, ${proto}, from port: ${r.fromPort ?? -1}, to port: ${r.toPort ?? -1}, ALLOW`;
}

export class Ec2Model {
  constructor(private readonly ctx: ServiceContext<Ec2State>) {}

  // ---- VPCs -------------------------------------------------------------------------------------

  /** Every region has a default VPC with its `default` security group. */
  private ensureDefaults(account: string, region: string): void {
    const vpcId = defaultVpcId(account, region);
    const key = regionalKey(account, region, vpcId);
    if (!this.ctx.state.vpcs[key]) {
      this.ctx.state.vpcs[key] = { account, region, id: vpcId, cidrBlock: '172.31.0.0/16', isDefault: true, tags: [] };
      this.ctx.markDirty();
    }
    this.ensureDefaultGroup(account, region, vpcId);
  }

  private ensureDefaultGroup(account: string, region: string, vpcId: string): SecurityGroup {
    const existing = Object.values(this.ctx.state.securityGroups).find((g) => g.account === account && g.region === region && g.name === 'default' && g.vpcId === vpcId);
    if (existing) return existing;
    const id = `sg-${randomHex(17)}`;
    const group: SecurityGroup = {
      account,
      region,
      id,
      name: 'default',
      description: 'default VPC security group',
      vpcId,
      tags: [],
      ingress: [],
      egress: [{ ruleId: `sgr-${randomHex(17)}`, protocol: '-1', cidrIp: '0.0.0.0/0' }],
    };
    this.ctx.state.securityGroups[regionalKey(account, region, id)] = group;
    this.ctx.markDirty();
    return group;
  }

  listVpcs(account: string, region: string): Vpc[] {
    this.ensureDefaults(account, region);
    return Object.values(this.ctx.state.vpcs)
      .filter((v) => v.account === account && v.region === region)
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  findVpc(account: string, region: string, vpcId: string): Vpc | undefined {
    this.ensureDefaults(account, region);
    return this.ctx.state.vpcs[regionalKey(account, region, vpcId)];
  }

  /** EC2's code for an unknown VPC is InvalidVpcID.NotFound (errors-overview). */
  getVpc(account: string, region: string, vpcId: string): Vpc {
    const vpc = this.findVpc(account, region, vpcId);
    if (!vpc) throw new SimError('InvalidVpcID.NotFound', `The vpc ID '${vpcId}' does not exist`);
    return vpc;
  }

  /** Seeds a (non-default) VPC and its `default` security group. */
  createVpc(account: string, region: string, input: { id?: string; cidrBlock?: string; tags?: Tag[] }): Vpc {
    this.ensureDefaults(account, region);
    const id = input.id ?? `vpc-${randomHex(17)}`;
    if (!/^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/.test(id)) throw new Error(`seed: VPC id '${id}' is not of the form vpc- and 8 or 17 hex digits`);
    const key = regionalKey(account, region, id);
    const vpc = this.ctx.state.vpcs[key] ?? { account, region, id, cidrBlock: input.cidrBlock ?? '10.0.0.0/16', isDefault: false, tags: input.tags ?? [] };
    this.ctx.state.vpcs[key] = vpc;
    this.ensureDefaultGroup(account, region, id);
    this.ctx.markDirty();
    return vpc;
  }

  // ---- security groups ---------------------------------------------------------------------------

  defaultGroupId(account: string, region: string, vpcId = defaultVpcId(account, region)): string {
    this.ensureDefaults(account, region);
    return this.ensureDefaultGroup(account, region, vpcId).id;
  }

  list(account: string, region: string): SecurityGroup[] {
    this.ensureDefaults(account, region);
    return Object.values(this.ctx.state.securityGroups).filter((g) => g.account === account && g.region === region);
  }

  find(account: string, region: string, id: string): SecurityGroup | undefined {
    return this.ctx.state.securityGroups[regionalKey(account, region, id)];
  }

  /**
   * By id, or by name in the default VPC only: DescribeSecurityGroups documents GroupNames as
   * "[Default VPC]" (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSecurityGroups.html).
   */
  get(account: string, region: string, ref: { groupId?: string; groupName?: string }): SecurityGroup {
    const found = ref.groupId
      ? this.find(account, region, ref.groupId)
      : this.list(account, region).find((g) => g.name.toLowerCase() === ref.groupName?.toLowerCase() && g.vpcId === defaultVpcId(account, region));
    if (!found) {
      throw new SimError(
        'InvalidGroup.NotFound',
        ref.groupId ? `The security group '${ref.groupId}' does not exist` : `The security group '${ref.groupName}' does not exist in default VPC '${defaultVpcId(account, region)}'`,
      );
    }
    return found;
  }

  /**
   * CreateSecurityGroup (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html):
   * VpcId is "Required for a nondefault VPC" (without it, the default VPC), names "are case-insensitive
   * and must be unique within the VPC" and "Can't start with sg-".
   */
  create(account: string, region: string, input: { name: string; description: string; vpcId?: string; tags?: Tag[]; id?: string }): SecurityGroup {
    this.ensureDefaults(account, region);
    const vpcId = input.vpcId ?? defaultVpcId(account, region);
    this.getVpc(account, region, vpcId);
    if (input.name.toLowerCase().startsWith('sg-')) throw new SimError('InvalidParameterValue', 'Group names may not be in the format sg-*.');
    if (input.name.length > 255) throw new SimError('InvalidParameterValue', 'Group names may be at most 255 characters long.');
    if (this.list(account, region).some((g) => g.name.toLowerCase() === input.name.toLowerCase() && g.vpcId === vpcId)) {
      throw new SimError('InvalidGroup.Duplicate', `The security group '${input.name}' already exists for VPC '${vpcId}'`);
    }
    const id = input.id ?? `sg-${randomHex(17)}`;
    if (this.find(account, region, id)) throw new SimError('InvalidGroup.Duplicate', `The security group '${id}' already exists`);
    const group: SecurityGroup = {
      account,
      region,
      id,
      name: input.name,
      description: input.description,
      vpcId,
      tags: input.tags ?? [],
      ingress: [],
      egress: [{ ruleId: `sgr-${randomHex(17)}`, protocol: '-1', cidrIp: '0.0.0.0/0' }],
    };
    this.ctx.state.securityGroups[regionalKey(account, region, id)] = group;
    this.ctx.markDirty();
    return group;
  }

  /** Adds the rules (all or nothing); a rule identical to an existing one is InvalidPermission.Duplicate. */
  authorizeIngress(account: string, region: string, group: SecurityGroup, permissions: IngressPermission[]): SecurityGroupRule[] {
    const added: SecurityGroupRule[] = [];
    for (const p of permissions) {
      const protocol = normalizeProtocol(p.protocol);
      if (!['tcp', 'udp', 'icmp', '-1'].includes(protocol)) throw new SimError('InvalidParameterValue', `Invalid value '${p.protocol}' for IP protocol. Unknown protocol.`);
      if (protocol !== '-1' && (p.fromPort === undefined || p.toPort === undefined)) {
        throw new SimError('MissingParameter', `The request must contain the parameter FromPort and ToPort for protocol ${protocol}`);
      }
      if (p.groups.length === 0 && p.cidrs.length === 0) {
        throw new SimError('MissingParameter', 'The request must contain at least one of UserIdGroupPairs or IpRanges in each IpPermission');
      }
      const base = { protocol, fromPort: protocol === '-1' ? undefined : p.fromPort, toPort: protocol === '-1' ? undefined : p.toPort };
      for (const g of p.groups) {
        // A group of another account is named with its owner (UserId): it must exist there, in the same region
        // (AuthorizeSecurityGroupIngress, UserIdGroupPair: "for a security group in a peered VPC ... the ID of the
        // AWS account that owns it"). The simulator does not model VPC peering: any two accounts may refer.
        const owner = g.userId && g.userId !== account ? g.userId : account;
        const source = this.get(owner, region, { groupId: g.groupId, groupName: g.groupName });
        added.push({ ...base, ruleId: `sgr-${randomHex(17)}`, sourceGroupId: source.id, sourceUserId: g.userId ?? account, description: g.description });
      }
      for (const c of p.cidrs) {
        if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(c.cidrIp)) throw new SimError('InvalidParameterValue', `Value (${c.cidrIp}) for parameter cidrIp is invalid. This is not a valid CIDR block.`);
        added.push({ ...base, ruleId: `sgr-${randomHex(17)}`, cidrIp: c.cidrIp, description: c.description });
      }
    }
    const same = (a: SecurityGroupRule, b: SecurityGroupRule): boolean =>
      a.protocol === b.protocol && a.fromPort === b.fromPort && a.toPort === b.toPort && a.sourceGroupId === b.sourceGroupId && a.cidrIp === b.cidrIp;
    for (const [i, rule] of added.entries()) {
      if (group.ingress.some((r) => same(r, rule)) || added.slice(0, i).some((r) => same(r, rule))) {
        throw new SimError('InvalidPermission.Duplicate', `the specified rule "${describeRule(rule)}" already exists`);
      }
    }
    group.ingress.push(...added);
    this.ctx.markDirty();
    return added;
  }
}
