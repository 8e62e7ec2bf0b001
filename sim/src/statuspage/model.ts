/**
 * A minimal Atlassian Statuspage (API v1) for scheduled maintenances: create, list scheduled, get,
 * update. Field names follow the real API. Scheduled maintenances move to in_progress at
 * scheduled_for and to completed at scheduled_until when their auto flags are set. Nothing is ever
 * deleted: a maintenance is cancelled by completing it.
 */
import type { ServiceContext } from '../core/context';
import { SimError, notFound } from '../core/errors';
import { randomLower } from '../core/ids';
import type { Incident, IncidentUpdate, StatuspageState } from './state';

const SCHEDULED_STATUSES = ['scheduled', 'in_progress', 'verifying', 'completed'];
const REALTIME_STATUSES = ['investigating', 'identified', 'monitoring', 'resolved'];

export type IncidentInput = Record<string, unknown>;

function asString(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new SimError('invalid', `incident.${field} must be a string`, 422);
  return v;
}

function asBool(v: unknown, field: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new SimError('invalid', `incident.${field} must be a boolean`, 422);
  return v;
}

function asTime(v: unknown, field: string): string | undefined {
  const s = asString(v, field);
  if (s === undefined) return undefined;
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) throw new SimError('invalid', `incident.${field} is not a valid timestamp: ${s}`, 422);
  return new Date(ms).toISOString();
}

/** `components` is a map {component_id: status}; `component_ids` a plain list (status under_maintenance). */
function componentsOf(input: IncidentInput): Array<{ id: string; status: string }> | undefined {
  const out = new Map<string, string>();
  const ids = input.component_ids;
  if (Array.isArray(ids)) for (const id of ids) out.set(String(id), 'under_maintenance');
  const map = input.components;
  if (map && typeof map === 'object' && !Array.isArray(map)) {
    for (const [id, status] of Object.entries(map as Record<string, unknown>)) out.set(id, String(status));
  }
  if (!Array.isArray(ids) && !(map && typeof map === 'object')) return undefined;
  return [...out.entries()].map(([id, status]) => ({ id, status }));
}

export class StatuspageModel {
  constructor(private readonly ctx: ServiceContext<StatuspageState>) {}

  private iso(): string {
    return new Date(this.ctx.now()).toISOString();
  }

  private update(incident: Incident, status: string, body: string, deliver: boolean): void {
    const at = this.iso();
    const u: IncidentUpdate = { id: randomLower(12), status, body, created_at: at, display_at: at, deliver_notifications: deliver };
    incident.incident_updates.unshift(u);
    incident.updated_at = at;
  }

  create(pageId: string, input: IncidentInput): Incident {
    const name = asString(input.name, 'name');
    if (!name) throw new SimError('invalid', "incident.name can't be blank", 422);
    const status = asString(input.status, 'status') ?? 'investigating';
    if (![...SCHEDULED_STATUSES, ...REALTIME_STATUSES].includes(status)) throw new SimError('invalid', `incident.status '${status}' is not valid`, 422);
    const scheduledFor = asTime(input.scheduled_for, 'scheduled_for') ?? null;
    const scheduledUntil = asTime(input.scheduled_until, 'scheduled_until') ?? null;
    if (status === 'scheduled') {
      if (!scheduledFor || !scheduledUntil) throw new SimError('invalid', 'A scheduled maintenance needs scheduled_for and scheduled_until', 422);
      if (Date.parse(scheduledUntil) <= Date.parse(scheduledFor)) throw new SimError('invalid', 'scheduled_until must be after scheduled_for', 422);
    }
    const metadata = input.metadata ?? {};
    if (typeof metadata !== 'object' || Array.isArray(metadata)) throw new SimError('invalid', 'incident.metadata must be an object', 422);
    const now = this.iso();
    const id = randomLower(12);
    const incident: Incident = {
      id,
      page_id: pageId,
      name,
      status,
      impact: asString(input.impact_override, 'impact_override') ?? (SCHEDULED_STATUSES.includes(status) ? 'maintenance' : 'none'),
      impact_override: asString(input.impact_override, 'impact_override') ?? null,
      scheduled_for: scheduledFor,
      scheduled_until: scheduledUntil,
      scheduled_remind_prior: asBool(input.scheduled_remind_prior, 'scheduled_remind_prior') ?? false,
      scheduled_auto_in_progress: asBool(input.scheduled_auto_in_progress, 'scheduled_auto_in_progress') ?? false,
      scheduled_auto_completed: asBool(input.scheduled_auto_completed, 'scheduled_auto_completed') ?? false,
      auto_transition_to_maintenance_state: asBool(input.auto_transition_to_maintenance_state, 'auto_transition_to_maintenance_state') ?? false,
      auto_transition_to_operational_state: asBool(input.auto_transition_to_operational_state, 'auto_transition_to_operational_state') ?? false,
      auto_transition_deliver_notifications_at_start: asBool(input.auto_transition_deliver_notifications_at_start, 'auto_transition_deliver_notifications_at_start') ?? false,
      auto_transition_deliver_notifications_at_end: asBool(input.auto_transition_deliver_notifications_at_end, 'auto_transition_deliver_notifications_at_end') ?? false,
      metadata: metadata as Record<string, unknown>,
      components: componentsOf(input) ?? [],
      incident_updates: [],
      shortlink: `https://stspg.io/${randomLower(5)}`,
      created_at: now,
      updated_at: now,
      started_at: now,
      resolved_at: null,
      monitoring_at: null,
    };
    this.update(incident, status, asString(input.body, 'body') ?? '', asBool(input.deliver_notifications, 'deliver_notifications') ?? true);
    this.ctx.state.incidents[`${pageId}/${id}`] = incident;
    this.ctx.markDirty();
    return incident;
  }

