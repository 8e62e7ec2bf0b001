/**
 * A campaign lasts weeks and is not alone in the estate: Terraform sets `auto_minor_version_upgrade` back,
 * RDS moves its automatic target, people upgrade an instance from the console, read replicas must go first,
 * and the person on call must know when production's window opens. These are the pure rules the workflows
 * and `campaign plan` apply to what they read again before each change. No Temporal, no I/O.
 */
import type { InstanceChange } from '../api/activities';
import { MINUTE_MS, iso } from './duration';
import { compareEngineVersions } from './engine-version';
import { nextWindowStartingAfter, windowContaining, type Occurrence } from './maintenance-window';

/** The flag and AWS's automatic target are read again this long before a window opens (and at its start). */
export const DEFAULT_REARM_BEFORE_MS = 15 * MINUTE_MS;

/** How the campaign sees an instance it is about to change, or to wait for. */
export type InstanceStanding =
  | { kind: 'below-target' }
  | { kind: 'at-target' }
  | { kind: 'past-target'; version: string };

export function standingOf(engineVersion: string, target: string): InstanceStanding {
  const c = compareEngineVersions(engineVersion, target);
  if (c === 0) return { kind: 'at-target' };
  return c > 0 ? { kind: 'past-target', version: engineVersion } : { kind: 'below-target' };
}

/** The question the team answers when RDS's automatic target moved away from the campaign's. */
export function targetMovedQuestion(instanceId: string, target: string, now: string | undefined): string {
  const brings = now ? `RDS now upgrades it to ${now} automatically` : 'RDS marks no automatic minor upgrade for it any more';
  return (
    `${instanceId}: ${brings}, not ${target}, so turning AutoMinorVersionUpgrade on would not bring the approved version (the flag stays off). ` +
    `Decide: "apply-in-window" (the campaign applies ${target} exactly, itself, when the window opens), ` +
    `"retarget" (this campaign ends, undoing its changes, and says how to start one for ${now ?? 'the new version'} through preview and staging), or "abort".`
  );
}

/** The Terraform that owns the flag, and how to keep it from fighting the campaign. */
export function terraformFixFor(instanceId: string): string {
  return (
    `set auto_minor_version_upgrade = true for ${instanceId} in the Terraform code for the campaign (and back to false after its window), ` +
    `or add lifecycle { ignore_changes = [auto_minor_version_upgrade] } to its aws_db_instance so a deploy leaves the flag alone`
  );
}

/** Who turned the flag off, as CloudTrail says (or why it cannot say). */
export function describeAuthors(changes: InstanceChange[], unavailable?: string): string {
  if (changes.length === 0) return unavailable ? `who: unknown (${unavailable})` : 'who: not in CloudTrail yet (it shows events within about 5 minutes)';
  const c = changes[0];
  const more = changes.length > 1 ? ` (and ${changes.length - 1} earlier change(s))` : '';
  return `by ${c.principal}${c.username && !c.principal.endsWith(`/${c.username}`) ? ` (${c.username})` : ''} at ${c.at}${c.sourceIp ? ` from ${c.sourceIp}` : ''}${more}`;
}

/**
 * The exact infrastructure-code change a Terraform-owned stage asks the team for, per instance (a fleet lists
 * each one). `engineVersion` is asked for after the window, so that the next plan does not try to go back.
 */
export function terraformChangeText(instances: string[], flag: boolean, engineVersion?: string): string {
  const values = [`auto_minor_version_upgrade = ${flag}`, ...(engineVersion ? [`engine_version = "${engineVersion}"`] : [])].join(', ');
  const shown = instances.slice(0, 20).join(', ');
  const more = instances.length > 20 ? ` and ${instances.length - 20} more (see \`campaign status\`)` : '';
  return `in Terraform, set ${values} on the aws_db_instance of ${shown}${more}, and apply it`;
}

/** PagerDuty's dedup key for one instance in one window: every event about it updates the same alert. */
export function onCallDedupKey(campaignId: string, stage: string, region: string, instanceId: string, windowStartMs: number): string {
  return `rds-orchestrator/${campaignId}/${stage}/${region}/${instanceId}/${iso(windowStartMs)}`;
}

/**
 * The alert of an escalation about a window: its own, so that it pages even when the window's alert was acknowledged.
 * PagerDuty's dedup_key is at most 255 characters; the window's key leaves room for at least a short suffix.
 */
export function escalationDedupKey(windowKey: string): string {
  const named = `${windowKey}/escalation`;
  return named.length <= 255 ? named : `${windowKey}/e`;
}

/** A replica as RDS lists it on its source: an identifier (same region) or an ARN (another region). */
export function replicaLocation(listedAs: string, sourceRegion: string): { region: string; instanceId: string } {
  const m = /^arn:aws[a-z-]*:rds:([a-z0-9-]+):\d{12}:db:(.+)$/.exec(listedAs);
  return m ? { region: m[1], instanceId: m[2] } : { region: sourceRegion, instanceId: listedAs };
}

/**
 * A read replica's window (replicas go first): its next one, or, with `before` (the instance's approved window),
 * its last one that still ends before `before` opens, so that it is upgraded close to the instance, not weeks
 * ahead. The plan and the run choose the same.
 */
export function replicaWindow(windowText: string, nowMs: number, before?: Occurrence): Occurrence {
  let w = windowContaining(windowText, nowMs) ?? nextWindowStartingAfter(windowText, nowMs);
  if (!before) return w;
  for (;;) {
    const next = nextWindowStartingAfter(windowText, w.startMs);
    if (next.endMs > before.startMs) return w;
    w = next;
  }
}
