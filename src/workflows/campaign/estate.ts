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
import type { InstanceInfo, ReplicaReport, ResolvedStage, StageReport, UpgradeTarget } from '../../api';
import { describeAuthors, standingOf, targetMovedQuestion, terraformFixFor } from '../../domain/estate';
import { movedAutomaticTarget } from '../../domain/upgrade-targets';
import type { Occurrence } from '../../domain/maintenance-window';
import { iso, nowIso, nowMs } from '../shared/clock';
import { flagIsOurs, turnOffAutoMinorUpgrade, turnOnAutoMinorUpgrade, type WindowSubject } from './auto-minor-upgrade';
import { escalateOnCall } from './on-call';
import { AbortCampaign, type CampaignRun } from './run';
import { askTerraformForFlag, terraformOwns } from './terraform';

/** Reads the instance again (its version, status and flag as AWS says now). */
export function readAgain(c: CampaignRun, s: ResolvedStage, x: WindowSubject, step = 'read-again'): Promise<InstanceInfo> {
  return c.aws(s.name, step, () => c.a.describeInstance(x.where, x.instanceId));
}

/** The instance as AWS has it now, with the upgrade targets of its version (RDS's automatic one among them). */
export function inspect(c: CampaignRun, s: ResolvedStage, x: WindowSubject, step: string): Promise<{ info: InstanceInfo; targets: UpgradeTarget[] }> {
  return c.aws(s.name, step, () => c.a.inspectInstance(x.where, x.instanceId));
}

/**
 * The instance runs a newer version than the target: recorded once, and the follow-ups name that version.
 * Found so while its window was watched with the campaign's own flag on (`inWindow`), RDS most likely brought
 * that version through the flag (its automatic target moved after the last look): nobody approved it, so the
 * team is told and asked before the campaign goes on. Found so before the window, someone else upgraded it.
 */
export async function notePastTarget(c: CampaignRun, s: ResolvedStage, report: StageReport, x: WindowSubject, version: string, when: string, inWindow = false): Promise<void> {
  const target = c.spec.targetEngineVersion;
  if (x.replica) {
    x.track.note = `runs ${version}, past the target ${target} (upgraded outside the campaign)`;
  } else {
    report.engineVersionNow = version;
    report.note = `runs ${version}, past the target ${target}: upgraded outside the campaign`;
  }
  c.step(report, 'past-target', `${x.instanceId} runs ${version}, newer than the target ${target}, ${when}: upgraded outside the campaign (a person, or AWS); it is not watched for ${target}`);
  if (inWindow && x.track.mechanism === 'auto-minor-version-upgrade' && flagIsOurs(c, x)) {
    const text = `${s.name}: ${x.instanceId} reached ${version}, not the approved ${target}, while the campaign's AutoMinorVersionUpgrade was on (RDS's automatic target moved after the last look)`;
    await c.notify('escalation', text, s.name);
    await escalateOnCall(c, s, report, x, text);
    await c.askDecision(report, `${text}. Continue the campaign with ${x.instanceId} at ${version}?`, 'escalation');
  }
}

/**
 * Right before the flag goes on: RDS's automatic target for the version the instance runs now. When it is no
 * longer the campaign's target the flag stays off and the team decides (apply the target in the window
 * itself, retarget, or abort). Otherwise the flag goes on (or, for a Terraform-owned stage, is asked for).
 */
export async function armFlag(c: CampaignRun, s: ResolvedStage, report: StageReport, x: WindowSubject, opts: { guarded: boolean; deadlineMs?: number }): Promise<void> {
  if (x.track.mechanism === 'apply-in-window') return;
  if (opts.guarded) {
    const { info, targets } = await inspect(c, s, x, 'automatic-target');
    const moved = movedAutomaticTarget(targets, c.spec.targetEngineVersion);
    if (moved) return decideOnMovedTarget(c, s, report, x, info, moved.now);
  }
  x.track.mechanism = 'auto-minor-version-upgrade';
  if (terraformOwns(s)) {
    // Not seen on by the window's end: the window guard asks again for the next one.
    if (await askTerraformForFlag(c, s, report, x, { flag: true, deadlineMs: opts.deadlineMs })) x.track.flagArmedAt = nowIso();
    return;
  }
  await turnOnAutoMinorUpgrade(c, s, report, x);
  x.track.flagArmedAt = nowIso();
}

/** After the window: the flag as it was before (off), or asked back of Terraform with engine_version. */
export async function disarmFlag(c: CampaignRun, s: ResolvedStage, report: StageReport, x: WindowSubject): Promise<void> {
  // Terraform's code must say the new engine_version whatever brought it (and the flag back off).
  if (terraformOwns(s)) {
    await askTerraformForFlag(c, s, report, x, { flag: false, engineVersion: report.engineVersionNow ?? c.spec.targetEngineVersion });
    return;
  }
  if (x.track.mechanism === 'apply-in-window' && !flagIsOurs(c, x)) return;
  await turnOffAutoMinorUpgrade(c, s, report, x);
}

