/**
 * Faults a test arms on a blue/green deployment (`POST /_sim/blue-green/fault`), for what RDS documents can go wrong:
 * - `switchover-rollback`: the switchover starts (writes stop in both environments), then "takes longer than the
 *   specified duration" and "any changes are rolled back, and no changes are made to the environments"
 *   (API_SwitchoverBlueGreenDeployment, SwitchoverTimeout) after `afterSeconds` (default: the call's
 *   SwitchoverTimeout): SWITCHOVER_FAILED, nothing renamed, the reason in StatusDetails;
 * - `guardrail`: one of the switchover guardrails fails ("These switchover guardrails prevent a switchover if the
 *   environments aren't ready for it", User Guide, "Switchover guardrails"): the call is accepted, the checks run
 *   first, the switchover is canceled before writes stop (RDS-EVENT-0249 "Switchover canceled on blue/green
 *   deployment"): SWITCHOVER_FAILED at once, no outage;
 * - `provisioning-failed`: creating the green environment fails (RDS-EVENT-0245 "Creation of blue/green deployment
 *   failed"): the task under way FAILED, the green instance `failed`, the deployment INVALID_CONFIGURATION (the
 *   documented statuses have no other for it);
 * - `invalid-configuration`: the green environment breaks once AVAILABLE ("If you manually promote the green DB
 *   instance ... replication between the blue and green environments breaks and the blue/green deployment enters a
 *   state of Invalid configuration"): INVALID_CONFIGURATION, and a switchover is refused.
 * A fault is armed on a deployment (`deployment`), or on a source instance (`source`): its active deployment, or the
 * next one created from it.
 */
import { DEFAULT_ACCOUNT } from '../core/aws';
import { SimError } from '../core/errors';
import type { RdsContext } from './context';
import { parseInstanceArn } from './replicas';
import type { BlueGreenDeploymentRecord, BlueGreenFault, DbInstance, GuardrailCheck, InstanceRef } from './state';

export const GUARDRAILS: Record<GuardrailCheck, string> = {
  'replication-health': 'Replication health: the green primary DB instance replication status is not healthy',
  'replication-lag': 'Replication lag: the replica lag of the green primary DB instance is beyond what the switchover timeout of {timeout} seconds allows',
  'active-writes': 'Active writes: there are active writes on the green primary DB instance',
  'external-replication': 'External replication: the blue primary DB instance is the source or the target of self-managed replication',
  'long-running-writes': 'Long-running active writes: there are long-running active writes on the blue primary DB instance',
  'long-running-ddl': 'Long-running DDL statements: there are long-running DDL statements on the blue primary DB instance',
};

export const describeGuardrail = (check: GuardrailCheck, timeoutSeconds: number): string => `guardrail check failed: ${GUARDRAILS[check].replace('{timeout}', String(timeoutSeconds))}`;

/** `POST /_sim/blue-green/fault`'s body. */
export interface BlueGreenFaultSpec {
  region: string;
  account?: string;
  /** The deployment's identifier (`bgd-…`), or */
  deployment?: string;
  /** its source instance (identifier or ARN): its active deployment, or the next one created from it. */
  source?: string;
  fault: BlueGreenFault['fault'];
  reason?: string;
  /** `guardrail`: which check fails (default replication-lag). */
  guardrail?: GuardrailCheck;
  /** `switchover-rollback`: simulated seconds after the switchover's start (default and at most its SwitchoverTimeout). */
  afterSeconds?: number;
}

export interface BlueGreenFaultResult {
  armed: BlueGreenFault;
  /** The deployment it is armed on, or null when it waits for the source's next deployment. */
  deployment: string | null;
  status: string | null;
}

const bad = (message: string): SimError => new SimError('BadRequest', `blue-green fault: ${message}`, 400);

