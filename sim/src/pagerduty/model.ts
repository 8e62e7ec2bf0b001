/**
 * PagerDuty Events API v2 alerts (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ and the "Send an
 * Event" reference, whose schema is PagerDuty/api-schema `reference/events-v2/openapiv3.json`). What the simulator
 * keeps is what PagerDuty does with alert events:
 * - "Every alert event has a dedup_key ... If omitted, it will be generated automatically by PagerDuty and returned
 *   in the Events API v2 response." "A trigger event sent without a dedup_key will always generate a new alert".
 * - "Submitting subsequent events for the same dedup_key will result in those events being applied to an open alert
 *   matching that dedup_key. Once the alert is resolved, any further events with the same dedup_key will create a
 *   new alert (for trigger events) or be dropped (for acknowledge and resolve events)."
 * - "Subsequent events for the same dedup_key will only apply to the open alert if the events are sent via the same
 *   routing_key as the original trigger event." So alerts are per routing key and dedup key.
 * - trigger on an open alert: "a trigger log entry is created on an existing alert"; acknowledge: "will enter the
 *   acknowledged state" (new triggers do not re-open notifications); resolve: "will enter the resolved state".
 * Routing keys are secrets: the state keeps a hash and the last four characters, never the key.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { ServiceContext } from '../core/context';
import type { PagerDutyAction, PagerDutyAlert, PagerDutyEventRecord, PagerDutyState } from './state';

export interface PagerDutyAlertFilter {
  routingKey?: string;
  dedupKey?: string;
  status?: string;
}

export interface ValidEvent {
  routing_key: string;
  event_action: PagerDutyAction;
  dedup_key?: string;
  payload?: Record<string, unknown>;
  links?: unknown[];
  images?: unknown[];
  client?: string;
  client_url?: string;
}

const MAX_EVENTS_PER_ALERT = 100;
const MAX_ALERTS = 2000;

export const maskRoutingKey = (key: string): string => (key.length <= 4 ? '*'.repeat(key.length) : `${'*'.repeat(key.length - 4)}${key.slice(-4)}`);
const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

export class PagerDutyModel {
  constructor(private readonly ctx: ServiceContext<PagerDutyState>) {}

  private get alerts(): Record<string, PagerDutyAlert> {
    // State files written before PagerDuty was modelled have no alerts.
    this.ctx.state.pagerDutyAlerts ??= {};
    return this.ctx.state.pagerDutyAlerts;
  }

  /** Applies a valid event; returns its dedup key and what happened to it. */
  apply(event: ValidEvent): { dedupKey: string; alert?: PagerDutyAlert; outcome: 'created' | 'updated' | 'dropped' } {
    const at = new Date(this.ctx.now()).toISOString();
    const keyHash = hashKey(event.routing_key);
    const dedupKey = event.dedup_key ?? randomUUID().replace(/-/g, '');
    const open = Object.values(this.alerts).find((a) => a.routingKeyHash === keyHash && a.dedupKey === dedupKey && a.status !== 'resolved');
    const record: PagerDutyEventRecord = { at, event_action: event.event_action, payload: event.payload, links: event.links, images: event.images, client: event.client, client_url: event.client_url };
    if (event.event_action === 'trigger') {
      const p = event.payload ?? {};
      const fields = { summary: String(p.summary), source: String(p.source), severity: String(p.severity), component: opt(p.component), group: opt(p.group), class: opt(p.class) };
      if (open) {
        Object.assign(open, fields, { updatedAt: at });
        this.append(open, record);
        return { dedupKey, alert: open, outcome: 'updated' };
      }
      const alert: PagerDutyAlert = { id: `P${randomUUID().replace(/-/g, '').slice(0, 13).toUpperCase()}`, routingKey: maskRoutingKey(event.routing_key), routingKeyHash: keyHash, dedupKey, status: 'triggered', ...fields, createdAt: at, updatedAt: at, events: [record] };
      this.prune();
      this.alerts[alert.id] = alert;
      this.ctx.markDirty();
      return { dedupKey, alert, outcome: 'created' };
    }
    if (!open) return { dedupKey, outcome: 'dropped' };
    if (event.event_action === 'acknowledge') {
      if (open.status === 'triggered') open.acknowledgedAt = at;
      open.status = 'acknowledged';
    } else {
      open.status = 'resolved';
      open.resolvedAt = at;
    }
    open.updatedAt = at;
    this.append(open, record);
    return { dedupKey, alert: open, outcome: 'updated' };
  }

  /** Alerts, newest first; `routingKey` is the full key (compared by hash). */
  list(filter: PagerDutyAlertFilter = {}): PagerDutyAlert[] {
    const keyHash = filter.routingKey === undefined ? undefined : hashKey(filter.routingKey);
    // Alerts are stored in the order they were opened: newest first is that order reversed.
    return Object.values(this.alerts)
      .filter((a) => (keyHash === undefined || a.routingKeyHash === keyHash) && (filter.dedupKey === undefined || a.dedupKey === filter.dedupKey) && (filter.status === undefined || a.status === filter.status))
      .reverse();
  }

  private append(alert: PagerDutyAlert, record: PagerDutyEventRecord): void {
    alert.events.push(record);
    if (alert.events.length > MAX_EVENTS_PER_ALERT) alert.events.splice(0, alert.events.length - MAX_EVENTS_PER_ALERT);
    this.ctx.markDirty();
  }

  /** Keeps the state bounded: past MAX_ALERTS, the oldest resolved alerts go. */
  private prune(): void {
    const all = Object.values(this.alerts);
    if (all.length < MAX_ALERTS) return;
    for (const a of all.filter((x) => x.status === 'resolved').sort((x, y) => x.updatedAt.localeCompare(y.updatedAt)).slice(0, all.length - MAX_ALERTS + 1)) delete this.alerts[a.id];
  }
}

const opt = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));