/**
 * RDS designated another automatic minor target (or none) for the instance's version: the flag would bring a
 * version nobody approved. The flag goes off if the campaign had turned it on; the team decides.
 */
export async function decideOnMovedTarget(c: CampaignRun, s: ResolvedStage, report: StageReport, x: WindowSubject, info: InstanceInfo, now: string | undefined): Promise<void> {
  const target = c.spec.targetEngineVersion;
  c.step(report, 'target-moved', `RDS's automatic minor target for ${x.instanceId} at ${info.engineVersion} is now ${now ?? 'none'}, not ${target}: the flag stays off`);
  if (flagIsOurs(c, x)) await turnOffAutoMinorUpgrade(c, s, report, x);
  await c.notify('escalation', `${s.name}: RDS's automatic target for ${x.instanceId} moved to ${now ?? 'none'}; the campaign's target is ${target}`, s.name);
  const question = targetMovedQuestion(x.instanceId, target, now);
  const d = await c.askDecision(report, question, 'escalation', ['apply-in-window', 'retarget', 'abort']);
  if (d.decision === 'retarget') {
    const next = now ?? '<the new version>';
    c.status.followUps.push(
      `Retarget to ${next}: start a new campaign with targetEngineVersion "${next}" (copy this spec, change the target, run \`campaign start\`): its preview and staging try ${next} before production does.`,
    );
    throw new AbortCampaign(d.by, d.comment ?? `retargeted: RDS's automatic target is now ${next}; a new campaign for ${next} goes through preview and staging first`);
  }
  x.track.mechanism = 'apply-in-window';
  c.step(report, 'apply-in-window', `${d.by} decided: the campaign applies ${target} to ${x.instanceId} itself when its window opens (ModifyDBInstance EngineVersion, exact)`);
  // A flag Terraform turned on would let RDS bring the other version first: it must go off again, in Terraform.
  if (terraformOwns(s) && info.autoMinorVersionUpgrade) await askTerraformForFlag(c, s, report, x, { flag: false });
}

export type GuardResult = 'go' | 'upgraded' | 'past-target' | 'missed' | 'moved';

/** How often one window's flag is turned on again before the campaign stops fighting whoever turns it off. */
export const MAX_REARMS_PER_WINDOW = 3;

/** Someone changed the instance's maintenance window: the occurrence watched no longer comes; its new one does. */
async function noteWindowMoved(c: CampaignRun, s: ResolvedStage, report: StageReport, w: Occurrence, x: WindowSubject, info: InstanceInfo): Promise<void> {
  const was = x.windowText;
  x.windowText = info.preferredMaintenanceWindow;
  if (x.replica) (x.track as ReplicaReport).maintenanceWindow = info.preferredMaintenanceWindow;
  else c.instances.set(s.name, info);
  const text = `${x.instanceId}'s maintenance window is now ${info.preferredMaintenanceWindow} (was ${was}): the window ${iso(w.startMs)} no longer comes, its next window does`;
  c.step(report, 'window-moved', text);
  await c.notify('escalation', `${s.name}: ${text}`, s.name);
}

/** A window that passed without the upgrade: counted (the team is asked after `maxMissedWindows`). */
export function missedWindow(c: CampaignRun, report: StageReport, x: WindowSubject, why: string): 'missed' {
  report.missedWindows += 1;
  c.step(report, 'window-missed', `${x.replica ? `replica ${x.instanceId}: ` : ''}${why} (${report.missedWindows} missed)`);
  c.setState('running');
  return 'missed';
}

/**
 * `rearmBefore` ahead of the window and when it opens: is the instance already at (or past) the target, is
 * the flag still on, is RDS's automatic target still the campaign's?
 */
export async function guardWindow(c: CampaignRun, s: ResolvedStage, report: StageReport, w: Occurrence, x: WindowSubject, moment: string): Promise<GuardResult> {
  // The state stays waiting-for-window while the instance is only read (one search-attribute upsert less per look).
  const { info, targets } = await inspect(c, s, x, 'read-again');
  const standing = standingOf(info.engineVersion, c.spec.targetEngineVersion);
  if (info.preferredMaintenanceWindow && info.preferredMaintenanceWindow !== x.windowText) {
    await noteWindowMoved(c, s, report, w, x, info);
    return 'moved';
  }
  // An instance at the target but not yet available (still rebooting after someone's upgrade) is watched.
  if (standing.kind === 'at-target' && info.status !== 'available') return 'go';
  if (standing.kind === 'at-target') {
    c.step(report, 'upgraded-outside', `${x.instanceId} already runs ${info.engineVersion} ${moment}: upgraded outside the campaign (a person, or AWS)`);
    if (x.replica) x.track.note = 'upgraded outside the campaign';
    else report.note = `reached ${info.engineVersion} outside the campaign, before its window`;
    return 'upgraded';
  }
  if (standing.kind === 'past-target') {
    await notePastTarget(c, s, report, x, standing.version, moment);
    return 'past-target';
  }
  if (x.track.mechanism === 'apply-in-window') return 'go';
  if (!info.autoMinorVersionUpgrade) {
    return (await onFlagReverted(c, s, report, w, x)) === 'window-closed' ? missedWindow(c, report, x, 'the window closed with AutoMinorVersionUpgrade off') : 'go';
  }
  const moved = movedAutomaticTarget(targets, c.spec.targetEngineVersion);
  if (moved) {
    await decideOnMovedTarget(c, s, report, x, info, moved.now);
    if (nowMs() < w.endMs) return 'go';
    return missedWindow(c, report, x, `the window ${iso(w.startMs)} – ${iso(w.endMs)} passed while the team decided`);
  }
  c.step(report, 'rearm-checked', `${x.instanceId} ${moment}: ${info.engineVersion}, AutoMinorVersionUpgrade on, RDS's automatic target still ${c.spec.targetEngineVersion}`);
  return 'go';
}

