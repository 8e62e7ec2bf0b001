/**
 * method blue-green, the switchover's part (blue-green.ts runs the whole): the pre-check a few days before, the
 * wait for the window, AWS's guardrails and the instance read again as it opens, SwitchoverBlueGreenDeployment
 * under the stage's probe, SWITCHOVER_COMPLETED waited for, and the instance verified under its original name
 * and endpoint. A deployment found in a state the campaign cannot go on from asks the team.
 */
import { ActivityFailure, ApplicationFailure, CancellationScope, patched } from '@temporalio/workflow';
import { FailureTypes, type BlueGreenDeployment } from '../../api';
import { BG, describeStatus, membersNotSwitched, oldBlueOf, reportOf, standingOfDeployment } from '../../domain/blue-green';
import { formatDuration } from '../../domain/duration';
import { standingOf } from '../../domain/estate';
import type { Occurrence } from '../../domain/maintenance-window';
import { precheckInstant } from '../../domain/plan';
import { describeWindow } from '../../domain/window-group';
import { waiterUntil } from '../shared/aws-calls';
import { iso, nowIso, nowMs } from '../shared/clock';
import { describeError, isActivityTimeout } from '../shared/failures';
import { decideOnMeasuredDowntime, probeWhile } from './staging';
import type { StageRun } from './stage-run';

/** The switchover must fit in what is left of the window: AWS's timeout and this much for the verification. */
export const AFTER_SWITCHOVER_MS = 5 * 60_000;
/** AWS rolls back after SwitchoverTimeout; a switchover still in progress this long after it is asked about. */
export const ROLLBACK_MARGIN_MS = 15 * 60_000;

/** patched() id: a completed switchover that left members behind asks the team (asked only then). */
export const BLUE_GREEN_MEMBERS_VERIFIED_PATCH = 'blue-green-members-verified';

export type SwitchoverOutcome = 'switched' | 'rolled-back' | 'window-passed' | 'upgraded-outside';

/** A deployment in a state the campaign cannot go on from: the team looks and answers; it is read again after. */
export async function askOnDeployment(st: StageRun, d: BlueGreenDeployment, when: string): Promise<BlueGreenDeployment> {
  const { stage: s } = st;
  st.step('blue-green-trouble', `${d.id} is ${describeStatus(d)} ${when}`);
  await st.notify('escalation', `${s.name}: Blue/Green deployment ${d.id} of ${s.instanceId} is ${describeStatus(d)} ${when}`);
  await st.ask(
    `Blue/Green deployment ${d.id} of ${s.instanceId} is ${describeStatus(d)} ${when}, not AVAILABLE. Fix it in AWS (the console shows AWS's reason) and continue (it is read again), or abort (nothing is deleted; a follow-up names it).`,
    'escalation',
  );
  st.report.blueGreen!.retryDecided = true;
  d = await readDeployment(st, 'read-deployment-again');
  return switchable(st, d) ? d : askOnDeployment(st, d, when);
}

/**
 * Whether the campaign may switch `d` over: AVAILABLE, or SWITCHOVER_FAILED (AWS rolled a switchover back or a
 * guardrail cancelled it) once the team has decided to try again since (never silently).
 */
export function switchable(st: StageRun, d: BlueGreenDeployment): boolean {
  const kind = standingOfDeployment(d).kind;
  return kind === 'available' || (kind === 'switch-failed' && st.report.blueGreen?.retryDecided === true);
}

export async function readDeployment(st: StageRun, step: string): Promise<BlueGreenDeployment> {
  const { report } = st;
  const d = await st.aws(step, () => st.a.describeBlueGreenDeployment({ where: st.where, deploymentId: report.blueGreen!.deploymentId }));
  report.blueGreen = reportOf(d, report.blueGreen);
  return d;
}

