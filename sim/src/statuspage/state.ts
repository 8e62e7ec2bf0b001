/** What the Statuspage keeps in the simulator's state: incidents (scheduled maintenances) by `${pageId}/${id}`. */
import type { StatePart } from '../core/state';

export interface IncidentUpdate {
  id: string;
  status: string;
  body: string;
  created_at: string;
  display_at: string;
  deliver_notifications: boolean;
}

export interface Incident {
  id: string;
  page_id: string;
  name: string;
  status: string;
  impact: string;
  impact_override: string | null;
  scheduled_for: string | null;
  scheduled_until: string | null;
  scheduled_remind_prior: boolean;
  scheduled_auto_in_progress: boolean;
  scheduled_auto_completed: boolean;
  auto_transition_to_maintenance_state: boolean;
  auto_transition_to_operational_state: boolean;
  auto_transition_deliver_notifications_at_start: boolean;
  auto_transition_deliver_notifications_at_end: boolean;
  metadata: Record<string, unknown>;
  components: Array<{ id: string; status: string }>;
  incident_updates: IncidentUpdate[];
  shortlink: string;
  created_at: string;
  updated_at: string;
  started_at: string;
  resolved_at: string | null;
  monitoring_at: string | null;
}

export interface StatuspageState {
  incidents: Record<string, Incident>;
}

export const STATUSPAGE_STATE: StatePart<StatuspageState> = { empty: () => ({ incidents: {} }) };
