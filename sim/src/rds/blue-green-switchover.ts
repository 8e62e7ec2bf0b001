/**
 * SwitchoverBlueGreenDeployment and what happens over the switchover's time, as the User Guide's "Switching a
 * blue/green deployment" (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/blue-green-deployments-switching.html)
 * describes it:
 * - "You can specify a switchover timeout period between 30 seconds and 3,600 seconds (one hour). If the switchover
 *   takes longer than the specified duration, then any changes are rolled back and no changes are made to either
 *   environment. The default timeout period is 300 seconds";
 * - the switchover actions: "Runs guardrail checks", "Stops new write operations on the primary DB instance in both
 *   environments", "Drops connections to the DB instances in both environments and doesn't allow new connections",
 *   "Waits for replication to catch up", "Renames the DB instances in the both environments" (the green takes the
 *   blue's name, the blue gets `-oldn` appended, "RDS also renames the endpoints in the green environment to match
 *   the corresponding endpoints in the blue environment so that application changes aren't required"), then "Allows
 *   connections" and writes again;
 * - "If you have tags configured in the blue environment, these tags are moved to the new production environment
 *   during switchover. The previous production environment also retains these tags";
 * - "During a switchover, you can't modify any DB instances included in the switchover" (sim/src/rds/model.ts);
 * - after it, DescribeBlueGreenDeployments names the renamed blue as Source and the new production instance as Target
 *   (the AWS CLI's example "To describe a blue/green deployment ... after switchover": Source `...-old1`, Target the
 *   original name, Status and member status SWITCHOVER_COMPLETED), as moto does;
 * - the answer to the call shows SWITCHOVER_IN_PROGRESS with its member still AVAILABLE (the AWS CLI's example of
 *   switchover-blue-green-deployment); the next describe shows the member SWITCHOVER_IN_PROGRESS.
 * - "A switchover promotes the green environment to be the new production environment. When the green DB instance
 *   has read replicas, they are also promoted": every member pair is renamed at once (the overview's example: "The
 *   green environment read replica named mydb2-green-abc123 becomes the production read replica mydb2", "The blue
 *   environment read replica named mydb2 becomes mydb2-old1"), each green taking its blue's endpoint; the green
 *   replicas keep replicating the green primary, now under the production name, and the old blue replicas their old
 *   primary, now `-old1`.
 * The switchover lasts the RDS duration `blueGreenSwitchover`; a longer one than SwitchoverTimeout is rolled back at
 * the timeout. The old blue is never deleted ("After a switchover, the DB instances in the previous blue environment
 * are retained").
 */
import { dedupeTags } from '../core/aws';
import { SimError } from '../core/errors';
import { regionalKey } from '../core/ids';
import { describeGuardrail, takeSwitchoverFault } from './blue-green-faults';
import type { BlueGreenView } from './blue-green-view';
import { replicaPairsOf, viewOf } from './blue-green-view';
import type { RdsContext } from './context';
import { endpointAddress } from './endpoint';
import type { BlueGreenStore } from './inputs';
import type { BlueGreenDeploymentRecord, DbInstance } from './state';

export const DEFAULT_SWITCHOVER_TIMEOUT = 300;

/** The deployments a switchover needs: one by identifier, and a member instance by DbiResourceId (RdsBlueGreen). */
export interface DeploymentLookup {
  get(account: string, region: string, id: string): BlueGreenDeploymentRecord;
  instance(resourceId: string): DbInstance | undefined;
}

export class BlueGreenSwitchover {
  constructor(
    private readonly ctx: RdsContext,
    private readonly rds: BlueGreenStore,
    private readonly deployments: DeploymentLookup,
  ) {}

