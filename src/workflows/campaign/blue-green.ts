/**
 * method blue-green (AWS's answer to the window's downtime: "Using Amazon RDS Blue/Green Deployments for
 * database updates", RDS User Guide): a green copy of the instance at the exact target, created and waited
 * for (hours, durably); the same approval (naming the window and the deployment), status-page maintenance and
 * pre-check as a maintenance-window production; then SwitchoverBlueGreenDeployment inside the window, under
 * the stage's probe when it has one; SWITCHOVER_COMPLETED waited for; the instance under its original name and
 * endpoint verified at the target. A switchover AWS rolls back, a deployment that fails, a window that passed
 * before the switchover: the team decides, nothing is retried silently. Nothing is ever deleted: the old blue
 * (`-old1`), the deployment, or (after an abort) the green copy are follow-ups with the commands to remove them.
 */
import { CancellationScope } from '@temporalio/workflow';
import type { BlueGreenDeployment, BlueGreenReport } from '../../api';
import { BG, BLUE_GREEN_CAMPAIGN_TAG, blueGreenDeploymentName, blueGreenLeftovers, describeStatus, instanceIdOf, oldBlueName, openTasks, reportOf } from '../../domain/blue-green';
import { formatDuration } from '../../domain/duration';
import { standingOf } from '../../domain/estate';
import { nextWindowStartingAfter, type Occurrence } from '../../domain/maintenance-window';
import { describeWindow } from '../../domain/window-group';
import { waiterUntil } from '../shared/aws-calls';
import { iso, nowMs } from '../shared/clock';
import { isActivityTimeout } from '../shared/failures';
import { AFTER_SWITCHOVER_MS, ROLLBACK_MARGIN_MS, askOnDeployment, readDeployment, switchable, switchoverInWindow, verifySwitchover } from './blue-green-switchover';
import { ANNOUNCEMENT, announceMaintenance, obtainApprovalForWindow } from './production';
import type { StageRun } from './stage-run';

/** Follow-ups of this method start with this, so a fleet's campaign collects them from its instances' runs. */
export const BLUE_GREEN_FOLLOW_UP = 'Blue/Green:';

/**
 * The stage's (or a fleet instance's) Blue/Green upgrade. `approved`: the window its fleet's campaign approved
 * and announced for this instance.
 */
export async function upgradeByBlueGreen(st: StageRun, approved?: Occurrence): Promise<'upgraded' | 'past-target'> {
  const { stage: s, report } = st;
  report.mechanism = 'blue-green';
  let deployment = await prepareGreen(st);
  let window = approved ?? (await chooseWindow(st, deployment));
  for (;;) {
    const outcome = await switchoverInWindow(st, window, deployment);
    if (outcome === 'switched') {
      await verifySwitchover(st);
      leaveFollowUp(st, true);
      return 'upgraded';
    }
    if (outcome === 'upgraded-outside') {
      leaveFollowUp(st, false);
      const standing = standingOf(report.engineVersionNow ?? st.target, st.target);
      return standing.kind === 'past-target' ? 'past-target' : 'upgraded';
    }
    // The team decides every time: a fleet instance's run ends with the question (its campaign counts it).
    const why =
      outcome === 'rolled-back'
        ? `AWS rolled back the switchover of ${s.instanceId} (${describeStatus(report.blueGreen!)}): ${s.instanceId} still runs ${report.fromVersion ?? 'its version'}, nothing was renamed`
        : `the window ${describeWindow(window.startMs, window.endMs)} passed before ${s.instanceId} was switched over`;
    await st.notify('escalation', `${s.name}: ${why}`);
    const again = approved || !s.requiresApproval ? 'in its next maintenance window' : 'in a new window (asked for approval again)';
    await st.ask(`${why}. Continue: switch over ${again}, or abort (the green copy is left in place, as a follow-up)?`, 'escalation');
    report.blueGreen!.retryDecided = true;
    deployment = await readDeployment(st, 'read-deployment-again');
    if (!switchable(st, deployment)) deployment = await askOnDeployment(st, deployment, 'before trying the switchover again');
    window = await chooseWindow(st, deployment, window);
  }
}

/** The green copy: CreateBlueGreenDeployment (or the one a retry finds by name), then wait until AVAILABLE. */
async function prepareGreen(st: StageRun): Promise<BlueGreenDeployment> {
  const { stage: s, report } = st;
  const bg = s.blueGreen!;
  const name = blueGreenDeploymentName(st.settings.campaignId, s.instanceId);
  // TargetDBParameterGroupName only when the spec names one: left out, "each DB instance in the green environment is
  // associated with the parameter group of its corresponding blue DB instance" (RDS User Guide), replicas included.
  const targetParameterGroup = bg.targetParameterGroup;
  st.saga.add({
    id: greenId(st),
    description: `leave Blue/Green deployment ${name} of ${s.region}/${s.instanceId} in place (never deleted; a follow-up says how to remove it)`,
    run: async () => {
      if (!report.blueGreen) return false;
      const switched = report.blueGreen.status === BG.switchoverCompleted;
      leaveFollowUp(st, switched, report.blueGreen.status === BG.switchoverInProgress);
      st.step(switched ? 'old-blue-left' : 'green-left', `${switched ? (report.blueGreen.oldInstanceId ?? oldBlueName(s.instanceId)) : (report.blueGreen.greenInstanceId ?? 'the green copy')} of deployment ${report.blueGreen.deploymentId} is left in place (follow-up)`);
      return false;
    },
  });
  // Not interruptible by abort: a deployment created is always recorded, so the follow-up can name it.
  const created = await CancellationScope.nonCancellable(() =>
    st.aws('create-blue-green', () =>
      st.a.createBlueGreenDeployment({
        where: st.where,
        instanceId: s.instanceId,
        name,
        targetEngineVersion: st.target,
        ...(targetParameterGroup ? { targetParameterGroup } : {}),
        tags: { [BLUE_GREEN_CAMPAIGN_TAG]: st.settings.campaignId },
      }),
    ),
  );
  report.blueGreen = reportOf(created.deployment, report.blueGreen);
  st.step(created.changed ? 'blue-green-created' : 'blue-green-found', `${created.detail}${targetParameterGroup ? `, parameter group ${targetParameterGroup}` : ''}`);
  return waitWhileProvisioning(st, created.deployment);
}