/** The pre-check, the wait for the window, the guardrails read again, the switchover and its wait. */
export async function switchoverInWindow(st: StageRun, window: Occurrence, d: BlueGreenDeployment): Promise<SwitchoverOutcome> {
  const { stage: s, report } = st;
  const bg = s.blueGreen!;
  report.window = { start: iso(window.startMs), end: iso(window.endMs) };
  if (s.requiresApproval || nowMs() < precheckInstant(window, s)) {
    const pre = await precheckDeployment(st, window);
    if (pre !== 'go') return pre;
  }
  if (window.startMs > nowMs()) {
    st.setState('waiting-for-window', { kind: 'window', description: `${s.name}: Blue/Green switchover of ${s.instanceId} in ${report.window.start} – ${report.window.end}`, until: report.window.start });
    st.step('waiting-for-window', `switchover of ${d.id} when ${report.window.start} – ${report.window.end} opens`);
    await st.sleep(window.startMs - nowMs(), `${s.name} window ${describeWindow(window.startMs, window.endMs)}: Blue/Green switchover of ${s.instanceId}`);
  }
  await st.checkpoint();
  st.setState('running');
  // Paused past it, or approved too late: the switchover (and AWS's timeout) must fit in the window.
  const latestStart = window.endMs - bg.switchoverTimeoutSeconds * 1000 - AFTER_SWITCHOVER_MS;
  if (nowMs() > Math.max(latestStart, window.startMs)) {
    st.step('window-passed', `${iso(nowMs())} is too late to switch over in ${report.window.start} – ${report.window.end} (SwitchoverTimeout ${bg.switchoverTimeoutSeconds} s)`);
    return 'window-passed';
  }
  // The world read again right before the change: the instance (upgraded by someone else?) and AWS's guardrails.
  const info = await st.aws('read-again', () => st.a.describeInstance({ where: st.where, instanceId: s.instanceId }));
  st.info = info;
  const standing = standingOf(info.engineVersion, st.target);
  if (standing.kind !== 'below-target') return upgradedOutside(st, info.engineVersion, 'as the window opened');
  d = await readDeployment(st, 'read-guardrails');
  if (!switchable(st, d)) {
    d = await askOnDeployment(st, d, 'as the window opened');
    if (nowMs() > latestStart) return 'window-passed';
  }
  const endpointBefore = info.endpoint?.address;
  // RDS refuses a switchover while an instance is not available (the window's own maintenance); its retries stop at
  // the latest start that still ends in the window, and the window then counts as passed.
  const notAfter = iso(Math.max(latestStart, window.startMs));
  let tooLate: string | undefined;
  const switchover = async (): Promise<void> => {
    report.blueGreen!.switchoverStartedAt = nowIso();
    const retryAfterFailure = report.blueGreen!.retryDecided === true;
    report.blueGreen!.retryDecided = false;
    let r: Awaited<ReturnType<typeof st.a.switchoverBlueGreenDeployment>>;
    try {
      r = await CancellationScope.nonCancellable(() =>
        st.aws('switchover', () =>
          st.a.switchoverBlueGreenDeployment({ where: st.where, deploymentId: d.id, timeoutSeconds: bg.switchoverTimeoutSeconds, notAfter, ...(retryAfterFailure ? { retryAfterFailure } : {}) }),
        ),
      );
    } catch (err) {
      if (!(err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === FailureTypes.SwitchoverTooLate)) throw err;
      tooLate = describeError(err);
      return;
    }
    report.blueGreen = reportOf(r.deployment, report.blueGreen);
    st.step(r.changed ? 'switchover-started' : 'switchover-found', r.detail);
    const deadline = nowMs() + bg.switchoverTimeoutSeconds * 1000 + ROLLBACK_MARGIN_MS;
    st.setState('running', { kind: 'aws', description: `${s.instanceId}: Blue/Green deployment ${d.id} SWITCHOVER_COMPLETED`, until: iso(deadline) });
    for (;;) {
      try {
        d = await st.aws('waiting-for-switchover', () => waiterUntil(deadline, st.settings.pollIntervalMs).waitForBlueGreenDeployment({ where: st.where, deploymentId: d.id, while: [BG.switchoverInProgress] }), { attemptsPerRound: 1 });
        break;
      } catch (err) {
        if (!isActivityTimeout(err)) throw err;
        await st.ask(`the switchover of ${d.id} (${s.instanceId}) is still in progress ${formatDuration(ROLLBACK_MARGIN_MS)} after its ${bg.switchoverTimeoutSeconds} s timeout. Continue waiting?`, 'escalation');
      }
    }
    report.blueGreen = reportOf(d, report.blueGreen);
    report.blueGreen.switchoverEndedAt = nowIso();
    st.setState('running');
  };
  if (s.probe) {
    // The probe stops once the instance is at the target; a switchover AWS rolled back never gets it there, so
    // the probe is cancelled with it (probeWhile cancels it when the change throws).
    const notSwitched = new Error('the switchover did not complete');
    try {
      const result = await probeWhile(st, `switching ${s.instanceId} over to its green copy`, async () => {
        await switchover();
        if (d.status !== BG.switchoverCompleted) throw notSwitched;
      });
      await decideOnMeasuredDowntime(st, result);
    } catch (err) {
      if (err !== notSwitched) throw err;
      st.step('probe-stopped', `the switchover did not complete (${describeStatus(d)}); the probe was stopped`);
    }
  } else {
    await switchover();
  }
  if (tooLate !== undefined) {
    st.step('window-passed', tooLate);
    return 'window-passed';
  }
  if (d.status === BG.switchoverCompleted) {
    // As the deployment names it (-old2 when an earlier switchover left an -old1).
    const oldBlue = oldBlueOf(d, s.instanceId);
    st.step('switched-over', `${d.id}: ${s.instanceId} is now the former green copy (endpoint ${endpointBefore ?? 'unchanged'}); the old blue is ${oldBlue}`);
    report.blueGreen!.oldInstanceId = oldBlue;
    return 'switched';
  }
  report.blueGreen!.rolledBack = (report.blueGreen!.rolledBack ?? 0) + 1;
  st.step('switchover-rolled-back', `${d.id}: ${describeStatus(d)}`);
  return 'rolled-back';
}