  /**
   * SwitchoverBlueGreenDeployment: only from AVAILABLE (and from SWITCHOVER_FAILED: a rolled-back switchover made
   * "no changes ... to either environment", so it may be tried again; the documents do not say otherwise), with
   * every member instance `available` ("InvalidBlueGreenDeploymentStateFault: DB instance X is not in available
   * state", as reported against the real service, hashicorp/terraform-provider-aws#36241). Writes stop and
   * connections drop in both environments at once, on every member ("Drops connections to the DB instances in both
   * environments"); guardrail checks run first and cancel the switchover before that.
   */
  start(account: string, region: string, id: string, timeoutSeconds = DEFAULT_SWITCHOVER_TIMEOUT): BlueGreenView {
    const d = this.deployments.get(account, region, id);
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 30 || timeoutSeconds > 3600) {
      throw new SimError('InvalidParameterValue', `SwitchoverTimeout must be between 30 and 3600 seconds, got ${timeoutSeconds}.`);
    }
    if (d.status !== 'AVAILABLE' && d.status !== 'SWITCHOVER_FAILED') {
      throw new SimError('InvalidBlueGreenDeploymentStateFault', `The blue/green deployment ${d.id} can't be switched over: its status is ${d.status}, not AVAILABLE.`);
    }
    const pairs = this.members(d);
    const instances = pairs.flatMap(({ blue, green }) => [blue, green]);
    for (const inst of instances) {
      if (inst.status !== 'available') throw new SimError('InvalidBlueGreenDeploymentStateFault', `DB instance ${inst.id} is not in available state`);
    }
    const now = this.ctx.now();
    const fault = takeSwitchoverFault(d);
    if (fault?.fault === 'guardrail') {
      d.switchover = { startedAt: now, timeoutSeconds, endsAt: now, outcome: 'canceled', reason: describeGuardrail(fault.guardrail, timeoutSeconds) };
    } else if (fault?.fault === 'switchover-rollback') {
      const after = Math.min(fault.afterSeconds ?? timeoutSeconds, timeoutSeconds);
      const reason = fault.reason ?? `the switchover did not complete within the SwitchoverTimeout of ${timeoutSeconds} seconds (replication lag)`;
      d.switchover = { startedAt: now, timeoutSeconds, endsAt: now + after * 1000, outcome: 'rolled-back', reason };
    } else {
      const takes = this.ctx.durationMs('blueGreenSwitchover');
      d.switchover =
        takes > timeoutSeconds * 1000
          ? { startedAt: now, timeoutSeconds, endsAt: now + timeoutSeconds * 1000, outcome: 'rolled-back', reason: `the switchover did not complete within the SwitchoverTimeout of ${timeoutSeconds} seconds` }
          : { startedAt: now, timeoutSeconds, endsAt: now + takes, outcome: 'completed' };
    }
    d.status = 'SWITCHOVER_IN_PROGRESS';
    d.memberStatus = 'SWITCHOVER_IN_PROGRESS';
    d.statusDetails = undefined;
    // The guardrails run before writes stop: a canceled switchover has no outage.
    if (d.switchover.outcome !== 'canceled') for (const inst of instances) this.outage(inst, d.id);
    this.ctx.markDirty();
    return viewOf(d, (resourceId) => this.deployments.instance(resourceId), { memberStatus: 'AVAILABLE' });
  }

  /** The member pairs, the primaries first, then each read replica and its green copy. */
  private members(d: BlueGreenDeploymentRecord): Array<{ blue: DbInstance; green: DbInstance }> {
    const pairs = [{ source: d.sourceResourceId, target: d.targetResourceId as string | undefined }, ...replicaPairsOf(d)];
    return pairs.map(({ source, target }) => {
      const blue = this.deployments.instance(source);
      const green = target === undefined ? undefined : this.deployments.instance(target);
      if (!blue || !green) throw new SimError('InvalidBlueGreenDeploymentStateFault', `The blue/green deployment ${d.id} is missing its ${blue ? 'target' : 'source'} DB instance ${blue ? `for ${blue.id}` : source}.`);
      return { blue, green };
    });
  }

  /** The member instances that exist, blue and green (a switchover that ends changes them all). */
  private memberInstances(d: BlueGreenDeploymentRecord): DbInstance[] {
    const ids = [d.sourceResourceId, d.targetResourceId, ...replicaPairsOf(d).flatMap((p) => (p.target === undefined ? [p.source] : [p.source, p.target]))];
    return ids.map((id) => this.deployments.instance(id)).filter((i): i is DbInstance => i !== undefined);
  }

  /** Writes stopped and connections dropped (`deployment`), or allowed again (undefined). */
  private outage(inst: DbInstance, deployment: string | undefined): void {
    inst.blueGreenSwitchover = deployment;
    this.rds.databases.statusChanged(inst);
  }

  // ---- time ---------------------------------------------------------------------------------------

  /** The switchover of `d` has run its time (RdsBlueGreen's tick): completed, or rolled back or canceled. */
  end(d: BlueGreenDeploymentRecord): void {
    const s = d.switchover as NonNullable<BlueGreenDeploymentRecord['switchover']>;
    let pairs: Array<{ blue: DbInstance; green: DbInstance }> | undefined;
    try {
      pairs = this.members(d);
    } catch {
      pairs = undefined;
    }
    if (s.outcome === 'completed' && pairs) {
      this.complete(d, pairs);
    } else {
      // "If the switchover starts and then stops before finishing for any reason, then any changes are rolled back,
      // and no changes are made to either environment" (RDS-EVENT-0249 "Switchover canceled on blue/green deployment").
      for (const inst of this.memberInstances(d)) this.outage(inst, undefined);
      d.status = 'SWITCHOVER_FAILED';
      d.memberStatus = 'SWITCHOVER_FAILED';
      d.statusDetails = `Switchover ${s.outcome === 'canceled' ? 'canceled' : 'rolled back'}: ${s.reason ?? 'a member is missing'}. No changes were made to either environment.`;
    }
    this.ctx.markDirty();
  }

  /**
   * The renames, the endpoints, the tags, the databases, then SWITCHOVER_COMPLETED ("Switchover completed"). Each pair
   * as the primaries: the blue is renamed first (its replicas' link follows it to `-old1`), then the green takes the
   * name (its replicas' link follows it to the production name), the blue's endpoint, address and port, and its tags.
   */
  private complete(d: BlueGreenDeploymentRecord, pairs: Array<{ blue: DbInstance; green: DbInstance }>): void {
    for (const { blue, green } of pairs) {
      const name = blue.id;
      const endpoint = { ...blue.endpoint };
      const greenPort = green.endpoint.port;
      const oldName = this.oldName(blue);
      renameInstance(this.ctx, blue, oldName);
      renameInstance(this.ctx, green, name);
      green.endpoint = endpoint;
      blue.endpoint = { address: endpointAddress(oldName, blue.account, blue.region), port: greenPort, hostedZoneId: endpoint.hostedZoneId };
      green.tags = dedupeTags([...green.tags, ...blue.tags]);
      blue.blueGreenSwitchover = undefined;
      green.blueGreenSwitchover = undefined;
    }
    // Only the primaries can be PostgreSQL-backed (the simulator runs no streaming replication to replicas).
    const primaries = pairs[0] as { blue: DbInstance; green: DbInstance };
    this.rds.databases.switchOver(primaries.blue, primaries.green);
    for (const { blue, green } of pairs) for (const inst of [blue, green]) this.rds.databases.statusChanged(inst);
    d.status = 'SWITCHOVER_COMPLETED';
    d.memberStatus = 'SWITCHOVER_COMPLETED';
    d.statusDetails = 'Switchover completed';
  }

  /** "RDS renames the DB instances in the blue environment by appending -oldn to the current name, where n is a number." */
  private oldName(blue: DbInstance): string {
    for (let n = 1; ; n++) {
      const id = `${blue.id}-old${n}`;
      if (!this.rds.find(blue.account, blue.region, id)) return id;
    }
  }
}

/**
 * Renames an instance as a switchover does: its identifier, ARN and endpoint name change; its DbiResourceId, its
 * data (a PostgreSQL-backed instance's cluster stays in its folder) and its read replicas' link to it do not.
 */
export function renameInstance(ctx: RdsContext, inst: DbInstance, id: string): void {
  const instances = ctx.state.instances;
  const old = inst.id;
  delete instances[regionalKey(inst.account, inst.region, old)];
  if (inst.postgres && !inst.postgres.folder) inst.postgres.folder = old;
  inst.id = id;
  inst.arn = `arn:aws:rds:${inst.region}:${inst.account}:db:${id}`;
  inst.endpoint = { ...inst.endpoint, address: endpointAddress(id, inst.account, inst.region) };
  instances[regionalKey(inst.account, inst.region, id)] = inst;
  for (const other of Object.values(instances)) {
    const ref = other.replicaOf;
    if (ref && ref.account === inst.account && ref.region === inst.region && ref.id === old) other.replicaOf = { ...ref, id };
  }
  ctx.markDirty();
}
