/**
 * The person on call (runbook: production "will then upgrade automatically in our maintenance window. We expect
 * it to pagerduty the person on call who will need to make sure that it recovers successfully"): PagerDuty's
 * Events API v2 for a stage with `pagerDuty` on (production by default). When the window opens, an event says
 * that an upgrade is running and must be watched; it is resolved when the instance is available at the target;
 * a failure or an escalation is a critical event. One dedup key per instance and window: every event about it
 * updates the same alert, and a retried call never opens a second one.
 *
 * An escalation has an alert of its own (`<window key>/escalation`): PagerDuty says that "While an incident is
 * acknowledged, it won't generate any additional notifications, even if it receives new trigger events", so a
 * critical event on the window's alert, once someone had acknowledged it, paged nobody. The escalation's alert is
 * resolved with its window's (one activity, as before: the report lists the window's key as open, and which windows
 * escalated), so a run's steps are the ones it always took.
 *
 * Since UNSURE_PAGES_STAY_OPEN_PATCH an alert whose trigger may have landed (the call failed) or whose resolve failed
 * stays on the list of open alerts, to be resolved with the next resolve (PagerDuty drops a resolve of an alert it
 * does not have). The patch is asked where the page's failure is caught, before the notification that reports it:
 * never right after a local activity (see shared/people.ts).
 *
 * A fleet instance's run is cancelled as a whole when the campaign aborts, so the SDK refused the resolve of its open
 * alerts (an activity in a cancelled scope): they stayed open in PagerDuty, and the refusal went out as a false
 * "paging failed" escalation from every such instance. Since ABORTED_RUN_RESOLVES_PATCH the resolve runs outside the
 * cancellation. That patch is asked when a fleet instance opens an alert (right after its trigger, a regular activity):
 * a run that has an alert to resolve has decided it, and one that never paged writes no marker.
 */
import { CancellationScope, isCancellation, patched } from '@temporalio/workflow';
import type { OnCallEvent, ResolvedStage, StageReport } from '../../api';
import { escalationDedupKey, onCallDedupKey } from '../../domain/estate';
import type { Occurrence } from '../../domain/maintenance-window';
import { iso } from '../shared/clock';
import { describeError } from '../shared/failures';
import type { WindowSubject } from './auto-minor-upgrade';
import type { StageRun } from './stage-run';

/** A page is never worth more than a few minutes of a campaign: it is tried, then recorded as failed. */
const PAGE_ROUNDS = 2;

/** patched() id, asked only when a page failed. */
export const UNSURE_PAGES_STAY_OPEN_PATCH = 'on-call-unsure-pages-stay-open';

/** patched() id, asked once per run when it opens an alert (see the module comment). */
export const ABORTED_RUN_RESOLVES_PATCH = 'on-call-aborted-run-resolves-its-alerts';

/** This run's answer to ABORTED_RUN_RESOLVES_PATCH (a workflow's module state is its own), once it opened an alert. */
let abortedRunResolves: boolean | undefined;

/** Asked right after an alert was opened, in a run its parent cancels whole (a campaign's run is not: no marker there). */
function decideAbortedRunResolves(st: StageRun): void {
  if (st.run.policy.cancelledWhole) abortedRunResolves ??= patched(ABORTED_RUN_RESOLVES_PATCH);
}

/**
 * What a page came to: sent, only logged (no routing key), failed, or failed in a run since
 * UNSURE_PAGES_STAY_OPEN_PATCH (PagerDuty may have it: the alert is kept to be resolved).
 */
type Sent = 'sent' | 'not-configured' | 'failed' | 'unsure';

function pages(s: ResolvedStage, x: WindowSubject): boolean {
  return Boolean(s.pagerDuty?.enabled) && !x.replica;
}

async function send(st: StageRun, event: Omit<OnCallEvent, 'routingKey' | 'source' | 'component' | 'group' | 'class'>, x: WindowSubject): Promise<Sent> {
  const { stage: s } = st;
  try {
    const r = await st.aws(
      'page-on-call',
      () =>
        st.a.pageOnCall({
          ...event,
          source: `${x.region}/${x.instanceId}`,
          component: x.instanceId,
          group: st.settings.campaignId,
          class: 'rds-minor-version-upgrade',
          ...(s.pagerDuty?.routingKey ? { routingKey: s.pagerDuty.routingKey } : {}),
          ...(s.pagerDuty?.routingKeyEnv ? { routingKeyEnv: s.pagerDuty.routingKeyEnv } : {}),
        }),
      { maxRounds: PAGE_ROUNDS },
    );
    if (event.action === 'trigger' && r.sent) decideAbortedRunResolves(st);
    st.step(`on-call-${event.action === 'resolve' ? 'resolved' : event.severity === 'critical' ? 'escalated' : 'paged'}`, r.detail);
    return r.sent ? 'sent' : 'not-configured';
  } catch (err) {
    // Decided before the notification below (a local activity), never after it; a page refused by a cancelled scope
    // never left the workflow (and may come right after a compensation's notification), so nothing is asked then.
    const unsure = !isCancellation(err) && patched(UNSURE_PAGES_STAY_OPEN_PATCH);
    if (unsure && event.action === 'trigger') decideAbortedRunResolves(st);
    st.step('on-call-failed', `PagerDuty ${event.action} (${event.dedupKey}) failed: ${describeError(err)}`);
    await st.notify('escalation', `${s.name}: paging the person on call failed (${describeError(err)}): ${event.summary}`);
    return unsure ? 'unsure' : 'failed';
  }
}

