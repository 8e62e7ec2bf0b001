/**
 * RDS Blue/Green deployment activities (method blue-green): create one for an instance at the campaign's
 * target, read it, wait while AWS works on it, switch it over. Like every mutation here they read first: a
 * retry finds the deployment it created (by name) instead of creating a second, and never asks for a second
 * switchover. Nothing here deletes.
 */
import {
  CreateBlueGreenDeploymentCommand,
  DescribeBlueGreenDeploymentsCommand,
  DescribeDBInstancesCommand,
  SwitchoverBlueGreenDeploymentCommand,
  type BlueGreenDeployment as SdkBlueGreenDeployment,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes, type AwsWhere, type BlueGreenActivities, type BlueGreenDeployment } from '../api/activities';
import type { BlueGreenCreate, BlueGreenRef, BlueGreenSwitchover, BlueGreenWait } from '../api/activities';
import { BG, deploymentArn, describeStatus, instanceIdOf } from '../domain/blue-green';
import { callAws, isAwsError, toActivityError } from './aws-errors';
import { describeIdentity, regionOf } from './location';
import { iso, tagsToRecord } from './rds-shapes';
import { activityContext, pollUntil } from './waiting';

export interface BlueGreenActivitiesDeps {
  rdsClientFor: (where: AwsWhere) => RDSClient;
}

/**
 * Statuses in which a deployment still holds its source: one that may still switch over or be worked on, and one that
 * failed to provision or to switch over (it stays until someone deletes it). RDS allows one per instance, so another
 * campaign's deployment in any of them is in the way.
 */
const ACTIVE = new Set<string>([BG.provisioning, BG.available, BG.switchoverInProgress, BG.invalidConfiguration, BG.switchoverFailed]);

export function toBlueGreenDeployment(region: string, d: SdkBlueGreenDeployment): BlueGreenDeployment {
  const id = d.BlueGreenDeploymentIdentifier ?? '';
  return JSON.parse(
    JSON.stringify({
      region,
      id,
      name: d.BlueGreenDeploymentName ?? '',
      arn: deploymentArn(d.Source ?? d.Target, id),
      sourceArn: d.Source,
      targetArn: d.Target,
      status: d.Status ?? 'UNKNOWN',
      statusDetails: d.StatusDetails || undefined,
      tasks: (d.Tasks ?? []).map((t) => ({ name: t.Name ?? '?', status: t.Status ?? '?' })),
      switchover: (d.SwitchoverDetails ?? []).map((m) => ({ sourceMember: m.SourceMember, targetMember: m.TargetMember, status: m.Status })),
      createTime: iso(d.CreateTime),
      tags: tagsToRecord(d.TagList),
    }),
  ) as BlueGreenDeployment;
}

