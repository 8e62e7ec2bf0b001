/**
 * POST /_sim/seed: adds a fleet (IAM roles and identities, VPCs, security groups, DB subnet and parameter
 * groups, instances and hosted zones) to the simulator's state, in that order, so later parts may refer to
 * earlier ones.
 */
import { Catalogue } from './catalogue';
import { DAY } from './clock';
import { defaultVpcId } from './ec2-model';
import { SimError } from './errors';
import type { SimEngine } from './engine';
import type { DbInstance, Tag } from './model';
import { DEFAULT_ACCOUNT } from './model';
import { compareVersions, majorOf } from './catalogue';
import { createReadReplica, findReplicationSource } from './rds-replica-create';
import { parameterGroupFamily } from './rds-resources';
import type { SeedInstance, SeedResult, SeedSpec } from './types';

function toMs(v: string | number | undefined, field: string): number | undefined {
  if (v === undefined) return undefined;
  const ms = typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(ms)) throw new Error(`seed: ${field} is not a valid instant: ${String(v)}`);
  return ms;
}

const tagList = (tags: Record<string, string> | undefined): Tag[] => Object.entries(tags ?? {}).map(([Key, Value]) => ({ Key, Value }));

export function applySeed(engine: SimEngine, spec: SeedSpec): SeedResult {
  if (spec.reset) engine.reset();
  const now = engine.now();
  if (spec.catalogue) {
    new Catalogue(structuredClone(spec.catalogue)); // validates before replacing
    engine.state.catalogue = structuredClone(spec.catalogue);
  }
  const result: SeedResult = { instances: [], hostedZones: [], securityGroups: [], vpcs: [], dbSubnetGroups: [], roles: [], identities: [] };
  const { ec2, rds, sts } = engine;

  for (const r of spec.roles ?? []) {
    const role = sts.putRole(r);
    result.roles.push({ account: role.account, name: role.name, arn: role.arn });
  }
  for (const i of spec.identities ?? []) {
    const identity = sts.putIdentity(i);
    result.identities.push({ accessKeyId: identity.accessKeyId, account: identity.account, arn: identity.arn });
  }

  for (const v of spec.vpcs ?? []) {
    const account = v.account ?? DEFAULT_ACCOUNT;
    const vpc = ec2.createVpc(account, v.region, { id: v.id, cidrBlock: v.cidrBlock, tags: tagList(v.tags) });
    result.vpcs.push({ region: v.region, account, id: vpc.id });
  }

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

  for (const s of spec.dbSubnetGroups ?? []) {
    const account = s.account ?? DEFAULT_ACCOUNT;
    const group = rds.resources.createSubnetGroup(account, s.region, { name: s.name, description: s.description, vpcId: s.vpcId ?? defaultVpcId(account, s.region), subnetIds: s.subnetIds });
    result.dbSubnetGroups.push({ region: s.region, account, name: group.name, vpcId: group.vpcId });
  }
  for (const pg of spec.dbParameterGroups ?? []) {
    rds.resources.createParameterGroup(pg.account ?? DEFAULT_ACCOUNT, pg.region, { name: pg.name, family: pg.family, description: pg.description });
  }

  for (const s of spec.instances ?? []) {
    let inst: DbInstance;
    try {
      inst = seedInstance(engine, s, now);
    } catch (err) {
      throw new SimError((err as SimError).code ?? 'BadRequest', `seed: instances[${s.id}]: ${(err as Error).message}`, 400);
    }
    result.instances.push({ region: s.region, account: inst.account, id: inst.id, arn: inst.arn, address: inst.endpoint.address });
  }

  for (const z of spec.hostedZones ?? []) {
    const account = z.account ?? DEFAULT_ACCOUNT;
    if (z.privateZone && !z.vpcs?.length) {
      throw new Error(`seed: hosted zone ${z.name} is private but has no vpcs: Route 53 associates a private zone with at least one VPC`);
    }
    const { zone } = engine.route53.createZone(account, {
      id: z.id,
      name: z.name,
      callerReference: `sim-seed-${z.id ?? z.name}-${now}`,
      comment: z.comment,
      vpcs: z.vpcs,
    });
    if (z.records?.length) {
      engine.route53.changeRecords(
        account,
        zone.id,
        z.records.map((r) => ({
          action: 'UPSERT',
          record: { name: r.name, type: r.type, ttl: r.ttl ?? 300, values: r.values, setIdentifier: r.setIdentifier, weight: r.weight },
        })),
      );
    }
    // Seeded records are already live: publish them without waiting for INSYNC.
    zone.published = zone.records;
    for (const c of Object.values(engine.state.changes)) {
      if (c.zoneId === zone.id && c.account === account) {
        c.insyncAt = Math.min(c.insyncAt, now);
        c.published = true;
        c.recordsAfter = undefined;
      }
    }
    result.hostedZones.push({ account, id: zone.id, name: zone.name });
  }
  return result;
}