/**
 * The flag the window needs was found off. Who did it (CloudTrail), on again while the window is open, and
 * people told: the first time a notification, from the second an escalation (and the person on call) that
 * names the Terraform fix. A Terraform-owned stage asks for the Terraform change again instead.
 */
export async function onFlagReverted(c: CampaignRun, s: ResolvedStage, report: StageReport, w: Occurrence, x: WindowSubject): Promise<'rearmed' | 'window-closed'> {
  if (terraformOwns(s) && !x.track.flagArmedAt) {
    // Terraform has not applied the change yet (it was never seen on): asked again, not a revert.
    if (nowMs() >= w.endMs) return 'window-closed';
    if (!(await askTerraformForFlag(c, s, report, x, { flag: true, deadlineMs: w.endMs }))) return 'window-closed';
    x.track.flagArmedAt = nowIso();
    return 'rearmed';
  }
  if (!terraformOwns(s) && !x.track.flagArmedAt) {
    // The campaign itself left it off (it gave up a window where it was turned off too often): on for this one.
    if (nowMs() >= w.endMs) return 'window-closed';
    await turnOnAutoMinorUpgrade(c, s, report, x);
    x.track.flagArmedAt = nowIso();
    return 'rearmed';
  }
  x.track.flagReverts = (x.track.flagReverts ?? 0) + 1;
  const reverts = x.track.flagReverts;
  const since = x.track.flagArmedAt ?? iso(w.startMs - 7 * 86_400_000);
  const found = await c.aws(s.name, 'who-changed-it', () =>
    c.a.findInstanceChanges(x.where, { instanceId: x.instanceId, since, eventName: 'ModifyDBInstance', parameter: { name: 'AutoMinorVersionUpgrade', value: false } }),
  );
  const who = describeAuthors(found.changes, found.unavailable);
  const closed = nowMs() >= w.endMs;
  const what = `AutoMinorVersionUpgrade on ${x.region}/${x.instanceId} was turned off (seen ${nowIso()}; ${who})`;
  c.step(report, 'flag-reverted', `${what}; ${reverts} time(s) before or in the window ${iso(w.startMs)}`);
  const fix = terraformFixFor(x.instanceId);
  // Re-arming is not a fight without end: past a few times in one window the window is given up (and said so).
  const inWindow = x.track.rearms?.windowStart === w.startMs ? x.track.rearms.count + 1 : 1;
  x.track.rearms = { windowStart: w.startMs, count: inWindow };
  const giveUp = inWindow > MAX_REARMS_PER_WINDOW;
  if (reverts === 1 && !terraformOwns(s)) {
    await c.notify('flag-reverted', `${s.name}: ${what}. ${closed ? 'The window has closed: the next one is watched.' : 'The campaign turned it on again.'}`, s.name);
  } else {
    const stop = giveUp ? ` The campaign stopped turning it on for this window after ${MAX_REARMS_PER_WINDOW} times; the next window is watched.` : '';
    const text = `${s.name}: ${what}, ${reverts} time(s): something keeps turning it off (Terraform's pipeline?). Fix: ${fix}.${stop}`;
    await c.notify('escalation', text, s.name);
    await escalateOnCall(c, s, report, x, text);
  }
  if (giveUp) x.track.flagArmedAt = undefined;
  if (closed || giveUp) return 'window-closed';
  if (terraformOwns(s)) {
    const ok = await askTerraformForFlag(c, s, report, x, { flag: true, deadlineMs: w.endMs });
    if (ok) x.track.flagArmedAt = nowIso();
    return ok ? 'rearmed' : 'window-closed';
  }
  await turnOnAutoMinorUpgrade(c, s, report, x);
  x.track.flagArmedAt = nowIso();
  c.step(report, 'flag-rearmed', `AutoMinorVersionUpgrade on again for ${x.instanceId} (the window ${iso(w.startMs)} – ${iso(w.endMs)} is still open or ahead)`);
  return 'rearmed';
}

/** The team chose to have the campaign apply the target itself in the window: the exact version, now. */
export async function applyInWindow(c: CampaignRun, s: ResolvedStage, report: StageReport, x: WindowSubject): Promise<void> {
  const r = await c.aws(s.name, 'upgrade-in-window', () => c.a.applyUpgradeNow(x.where, x.instanceId, c.spec.targetEngineVersion));
  c.step(report, 'upgrade-triggered', r.detail);
}
