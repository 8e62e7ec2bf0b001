/**
 * Stages whose flag the team's Terraform owns (`changes: terraform`): the campaign changes nothing itself. It
 * asks the team for the exact change (the instance, the attribute, the value), reminds at the approval
 * reminder interval, and goes on when AWS shows the flag as asked; after the window it asks for the change
 * back, with `engine_version`, the same way. A deploy of the old code would otherwise undo whatever the
 * campaign set through the API (estate.ts watches for that too).
 */
import type { ResolvedStage } from '../../api';
import { terraformChangeText } from '../../domain/estate';
import { waiterUntil } from '../shared/aws-calls';
import { iso, nowMs } from '../shared/clock';
import { isActivityTimeout } from '../shared/failures';
import type { WindowSubject } from './auto-minor-upgrade';
import type { StageRun } from './stage-run';

export function terraformOwns(s: ResolvedStage): boolean {
  return s.changes === 'terraform';
}

/**
 * The flag Terraform turned on for the campaign must go back off if the campaign stops: the campaign cannot
 * change it itself, so stopping leaves the exact Terraform change as a follow-up.
 */
function rememberToAskBack(st: StageRun, x: WindowSubject, flagOn: boolean): void {
  const { stage: s } = st;
  const id = `terraform-flag:${x.region}/${x.instanceId}`;
  st.saga.drop(id);
  if (!flagOn) return;
  st.saga.add({
    id,
    description: `ask for AutoMinorVersionUpgrade off for ${x.region}/${x.instanceId} in Terraform`,
    run: async () => {
      st.status.followUps.push(`${s.name}: ${terraformChangeText([x.instanceId], false)} (the campaign stopped; Terraform owns the flag)`);
      return true;
    },
  });
}

/**
 * Asks for `auto_minor_version_upgrade = flag` (and `engine_version` when given) in Terraform and waits until
 * AWS shows the flag so, reminding people; gives up at `deadlineMs` (the window's end) and returns false.
 */
export async function askTerraformForFlag(st: StageRun, x: WindowSubject, ask: { flag: boolean; engineVersion?: string; deadlineMs?: number }): Promise<boolean> {
  const { stage: s } = st;
  const change = terraformChangeText([x.instanceId], ask.flag, ask.engineVersion);
  const by = ask.deadlineMs !== undefined ? ` before ${iso(ask.deadlineMs)}` : '';
  st.step('infra-change-requested', `${change}${by}; the campaign goes on when AWS shows AutoMinorVersionUpgrade ${ask.flag}`);
  st.setState('waiting-for-infra-change', { kind: 'infra-change', description: `${s.name}: ${change}${by}` });
  await st.notify('infra-change-needed', `${s.name} (Terraform owns the flag): ${change}${by}. The campaign goes on when AWS shows AutoMinorVersionUpgrade ${ask.flag}.`);
  for (;;) {
    const until = Math.min(ask.deadlineMs ?? Number.MAX_SAFE_INTEGER, nowMs() + st.settings.reminderIntervalMs);
    try {
      const info = await st.aws('waiting-for-infra-change', () => waiterUntil(until, st.settings.pollIntervalMs).waitForInstance({ where: x.where, instanceId: x.instanceId, want: { autoMinorVersionUpgrade: ask.flag } }), { attemptsPerRound: 1 });
      st.setState('running');
      st.step('infra-change-seen', `AWS shows AutoMinorVersionUpgrade ${info.autoMinorVersionUpgrade} on ${x.instanceId}${ask.engineVersion ? ` (it runs ${info.engineVersion})` : ''}`);
      rememberToAskBack(st, x, ask.flag);
      return true;
    } catch (err) {
      if (!isActivityTimeout(err)) throw err;
    }
    if (ask.deadlineMs !== undefined && nowMs() >= ask.deadlineMs) {
      st.setState('running');
      st.step('infra-change-missing', `AWS still shows AutoMinorVersionUpgrade ${!ask.flag} on ${x.instanceId} at ${iso(ask.deadlineMs)}`);
      return false;
    }
    await st.notify('reminder', `${s.name}: still waiting for the Terraform change: ${change}${by}`);
  }
}
