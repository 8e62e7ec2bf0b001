/**
 * RDS Blue/Green Deployments of DB instances
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/blue-green-deployments.html): the deployments of each account
 * and Region, their provisioning over time, DescribeBlueGreenDeployments and DeleteBlueGreenDeployment. The parts:
 * CreateBlueGreenDeployment and the green instance (sim/src/rds/blue-green-create.ts), the switchover
 * (sim/src/rds/blue-green-switchover.ts), what the API shows (sim/src/rds/blue-green-view.ts), the faults a test arms
 * (sim/src/rds/blue-green-faults.ts), the actions (sim/src/rds/blue-green-actions.ts).
 */
import type { Tag } from '../core/aws';
import { dedupeTags } from '../core/aws';
import { SimError } from '../core/errors';
import { regionalKey } from '../core/ids';
import type { Params } from '../core/query';
import { str } from '../core/query';
import type { CreateBlueGreenInput } from './blue-green-create';
import { createDeployment, createGreenReplicas } from './blue-green-create';
import { standingFault } from './blue-green-faults';
import { BlueGreenSwitchover } from './blue-green-switchover';
import type { BlueGreenView, ViewOptions } from './blue-green-view';
import { currentTask, filterDeployments, replicaPairsOf, tasksAt, viewOf } from './blue-green-view';
import type { RdsContext } from './context';
import type { BlueGreenStore } from './inputs';
import type { BlueGreenDeploymentRecord, DbInstance } from './state';

/** A green instance that will not become available. */
const failedStatus = (inst: DbInstance): boolean => inst.status === 'failed' || inst.status === 'restore-error';

export class RdsBlueGreen {
  readonly switchovers: BlueGreenSwitchover;

  constructor(
    private readonly ctx: RdsContext,
    private readonly rds: BlueGreenStore,
  ) {
    this.switchovers = new BlueGreenSwitchover(ctx, rds, this);
  }

  // ---- lookup ---------------------------------------------------------------------------------

