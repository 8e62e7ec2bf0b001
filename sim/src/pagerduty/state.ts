/** What PagerDuty keeps in the simulator's state: the alerts events opened (sim/src/pagerduty/model.ts applies events to them). */
import type { StatePart } from '../core/state';

export type PagerDutyAction = 'trigger' | 'acknowledge' | 'resolve';
export type PagerDutyStatus = 'triggered' | 'acknowledged' | 'resolved';

/** One event received for an alert, as sent (without the routing key). */
export interface PagerDutyEventRecord {
  at: string;
  event_action: PagerDutyAction;
  payload?: Record<string, unknown>;
  links?: unknown[];
  images?: unknown[];
  client?: string;
  client_url?: string;
}

export interface PagerDutyAlert {
  id: string;
  /** The routing key with all but its last four characters masked. */
  routingKey: string;
  routingKeyHash: string;
  dedupKey: string;
  status: PagerDutyStatus;
  summary: string;
  source: string;
  severity: string;
  component?: string;
  group?: string;
  class?: string;
  createdAt: string;
  updatedAt: string;
  acknowledgedAt?: string;
  resolvedAt?: string;
  /** Every event applied to this alert, oldest first (at most MAX_EVENTS_PER_ALERT; older ones are dropped). */
  events: PagerDutyEventRecord[];
}

export interface PagerDutyState {
  /** PagerDuty Events API v2 alerts by alert id (absent in state files written before PagerDuty was modelled). */
  pagerDutyAlerts: Record<string, PagerDutyAlert>;
}

export const PAGERDUTY_STATE: StatePart<PagerDutyState> = { empty: () => ({ pagerDutyAlerts: {} }) };