export function checkFaultSpec(body: Record<string, unknown>): BlueGreenFaultSpec & { fault: BlueGreenFault['fault'] } {
  const { region, account, deployment, source, fault, reason, guardrail, afterSeconds } = body;
  const usage = '{"region", "deployment": "bgd-…" or "source": "<instance id or ARN>", "fault": "switchover-rollback" | "guardrail" | "provisioning-failed" | "invalid-configuration"}';
  if (typeof region !== 'string' || region === '') throw bad(`needs ${usage}: region is missing`);
  if ((typeof deployment === 'string') === (typeof source === 'string')) throw bad(`needs exactly one of deployment and source: ${usage}`);
  if (typeof fault !== 'string' || !['switchover-rollback', 'guardrail', 'provisioning-failed', 'invalid-configuration'].includes(fault)) throw bad(`unknown fault ${JSON.stringify(fault)}: ${usage}`);
  if (reason !== undefined && typeof reason !== 'string') throw bad('reason must be a string');
  if (guardrail !== undefined && !(typeof guardrail === 'string' && guardrail in GUARDRAILS)) throw bad(`guardrail must be one of ${Object.keys(GUARDRAILS).join(', ')}`);
  if (afterSeconds !== undefined && !(typeof afterSeconds === 'number' && afterSeconds >= 0)) throw bad('afterSeconds must be a number of seconds >= 0');
  return {
    region,
    account: typeof account === 'string' ? account : undefined,
    deployment: deployment as string | undefined,
    source: source as string | undefined,
    fault: fault as BlueGreenFault['fault'],
    reason: reason as string | undefined,
    guardrail: guardrail as GuardrailCheck | undefined,
    afterSeconds: afterSeconds as number | undefined,
  };
}

function faultOf(spec: BlueGreenFaultSpec): BlueGreenFault {
  switch (spec.fault) {
    case 'guardrail':
      return { fault: 'guardrail', guardrail: spec.guardrail ?? 'replication-lag' };
    case 'switchover-rollback':
      return { fault: 'switchover-rollback', reason: spec.reason, afterSeconds: spec.afterSeconds };
    default:
      return { fault: spec.fault, reason: spec.reason };
  }
}

/** The statuses a fault can still act in: a deployment past them cannot take it. */
const ACTS_IN: Record<BlueGreenFault['fault'], string[]> = {
  'provisioning-failed': ['PROVISIONING'],
  'invalid-configuration': ['PROVISIONING', 'AVAILABLE'],
  'switchover-rollback': ['PROVISIONING', 'AVAILABLE', 'SWITCHOVER_FAILED'],
  guardrail: ['PROVISIONING', 'AVAILABLE', 'SWITCHOVER_FAILED'],
};

/** Where a fault is armed: a deployment by identifier, or the one an instance is in (RdsBlueGreen). */
export interface FaultTargets {
  get(account: string, region: string, id: string): BlueGreenDeploymentRecord;
  activeDeploymentOf(inst: DbInstance): BlueGreenDeploymentRecord | undefined;
}

export function armFault(ctx: RdsContext, deployments: FaultTargets, spec: BlueGreenFaultSpec): BlueGreenFaultResult {
  const account = spec.account ?? DEFAULT_ACCOUNT;
  const fault = faultOf(spec);
  const armedAt = ctx.now();
  let d: BlueGreenDeploymentRecord | undefined;
  if (spec.deployment !== undefined) {
    d = deployments.get(account, spec.region, spec.deployment);
  } else {
    const ref: InstanceRef | undefined = spec.source?.startsWith('arn:') ? parseInstanceArn(spec.source) : { account, region: spec.region, id: (spec.source as string).toLowerCase() };
    const inst = ref && ref.account === account && ref.region === spec.region ? ctx.state.instances[`${ref.account}/${ref.region}/${ref.id}`] : undefined;
    if (!inst) throw new SimError('NotFound', `blue-green fault: no DB instance ${spec.source} in ${account}/${spec.region}`, 404);
    d = deployments.activeDeploymentOf(inst);
    if (!d) {
      ctx.state.blueGreenFaultsBySource.push({ ...fault, armedAt, account, region: spec.region, sourceResourceId: inst.resourceId });
      ctx.markDirty();
      return { armed: fault, deployment: null, status: null };
    }
  }
  if (!ACTS_IN[fault.fault].includes(d.status)) throw bad(`${fault.fault} cannot act on blue/green deployment ${d.id}: its status is ${d.status}`);
  d.faults.push({ ...fault, armedAt });
  ctx.markDirty();
  return { armed: fault, deployment: d.id, status: d.status };
}

/** Takes the first armed fault that acts in the deployment's present status without a call: failed provisioning, a broken green. */
export function standingFault(d: BlueGreenDeploymentRecord): BlueGreenFault | undefined {
  const n = d.faults.findIndex((f) => (f.fault === 'provisioning-failed' && d.status === 'PROVISIONING') || (f.fault === 'invalid-configuration' && d.status === 'AVAILABLE'));
  return n < 0 ? undefined : d.faults.splice(n, 1)[0];
}

/** Takes the first armed fault for the next switchover. */
export function takeSwitchoverFault(d: BlueGreenDeploymentRecord): BlueGreenFault | undefined {
  const n = d.faults.findIndex((f) => f.fault === 'switchover-rollback' || f.fault === 'guardrail');
  return n < 0 ? undefined : d.faults.splice(n, 1)[0];
}
