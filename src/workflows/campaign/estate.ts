/**
 * A campaign in an estate that moves (runbook and DESIGN.md "The estate around an instance"): before each
 * change and each wait that depends on it, the instance is read again.
 *
 *   armFlag          RDS's automatic target read again right before the flag goes on; moved → the team decides
 *   guardWindow      `rearmBefore` ahead of the window and when it opens: already upgraded? flag still on?
 *   onFlagReverted   someone turned the flag off: who (CloudTrail), on again while the window is open, notify;
 *                    the second time, escalate and name the fix in Terraform
 *   notePastTarget   the instance runs a newer version than the target: never watched for it again
 *   disarmFlag       the flag back off (or asked back of Terraform) after the window
 */
import { patched } from '@temporalio/workflow';
import type { InstanceInfo, ReplicaReport, UpgradeTarget } from '../../api';
import { describeAuthors, standingOf, targetMovedQuestion, terraformFixFor } from '../../domain/estate';
import { AVAILABLE } from '../../domain/instance-status';
import { movedAutomaticTarget } from '../../domain/upgrade-targets';
import type { Occurrence } from '../../domain/maintenance-window';
import { iso, nowIso, nowMs } from '../shared/clock';
import { flagIsOurs, turnOffAutoMinorUpgrade, turnOnAutoMinorUpgrade, type WindowSubject } from './auto-minor-upgrade';
import { escalateOnCall } from './on-call';
import { AbortCampaign, type StageRun } from './stage-run';
import { askTerraformForFlag, terraformOwns } from './terraform';

/** Reads the instance again (its version, status and flag as AWS says now). */
export function readAgain(st: StageRun, x: WindowSubject, step = 'read-again'): Promise<InstanceInfo> {
  return st.aws(step, () => st.a.describeInstance({ where: x.where, instanceId: x.instanceId }));
}

/** The instance as AWS has it now, with the upgrade targets of its version (RDS's automatic one among them). */
export function inspect(st: StageRun, x: WindowSubject, step: string): Promise<{ info: InstanceInfo; targets: UpgradeTarget[] }> {
  return st.aws(step, () => st.a.inspectInstance({ where: x.where, instanceId: x.instanceId }));
}

/**
 * The instance runs a newer version than the target: recorded once, and the follow-ups name that version.
 * Found so while its window was watched with the campaign's own flag on (`inWindow`), RDS most likely brought
 * that version through the flag (its automatic target moved after the last look): nobody approved it, so the
 * team is told and asked before the campaign goes on. Found so before the window, someone else upgraded it.
 */
export async function notePastTarget(st: StageRun, x: WindowSubject, version: string, when: string, inWindow = false): Promise<void> {
  const { stage: s, report } = st;
  const target = st.target;
  if (x.replica) {
    x.track.note = `runs ${version}, past the target ${target} (upgraded outside the campaign)`;
  } else {
    report.engineVersionNow = version;
    report.note = `runs ${version}, past the target ${target}: upgraded outside the campaign`;
  }
  st.step('past-target', `${x.instanceId} runs ${version}, newer than the target ${target}, ${when}: upgraded outside the campaign (a person, or AWS); it is not watched for ${target}`);
  if (inWindow && x.track.mechanism === 'auto-minor-version-upgrade' && flagIsOurs(st, x)) {
    const text = `${s.name}: ${x.instanceId} reached ${version}, not the approved ${target}, while the campaign's AutoMinorVersionUpgrade was on (RDS's automatic target moved after the last look)`;
    await st.notify('escalation', text);
    await escalateOnCall(st, x, text);
    await st.ask(`${text}. Continue the campaign with ${x.instanceId} at ${version}?`, 'escalation');
  }
}

/**
 * Right before the flag goes on: RDS's automatic target for the version the instance runs now. When it is no
 * longer the campaign's target the flag stays off and the team decides (apply the target in the window
 * itself, retarget, or abort). Otherwise the flag goes on (or, for a Terraform-owned stage, is asked for).
 */
