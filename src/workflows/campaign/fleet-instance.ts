/**
 * One instance of a fleet stage, as a child workflow of the campaign (its own history, retries, timeline and
 * search attributes: the Temporal UI finds it by RdsCampaignId and RdsInstances). It runs the stage's runbook
 * part for its instance exactly as a one-instance stage does (preview.ts, staging.ts, or production.ts's
 * approved-window part), and ends with a result the parent counts. What would ask the team a question in a
 * one-instance stage (downtime over the threshold, a failed health check, missed windows, a failed
 * pre-check) ends this instance as failed with that question: the parent's failure threshold decides when
 * the team is asked. A cancellation (the campaign aborted) compensates (the flag back) and ends as aborted.
 */
import { ApplicationFailure, isCancellation, setHandler } from '@temporalio/workflow';
import { takesPatch } from '../shared/patches';
import { campaignStatusQuery, fleetPauseSignal, type FleetInstanceInput, type FleetInstanceResult, type NotificationEvent, type StageReport } from '../../api';
import { DEFAULT_REMINDER_INTERVAL_MS } from '../../domain/approvals';
import { standingOf } from '../../domain/estate';
import { iso, nowIso } from '../shared/clock';
import { describeError } from '../shared/failures';
import type { RunPolicy } from '../shared/operated-run';
import { manualOf } from '../shared/saga';
import { stageSubject } from './auto-minor-upgrade';
import { escalateOnCall, resolveOnCallAfterAbort } from './on-call';
import { readReplicas } from './replicas';
import { ESTATE_GUARD_PATCH, campaignOperatedRun, newCampaignStatus } from './run';
import { runStage } from './stage';
import { NEEDS_DECISION, StageRun } from './stage-run';

export { NEEDS_DECISION };

/**
 * The campaign notifies per wave and per failure, and asks the team over the stage: a hundred instances do not
 * each post to the channel, nor each ask. What only this instance can see goes out at once: its flag turned
 * off by someone else, an escalation (runs started before the estate guard kept even those to the timeline).
 * A question ends the instance failed with it (NeedsDecision); the campaign's failure threshold decides when
 * the team is asked.
 */
export function instancePolicy(estateGuard: boolean): RunPolicy {
  return { notifies: (event: NotificationEvent) => estateGuard && (event === 'flag-reverted' || event === 'escalation'), questions: 'fail', cancelledWhole: true };
}

export async function upgradeFleetInstance(input: FleetInstanceInput): Promise<FleetInstanceResult> {
  const s = input.stage;
  const target = input.targetEngineVersion;
  const report: StageReport = { name: s.name, region: s.region, instanceId: s.instanceId, method: s.method, toVersion: target, status: 'pending', missedWindows: 0, ...(s.changes === 'terraform' ? { changes: s.changes } : {}) };
  const status = newCampaignStatus(input.campaignId, target, input.requester, 'running');
  status.stages = [report];
  setHandler(campaignStatusQuery, () => status);
  // Decided before the identity gate's patch, in the order every instance run has recorded them.
  const estateGuard = takesPatch(ESTATE_GUARD_PATCH);
  // A child's reminders reach only its timeline (the parent reminds people at the campaign's interval): its
  // waits re-check once a day, as they always have, not at the campaign's interval times every instance.
  const reminderIntervalMs = DEFAULT_REMINDER_INTERVAL_MS;
  const run = campaignOperatedRun(status, { campaignId: input.campaignId, operation: 'campaign-instance', instances: () => [`${s.region}/${s.instanceId}`], policy: instancePolicy(estateGuard), reminderIntervalMs });
  const settings = { campaignId: input.campaignId, targetEngineVersion: target, requester: input.requester, pollIntervalMs: input.pollIntervalMs, blackouts: input.blackouts, reminderIntervalMs };
  const st = new StageRun(run, settings, s, report, estateGuard);
  run.people.paused = input.paused ?? false;
  setHandler(fleetPauseSignal, ({ paused }) => {
    run.people.paused = paused;
  });
  const result = (state: FleetInstanceResult['state'], note?: string): FleetInstanceResult => ({
    instanceId: s.instanceId,
    region: s.region,
    state,
    fromVersion: report.fromVersion,
    toVersion: report.engineVersionNow ?? (state === 'completed' ? target : undefined),
    note,
    downtimeSeconds: report.downtimeSeconds,
    window: report.window,
    followUps: status.followUps,
  });

  st.setState('running');
  st.step('instance-started', `wave ${input.wave} of ${input.parentWorkflowId}${input.window ? `, approved window ${iso(input.window.startMs)}` : ''}`);
  try {
    await run.mainScope.run(async () => {
      const info = await st.aws('describe', () => st.a.describeInstance({ where: st.where, instanceId: s.instanceId }));
      st.info = info;
      report.fromVersion = info.engineVersion;
      const standing = standingOf(info.engineVersion, target);
      // Runs started before the estate guard skipped only an instance exactly at the target.
      const done = estateGuard ? standing.kind !== 'below-target' : standing.kind === 'at-target';
      if (done) {
        report.status = 'skipped';
        report.note = standing.kind === 'past-target' ? `runs ${standing.version}, past the target ${target} (upgraded outside the campaign)` : `already at ${info.engineVersion}`;
        if (standing.kind === 'past-target') report.engineVersionNow = standing.version;
        return;
      }
      if (estateGuard) {
        const problems = await readReplicas(st, info);
        if (problems.length) throw ApplicationFailure.nonRetryable(problems.join('; '), 'PreflightFailed');
      }
      await runStage(st, input.window);
    });
  } catch (err) {
    const cancelled = isCancellation(err);
    const reason = cancelled ? 'the campaign was aborted' : describeError(err);
    await run.saga.compensate({
      done: (x) => st.step('compensated', x.description),
      failed: (x, e) => {
        const manual = manualOf(x);
        st.step('compensation-failed', `${x.description}: ${describeError(e)} (do it by hand)`);
        status.followUps.push(`Compensation failed, do it by hand: ${x.description}${manual ? `: ${manual}` : ''} (${reason})`);
      },
    });
    report.status = cancelled ? 'aborted' : 'failed';
    report.endedAt = status.endedAt = nowIso();
    if (report.onCall?.open?.length) {
      const x = stageSubject(st);
      if (cancelled) await resolveOnCallAfterAbort(st, x, `the campaign was aborted`);
      else await escalateOnCall(st, x, `${s.instanceId}: ${reason}`);
    }
    status.failure = cancelled ? undefined : reason;
    st.setState(cancelled ? 'aborted' : 'failed');
    st.step(cancelled ? 'instance-aborted' : 'instance-failed', reason);
    return result(cancelled ? 'aborted' : 'failed', reason);
  }
  status.endedAt = nowIso();
  st.setState('completed');
  if (report.status === 'skipped') {
    st.step('instance-skipped', report.note);
    return result('skipped', report.note);
  }
  st.step('instance-completed', `${s.instanceId} at ${target}`);
  return result('completed');
}