/** Waits (retry-based polling: no history growth) until AWS is done provisioning; a failure asks the team. */
async function waitWhileProvisioning(st: StageRun, d: BlueGreenDeployment): Promise<BlueGreenDeployment> {
  const { stage: s, report } = st;
  for (;;) {
    if (d.status === BG.provisioning) {
      const deadline = nowMs() + s.blueGreen!.provisioningTimeoutMs;
      st.setState('running', { kind: 'aws', description: `${s.instanceId}: Blue/Green deployment ${d.id} AVAILABLE (green copy at ${st.target})`, until: iso(deadline) });
      st.step('waiting-for-green', `${d.id} is ${describeStatus(d)}; up to ${formatDuration(s.blueGreen!.provisioningTimeoutMs)}`);
      try {
        d = await st.aws('waiting-for-green', () => waiterUntil(deadline, st.settings.pollIntervalMs).waitForBlueGreenDeployment({ where: st.where, deploymentId: d.id, while: [BG.provisioning] }), { attemptsPerRound: 1 });
      } catch (err) {
        if (!isActivityTimeout(err)) throw err;
        d = await readDeployment(st, 'read-deployment');
        if (d.status === BG.provisioning) {
          await st.ask(`Blue/Green deployment ${d.id} of ${s.instanceId} is still ${describeStatus(d)} after ${formatDuration(s.blueGreen!.provisioningTimeoutMs)} (open tasks: ${openTasks(d).join(', ') || 'none listed'}). Continue waiting?`, 'escalation');
          continue;
        }
      }
      report.blueGreen = reportOf(d, report.blueGreen);
      st.setState('running');
    }
    if (switchable(st, d)) {
      st.step('green-available', `${d.id}: ${report.blueGreen?.greenInstanceId ?? 'the green copy'} is available at ${st.target}; tasks ${d.tasks.map((t) => `${t.name} ${t.status}`).join(', ') || 'none listed'}`);
      return d;
    }
    d = await askOnDeployment(st, d, 'while it was being provisioned');
  }
}

/**
 * The switchover's window: a stage that requires approval asks for it (naming the deployment) and announces
 * it; another switches in its next maintenance window, or now. `previous`: a window that was not used (its
 * announcement is cancelled before another is made).
 */
async function chooseWindow(st: StageRun, d: BlueGreenDeployment, previous?: Occurrence): Promise<Occurrence> {
  const { stage: s, report } = st;
  if (previous && nowMs() < previous.endMs && (await st.saga.runNow(ANNOUNCEMENT))) st.step('announcement-cancelled', `the maintenance announced for ${iso(previous.startMs)} is cancelled`);
  st.saga.drop(ANNOUNCEMENT);
  if (!s.requiresApproval) {
    if (s.blueGreen!.switchover === 'now') return { startMs: nowMs(), endMs: nowMs() + AFTER_SWITCHOVER_MS + s.blueGreen!.switchoverTimeoutSeconds * 1000 + ROLLBACK_MARGIN_MS };
    return nextWindowStartingAfter(st.info!.preferredMaintenanceWindow, nowMs());
  }
  const green = instanceIdOf(d.targetArn);
  const window = await obtainApprovalForWindow(st, {
    planSuffix: `|blue-green ${d.id}`,
    how: `by Blue/Green switchover of deployment ${d.id}${green ? ` (green ${green}, available at ${st.target})` : ''}, SwitchoverTimeout ${s.blueGreen!.switchoverTimeoutSeconds} s,`,
  });
  await st.checkpoint();
  if (s.statusPage.enabled) {
    const created = await announceMaintenance(st, window, { id: ANNOUNCEMENT, key: `${st.settings.campaignId}/${s.name}/${iso(window.startMs)}`, incidentId: () => report.statusPageIncidentId });
    report.statusPageIncidentId = created.incidentId;
    st.step('status-page-scheduled', `${created.incidentId}${created.shortlink ? ` ${created.shortlink}` : ''} for ${iso(window.startMs)} – ${iso(window.endMs)}`);
  }
  return window;
}

function greenId(st: StageRun): string {
  return `blue-green:${st.stage.region}/${st.stage.instanceId}`;
}

/** Once per stage (or instance): what is left running, what it costs, and the commands to remove it by hand. */
function leaveFollowUp(st: StageRun, switched: boolean, inProgress = false): void {
  const { stage: s, report } = st;
  const b: BlueGreenReport | undefined = report.blueGreen;
  st.saga.drop(greenId(st));
  if (!b) return;
  const text = `${BLUE_GREEN_FOLLOW_UP} ${s.name}: ${blueGreenLeftovers({ region: s.region, instanceId: s.instanceId, deploymentId: b.deploymentId, greenInstanceId: b.greenInstanceId, switched, ...(b.oldInstanceId ? { oldInstanceId: b.oldInstanceId } : {}), ...(inProgress ? { inProgress } : {}), size: st.info })}`;
  if (!st.status.followUps.includes(text)) st.status.followUps.push(text);
}