/** The dedup key of the instance's window being watched (its alert), and the alerts still open. */
function keyOf(st: StageRun, x: WindowSubject, windowStartMs: number): string {
  const { stage: s } = st;
  return onCallDedupKey(st.settings.campaignId, s.name, x.region, x.instanceId, windowStartMs);
}

/** `escalation`: the page was an escalation about this window's key (its own alert is resolved with the window's). */
function remember(report: StageReport, dedupKey: string, state: NonNullable<StageReport['onCall']>['state'], mayBeOpen = false, escalation = false): void {
  const open = new Set(report.onCall?.open ?? []);
  if (state === 'triggered' || state === 'escalated' || mayBeOpen) open.add(dedupKey);
  const escalated = new Set(report.onCall?.escalated ?? []);
  if (escalation && (state === 'escalated' || mayBeOpen)) escalated.add(dedupKey);
  report.onCall = { dedupKey, state, ...(open.size ? { open: [...open] } : {}), ...(escalated.size ? { escalated: [...escalated] } : {}) };
}

/** The window opened: the person on call watches the upgrade recover. */
export async function pageWindowOpened(st: StageRun, w: Occurrence, x: WindowSubject): Promise<void> {
  const { stage: s, report } = st;
  if (!pages(s, x)) return;
  const dedupKey = keyOf(st, x, w.startMs);
  const how = x.track.mechanism === 'apply-in-window' ? 'applied by the campaign' : 'AutoMinorVersionUpgrade';
  // An alert already escalated for this window (the flag kept being turned off) stays critical.
  const escalated = report.onCall?.dedupKey === dedupKey && report.onCall.state === 'escalated';
  const sent = await send(
    st,
    {
      action: 'trigger',
      dedupKey,
      severity: escalated ? 'critical' : 'warning',
      summary: `${s.name}: ${x.instanceId} is being upgraded to ${st.target} in its maintenance window ${iso(w.startMs)} – ${iso(w.endMs)} (${how}); make sure it recovers`,
      customDetails: { campaign: st.settings.campaignId, stage: s.name, instance: x.instanceId, region: x.region, target: st.target, window: { start: iso(w.startMs), end: iso(w.endMs) } },
    },
    x,
  );
  remember(report, dedupKey, sent === 'sent' ? (escalated ? 'escalated' : 'triggered') : 'not-configured', sent === 'unsure');
}

/** A failure or an escalation: a critical event on an alert of its own, beside the window's (see the module comment). */
export async function escalateOnCall(st: StageRun, x: WindowSubject, text: string): Promise<void> {
  const { stage: s, report } = st;
  if (!pages(s, x)) return;
  const windowStart = x.track.window ? Date.parse(x.track.window.start) : 0;
  const windowKey = keyOf(st, x, windowStart);
  const dedupKey = escalationDedupKey(windowKey);
  const sent = await send(st, { action: 'trigger', dedupKey, severity: 'critical', summary: text, customDetails: { campaign: st.settings.campaignId, stage: s.name, instance: x.instanceId } }, x);
  // Listed by its window's key: the window's resolve resolves it too.
  remember(report, windowKey, sent === 'sent' ? 'escalated' : 'not-configured', sent === 'unsure', true);
}

/**
 * The run was cancelled (a fleet instance whose campaign aborted): its open alerts are resolved all the same, in runs
 * that took ABORTED_RUN_RESOLVES_PATCH; runs before tried in the cancelled scope, as they recorded.
 */
export async function resolveOnCallAfterAbort(st: StageRun, x: WindowSubject, text: string): Promise<void> {
  if (abortedRunResolves) await CancellationScope.nonCancellable(() => resolveOnCall(st, x, text));
  else await resolveOnCall(st, x, text);
}

/** The instance recovered (or the run stopped): every alert still open about it is resolved. */
export async function resolveOnCall(st: StageRun, x: WindowSubject, text: string): Promise<void> {
  const { stage: s, report } = st;
  if (!pages(s, x) || !report.onCall?.open?.length) return;
  const stillOpen: string[] = [];
  const escalated = new Set(report.onCall.escalated ?? []);
  for (const dedupKey of report.onCall.open) {
    const withEscalation = escalated.has(dedupKey) ? { alsoDedupKeys: [escalationDedupKey(dedupKey)] } : {};
    const sent = await send(st, { action: 'resolve', dedupKey, severity: 'info', summary: text, ...withEscalation }, x);
    if (sent === 'unsure') stillOpen.push(dedupKey);
  }
  const stillEscalated = [...escalated].filter((k) => stillOpen.includes(k));
  report.onCall = { dedupKey: report.onCall.dedupKey, state: 'resolved', ...(stillOpen.length ? { open: stillOpen } : {}), ...(stillEscalated.length ? { escalated: stillEscalated } : {}) };
}
