/**
 * The staged minor-version upgrade campaign (runbook: "Upgrading our Postgres minor version").
 *
 *   checkEveryInstance → for each stage: preview    upgradeInNextWindow       (preview.ts)
 *                                        staging    upgradeNowUnderProbe      (staging.ts)
 *                                        production upgradeInAnnouncedWindow  (production.ts)
 *
 * Long waits are timers; waiting for RDS is retry-based polling inside an activity (no history growth, and
 * zero AWS calls while sleeping towards a window). Every mutation registers its compensation first; abort,
 * or a failure, runs them (flags back off, announcement cancelled; nothing deleted).
 */
import { ApplicationFailure, isCancellation, setHandler, workflowInfo } from '@temporalio/workflow';
import { RESOLVED_CAMPAIGN_SPEC, campaignStatusOfQuery, type CampaignInput, type CampaignResult, type CampaignStatus, type ResolvedCampaignSpec, type StageReport } from '../../api';
import { noticeOverride } from '../../domain/plan';
import { statusAnswer } from '../../domain/fleet-status';
import { SpecError, validateCampaignSpec } from '../../input';
import { nowIso } from '../shared/clock';
import { describeError } from '../shared/failures';
import { registerOperatorActions } from '../shared/operator-actions';
import { manualOf } from '../shared/saga';
import { checkEveryInstance } from './preflight';
import { CampaignRun, newCampaignStatus } from './run';
import { AbortCampaign } from './stage-run';
import { runStage } from './stage';
import { runFleetStage } from './fleet';
import { stageSubject } from './auto-minor-upgrade';
import { escalateOnCall, resolveOnCall } from './on-call';

export { ESTATE_GUARD_PATCH, FLEET_BATCHES_PATCH, UPSERT_ONLY_CHANGES_PATCH, WINDOW_GROUP_TEXT_PATCH } from './run';
export { upgradeFleetInstance } from './fleet-instance';
export { upgradeFleetBatch } from './fleet-batch';

export async function upgradeCampaign(input: CampaignInput): Promise<CampaignResult> {
  const raw = input as Partial<ResolvedCampaignSpec> | undefined;
  const status = newCampaignStatus(raw?.campaignId ?? workflowInfo().workflowId, raw?.targetEngineVersion ?? '', raw?.requester ?? '', 'validating');
  // A large fleet stage lists only some of its instances in an answer (Temporal refuses one over 2 MB); see fleet-status.ts.
  setHandler(campaignStatusOfQuery, (req) => statusAnswer(status, req));
  const spec = resolvedInput(input, status);

  const c = new CampaignRun(spec, status);
  describeStages(c);
  registerOperatorActions(c.run, { answer: (by) => `abort requested by ${by}; compensating (flags reverted, announcement cancelled)` });

  c.setState('running');
  c.step('campaign-started', `target ${spec.targetEngineVersion}, requested by ${spec.requester}`);
  try {
    await c.run.mainScope.run(async () => {
      await c.run.identity.start(spec);
      if (c.run.identity.verified) c.step('requester-verified', `${spec.requester}, key ${c.run.identity.requesterFingerprint}`);
      await checkEveryInstance(c);
      for (const s of spec.stages) {
        const st = c.stage(s);
        if (st.report.status === 'skipped') continue;
        if (s.fleet) await runFleetStage(st, c.fleets.get(s.name)!);
        else await runStage(st);
      }
    });
  } catch (err) {
    return finishStopped(c, err);
  }
  status.endedAt = nowIso();
  c.setState('completed');
  c.step('campaign-completed');
  await c.notify('completed', `campaign completed: every stage at ${spec.targetEngineVersion}`);
  return { campaignId: status.campaignId, state: 'completed', stages: statusAnswer(status).stages, followUps: status.followUps };
}

/**
 * The input is the spec the client resolved (every default written out). Runs started before that send a
 * raw spec: resolve it here, as those runs always did, so their replay takes the same decisions.
 */
function resolvedInput(input: CampaignInput, status: CampaignStatus): ResolvedCampaignSpec {
  if ((input as ResolvedCampaignSpec | undefined)?.format === RESOLVED_CAMPAIGN_SPEC) return input as ResolvedCampaignSpec;
  try {
    return validateCampaignSpec(input);
  } catch (err) {
    const message = err instanceof SpecError ? err.message : String(err);
    status.state = 'failed';
    status.failure = message;
    throw ApplicationFailure.nonRetryable(`Invalid campaign spec:\n${message}`, 'InvalidSpec');
  }
}

function describeStages(c: CampaignRun): void {
  const { spec, status } = c;
  status.campaignId = spec.campaignId;
  status.targetEngineVersion = spec.targetEngineVersion;
  status.requester = spec.requester;
  status.stages = spec.stages.map((s) => ({
    name: s.name,
    region: s.region,
    instanceId: s.instanceId,
    method: s.method,
    toVersion: spec.targetEngineVersion,
    status: 'pending',
    missedWindows: 0,
    ...(s.changes === 'terraform' ? { changes: s.changes } : {}),
  }));
  status.noticeOverride = noticeOverride(spec);
}

/** A page open for the stage's window: resolved when people stopped the run, critical when it failed. */
async function stopPaging(c: CampaignRun, report: StageReport, aborted: boolean, reason: string): Promise<void> {
  if (!report.onCall?.open?.length) return;
  const s = c.spec.stages.find((x) => x.name === report.name);
  if (!s) return;
  const st = c.stage(s);
  const x = stageSubject(st);
  if (aborted) await resolveOnCall(st, x, `campaign aborted: ${reason}`);
  else await escalateOnCall(st, x, `campaign failed at ${report.name}: ${reason}`);
}

/** Abort (by a person) or failure: compensate, then end as aborted (a result) or failed (non-retryable). */
async function finishStopped(c: CampaignRun, err: unknown): Promise<CampaignResult> {
  const { status } = c;
  const { abortRequest } = c.run.people;
  const aborted = err instanceof AbortCampaign || (isCancellation(err) && abortRequest);
  const reason = err instanceof AbortCampaign ? err.message : abortRequest ? `aborted by ${abortRequest.by}: ${abortRequest.reason}` : describeError(err);
  await c.run.saga.compensate({
    done: (x) => c.step('compensated', x.description),
    failed: (x, e) => {
      c.step('compensation-failed', `${x.description}: ${describeError(e)} (do it by hand)`);
      const manual = manualOf(x);
      status.followUps.push(`Compensation failed, do it by hand: ${x.description}${manual ? `: ${manual}` : ''} (${reason})`);
    },
  });
  const current = status.stages.find((s) => s.status === 'running');
  if (current) {
    current.status = aborted ? 'aborted' : 'failed';
    current.endedAt = nowIso();
    await stopPaging(c, current, Boolean(aborted), reason);
  }
  status.endedAt = nowIso();
  if (aborted) {
    c.setState('aborted');
    c.step('campaign-aborted', reason);
    await c.notify('aborted', `campaign aborted: ${reason}`);
    return { campaignId: status.campaignId, state: 'aborted', stages: statusAnswer(status).stages, followUps: status.followUps };
  }
  status.failure = reason;
  c.setState('failed');
  c.step('campaign-failed', reason);
  // The stage it failed at, for those who read only the notification or the failure (an instance's name need not say it).
  const at = current ? ` at ${current.name}` : '';
  await c.notify('failed', `campaign failed${at}: ${reason}`);
  if (err instanceof ApplicationFailure && err.nonRetryable) throw err;
  throw ApplicationFailure.nonRetryable(`campaign ${status.campaignId} failed${at}: ${reason}`, 'CampaignFailed');
}