/**
 * A seeded instance may name a subnet group or parameter group that was not seeded: it is created (the
 * subnet group in its security groups' VPC, the parameter group in its version's family), so a short
 * seed stays short. Security groups are never invented: they must exist.
 */
function seedInstance(engine: SimEngine, s: SeedInstance, now: number): DbInstance {
  const { ec2, rds } = engine;
  const account = s.account ?? DEFAULT_ACCOUNT;
  const engineName = s.engine ?? 'postgres';
  if (s.replicaOf !== undefined) return seedReplica(engine, s, now);
  if (s.engineVersion === undefined) throw new Error('engineVersion is required (only a replica, with replicaOf, defaults to its source\'s)');
  if (s.dbSubnetGroupName && !rds.resources.findSubnetGroup(account, s.region, s.dbSubnetGroupName)) {
    const vpcs = new Set((s.vpcSecurityGroupIds ?? []).map((id) => ec2.find(account, s.region, id)?.vpcId).filter((v): v is string => v !== undefined));
    const vpcId = vpcs.size === 1 ? ([...vpcs][0] as string) : defaultVpcId(account, s.region);
    rds.resources.createSubnetGroup(account, s.region, { name: s.dbSubnetGroupName, vpcId });
  }
  if (s.parameterGroupName && !rds.resources.findParameterGroup(account, s.region, s.parameterGroupName)) {
    rds.resources.createParameterGroup(account, s.region, { name: s.parameterGroupName, family: parameterGroupFamily(engineName, s.engineVersion) });
  }
  const inst = rds.create(
    account,
    s.region,
    {
      id: s.id,
      instanceClass: s.instanceClass ?? 'db.t3.medium',
      engine: engineName,
      engineVersion: s.engineVersion as string,
      allocatedStorage: s.allocatedStorage,
      storageType: s.storageType,
      iops: s.iops,
      kmsKeyId: s.kmsKeyId,
      multiAZ: s.multiAZ,
      dbSubnetGroupName: s.dbSubnetGroupName,
      parameterGroupName: s.parameterGroupName,
      vpcSecurityGroupIds: s.vpcSecurityGroupIds,
      preferredMaintenanceWindow: s.preferredMaintenanceWindow,
      backupRetentionPeriod: s.backupRetentionPeriod,
      autoMinorVersionUpgrade: s.autoMinorVersionUpgrade,
      deletionProtection: s.deletionProtection,
      port: s.endpoint?.port,
      tags: tagList(s.tags),
    },
    { status: s.status ?? 'available', createdAt: toMs(s.createdAt, `instances[${s.id}].createdAt`) ?? now - 400 * DAY },
  );
  return finishSeededInstance(engine, inst, s, now);
}

/**
 * A seeded read replica (`replicaOf`): made as CreateDBInstanceReadReplica makes one (sim/src/rds-replica-create.ts),
 * already `available`, with the structural refusals (the 15-replica limit, cascading rules) but not the ones about
 * the source's current state (status, automated backups), which describe a moment, not an estate.
 */
