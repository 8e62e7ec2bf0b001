/**
 * One instance of a fleet stage, as a child workflow of the campaign (its own history, retries, timeline and
 * search attributes: the Temporal UI finds it by RdsCampaignId and RdsInstances). It runs the stage's runbook
 * part for its instance exactly as a one-instance stage does (preview.ts, staging.ts, or production.ts's
 * approved-window part), and ends with a result the parent counts. What would ask the team a question in a
 * one-instance stage (downtime over the threshold, a failed health check, missed windows, a failed
 * pre-check) ends this instance as failed with that question: the parent's failure threshold decides when
 * the team is asked. A cancellation (the campaign aborted) compensates (the flag back) and ends as aborted.
 */
import { ApplicationFailure, isCancellation, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  RESOLVED_CAMPAIGN_SPEC,
  campaignStatusQuery,
  fleetPauseSignal,
  type CampaignStatus,
  type DecideRequest,
  type FleetInstanceInput,
  type FleetInstanceResult,
  type NotificationEvent,
  type ResolvedCampaignSpec,
  type StageReport,
} from '../../api';
import { SSH_SIGNATURE_NAMESPACE } from '../../domain/identity/ssh-signature';
import { iso, nowIso } from '../shared/clock';
import { describeError } from '../shared/failures';
import { manualOf } from '../shared/saga';
import { CampaignRun } from './run';
import { standingOf } from '../../domain/estate';
import { readReplicas } from './replicas';
import { runStage } from './stage';
import { stageSubject } from './auto-minor-upgrade';
import { escalateOnCall, resolveOnCall } from './on-call';

/** Failure type of an instance that needs the team (the question is the message). */
export const NEEDS_DECISION = 'NeedsDecision';

class InstanceRun extends CampaignRun {
  protected override readonly operation = 'campaign-instance';

  /** The team is asked by the parent, over the stage: this instance ends failed with the question. */
  override askDecision(stage: StageReport, question: string): Promise<DecideRequest> {
    this.step(stage, 'needs-decision', question);
    throw ApplicationFailure.nonRetryable(question, NEEDS_DECISION);
  }

  /**
   * The parent notifies per wave and per failure; a hundred instances do not each post to the channel. What
   * only this instance can see goes out at once: its flag turned off by someone else, an escalation.
   */
  override notify(event: NotificationEvent, text: string, stage?: string, details?: Record<string, unknown>): Promise<void> {
    // Runs started before the estate guard kept every notification to their timeline (their histories say so).
    if (this.estateGuard && (event === 'flag-reverted' || event === 'escalation')) return super.notify(event, text, stage, details);
    this.status.timeline.push({ at: nowIso(), stage, step: 'not-notified', detail: text });
    return Promise.resolve();
  }
}

export async function upgradeFleetInstance(input: FleetInstanceInput): Promise<FleetInstanceResult> {
  const s = input.stage;
  const spec: ResolvedCampaignSpec = {
    format: RESOLVED_CAMPAIGN_SPEC,
    campaignId: input.campaignId,
    targetEngineVersion: input.targetEngineVersion,
    requester: input.requester,
    stages: [s],
    approval: { approvers: [], minApprovals: 1, reminderIntervalMs: 86_400_000 },
    blackouts: input.blackouts,
    pollIntervalMs: input.pollIntervalMs,
  };
  const report: StageReport = { name: s.name, region: s.region, instanceId: s.instanceId, method: s.method, toVersion: input.targetEngineVersion, status: 'pending', missedWindows: 0, ...(s.changes === 'terraform' ? { changes: s.changes } : {}) };
  const status: CampaignStatus = {
    campaignId: input.campaignId,
    targetEngineVersion: input.targetEngineVersion,
    requester: input.requester,
    state: 'running',
    stages: [report],
    approvals: [],
    followUps: [],
    timeline: [],
    humanActions: [],
    changes: [],
    identity: { mode: 'unverified', runId: workflowInfo().firstExecutionRunId, namespace: SSH_SIGNATURE_NAMESPACE },
    startedAt: nowIso(),
  };
  setHandler(campaignStatusQuery, () => status);
  const c = new InstanceRun(spec, status);
  c.paused = input.paused ?? false;
  setHandler(fleetPauseSignal, ({ paused }) => {
    c.paused = paused;
  });
  const result = (state: FleetInstanceResult['state'], note?: string): FleetInstanceResult => ({
    instanceId: s.instanceId,
    region: s.region,
    state,
    fromVersion: report.fromVersion,
    toVersion: report.engineVersionNow ?? (state === 'completed' ? input.targetEngineVersion : undefined),
    note,
    downtimeSeconds: report.downtimeSeconds,
    window: report.window,
    followUps: status.followUps,
  });

  c.setState('running');
  c.step(report, 'instance-started', `wave ${input.wave} of ${input.parentWorkflowId}${input.window ? `, approved window ${iso(input.window.startMs)}` : ''}`);
  try {
    await c.mainScope.run(async () => {
      const info = await c.aws(s.name, 'describe', () => c.a.describeInstance(c.where(s), s.instanceId));
      c.instances.set(s.name, info);
      report.fromVersion = info.engineVersion;
      const standing = standingOf(info.engineVersion, input.targetEngineVersion);
      // Runs started before the estate guard skipped only an instance exactly at the target.
      const done = c.estateGuard ? standing.kind !== 'below-target' : standing.kind === 'at-target';
      if (done) {
        report.status = 'skipped';
        report.note = standing.kind === 'past-target' ? `runs ${standing.version}, past the target ${input.targetEngineVersion} (upgraded outside the campaign)` : `already at ${info.engineVersion}`;
        if (standing.kind === 'past-target') report.engineVersionNow = standing.version;
        return;
      }
      if (c.estateGuard) {
        const problems = await readReplicas(c, s, report, info);
        if (problems.length) throw ApplicationFailure.nonRetryable(problems.join('; '), 'PreflightFailed');
      }
      await runStage(c, s, report, input.window);
    });
  } catch (err) {
    const cancelled = isCancellation(err);
    const reason = cancelled ? 'the campaign was aborted' : describeError(err);
    await c.saga.compensate({
      done: (x) => c.step(report, 'compensated', x.description),
      failed: (x, e) => {
        const manual = manualOf(x);
        c.step(report, 'compensation-failed', `${x.description}: ${describeError(e)} (do it by hand)`);
        status.followUps.push(`Compensation failed, do it by hand: ${x.description}${manual ? `: ${manual}` : ''} (${reason})`);
      },
    });
    report.status = cancelled ? 'aborted' : 'failed';
    report.endedAt = status.endedAt = nowIso();
    if (report.onCall?.open?.length) {
      const x = stageSubject(c, s, report);
      if (cancelled) await resolveOnCall(c, s, report, x, `the campaign was aborted`);
      else await escalateOnCall(c, s, report, x, `${s.instanceId}: ${reason}`);
    }
    status.failure = cancelled ? undefined : reason;
    c.setState(cancelled ? 'aborted' : 'failed');
    c.step(report, cancelled ? 'instance-aborted' : 'instance-failed', reason);
    return result(cancelled ? 'aborted' : 'failed', reason);
  }
  status.endedAt = nowIso();
  c.setState('completed');
  if (report.status === 'skipped') {
    c.step(report, 'instance-skipped', report.note);
    return result('skipped', report.note);
  }
  c.step(report, 'instance-completed', `${s.instanceId} at ${input.targetEngineVersion}`);
  return result('completed');
}
