/**
 * Read replicas: who replicates whom, and the rules RDS applies because of it. A replica records its source
 * (`DbInstance.replicaOf`); a source's replicas are found from them, so the two can never disagree. Documents:
 * - https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstanceReadReplica.html
 *   (SourceDBInstanceIdentifier: "Each DB instance can have up to 15 read replicas"; "If the source DB instance is
 *   in a different Amazon Web Services Region from the read replica, specify a valid DB instance ARN")
 * - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PostgreSQL.Replication.ReadReplicas.Cascading.html
 *   ("As of version 14.1, RDS for PostgreSQL supports cascading read replicas"; "You can create a series of up to
 *   three read replicas in a chain from a source")
 * - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PostgreSQL.Replication.ReadReplicas.Xregion.html
 *   ("A cross-Region cascading chain of database replicas can span a maximum of two Regions")
 * - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_UpgradeDBInstance.PostgreSQL.html (minor version
 *   upgrades: "If your database has read replicas, you must first upgrade all of the read replicas before you
 *   upgrade the source instance or cluster")
 */
import { regionalKey } from '../core/ids';
import { compareVersions, majorOf } from './catalogue';
import type { RdsContext } from './context';
import { SimError } from '../core/errors';
import type { DbInstance, InstanceRef } from './state';

export const MAX_REPLICAS_PER_SOURCE = 15;
export const MAX_CASCADE_DEPTH = 3;
export const MAX_CASCADE_REGIONS = 2;
export const POSTGRES_CASCADING_SINCE = '14.1';

export const refOf = (i: DbInstance): InstanceRef => ({ account: i.account, region: i.region, id: i.id });

/** An `arn:aws:rds:<region>:<account>:db:<id>` ARN, or undefined for anything else. */
export function parseInstanceArn(arn: string): InstanceRef | undefined {
  const m = /^arn:aws[a-z-]*:rds:([a-z0-9-]+):(\d{12}):db:([A-Za-z0-9-]+)$/.exec(arn);
  return m ? { region: m[1] as string, account: m[2] as string, id: (m[3] as string).toLowerCase() } : undefined;
}

export class RdsReplicas {
  constructor(private readonly ctx: RdsContext) {}

  find(ref: InstanceRef): DbInstance | undefined {
    return this.ctx.state.instances[regionalKey(ref.account, ref.region, ref.id.toLowerCase())];
  }

  sourceOf(inst: DbInstance): DbInstance | undefined {
    return inst.replicaOf ? this.find(inst.replicaOf) : undefined;
  }

