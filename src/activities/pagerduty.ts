/**
 * Paging the on-call engineer: one PagerDuty Events API v2 event per call, a JSON POST to the events URL
 * (https://developer.pagerduty.com/docs/events-api-v2/overview/). Every event carries the caller's dedup_key,
 * so a retry or a repeat lands on the same alert instead of opening a second one, and a resolve finds its
 * trigger. With no routing key, neither the stage's nor the workers', the event is only logged, like a
 * notification without a webhook (notify.ts).
 *
 * PagerDuty's answers ("Response Codes & Retry Logic"): 202 accepted; 400 the event is invalid and retrying
 * will not help; 429, 5xx or no answer: retry after some time.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes, type OnCallActivities, type OnCallEvent } from '../api/activities';
import { routingKeyProblem } from '../config';

/** A page that did not get through and may on a later attempt. */
export const PAGE_FAILED = 'OnCallPageFailed';
/** "The maximum permitted length of this property is 1024 characters" (payload.summary). */
export const SUMMARY_MAX_CHARS = 1024;
/** "The maximum permitted length of this property is 255 characters" (dedup_key). */
export const DEDUP_KEY_MAX_CHARS = 255;
/** PagerDuty's rate-limit advice: retry "30 seconds apart". */
const RATE_LIMITED_RETRY_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;

