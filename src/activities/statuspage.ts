/**
 * Atlassian Statuspage activities (REST API v1, https://api.statuspage.io/v1): announce a scheduled
 * maintenance for an upgrade stage and cancel it when the stage is called off.
 *
 * Idempotency: the incident carries the request's idempotency key in its metadata and, as a reference line,
 * in its body; a create first searches the page's incidents for that key (`GET /incidents?q=`: Statuspage
 * searches names, statuses and update bodies) and reuses a scheduled or in-progress maintenance carrying it
 * in its metadata, so a retried create after a lost response never announces twice. One search per
 * announcement, whatever the number of maintenances the page has scheduled (listing them all was quadratic
 * across a fleet sharing a page). A retry (attempt 2 and later) also lists the scheduled and in-progress
 * maintenances, in case the search does not see a maintenance created a moment ago or created before the
 * reference line existed. Cancelling completes the maintenance with a message; it never deletes it
 * (subscribers already saw it).
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes, type MutationResult, type ScheduledMaintenanceRequest, type StatuspageActivities } from '../api/activities';
import type { MaintenanceCancellation } from '../api/activities';
import { activityContext } from './waiting';

export interface StatuspageActivitiesDeps {
  /** e.g. https://api.statuspage.io/v1 */
  baseUrl: string;
  apiKey?: string;
  pageId?: string;
  fetch?: typeof fetch;
}

/** Statuspage metadata wants objects as top-level values. */
export const METADATA_NAMESPACE = 'rds_orchestrator';
const PER_PAGE = 100;
/** Far more maintenances than a page ever has scheduled at once; bounds a misbehaving paginator. */
const MAX_LIST_PAGES = 20;
/** Statuses of a maintenance that is still announced (scheduled, or started by its auto flags). */
const LIVE_STATUSES = new Set(['scheduled', 'in_progress', 'verifying']);
/** The detail of a 404 (an incident deleted by hand, or a wrong page id). */
const NOT_FOUND = 'not-found';

/** The line that makes a maintenance findable by its idempotency key (the search does not read metadata). */
export function referenceLine(idempotencyKey: string): string {
  return `Reference: ${idempotencyKey}`;
}

/**
 * Statuspage's API reference: "Error codes 420 or 429 indicate that you have exceeded the rate limit". It announced
 * 429 in place of 420 for 2021, then kept 420 for the integrations built around it: both are a rate limit.
 */
const RATE_LIMITED = new Set([420, 429]);
/** A Retry-After longer than this is not waited for by one retry (the activity's own backoff goes on after it). */
const MAX_RETRY_AFTER_SECONDS = 300;

/** Retry-After in seconds (its delta-seconds form; an HTTP date is left to the retry policy), at most MAX_RETRY_AFTER_SECONDS. */
export function retryAfterSeconds(header: string | null): number | undefined {
  if (!header || !/^\s*\d+\s*$/.test(header)) return undefined;
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Number(header)));
}

interface Incident {
  id: string;
  name?: string;
  status?: string;
  shortlink?: string;
  metadata?: Record<string, Record<string, unknown> | undefined> | null;
}

/** Statuspage errors arrive as {"error": "..."} or {"error": ["..."]}, sometimes {"message": "..."}. */
function apiMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown; errors?: unknown };
    const e = body.error ?? body.errors ?? body.message;
    if (Array.isArray(e)) return e.map(String).join('; ');
    if (typeof e === 'string') return e;
    if (e !== undefined) return JSON.stringify(e);
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.slice(0, 500) || '(empty body)';
}