  /** The instance's own replicas (not theirs), oldest first. */
  replicasOf(inst: DbInstance): DbInstance[] {
    return Object.values(this.ctx.state.instances)
      .filter((r) => r.replicaOf !== undefined && r.replicaOf.account === inst.account && r.replicaOf.region === inst.region && r.replicaOf.id === inst.id)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Hops from the instance up to the first instance that replicates nothing (0 for that one). */
  depth(inst: DbInstance): number {
    let n = 0;
    for (let s = this.sourceOf(inst); s && n < 10; s = this.sourceOf(s)) n++;
    return n;
  }

  /**
   * How one instance names another in DescribeDBInstances (ReadReplicaSourceDBInstanceIdentifier,
   * ReadReplicaDBInstanceIdentifiers): its identifier in the same Region, its ARN across Regions, as RDS answers
   * (https://github.com/getmoto/moto/issues/5423: "for cross-region replication, AWS provides full arns").
   */
  nameFor(viewer: DbInstance, other: DbInstance | InstanceRef): string {
    if (viewer.region === other.region) return other.id;
    return 'arn' in other ? other.arn : `arn:aws:rds:${other.region}:${other.account}:db:${other.id}`;
  }

  /** The replicas still running a version below `version`. Their own replicas are held back one level down. */
  replicasBelow(inst: DbInstance, version: string): DbInstance[] {
    return this.replicasOf(inst).filter((r) => compareVersions(r.engineVersion, version) < 0);
  }

  /**
   * A minor-version upgrade of a source waits for its replicas: refused with DBUpgradeDependencyFailure (botocore:
   * DBUpgradeDependencyFailureFault, HTTP 400, sender) and RDS's message, which names the replicas, as reported
   * against the real service ("One or more of the DB Instance's read replicas need to be upgraded: <replica>",
   * ministryofjustice/cloud-platform#6068, aws/aws-cdk#26755). A major upgrade is not checked: RDS upgrades the
   * in-Region replicas along with it.
   */
  checkUpgradeDependency(inst: DbInstance, target: string): void {
    if (majorOf(target) !== majorOf(inst.engineVersion)) return;
    const behind = this.replicasBelow(inst, target);
    if (behind.length > 0) {
      throw new SimError('DBUpgradeDependencyFailure', `One or more of the DB Instance's read replicas need to be upgraded: ${behind.map((r) => this.nameFor(inst, r)).join(', ')}`);
    }
  }

  /** When the last of the instance's replicas reached the version it runs (0 without replicas). */
  caughtUpAt(inst: DbInstance): number {
    return Math.max(0, ...this.replicasOf(inst).map((r) => r.versionHistory[r.versionHistory.length - 1]?.at ?? r.createdAt));
  }

  /** Whether a minor upgrade of `inst` to `target` may start now (the maintenance window and forced dates ask). */
  upgradeMayStart(inst: DbInstance, target: string): boolean {
    return majorOf(target) !== majorOf(inst.engineVersion) || this.replicasBelow(inst, target).length === 0;
  }

  /**
   * Whether `source` may take one more replica in `region`: at most 15 replicas, and a replica of a replica only
   * for PostgreSQL 14.1 and later, at most three levels deep, over at most two Regions. The documents name no
   * error code for these; the simulator answers InvalidDBInstanceState, the code RDS uses for a source that cannot
   * take a replica (no automated backups, not available).
   */
  checkCanTakeReplica(source: DbInstance, region: string): void {
    const count = this.replicasOf(source).length;
    if (count >= MAX_REPLICAS_PER_SOURCE) {
      throw new SimError('InvalidDBInstanceState', `DB instance ${source.id} already has ${count} read replicas; a DB instance can have up to ${MAX_REPLICAS_PER_SOURCE}.`);
    }
    if (!source.replicaOf) return;
    if (source.engine !== 'postgres' || compareVersions(source.engineVersion, POSTGRES_CASCADING_SINCE) < 0) {
      throw new SimError(
        'InvalidDBInstanceState',
        `DB instance ${source.id} is a read replica running ${source.engine} ${source.engineVersion}: cascading read replicas need RDS for PostgreSQL ${POSTGRES_CASCADING_SINCE} or higher.`,
      );
    }
    const depth = this.depth(source) + 1;
    if (depth > MAX_CASCADE_DEPTH) {
      throw new SimError('InvalidDBInstanceState', `DB instance ${source.id} is the last of ${MAX_CASCADE_DEPTH} cascading read replicas in its chain; it cannot have a read replica.`);
    }
    const regions = new Set([region, source.region]);
    for (let s = this.sourceOf(source); s; s = this.sourceOf(s)) regions.add(s.region);
    if (regions.size > MAX_CASCADE_REGIONS) {
      throw new SimError('InvalidDBInstanceState', `A cascading chain of read replicas can span at most ${MAX_CASCADE_REGIONS} Regions; ${source.id}'s chain would span ${[...regions].join(', ')}.`);
    }
  }

  /**
   * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_StopInstance.html ("Limitations of stopping your DB
   * instance": "You can't stop a DB instance that has a read replica, or that is a read replica"). The document names
   * no error code; the simulator answers InvalidDBInstanceState, StopDBInstance's code for an instance it cannot stop.
   */
  checkCanStop(inst: DbInstance): void {
    if (inst.replicaOf) {
      throw new SimError('InvalidDBInstanceState', `DB instance ${inst.id} is a read replica of ${this.nameFor(inst, inst.replicaOf)}; a read replica cannot be stopped.`);
    }
    const replicas = this.replicasOf(inst);
    if (replicas.length > 0) {
      throw new SimError('InvalidDBInstanceState', `DB instance ${inst.id} has read replicas (${replicas.map((r) => this.nameFor(inst, r)).join(', ')}); an instance with read replicas cannot be stopped.`);
    }
  }

  /**
   * PostgreSQL replicas before 14.1 cannot keep automated backups: RDS answers ModifyDBInstance with
   * InvalidDBInstanceState "DB Backups not supported on a read replica for engine postgres" (as reported against the
   * real service, cloud-custodian/cloud-custodian#178). From 14.1 a replica may have them, so it can be the source
   * of a cascading replica ("turn on automatic backups", Cascading page).
   */
  checkReplicaBackups(inst: DbInstance, retention: number): void {
    if (!inst.replicaOf || retention === 0) return;
    if (inst.engine !== 'postgres' || compareVersions(inst.engineVersion, POSTGRES_CASCADING_SINCE) < 0) {
      throw new SimError('InvalidDBInstanceState', `DB Backups not supported on a read replica for engine ${inst.engine}`);
    }
  }
}