export interface OnCallActivitiesDeps {
  /** The workers' default integration key (Config.pagerDuty.routingKey). */
  routingKey?: string;
  eventsUrl: string;
  fetch?: typeof fetch;
  /** Where pages go when no routing key is set; defaults to console.log. */
  log?: (line: string) => void;
  /** Where a stage's `routingKey: { env }` is read (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** PagerDuty's JSON answer: `{ status, message, dedup_key }`, or `{ status, message, errors }` for an invalid event. */
interface EventsAnswer {
  status?: string;
  message?: string;
  errors?: unknown[];
  dedup_key?: string;
}

/** At most `max` UTF-16 units (what JavaScript and most JSON readers count), never cutting a character in half; "…" marks a cut. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let kept = '';
  for (const char of text) {
    if (kept.length + char.length > max - 1) break;
    kept += char;
  }
  return `${kept}…`;
}

function bodyOf(event: OnCallEvent, routingKey: string): Record<string, unknown> {
  const base = { routing_key: routingKey, event_action: event.action, dedup_key: event.dedupKey };
  // A resolve names the alert by its dedup_key; the payload belongs to a trigger (see the reference's examples).
  if (event.action === 'resolve') return base;
  const payload = {
    summary: truncate(event.summary, SUMMARY_MAX_CHARS),
    source: event.source,
    severity: event.severity,
    ...(event.component ? { component: event.component } : {}),
    ...(event.group ? { group: event.group } : {}),
    ...(event.class ? { class: event.class } : {}),
    ...(event.customDetails ? { custom_details: event.customDetails } : {}),
  };
  return { ...base, payload, client: 'rds-orchestrator' };
}

async function answerOf(res: Response): Promise<{ answer: EventsAnswer; text: string }> {
  const text = await res.text();
  try {
    const parsed: unknown = JSON.parse(text);
    return { answer: typeof parsed === 'object' && parsed !== null ? (parsed as EventsAnswer) : {}, text };
  } catch {
    return { answer: {}, text };
  }
}

const oneLine = (text: string, max = 300) => truncate(text.replace(/\s+/g, ' ').trim(), max) || '(empty body)';

export function createOnCallActivities(deps: OnCallActivitiesDeps): OnCallActivities {
  const doFetch = deps.fetch ?? fetch;
  const log = deps.log ?? ((line: string) => console.log(line));

  async function pageOnCall(event: OnCallEvent): Promise<{ sent: boolean; dedupKey: string; detail: string }> {
    const what = `PagerDuty ${event.action} for ${event.source} (dedup_key ${event.dedupKey})`;
    if (!event.dedupKey || event.dedupKey.length > DEDUP_KEY_MAX_CHARS) {
      throw ApplicationFailure.nonRetryable(`${what}: the dedup_key must be 1 to ${DEDUP_KEY_MAX_CHARS} characters, it is ${event.dedupKey.length}`, FailureTypes.InvalidInput);
    }
    let fromEnv: string | undefined;
    if (event.routingKeyEnv) {
      fromEnv = (deps.env ?? process.env)[event.routingKeyEnv] || undefined;
      if (!fromEnv) throw ApplicationFailure.nonRetryable(`${what}: the stage's routing key is named as the workers' environment variable ${event.routingKeyEnv}, which is not set on this worker; set it on every worker`, FailureTypes.InvalidConfig);
    }
    const routingKey = fromEnv ?? event.routingKey ?? deps.routingKey;
    if (!routingKey) {
      log(`[page ${event.action} ${event.severity}] ${event.source}: ${event.summary} (dedup_key ${event.dedupKey})`);
      return { sent: false, dedupKey: event.dedupKey, detail: `${what} only logged: no routing key (set ORCHESTRATOR_PAGERDUTY_ROUTING_KEY on the workers, or the stage's own key)` };
    }
    const own = fromEnv ?? event.routingKey;
    const problem = own !== undefined ? routingKeyProblem(own) : undefined;
    if (problem) throw ApplicationFailure.nonRetryable(`${what}: the stage's PagerDuty routing key${event.routingKeyEnv ? ` (${event.routingKeyEnv})` : ''} ${problem}`, FailureTypes.InvalidInput);

    const first = await post(event, routingKey, what);
    // A resolve may carry its companion alerts (an escalation's own beside its window's); a retry resends them all (idempotent).
    const also = event.action === 'resolve' ? (event.alsoDedupKeys ?? []) : [];
    for (const dedupKey of also) {
      if (!dedupKey || dedupKey.length > DEDUP_KEY_MAX_CHARS) throw ApplicationFailure.nonRetryable(`${what}: a companion dedup_key must be 1 to ${DEDUP_KEY_MAX_CHARS} characters`, FailureTypes.InvalidInput);
      await post({ ...event, dedupKey }, routingKey, `PagerDuty resolve for ${event.source} (dedup_key ${dedupKey})`);
    }
    return also.length ? { ...first, detail: `${first.detail}; and ${also.length} companion alert(s) resolved (${also.join(', ')})` } : first;
  }

  /** One event to the Events API: its answer, or the failure that says what to do. */
  async function post(event: OnCallEvent, routingKey: string, what: string): Promise<{ sent: true; dedupKey: string; detail: string }> {
    let res: Response;
    try {
      res = await doFetch(deps.eventsUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(bodyOf(event, routingKey)),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err instanceof Error ? `${err.name}: ${err.message}` : String(err));
      throw ApplicationFailure.retryable(`${what}: no answer from ${deps.eventsUrl} (${why}); retried`, PAGE_FAILED);
    }
    const { answer, text } = await answerOf(res);
    if (res.status >= 200 && res.status < 300) {
      return { sent: true, dedupKey: answer.dedup_key ?? event.dedupKey, detail: `${what} accepted (HTTP ${res.status}${answer.message ? `: ${answer.message}` : ''})` };
    }
    if (res.status === 400 || res.status === 413) {
      const errors = Array.isArray(answer.errors) && answer.errors.length > 0 ? answer.errors.map(String).join('; ') : oneLine(text);
      throw ApplicationFailure.nonRetryable(
        `${what} refused by PagerDuty (HTTP ${res.status}${answer.message ? `, ${answer.message}` : ''}): ${errors}. ` +
          'Fix the event or the routing key (the 32-character Integration Key of an "Events API V2" integration); retrying will not help.',
        FailureTypes.InvalidInput,
      );
    }
    if (res.status === 429 || res.status === 408 || res.status >= 500) {
      throw ApplicationFailure.create({
        message: `${what}: PagerDuty answered HTTP ${res.status} (${oneLine(answer.message ?? text)}); retried`,
        type: PAGE_FAILED,
        nonRetryable: false,
        ...(res.status === 429 ? { nextRetryDelay: RATE_LIMITED_RETRY_MS } : {}),
      });
    }
    // 401, 403, 404, 405...: not an Events API answer about the event; the URL (or a proxy in the way) is wrong.
    throw ApplicationFailure.nonRetryable(
      `${what}: ${deps.eventsUrl} answered HTTP ${res.status} (${oneLine(text)}), which the Events API v2 never does; ` +
        'check ORCHESTRATOR_PAGERDUTY_EVENTS_URL (https://events.pagerduty.com/v2/enqueue, or events.eu.pagerduty.com for EU accounts)',
      FailureTypes.InvalidConfig,
    );
  }

  return { pageOnCall };
}
