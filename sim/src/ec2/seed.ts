/** What POST /_sim/seed creates in EC2: VPCs, then security groups and their ingress rules. */
import { DEFAULT_ACCOUNT, tagList } from '../core/aws';
import type { SeedStep } from '../core/service';
import { seedStep } from '../core/service';
import type { Ec2Model } from './model';
import { defaultVpcId } from './model';

export interface SeedVpc {
  region: string;
  account?: string;
  /** `vpc-` and 8 or 17 hex digits; generated when absent. The VPC gets its own `default` security group. */
  id?: string;
  cidrBlock?: string;
  tags?: Record<string, string>;
}

export interface SeedSecurityGroup {
  region: string;
  account?: string;
  id?: string;
  name: string;
  description?: string;
  /** Default: the region's default VPC. Another VPC must be seeded under `vpcs`. */
  vpcId?: string;
  tags?: Record<string, string>;
  ingress?: Array<{ protocol: string; fromPort?: number; toPort?: number; sourceGroupId?: string; cidrIp?: string; description?: string }>;
}

export interface Ec2SeedSpec {
  vpcs?: SeedVpc[];
  securityGroups?: SeedSecurityGroup[];
}

export interface Ec2SeedResult {
  securityGroups: Array<{ region: string; account: string; id: string; name: string; vpcId: string }>;
  vpcs: Array<{ region: string; account: string; id: string }>;
}

export function ec2SeedSteps(ec2: Ec2Model): SeedStep[] {
  return [
    seedStep<Ec2SeedSpec, Ec2SeedResult>('vpcs', (spec, result) => {
      for (const v of spec.vpcs ?? []) {
        const account = v.account ?? DEFAULT_ACCOUNT;
        const vpc = ec2.createVpc(account, v.region, { id: v.id, cidrBlock: v.cidrBlock, tags: tagList(v.tags) });
        result.vpcs.push({ region: v.region, account, id: vpc.id });
      }
    }),
    seedStep<Ec2SeedSpec, Ec2SeedResult>('securityGroups', (spec, result) => {
      for (const g of spec.securityGroups ?? []) {
        const account = g.account ?? DEFAULT_ACCOUNT;
        const existing = g.id ? ec2.find(account, g.region, g.id) : undefined;
        const group = existing ?? ec2.create(account, g.region, { id: g.id, name: g.name, description: g.description ?? g.name, vpcId: g.vpcId, tags: tagList(g.tags) });
        result.securityGroups.push({ region: g.region, account, id: group.id, name: group.name, vpcId: group.vpcId });
      }
      // Ingress after all groups exist, so groups may refer to each other.
      for (const g of spec.securityGroups ?? []) {
        if (!g.ingress?.length) continue;
        const account = g.account ?? DEFAULT_ACCOUNT;
        const group = g.id ? ec2.get(account, g.region, { groupId: g.id }) : ec2.list(account, g.region).find((x) => x.name === g.name && x.vpcId === (g.vpcId ?? defaultVpcId(account, g.region)));
        if (!group) throw new Error(`seed: security group ${g.name} was not created`);
        for (const r of g.ingress) {
          const perm = {
            protocol: r.protocol,
            fromPort: r.fromPort,
            toPort: r.toPort,
            groups: r.sourceGroupId ? [{ groupId: r.sourceGroupId, description: r.description }] : [],
            cidrs: r.cidrIp ? [{ cidrIp: r.cidrIp, description: r.description }] : [],
          };
          try {
            ec2.authorizeIngress(account, g.region, group, [perm]);
          } catch (err) {
            if ((err as { code?: string }).code !== 'InvalidPermission.Duplicate') throw err;
          }
        }
      }
    }),
  ];
}
