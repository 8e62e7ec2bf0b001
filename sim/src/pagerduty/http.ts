/**
 * `POST /v2/enqueue`: PagerDuty's Events API v2 (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/,
 * https://developer.pagerduty.com/docs/events-api-v2/resolve-events/, the "Send an Event" schema in
 * PagerDuty/api-schema `reference/events-v2/openapiv3.json`). Answers as PagerDuty does:
 * - 202 `{"status":"success","message":"Event processed","dedup_key":…}` for a valid event, also an acknowledge or
 *   resolve that matches no open alert (PagerDuty drops those after accepting them);
 * - 400 `{"status":"invalid event","message":"Event object is invalid","errors":[…]}` for an event that breaks the
 *   documented rules: `routing_key` "the 32 character Integration Key" (PagerDuty's own error text, "Length of
 *   'routing_key' is incorrect (should be 32 characters)", as its clients report it, e.g. prometheus/alertmanager's
 *   tests), `event_action` one of trigger/acknowledge/resolve, `dedup_key` at most 255 characters and "Required
 *   unless the event_type is trigger", and for a trigger `payload` with `summary` (at most 1024 characters),
 *   `source` and `severity` (critical, error, warning, info), a `timestamp` in ISO 8601, `custom_details` an object,
 *   `links[].href` and `images[].src` present. The other error texts are the simulator's, in the same style;
 * - 400 `{"status":"Unrecognized object","message":"Event object format is unrecognized","errors":["JSON parse
 *   error"]}` for a body that is not a JSON object (the schema's example error);
 * - "Events API payloads are limited to 512 KB" (https://developer.pagerduty.com/docs/events-api-v2/overview/): a
 *   larger body is an invalid event.
 * Every request is in the call log as service `pagerduty`, action = event_action, params = the body's fields with
 * the routing key masked but for its last four characters.
 */
import type http from 'node:http';
import type { SimEngine } from '../core/engine';
import { sendJson } from '../core/http';
import type { PagerDutyModel, ValidEvent } from './model';
import { maskRoutingKey } from './model';
import type { PagerDutyAction } from './state';

const ACTIONS: PagerDutyAction[] = ['trigger', 'acknowledge', 'resolve'];
const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const MAX_BODY_BYTES = 512 * 1024;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const blank = (v: unknown): boolean => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');

/** The event's problems, PagerDuty's way: an empty list means it is valid. */
export function eventErrors(body: Record<string, unknown>, bytes: number): string[] {
  const errors: string[] = [];
  if (bytes > MAX_BODY_BYTES) errors.push(`Event object is ${bytes} bytes; the limit is 512 KB`);
  const key = body.routing_key;
  if (blank(key)) errors.push("'routing_key' is missing or blank");
  else if (typeof key !== 'string' || key.length !== 32) errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  const action = body.event_action;
  if (blank(action)) errors.push("'event_action' is missing or blank");
  else if (!ACTIONS.includes(action as PagerDutyAction)) errors.push(`'event_action' is invalid: '${String(action)}' is not one of trigger, acknowledge, resolve`);
  const dedup = body.dedup_key;
  if (dedup !== undefined && dedup !== null && typeof dedup !== 'string') errors.push("'dedup_key' must be a string");
  else if (typeof dedup === 'string' && dedup.length > 255) errors.push("'dedup_key' is too long (maximum is 255 characters)");
  if ((action === 'acknowledge' || action === 'resolve') && blank(dedup)) errors.push(`'dedup_key' is missing or blank; it is required for ${action} events`);
  if (action === 'trigger') errors.push(...payloadErrors(body.payload));
  for (const [field, required] of [['links', 'href'], ['images', 'src']] as const) {
    const list = body[field];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) errors.push(`'${field}' must be an array`);
    else list.forEach((item, i) => (!isObject(item) || blank(item[required])) && errors.push(`'${field}[${i}].${required}' is missing or blank`));
  }
  for (const field of ['client', 'client_url']) if (body[field] !== undefined && body[field] !== null && typeof body[field] !== 'string') errors.push(`'${field}' must be a string`);
  return errors;
}

function payloadErrors(payload: unknown): string[] {
  if (!isObject(payload)) return ["'payload' is missing or is not an object"];
  const errors: string[] = [];
  for (const field of ['summary', 'source', 'severity']) if (blank(payload[field])) errors.push(`'payload.${field}' is missing or blank`);
  if (typeof payload.summary === 'string' && payload.summary.length > 1024) errors.push("'payload.summary' is too long (maximum is 1024 characters)");
  if (!blank(payload.severity) && !SEVERITIES.includes(payload.severity as string)) errors.push(`'payload.severity' is invalid: '${String(payload.severity)}' is not one of critical, error, warning, info`);
  const ts = payload.timestamp;
  if (ts !== undefined && ts !== null && (typeof ts !== 'string' || !ISO_8601.test(ts) || Number.isNaN(Date.parse(ts.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'))))) {
    errors.push("'payload.timestamp' is not a valid ISO 8601 timestamp");
  }
  if (payload.custom_details !== undefined && payload.custom_details !== null && !isObject(payload.custom_details)) errors.push("'payload.custom_details' must be an object");
  return errors;
}

/** The body's fields for the call log, flat and short, with the routing key masked. */
function logParams(body: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (k: string, v: unknown): void => {
    if (v === undefined || v === null) return;
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    out[k] = text.length > 500 ? `${text.slice(0, 500)}…` : text;
  };
  for (const [k, v] of Object.entries(body)) {
    if (k === 'routing_key') put(k, typeof v === 'string' ? maskRoutingKey(v) : v);
    else if (k === 'payload' && isObject(v)) for (const [pk, pv] of Object.entries(v)) put(`payload.${pk}`, pv);
    else put(k, v);
  }
  return out;
}

export function handlePagerDuty(engine: Pick<SimEngine, 'tick' | 'recordCall'>, pagerDuty: PagerDutyModel, method: string, body: string, res: http.ServerResponse): void {
  engine.tick();
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const fields = isObject(parsed) ? parsed : {};
  const action = typeof fields.event_action === 'string' ? fields.event_action : 'unknown';
  const respond = (status: number, value: unknown, errorCode?: string): void => {
    const key = typeof fields.routing_key === 'string' ? maskRoutingKey(fields.routing_key) : '-';
    engine.recordCall({ service: 'pagerduty', action, region: 'global', account: key, params: logParams(fields), isMutation: status === 202, httpStatus: status, errorCode });
    sendJson(res, status, value);
  };
  if (method !== 'POST') {
    respond(405, { status: 'invalid request', message: `${method} is not supported: send events with POST /v2/enqueue` }, 'method_not_allowed');
    return;
  }
  if (!isObject(parsed)) {
    respond(400, { status: 'Unrecognized object', message: 'Event object format is unrecognized', errors: ['JSON parse error'] }, 'Unrecognized object');
    return;
  }
  const errors = eventErrors(parsed, Buffer.byteLength(body));
  if (errors.length > 0) {
    respond(400, { status: 'invalid event', message: 'Event object is invalid', errors }, 'invalid event');
    return;
  }
  const event = { ...parsed, dedup_key: blank(parsed.dedup_key) ? undefined : parsed.dedup_key } as unknown as ValidEvent;
  const { dedupKey } = pagerDuty.apply(event);
  respond(202, { status: 'success', message: 'Event processed', dedup_key: dedupKey });
}
