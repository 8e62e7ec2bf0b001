/**
 * A blue/green deployment as the API shows it (API_BlueGreenDeployment): its members by ARN, its tasks, and
 * DescribeBlueGreenDeployments' filters. What an answer holds at each stage follows the AWS CLI's own examples of
 * these calls (aws/aws-cli awscli/examples/rds/*-blue-green-deployment*.rst): CreateBlueGreenDeployment's answer
 * has every task PENDING, no Target and a member pair with its SourceMember only; the tasks of a DB instance's
 * deployment are CREATING_READ_REPLICA_OF_SOURCE, DB_ENGINE_VERSION_UPGRADE (with an engine upgrade),
 * CONFIGURE_BACKUPS and CREATING_TOPOLOGY_OF_SOURCE. A deployment of a primary with read replicas lists one member
 * pair per resource, the primaries first, then each replica (the AWS CLI's examples of an instance with three
 * replicas: `my-db-instance-replica-1` paired with `my-db-instance-replica-1-green-k5fv7u`, and so on).
 */
import type { Tag } from '../core/aws';
import { SimError } from '../core/errors';
import type { Params } from '../core/query';
import { list } from '../core/query';
import type { BlueGreenDeploymentRecord, BlueGreenTask, DbInstance } from './state';

/** One deployment as the API shows it (sim/src/rds/render.ts renders it). */
export interface BlueGreenView {
  id: string;
  name: string;
  source?: string;
  target?: string;
  members: Array<{ source?: string; target?: string; status?: string }>;
  tasks: BlueGreenTask[];
  status: string;
  statusDetails?: string;
  createdAt: number;
  deletedAt?: number;
  tags: Tag[];
}

/** An instance by DbiResourceId: "Amazon RDS tracks resources in blue/green deployments with the DbiResourceId". */
export type InstanceByResourceId = (resourceId: string) => DbInstance | undefined;

/**
 * A read replica of the blue primary and its copy in the green environment, by DbiResourceId; `target` is absent until
 * the green replica is made (CREATING_TOPOLOGY_OF_SOURCE). `instanceClass` and `parameterGroupName` are what the green
 * replica gets, settled when the deployment is created (TargetDBInstanceClass and TargetDBParameterGroupName apply to
 * every DB instance of the green environment).
 */
export interface ReplicaPair {
  source: string;
  target?: string;
  instanceClass: string;
  parameterGroupName: string;
}

/**
 * The deployment record as the blue/green files keep it: BlueGreenDeploymentRecord (sim/src/rds/state.ts) and its
 * replica pairs (`replicaPairs`, kept in the state file with the rest of the record; absent in state files written
 * before replicas were copied, and on deployments of a primary without replicas).
 */
export type DeploymentWithReplicas = BlueGreenDeploymentRecord & { replicaPairs?: ReplicaPair[] };

export const replicaPairsOf = (d: BlueGreenDeploymentRecord): ReplicaPair[] => (d as DeploymentWithReplicas).replicaPairs ?? [];

export const deploymentArn = (d: Pick<BlueGreenDeploymentRecord, 'account' | 'region' | 'id'>): string => `arn:aws:rds:${d.region}:${d.account}:deployment:${d.id}`;

export const taskNames = (d: Pick<BlueGreenDeploymentRecord, 'upgrade'>): string[] => [
  'CREATING_READ_REPLICA_OF_SOURCE',
  ...(d.upgrade ? ['DB_ENGINE_VERSION_UPGRADE'] : []),
  'CONFIGURE_BACKUPS',
  'CREATING_TOPOLOGY_OF_SOURCE',
];

/** Tasks before `current` COMPLETED, `current` in `status`, the rest PENDING; every task COMPLETED without `current`. */
export function tasksAt(d: Pick<BlueGreenDeploymentRecord, 'upgrade'>, current: string | undefined, status: BlueGreenTask['status'] = 'IN_PROGRESS'): BlueGreenTask[] {
  const names = taskNames(d);
  const at = current === undefined ? names.length : names.indexOf(current);
  return names.map((name, n) => ({ name, status: n < at ? 'COMPLETED' : n === at ? status : 'PENDING' }));
}

/** The task the green instance's present step stands for while the deployment provisions. */
export function currentTask(green: DbInstance): string {
  if (!green.op) return 'CREATING_TOPOLOGY_OF_SOURCE';
  return ({ creating: 'CREATING_READ_REPLICA_OF_SOURCE', upgrading: 'DB_ENGINE_VERSION_UPGRADE', 'backing-up': 'CONFIGURE_BACKUPS' } as Record<string, string>)[green.status] ?? 'CREATING_READ_REPLICA_OF_SOURCE';
}

export interface ViewOptions {
  /** CreateBlueGreenDeployment's answer: every task PENDING, no Target yet. */
  atCreate?: boolean;
  /** The member status to show instead (SwitchoverBlueGreenDeployment answers with the member still AVAILABLE). */
  memberStatus?: string;
  /** DeleteBlueGreenDeployment's answer: DELETING, with DeleteTime. */
  deletedAt?: number;
}

export function viewOf(d: BlueGreenDeploymentRecord, instance: InstanceByResourceId, opts: ViewOptions = {}): BlueGreenView {
  const blue = instance(d.sourceResourceId);
  const green = opts.atCreate ? undefined : instance(d.targetResourceId);
  let tasks = d.tasks ?? tasksAt(d, green ? currentTask(green) : undefined);
  if (opts.atCreate) tasks = taskNames(d).map((name) => ({ name, status: 'PENDING' }));
  const status = opts.memberStatus ?? d.memberStatus;
  const replicas = replicaPairsOf(d).map((p) => ({
    source: instance(p.source)?.arn,
    target: opts.atCreate || p.target === undefined ? undefined : instance(p.target)?.arn,
    status,
  }));
  return {
    id: d.id,
    name: d.name,
    source: blue?.arn,
    target: green?.arn,
    members: [{ source: blue?.arn, target: green?.arn, status }, ...replicas],
    tasks,
    status: opts.deletedAt !== undefined ? 'DELETING' : d.status,
    statusDetails: d.statusDetails,
    createdAt: d.createdAt,
    deletedAt: opts.deletedAt,
    tags: d.tags,
  };
}

/**
 * DescribeBlueGreenDeployments' Filters (API_DescribeBlueGreenDeployments): blue-green-deployment-identifier,
 * blue-green-deployment-name, source and target ("Accepts source databases": by ARN or identifier); any other name is
 * refused as DescribeDBInstances refuses one.
 */
export function filterDeployments(found: BlueGreenDeploymentRecord[], filters: Params[], instance: InstanceByResourceId): BlueGreenDeploymentRecord[] {
  const names = (resourceId: string): string[] => {
    const inst = instance(resourceId);
    return inst ? [inst.arn, inst.id] : [];
  };
  for (const f of filters) {
    const name = f.get('Name');
    const values = list(f, 'Values');
    if (name === 'blue-green-deployment-identifier') found = found.filter((d) => values.some((v) => v.toLowerCase() === d.id));
    else if (name === 'blue-green-deployment-name') found = found.filter((d) => values.includes(d.name));
    else if (name === 'source') found = found.filter((d) => names(d.sourceResourceId).some((n) => values.includes(n)));
    else if (name === 'target') found = found.filter((d) => names(d.targetResourceId).some((n) => values.includes(n)));
    else throw new SimError('InvalidParameterValue', `Unrecognized filter name: ${name}`);
  }
  return found;
}