/**
 * A few days before the window: the deployment still AVAILABLE (AWS's tasks done) and the instance still below
 * the target. The green copy was made at the target exactly, so AWS's pending maintenance is not what brings it.
 */
async function precheckDeployment(st: StageRun, window: Occurrence): Promise<'go' | 'upgraded-outside'> {
  const { stage: s } = st;
  const at = precheckInstant(window, s);
  if (at > nowMs()) {
    st.setState('waiting-for-window', { kind: 'precheck', description: `${s.name}: pre-check of the Blue/Green deployment`, until: iso(at) });
    st.step('waiting-for-precheck', iso(at));
    await st.sleep(at - nowMs(), `pre-check ${formatDuration(s.precheckBeforeMs)} before ${s.name}'s window ${describeWindow(window.startMs, window.endMs)}: Blue/Green deployment of ${s.instanceId}`);
  }
  await st.checkpoint();
  st.setState('running');
  const info = await st.aws('precheck', () => st.a.describeInstance({ where: st.where, instanceId: s.instanceId }));
  st.info = info;
  if (standingOf(info.engineVersion, st.target).kind !== 'below-target') return upgradedOutside(st, info.engineVersion, 'at the pre-check');
  let d = await readDeployment(st, 'precheck-deployment');
  if (!switchable(st, d)) d = await askOnDeployment(st, d, 'at the pre-check');
  st.step('precheck-passed', `${d.id} is ${describeStatus(d)}; ${s.instanceId} runs ${info.engineVersion}`);
  return 'go';
}

function upgradedOutside(st: StageRun, version: string, when: string): 'upgraded-outside' {
  const { stage: s, report } = st;
  if (version !== st.target) report.engineVersionNow = version;
  report.note = `reached ${version} outside the campaign ${when}; the Blue/Green deployment was not switched over`;
  st.step('upgraded-outside', `${s.instanceId} already runs ${version} ${when}: upgraded outside the campaign; no switchover`);
  return 'upgraded-outside';
}

/** The instance under its original name and endpoint now runs the target (AWS moved the name and the endpoint). */
export async function verifySwitchover(st: StageRun): Promise<void> {
  const { stage: s, report } = st;
  const before = st.info?.endpoint?.address;
  const info = await st.aws('verify-switchover', () => st.a.describeInstance({ where: st.where, instanceId: s.instanceId }));
  const problems: string[] = [];
  if (info.engineVersion !== st.target) problems.push(`it runs ${info.engineVersion}, not ${st.target}`);
  if (before && info.endpoint?.address !== before) problems.push(`its endpoint is ${info.endpoint?.address ?? 'missing'}, not ${before}`);
  // Asked only when a member was left behind, so runs that switch every member over take the steps they always did.
  const stray = membersNotSwitched(report.blueGreen);
  if (stray.length && patched(BLUE_GREEN_MEMBERS_VERIFIED_PATCH)) problems.push(`the switchover left members behind (${stray.join('; ')}): a read replica left so still replicates from the old blue`);
  if (problems.length === 0) {
    st.step('verified', `${s.instanceId} (${info.endpoint?.address ?? 'no endpoint'}) runs ${info.engineVersion}, ${info.status}`);
    st.info = info;
    return;
  }
  report.note = `after the switchover ${s.instanceId} ${problems.join('; ')}`;
  st.step('verify-failed', report.note);
  await st.notify('escalation', `${s.name}: ${report.note}`);
  await st.ask(`after the Blue/Green switchover ${s.instanceId} ${problems.join('; ')}. Look at the instance and the deployment ${report.blueGreen?.deploymentId}; continue (accept it) or abort?`, 'escalation');
}