export async function armFlag(st: StageRun, x: WindowSubject, opts: { guarded: boolean; deadlineMs?: number; window?: Occurrence }): Promise<'armed' | 'moved'> {
  const { stage: s } = st;
  if (x.track.mechanism === 'apply-in-window') return 'armed';
  if (opts.guarded) {
    const { info, targets } = await inspect(st, x, 'automatic-target');
    // The window arming is for (an approved one) no longer comes: with the flag on, RDS would upgrade the instance in
    // the new one, unannounced, before the window's own look would see the change. Asked right after the read.
    if (opts.window && info.preferredMaintenanceWindow && info.preferredMaintenanceWindow !== x.windowText && patched(ARM_SEES_MOVED_WINDOW_PATCH)) {
      await noteWindowMoved(st, opts.window, x, info);
      return 'moved';
    }
    const moved = movedAutomaticTarget(targets, st.target);
    if (moved) {
      await decideOnMovedTarget(st, x, info, moved.now);
      return 'armed';
    }
  }
  x.track.mechanism = 'auto-minor-version-upgrade';
  if (terraformOwns(s)) {
    // Not seen on by the window's end: the window guard asks again for the next one.
    if (await askTerraformForFlag(st, x, { flag: true, deadlineMs: opts.deadlineMs })) x.track.flagArmedAt = nowIso();
    return 'armed';
  }
  await turnOnAutoMinorUpgrade(st, x);
  x.track.flagArmedAt = nowIso();
  return 'armed';
}

/** patched() id: arming for an approved window first sees whether that window moved (armFlag's `window`). */
export const ARM_SEES_MOVED_WINDOW_PATCH = 'campaign-arm-sees-moved-window';

/** After the window: the flag as it was before (off), or asked back of Terraform with engine_version. */
export async function disarmFlag(st: StageRun, x: WindowSubject): Promise<void> {
  const { stage: s, report } = st;
  // Terraform's code must say the new engine_version whatever brought it (and the flag back off).
  if (terraformOwns(s)) {
    await askTerraformForFlag(st, x, { flag: false, engineVersion: report.engineVersionNow ?? st.target });
    return;
  }
  if (x.track.mechanism === 'apply-in-window' && !flagIsOurs(st, x)) return;
  await turnOffAutoMinorUpgrade(st, x);
}

/**
 * RDS designated another automatic minor target (or none) for the instance's version: the flag would bring a
 * version nobody approved. The flag goes off if the campaign had turned it on; the team decides.
 */
export async function decideOnMovedTarget(st: StageRun, x: WindowSubject, info: InstanceInfo, now: string | undefined): Promise<void> {
  const { stage: s } = st;
  const target = st.target;
  st.step('target-moved', `RDS's automatic minor target for ${x.instanceId} at ${info.engineVersion} is now ${now ?? 'none'}, not ${target}: the flag stays off`);
  if (flagIsOurs(st, x)) await turnOffAutoMinorUpgrade(st, x);
  await st.notify('escalation', `${s.name}: RDS's automatic target for ${x.instanceId} moved to ${now ?? 'none'}; the campaign's target is ${target}`);
  const question = targetMovedQuestion(x.instanceId, target, now);
  const d = await st.ask(question, 'escalation', ['apply-in-window', 'retarget', 'abort']);
  if (d.decision === 'retarget') {
    const next = now ?? '<the new version>';
    st.status.followUps.push(
      `Retarget to ${next}: start a new campaign with targetEngineVersion "${next}" (copy this spec, change the target, run \`campaign start\`): its preview and staging try ${next} before production does.`,
    );
    throw new AbortCampaign(d.by, d.comment ?? `retargeted: RDS's automatic target is now ${next}; a new campaign for ${next} goes through preview and staging first`);
  }
  x.track.mechanism = 'apply-in-window';
  st.step('apply-in-window', `${d.by} decided: the campaign applies ${target} to ${x.instanceId} itself when its window opens (ModifyDBInstance EngineVersion, exact)`);
  // A flag Terraform turned on would let RDS bring the other version first: it must go off again, in Terraform.
  if (terraformOwns(s) && info.autoMinorVersionUpgrade) await askTerraformForFlag(st, x, { flag: false });
}