function seedReplica(engine: SimEngine, s: SeedInstance, now: number): DbInstance {
  const account = s.account ?? DEFAULT_ACCOUNT;
  const ref = typeof s.replicaOf === 'string' ? { region: s.region, id: s.replicaOf } : (s.replicaOf as { region: string; id: string });
  const sourceArn = `arn:aws:rds:${ref.region}:${account}:db:${ref.id}`;
  const source = findReplicationSource(engine.rds, account, s.region, ref.region === s.region ? ref.id : sourceArn);
  if (s.engine !== undefined && s.engine !== source.engine) throw new Error(`replicaOf ${ref.id}: a replica runs its source's engine (${source.engine}), not ${s.engine}`);
  if (s.engineVersion !== undefined && (majorOf(s.engineVersion) !== majorOf(source.engineVersion) || compareVersions(s.engineVersion, source.engineVersion) < 0)) {
    throw new Error(`replicaOf ${ref.id}: engineVersion ${s.engineVersion} must be of the source's major and not below its ${source.engineVersion} (RDS upgrades replicas before their source)`);
  }
  if (s.engineVersion !== undefined && !engine.catalogue().has(source.engine, s.engineVersion)) throw new Error(`engineVersion ${s.engineVersion} is not in the catalogue`);
  const inst = createReadReplica(
    engine.rds,
    account,
    s.region,
    {
      id: s.id,
      sourceIdentifier: ref.region === s.region ? ref.id : sourceArn,
      instanceClass: s.instanceClass,
      multiAZ: s.multiAZ,
      autoMinorVersionUpgrade: s.autoMinorVersionUpgrade,
      allocatedStorage: s.allocatedStorage,
      storageType: s.storageType,
      iops: s.iops,
      dbSubnetGroupName: s.dbSubnetGroupName,
      parameterGroupName: s.parameterGroupName,
      vpcSecurityGroupIds: s.vpcSecurityGroupIds,
      kmsKeyId: s.kmsKeyId,
      deletionProtection: s.deletionProtection,
      preferredMaintenanceWindow: s.preferredMaintenanceWindow,
      backupRetentionPeriod: s.backupRetentionPeriod,
      port: s.endpoint?.port,
      tags: tagList(s.tags),
    },
    { seeded: true, createdAt: toMs(s.createdAt, `instances[${s.id}].createdAt`) ?? now - 400 * DAY },
  );
  if (s.engineVersion !== undefined && s.engineVersion !== inst.engineVersion) {
    inst.engineVersion = s.engineVersion;
    inst.versionHistory = [{ at: inst.createdAt, version: s.engineVersion }];
  }
  if (s.status === 'stopped') {
    inst.status = 'stopped';
    inst.stoppedAt = now;
  }
  return finishSeededInstance(engine, inst, s, now);
}

function finishSeededInstance(engine: SimEngine, inst: DbInstance, s: SeedInstance, now: number): DbInstance {
  // A seeded fleet starts now: windows before the seed are history, not pending work.
  inst.maintenanceCheckedUntil = now;
  inst.statusSince = now;
  if (s.endpoint?.address) inst.endpoint.address = s.endpoint.address;
  if (s.endpoint?.hostedZoneId) inst.endpoint.hostedZoneId = s.endpoint.hostedZoneId;
  const pm = s.pendingMaintenance;
  if (pm) {
    if (pm.targetVersion && !engine.catalogue().has(inst.engine, pm.targetVersion)) {
      throw new Error(`seed: instances[${s.id}].pendingMaintenance.targetVersion ${pm.targetVersion} is not in the catalogue`);
    }
    inst.maintenance = {
      targetVersion: pm.targetVersion,
      description: pm.description,
      autoAppliedAfterDate: toMs(pm.autoAppliedAfterDate, 'autoAppliedAfterDate'),
      forcedApplyDate: toMs(pm.forcedApplyDate, 'forcedApplyDate'),
    };
  }
  return inst;
}