  get(pageId: string, id: string): Incident {
    const incident = this.ctx.state.incidents[`${pageId}/${id}`];
    if (!incident) throw notFound('not_found', `The requested incident ${id} was not found on page ${pageId}`);
    return incident;
  }

  /** `scheduled`: upcoming maintenances; `active_maintenance`: in progress or verifying (the real API's lists). */
  list(pageId: string, filter: 'scheduled' | 'active_maintenance' | 'all'): Incident[] {
    const wanted = (status: string): boolean =>
      filter === 'all' || (filter === 'scheduled' ? status === 'scheduled' : status === 'in_progress' || status === 'verifying');
    return Object.values(this.ctx.state.incidents)
      .filter((i) => i.page_id === pageId && wanted(i.status))
      .sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
  }

  patch(pageId: string, id: string, input: IncidentInput): Incident {
    const incident = this.get(pageId, id);
    const status = asString(input.status, 'status');
    if (status !== undefined) {
      const allowed = SCHEDULED_STATUSES.includes(incident.status) ? SCHEDULED_STATUSES : REALTIME_STATUSES;
      if (!allowed.includes(status)) throw new SimError('invalid', `incident.status '${status}' is not valid for this incident (one of ${allowed.join(', ')})`, 422);
    }
    const name = asString(input.name, 'name');
    const scheduledFor = asTime(input.scheduled_for, 'scheduled_for');
    const scheduledUntil = asTime(input.scheduled_until, 'scheduled_until');
    const components = componentsOf(input);
    if (name !== undefined) incident.name = name;
    if (scheduledFor !== undefined) incident.scheduled_for = scheduledFor;
    if (scheduledUntil !== undefined) incident.scheduled_until = scheduledUntil;
    if (components !== undefined) incident.components = components;
    for (const flag of ['scheduled_remind_prior', 'scheduled_auto_in_progress', 'scheduled_auto_completed'] as const) {
      const v = asBool(input[flag], flag);
      if (v !== undefined) incident[flag] = v;
    }
    if (input.metadata !== undefined) {
      if (typeof input.metadata !== 'object' || input.metadata === null || Array.isArray(input.metadata)) throw new SimError('invalid', 'incident.metadata must be an object', 422);
      incident.metadata = input.metadata as Record<string, unknown>;
    }
    const body = asString(input.body, 'body');
    if (status !== undefined && status !== incident.status) this.setStatus(incident, status);
    if (body !== undefined || status !== undefined) this.update(incident, incident.status, body ?? '', asBool(input.deliver_notifications, 'deliver_notifications') ?? true);
    else incident.updated_at = this.iso();
    this.ctx.markDirty();
    return incident;
  }

  private setStatus(incident: Incident, status: string): void {
    incident.status = status;
    if (status === 'completed' || status === 'resolved') incident.resolved_at = this.iso();
    if (status === 'monitoring') incident.monitoring_at = this.iso();
  }

  /** Moves scheduled maintenances with auto flags along as their times pass. */
  tick(): void {
    const now = this.ctx.now();
    for (const i of Object.values(this.ctx.state.incidents)) {
      if (i.status === 'scheduled' && i.scheduled_auto_in_progress && i.scheduled_for && Date.parse(i.scheduled_for) <= now) {
        this.setStatus(i, 'in_progress');
        this.update(i, 'in_progress', 'Scheduled maintenance is currently in progress.', i.auto_transition_deliver_notifications_at_start);
        this.ctx.markDirty();
      }
      if ((i.status === 'in_progress' || i.status === 'verifying') && i.scheduled_auto_completed && i.scheduled_until && Date.parse(i.scheduled_until) <= now) {
        this.setStatus(i, 'completed');
        this.update(i, 'completed', 'The scheduled maintenance has been completed.', i.auto_transition_deliver_notifications_at_end);
        this.ctx.markDirty();
      }
    }
  }
}