  all(): BlueGreenDeploymentRecord[] {
    return Object.values(this.ctx.state.blueGreenDeployments).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  list(account: string, region: string): BlueGreenDeploymentRecord[] {
    return this.all().filter((d) => d.account === account && d.region === region);
  }

  /** By identifier, which "isn't case-sensitive" (API_DescribeBlueGreenDeployments); BlueGreenDeploymentNotFoundFault (404) otherwise. */
  get(account: string, region: string, id: string): BlueGreenDeploymentRecord {
    const found = this.ctx.state.blueGreenDeployments[regionalKey(account, region, id.toLowerCase())];
    if (!found) throw new SimError('BlueGreenDeploymentNotFoundFault', `BlueGreenDeploymentIdentifier ${id} doesn't refer to an existing blue/green deployment.`, 404);
    return found;
  }

  /** An instance by its DbiResourceId ("Amazon RDS tracks resources in blue/green deployments with the DbiResourceId"). */
  instance(resourceId: string): DbInstance | undefined {
    return Object.values(this.ctx.state.instances).find((i) => i.resourceId === resourceId);
  }

  /** The deployment the instance is the blue or the green of, unless it has been switched over. */
  activeDeploymentOf(inst: DbInstance): BlueGreenDeploymentRecord | undefined {
    return this.all().find((d) => d.status !== 'SWITCHOVER_COMPLETED' && (d.sourceResourceId === inst.resourceId || d.targetResourceId === inst.resourceId));
  }

  /**
   * "During a switchover, you can't modify any DB instances included in the switchover" (User Guide, "Switching a
   * blue/green deployment"): ModifyDBInstance is refused as for an instance in no state for it.
   */
  refuseInSwitchover(inst: DbInstance): void {
    if (!inst.blueGreenSwitchover) return;
    throw new SimError('InvalidDBInstanceState', `DB instance ${inst.id} is part of the switchover of blue/green deployment ${inst.blueGreenSwitchover}; it can't be modified until the switchover ends.`);
  }

  // ---- the API ------------------------------------------------------------------------------------

  /** https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateBlueGreenDeployment.html (sim/src/rds/blue-green-create.ts) */
  create(account: string, region: string, input: CreateBlueGreenInput): BlueGreenDeploymentRecord {
    return createDeployment({ ctx: this.ctx, rds: this.rds, deployments: this }, account, region, input);
  }

  view(d: BlueGreenDeploymentRecord, opts: ViewOptions = {}): BlueGreenView {
    return viewOf(d, (resourceId) => this.instance(resourceId), opts);
  }

  /** DescribeBlueGreenDeployments: by BlueGreenDeploymentIdentifier, then Filters (sim/src/rds/blue-green-view.ts). */
  describe(account: string, region: string, p: Params, filters: Params[]): BlueGreenDeploymentRecord[] {
    const id = str(p, 'BlueGreenDeploymentIdentifier');
    return filterDeployments(id !== undefined ? [this.get(account, region, id)] : this.list(account, region), filters, (resourceId) => this.instance(resourceId));
  }

  /**
   * DeleteBlueGreenDeployment: the deployment goes (its answer shows DELETING and DeleteTime); both environments'
   * instances stay. Refused while a switchover runs. DeleteTarget ("Specifies whether to delete the resources in the
   * green environment. You can't specify this option if the blue/green deployment status is SWITCHOVER_COMPLETED")
   * would delete the green instance, which the simulator never does (DeleteDBInstance is denied, sim/src/rds/protocol.ts).
   */
  delete(account: string, region: string, id: string, deleteTarget: boolean): BlueGreenView {
    const d = this.get(account, region, id);
    if (d.status === 'SWITCHOVER_IN_PROGRESS') {
      throw new SimError('InvalidBlueGreenDeploymentStateFault', `The blue/green deployment ${d.id} can't be deleted while its switchover is in progress.`);
    }
    if (deleteTarget && d.status === 'SWITCHOVER_COMPLETED') {
      throw new SimError('InvalidParameterCombination', `You can't specify DeleteTarget for blue/green deployment ${d.id}: its status is SWITCHOVER_COMPLETED.`);
    }
    if (deleteTarget) {
      throw new SimError(
        'AccessDenied',
        'User is not authorized to perform: rds:DeleteDBInstance with an explicit deny in a service control policy. The simulator never deletes: DeleteTarget would delete the green DB instance.',
        403,
      );
    }
    const answer = this.view(d, { deletedAt: this.ctx.now() });
    delete this.ctx.state.blueGreenDeployments[regionalKey(d.account, d.region, d.id)];
    this.ctx.markDirty();
    return answer;
  }

  addTags(d: BlueGreenDeploymentRecord, tags: Tag[]): void {
    d.tags = dedupeTags([...d.tags, ...tags]);
    this.ctx.markDirty();
  }

  removeTags(d: BlueGreenDeploymentRecord, keys: string[]): void {
    d.tags = d.tags.filter((t) => !keys.includes(t.Key));
    this.ctx.markDirty();
  }

  // ---- time ---------------------------------------------------------------------------------------

  /** Brings every deployment up to now (after the instances): provisioning, armed faults, switchovers that have ended. */
  tick(): void {
    const now = this.ctx.now();
    for (const d of this.all()) {
      this.standingFault(d);
      this.provisioned(d);
      this.standingFault(d);
      if (d.status === 'SWITCHOVER_IN_PROGRESS' && d.switchover && d.switchover.endsAt <= now) this.switchovers.end(d);
    }
  }

  /**
   * Provisioning follows the green instances: once the green primary is `available` with nothing left to do, its
   * read replicas are made (CREATING_TOPOLOGY_OF_SOURCE, from the instant the primary became available; sim/src/rds/
   * blue-green-create.ts), and the deployment is AVAILABLE once they are too (RDS-EVENT-0244 "Blue/green deployment
   * tasks completed"). A green instance that failed (`failed`, `restore-error`) leaves the deployment
   * INVALID_CONFIGURATION with the task it was on FAILED.
   */
  private provisioned(d: BlueGreenDeploymentRecord): void {
    if (d.status !== 'PROVISIONING') return;
    const green = this.instance(d.targetResourceId);
    if (!green || failedStatus(green)) {
      this.failProvisioning(d, `the green DB instance ${green?.id ?? d.targetResourceId} ${green ? `is ${green.status}` : 'is gone'}.`);
      return;
    }
    if (green.status !== 'available' || green.op) return;
    if (createGreenReplicas({ rds: this.rds }, d, green, Math.max(green.statusSince, d.createdAt), (resourceId) => this.instance(resourceId))) {
      // The new replicas were made in the past (when the primary became available): bring them up to now.
      this.rds.lifecycle.tick();
      this.ctx.markDirty();
    }
    const replicas = replicaPairsOf(d).flatMap((p) => (p.target === undefined ? [] : [{ resourceId: p.target, inst: this.instance(p.target) }]));
    const broken = replicas.find((r) => !r.inst || failedStatus(r.inst));
    if (broken) {
      this.failProvisioning(d, `the green DB instance ${broken.inst?.id ?? broken.resourceId} ${broken.inst ? `is ${broken.inst.status}` : 'is gone'}.`);
    } else if (replicas.every((r) => r.inst?.status === 'available' && !r.inst.op)) {
      d.status = 'AVAILABLE';
      d.memberStatus = 'AVAILABLE';
      d.tasks = tasksAt(d, undefined);
      this.ctx.markDirty();
    }
  }

  /** An armed fault that acts without a call: failed provisioning, or a green environment that broke (sim/src/rds/blue-green-faults.ts). */
  private standingFault(d: BlueGreenDeploymentRecord): void {
    const fault = standingFault(d);
    if (fault?.fault === 'provisioning-failed') this.failProvisioning(d, fault.reason ?? 'the green environment could not be created.');
    if (fault?.fault === 'invalid-configuration') {
      d.status = 'INVALID_CONFIGURATION';
      d.statusDetails = fault.reason ?? 'Replication from the blue environment to the green environment is broken: the green DB instance was promoted outside the deployment.';
      this.ctx.markDirty();
    }
  }

  /**
   * Creation failed (RDS-EVENT-0245 "Creation of blue/green deployment failed"): the task under way FAILED, the green
   * instances still being made `failed`. The documented statuses have no failed provisioning: INVALID_CONFIGURATION is
   * "Resources in the green environment are invalid, so switchover isn't possible" (API_BlueGreenDeployment).
   */
  private failProvisioning(d: BlueGreenDeploymentRecord, reason: string): void {
    const green = this.instance(d.targetResourceId);
    d.tasks = tasksAt(d, green ? currentTask(green) : 'CREATING_READ_REPLICA_OF_SOURCE', 'FAILED');
    const greenReplicas = replicaPairsOf(d).map((p) => (p.target === undefined ? undefined : this.instance(p.target)));
    for (const inst of [green, ...greenReplicas]) {
      if (!inst?.op) continue;
      inst.op = undefined;
      inst.status = 'failed';
      inst.statusSince = this.ctx.now();
      this.rds.databases.statusChanged(inst);
    }
    d.status = 'INVALID_CONFIGURATION';
    d.statusDetails = `Creation of blue/green deployment failed: ${reason}`;
    this.ctx.markDirty();
  }
}