export type GuardResult = 'go' | 'upgraded' | 'past-target' | 'missed' | 'moved';

/** How often one window's flag is turned on again before the campaign stops fighting whoever turns it off. */
export const MAX_REARMS_PER_WINDOW = 3;

/** Someone changed the instance's maintenance window: the occurrence watched no longer comes; its new one does. */
async function noteWindowMoved(st: StageRun, w: Occurrence, x: WindowSubject, info: InstanceInfo): Promise<void> {
  const { stage: s } = st;
  const was = x.windowText;
  x.windowText = info.preferredMaintenanceWindow;
  if (x.replica) (x.track as ReplicaReport).maintenanceWindow = info.preferredMaintenanceWindow;
  else st.info = info;
  const text = `${x.instanceId}'s maintenance window is now ${info.preferredMaintenanceWindow} (was ${was}): the window ${iso(w.startMs)} no longer comes, its next window does`;
  st.step('window-moved', text);
  await st.notify('escalation', `${s.name}: ${text}`);
}

/** A window that passed without the upgrade: counted (the team is asked after `maxMissedWindows`). */
export function missedWindow(st: StageRun, x: WindowSubject, why: string): 'missed' {
  const { report } = st;
  report.missedWindows += 1;
  st.step('window-missed', `${x.replica ? `replica ${x.instanceId}: ` : ''}${why} (${report.missedWindows} missed)`);
  st.setState('running');
  return 'missed';
}

/**
 * `rearmBefore` ahead of the window and when it opens: is the instance already at (or past) the target, is
 * the flag still on, is RDS's automatic target still the campaign's?
 */
export async function guardWindow(st: StageRun, w: Occurrence, x: WindowSubject, moment: string): Promise<GuardResult> {
  const { report } = st;
  // The state stays waiting-for-window while the instance is only read (one search-attribute upsert less per look).
  const { info, targets } = await inspect(st, x, 'read-again');
  const standing = standingOf(info.engineVersion, st.target);
  if (info.preferredMaintenanceWindow && info.preferredMaintenanceWindow !== x.windowText) {
    await noteWindowMoved(st, w, x, info);
    return 'moved';
  }
  // An instance at the target but not yet available (still rebooting after someone's upgrade) is watched.
  if (standing.kind === 'at-target' && info.status !== AVAILABLE) return 'go';
  if (standing.kind === 'at-target') {
    st.step('upgraded-outside', `${x.instanceId} already runs ${info.engineVersion} ${moment}: upgraded outside the campaign (a person, or AWS)`);
    if (x.replica) x.track.note = 'upgraded outside the campaign';
    else report.note = `reached ${info.engineVersion} outside the campaign, before its window`;
    return 'upgraded';
  }
  if (standing.kind === 'past-target') {
    await notePastTarget(st, x, standing.version, moment);
    return 'past-target';
  }
  if (x.track.mechanism === 'apply-in-window') return 'go';
  if (!info.autoMinorVersionUpgrade) {
    return (await onFlagReverted(st, w, x)) === 'window-closed' ? missedWindow(st, x, 'the window closed with AutoMinorVersionUpgrade off') : 'go';
  }
  const moved = movedAutomaticTarget(targets, st.target);
  if (moved) {
    await decideOnMovedTarget(st, x, info, moved.now);
    if (nowMs() < w.endMs) return 'go';
    return missedWindow(st, x, `the window ${iso(w.startMs)} – ${iso(w.endMs)} passed while the team decided`);
  }
  st.step('rearm-checked', `${x.instanceId} ${moment}: ${info.engineVersion}, AutoMinorVersionUpgrade on, RDS's automatic target still ${st.target}`);
  return 'go';
}

/**
 * The flag the window needs was found off. Who did it (CloudTrail), on again while the window is open, and
 * people told: the first time a notification, from the second an escalation (and the person on call) that
 * names the Terraform fix. A Terraform-owned stage asks for the Terraform change again instead.
 */