export function createBlueGreenActivities(deps: BlueGreenActivitiesDeps): BlueGreenActivities {
  const rds = (where: AwsWhere) => deps.rdsClientFor(where);

  /** Every deployment matching `filter`, every page. */
  async function list(where: AwsWhere, filter: { Name: string; Values: string[] }, operation: string): Promise<BlueGreenDeployment[]> {
    const region = regionOf(where);
    const out: BlueGreenDeployment[] = [];
    let marker: string | undefined;
    do {
      const page = await callAws({ operation, where }, () => rds(where).send(new DescribeBlueGreenDeploymentsCommand({ Filters: [filter], Marker: marker })));
      for (const d of page.BlueGreenDeployments ?? []) out.push(toBlueGreenDeployment(region, d));
      marker = page.Marker;
    } while (marker);
    return out;
  }

  async function describeBlueGreenDeployment({ where, deploymentId }: BlueGreenRef): Promise<BlueGreenDeployment> {
    const region = regionOf(where);
    try {
      const out = await rds(where).send(new DescribeBlueGreenDeploymentsCommand({ BlueGreenDeploymentIdentifier: deploymentId }));
      const d = out.BlueGreenDeployments?.find((x) => x.BlueGreenDeploymentIdentifier === deploymentId) ?? out.BlueGreenDeployments?.[0];
      if (d) return toBlueGreenDeployment(region, d);
    } catch (err) {
      if (!isAwsError(err, 'BlueGreenDeploymentNotFoundFault', 'BlueGreenDeploymentNotFound')) throw toActivityError(err, { operation: `DescribeBlueGreenDeployments ${deploymentId}`, where });
    }
    throw ApplicationFailure.nonRetryable(
      `Blue/Green deployment ${deploymentId} not found in region ${region}${describeIdentity(where)}: it was deleted outside the campaign. ` +
        `Check with aws rds describe-blue-green-deployments --region ${region}; the campaign cannot switch over without it.`,
      FailureTypes.BlueGreenDeploymentNotFound,
    );
  }

  async function createBlueGreenDeployment(req: BlueGreenCreate): Promise<{ changed: boolean; detail: string; action?: string; resource?: string; requestId?: string; deployment: BlueGreenDeployment }> {
    const { where, instanceId, name, targetEngineVersion } = req;
    const region = regionOf(where);
    const ours = (await list(where, { Name: 'blue-green-deployment-name', Values: [name] }, `DescribeBlueGreenDeployments name=${name}`)).find((d) => d.name === name);
    if (ours) return { changed: false, detail: `Blue/Green deployment ${ours.id} (${name}) already exists: ${describeStatus(ours)}`, deployment: ours };
    const source = await callAws({ operation: `DescribeDBInstances ${instanceId}`, where, instanceId }, () => rds(where).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceId })));
    const db = source.DBInstances?.[0];
    if (!db?.DBInstanceArn) {
      throw ApplicationFailure.nonRetryable(`RDS instance '${instanceId}' not found in region ${region}${describeIdentity(where)}; cannot create a Blue/Green deployment of it.`, FailureTypes.InstanceNotFound);
    }
    const other = (await list(where, { Name: 'source', Values: [db.DBInstanceArn] }, `DescribeBlueGreenDeployments source=${instanceId}`)).find((d) => ACTIVE.has(d.status));
    if (other) {
      throw ApplicationFailure.nonRetryable(
        `${instanceId} already has a Blue/Green deployment of its own: ${other.id} (${other.name}, ${describeStatus(other)}), not created by this campaign. ` +
          `RDS allows one per instance: finish or remove it (aws rds delete-blue-green-deployment --region ${region} --blue-green-deployment-identifier ${other.id}), then resume.`,
        FailureTypes.InvalidState,
      );
    }
    const sent = await callAws({ operation: `CreateBlueGreenDeployment ${name}`, where, instanceId }, () =>
      rds(where).send(
        new CreateBlueGreenDeploymentCommand({
          BlueGreenDeploymentName: name,
          Source: db.DBInstanceArn,
          TargetEngineVersion: targetEngineVersion,
          ...(req.targetParameterGroup ? { TargetDBParameterGroupName: req.targetParameterGroup } : {}),
          Tags: Object.entries(req.tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      ),
    );
    if (!sent.BlueGreenDeployment) throw ApplicationFailure.retryable(`CreateBlueGreenDeployment ${name} in ${region} answered without a deployment`, FailureTypes.AwsCallFailed);
    const deployment = toBlueGreenDeployment(region, sent.BlueGreenDeployment);
    return {
      changed: true,
      detail: `created Blue/Green deployment ${deployment.id} (${name}): green copy ${instanceIdOf(deployment.targetArn) ?? '?'} at ${targetEngineVersion}`,
      action: 'rds:CreateBlueGreenDeployment',
      resource: deployment.arn ?? deployment.id,
      requestId: sent.$metadata?.requestId,
      deployment,
    };
  }

  async function waitForBlueGreenDeployment({ where, deploymentId, while: keepWaiting, poll }: BlueGreenWait): Promise<BlueGreenDeployment> {
    return pollUntil(poll, async () => {
      const d = await describeBlueGreenDeployment({ where, deploymentId });
      if (!keepWaiting.includes(d.status)) return { done: true, value: d };
      const open = d.tasks.filter((t) => t.status !== 'COMPLETED').map((t) => `${t.name} ${t.status}`);
      return { done: false, waitingFor: `Blue/Green deployment ${deploymentId} is ${describeStatus(d)}${open.length ? `; tasks: ${open.join(', ')}` : ''}` };
    });
  }

  async function switchoverBlueGreenDeployment({ where, deploymentId, timeoutSeconds, retryAfterFailure, notAfter }: BlueGreenSwitchover) {
    const d = await describeBlueGreenDeployment({ where, deploymentId });
    if (d.status === BG.switchoverInProgress || d.status === BG.switchoverCompleted) {
      return { changed: false, detail: `Blue/Green deployment ${deploymentId} is already ${d.status}`, deployment: d };
    }
    // Rolled back or cancelled by AWS: asked again only on the team's decision, never by a retry of this call.
    if (d.status === BG.switchoverFailed && !retryAfterFailure) {
      return { changed: false, detail: `Blue/Green deployment ${deploymentId} is ${describeStatus(d)}: not switched over again without the team`, deployment: d };
    }
    if (d.status !== BG.available && d.status !== BG.switchoverFailed) {
      throw ApplicationFailure.nonRetryable(`Blue/Green deployment ${deploymentId} cannot switch over: it is ${describeStatus(d)}, not AVAILABLE.`, FailureTypes.InvalidState);
    }
    // A later attempt finding it AVAILABLE again after a switchover was asked for: AWS rolled that one back
    // (its status details say so). Asking again would be the silent retry the runbook forbids: the team decides.
    const attempt = activityContext()?.info.attempt ?? 1;
    if (attempt > 1 && d.statusDetails && /switchover/i.test(d.statusDetails)) {
      return { changed: false, detail: `Blue/Green deployment ${deploymentId} is AVAILABLE again after a switchover: ${d.statusDetails}`, deployment: d };
    }
    if (notAfter !== undefined && Date.now() > Date.parse(notAfter)) {
      throw ApplicationFailure.nonRetryable(
        `Blue/Green deployment ${deploymentId} was not switched over by ${notAfter}, the latest start that ends in its window` +
          `${attempt > 1 ? ` (RDS refused or did not answer the earlier attempts; the deployment is ${describeStatus(d)})` : ''}: nothing was sent.`,
        FailureTypes.SwitchoverTooLate,
      );
    }
    const sent = await callAws({ operation: `SwitchoverBlueGreenDeployment ${deploymentId}`, where }, () =>
      rds(where).send(new SwitchoverBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: deploymentId, SwitchoverTimeout: timeoutSeconds })),
    );
    const deployment = sent.BlueGreenDeployment ? toBlueGreenDeployment(regionOf(where), sent.BlueGreenDeployment) : d;
    return {
      changed: true,
      detail: `switchover of Blue/Green deployment ${deploymentId} started (SwitchoverTimeout ${timeoutSeconds} s)`,
      action: 'rds:SwitchoverBlueGreenDeployment',
      resource: d.arn ?? deploymentId,
      requestId: sent.$metadata?.requestId,
      deployment,
    };
  }

  return { createBlueGreenDeployment, describeBlueGreenDeployment, waitForBlueGreenDeployment, switchoverBlueGreenDeployment };
}