export function createStatuspageActivities(deps: StatuspageActivitiesDeps): StatuspageActivities {
  const doFetch = deps.fetch ?? fetch;
  const baseUrl = deps.baseUrl.replace(/\/+$/, '');

  function settings(): { apiKey: string; pageId: string } {
    if (!deps.apiKey) {
      throw ApplicationFailure.nonRetryable(
        'No Statuspage API key: set STATUSPAGE_API_KEY (Statuspage > user menu > API info) for the worker.',
        FailureTypes.Unauthorized,
      );
    }
    if (!deps.pageId) {
      throw ApplicationFailure.nonRetryable(
        'No Statuspage page id: set STATUSPAGE_PAGE_ID (Statuspage > user menu > API info > Page IDs) for the worker.',
        FailureTypes.InvalidInput,
      );
    }
    return { apiKey: deps.apiKey, pageId: deps.pageId };
  }

  async function request<T>(method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown): Promise<T> {
    const { apiKey } = settings();
    const headers: Record<string, string> = { Authorization: `OAuth ${apiKey}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await doFetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (res.ok) return (text ? JSON.parse(text) : undefined) as T;
    const what = `Statuspage ${method} ${path} answered ${res.status}: ${apiMessage(text)}`;
    if (RATE_LIMITED.has(res.status) || res.status >= 500) {
      // Rate limit (1 request/s per key) or an outage: back off and retry, no sooner than Retry-After says.
      const after = retryAfterSeconds(res.headers.get('retry-after'));
      throw ApplicationFailure.create({ message: what, type: 'StatuspageUnavailable', nonRetryable: false, ...(after !== undefined ? { nextRetryDelay: `${after}s` } : {}) });
    }
    if (res.status === 404) {
      throw ApplicationFailure.create({ message: `${what}. Check STATUSPAGE_PAGE_ID and the request.`, type: FailureTypes.InvalidInput, nonRetryable: true, details: [NOT_FOUND] });
    }
    if (res.status === 401 || res.status === 403) {
      throw ApplicationFailure.nonRetryable(
        `${what}. Check that STATUSPAGE_API_KEY is valid and its user may manage maintenances on page ${deps.pageId}.`,
        FailureTypes.Unauthorized,
      );
    }
    throw ApplicationFailure.nonRetryable(`${what}. Check STATUSPAGE_PAGE_ID and the request.`, FailureTypes.InvalidInput);
  }

  const hasKey = (key: string) => (i: Incident) => i.metadata?.[METADATA_NAMESPACE]?.idempotency_key === key;

  async function searchByIdempotencyKey(pageId: string, key: string): Promise<Incident | undefined> {
    for (let page = 1; page <= MAX_LIST_PAGES; page++) {
      const incidents = await request<Incident[]>('GET', `/pages/${encodeURIComponent(pageId)}/incidents?q=${encodeURIComponent(key)}&page=${page}&limit=${PER_PAGE}`);
      const found = (incidents ?? []).find((i) => hasKey(key)(i) && LIVE_STATUSES.has(i.status ?? 'scheduled'));
      if (found) return found;
      // A full page may have more behind it; a shorter (or longer: paging ignored) one was everything.
      if (!incidents || incidents.length !== PER_PAGE) break;
    }
    return undefined;
  }

  async function listByIdempotencyKey(pageId: string, key: string): Promise<Incident | undefined> {
    // A retry may come after the maintenance auto-started, so look at in-progress ones as well.
    for (const list of ['scheduled', 'active_maintenance']) {
      for (let page = 1; page <= MAX_LIST_PAGES; page++) {
        const incidents = await request<Incident[]>('GET', `/pages/${encodeURIComponent(pageId)}/incidents/${list}?page=${page}&per_page=${PER_PAGE}`);
        // A maintenance cancelled (completed) is not this announcement any more: a retry creates it again.
        const found = (incidents ?? []).find((i) => hasKey(key)(i) && LIVE_STATUSES.has(i.status ?? 'scheduled'));
        if (found) return found;
        if (!incidents || incidents.length !== PER_PAGE) break;
      }
    }
    return undefined;
  }

  /** `retried`: an earlier attempt, or an earlier round of the workflow's (a new activity), may have created it. */
  async function findByIdempotencyKey(pageId: string, key: string, retried: boolean): Promise<Incident | undefined> {
    const found = await searchByIdempotencyKey(pageId, key);
    if (found) return found;
    const attempt = activityContext()?.info.attempt ?? 1;
    return attempt > 1 || retried ? listByIdempotencyKey(pageId, key) : undefined;
  }

  async function createScheduledMaintenance(
    req: ScheduledMaintenanceRequest,
  ): Promise<MutationResult & { incidentId: string; shortlink?: string }> {
    const { pageId } = settings();
    for (const [field, value] of [['scheduledFor', req.scheduledFor], ['scheduledUntil', req.scheduledUntil]] as const) {
      if (Number.isNaN(Date.parse(value))) {
        throw ApplicationFailure.nonRetryable(`${field} '${value}' is not an ISO-8601 instant`, FailureTypes.InvalidInput);
      }
    }
    if (Date.parse(req.scheduledUntil) <= Date.parse(req.scheduledFor)) {
      throw ApplicationFailure.nonRetryable(
        `scheduledUntil (${req.scheduledUntil}) must be after scheduledFor (${req.scheduledFor})`,
        FailureTypes.InvalidInput,
      );
    }
    const existing = await findByIdempotencyKey(pageId, req.idempotencyKey, req.retried === true);
    if (existing) {
      return {
        changed: false,
        detail: `scheduled maintenance '${existing.name ?? req.name}' already exists (${existing.status ?? 'scheduled'})`,
        incidentId: existing.id,
        shortlink: existing.shortlink,
      };
    }
    const incident = {
      name: req.name,
      status: 'scheduled',
      scheduled_for: new Date(req.scheduledFor).toISOString(),
      scheduled_until: new Date(req.scheduledUntil).toISOString(),
      scheduled_remind_prior: req.notify,
      scheduled_auto_in_progress: true,
      scheduled_auto_completed: true,
      auto_transition_to_maintenance_state: true,
      auto_transition_to_operational_state: true,
      auto_transition_deliver_notifications_at_start: req.notify,
      auto_transition_deliver_notifications_at_end: req.notify,
      deliver_notifications: req.notify,
      body: `${req.body}\n\n${referenceLine(req.idempotencyKey)}`,
      component_ids: req.componentIds ?? [],
      metadata: { [METADATA_NAMESPACE]: { idempotency_key: req.idempotencyKey } },
    };
    const created = await request<Incident>('POST', `/pages/${encodeURIComponent(pageId)}/incidents`, { incident });
    if (!created?.id) {
      throw ApplicationFailure.retryable('Statuspage created the maintenance but its answer carried no incident id', 'StatuspageUnavailable');
    }
    return {
      changed: true,
      detail: `scheduled maintenance '${req.name}' ${incident.scheduled_for} to ${incident.scheduled_until}`,
      incidentId: created.id,
      shortlink: created.shortlink,
      action: 'statuspage:create-scheduled-maintenance',
      resource: created.id,
    };
  }

  async function cancelScheduledMaintenance({ incidentId, reason }: MaintenanceCancellation): Promise<MutationResult> {
    const { pageId } = settings();
    const path = `/pages/${encodeURIComponent(pageId)}/incidents/${encodeURIComponent(incidentId)}`;
    let current: Incident | undefined;
    try {
      current = await request<Incident>('GET', path);
    } catch (err) {
      // Deleted by a person (the API has DELETE): there is no announcement left to cancel.
      if (err instanceof ApplicationFailure && err.details?.[0] === NOT_FOUND) return { changed: false, detail: `maintenance ${incidentId} is no longer on page ${pageId} (deleted?): nothing to cancel` };
      throw err;
    }
    if (current?.status === 'completed') {
      return { changed: false, detail: `maintenance ${incidentId} is already completed` };
    }
    await request<Incident>('PATCH', path, {
      incident: {
        status: 'completed',
        body: `This scheduled maintenance was cancelled: ${reason}`,
        deliver_notifications: true,
      },
    });
    return { changed: true, detail: `maintenance ${incidentId} marked completed as cancelled (${reason})`, action: 'statuspage:cancel-scheduled-maintenance', resource: incidentId };
  }

  return { createScheduledMaintenance, cancelScheduledMaintenance };
}