export async function onFlagReverted(st: StageRun, w: Occurrence, x: WindowSubject): Promise<'rearmed' | 'window-closed'> {
  const { stage: s } = st;
  if (terraformOwns(s) && !x.track.flagArmedAt) {
    // Terraform has not applied the change yet (it was never seen on): asked again, not a revert.
    if (nowMs() >= w.endMs) return 'window-closed';
    if (!(await askTerraformForFlag(st, x, { flag: true, deadlineMs: w.endMs }))) return 'window-closed';
    x.track.flagArmedAt = nowIso();
    return 'rearmed';
  }
  if (!terraformOwns(s) && !x.track.flagArmedAt) {
    // The campaign itself left it off (it gave up a window where it was turned off too often): on for this one.
    if (nowMs() >= w.endMs) return 'window-closed';
    await turnOnAutoMinorUpgrade(st, x);
    x.track.flagArmedAt = nowIso();
    return 'rearmed';
  }
  x.track.flagReverts = (x.track.flagReverts ?? 0) + 1;
  const reverts = x.track.flagReverts;
  const since = x.track.flagArmedAt ?? iso(w.startMs - 7 * 86_400_000);
  const found = await st.aws('who-changed-it', () =>
    st.a.findInstanceChanges({ where: x.where, query: { instanceId: x.instanceId, since, eventName: 'ModifyDBInstance', parameter: { name: 'AutoMinorVersionUpgrade', value: false } } }),
  );
  const who = describeAuthors(found.changes, found.unavailable);
  const closed = nowMs() >= w.endMs;
  const what = `AutoMinorVersionUpgrade on ${x.region}/${x.instanceId} was turned off (seen ${nowIso()}; ${who})`;
  st.step('flag-reverted', `${what}; ${reverts} time(s) before or in the window ${iso(w.startMs)}`);
  const fix = terraformFixFor(x.instanceId);
  // Re-arming is not a fight without end: past a few times in one window the window is given up (and said so).
  const inWindow = x.track.rearms?.windowStart === w.startMs ? x.track.rearms.count + 1 : 1;
  x.track.rearms = { windowStart: w.startMs, count: inWindow };
  const giveUp = inWindow > MAX_REARMS_PER_WINDOW;
  if (reverts === 1 && !terraformOwns(s)) {
    await st.notify('flag-reverted', `${s.name}: ${what}. ${closed ? 'The window has closed: the next one is watched.' : 'The campaign turned it on again.'}`);
  } else {
    const stop = giveUp ? ` The campaign stopped turning it on for this window after ${MAX_REARMS_PER_WINDOW} times; the next window is watched.` : '';
    const text = `${s.name}: ${what}, ${reverts} time(s): something keeps turning it off (Terraform's pipeline?). Fix: ${fix}.${stop}`;
    await st.notify('escalation', text);
    await escalateOnCall(st, x, text);
  }
  if (giveUp) x.track.flagArmedAt = undefined;
  if (closed || giveUp) return 'window-closed';
  if (terraformOwns(s)) {
    const ok = await askTerraformForFlag(st, x, { flag: true, deadlineMs: w.endMs });
    if (ok) x.track.flagArmedAt = nowIso();
    return ok ? 'rearmed' : 'window-closed';
  }
  await turnOnAutoMinorUpgrade(st, x);
  x.track.flagArmedAt = nowIso();
  st.step('flag-rearmed', `AutoMinorVersionUpgrade on again for ${x.instanceId} (the window ${iso(w.startMs)} – ${iso(w.endMs)} is still open or ahead)`);
  return 'rearmed';
}

/** The team chose to have the campaign apply the target itself in the window: the exact version, now. */
export async function applyInWindow(st: StageRun, x: WindowSubject): Promise<void> {
  const r = await st.aws('upgrade-in-window', () => st.a.applyUpgradeNow({ where: x.where, instanceId: x.instanceId, targetVersion: st.target }));
  st.step('upgrade-triggered', r.detail);
}
