/**
 * The simulator's minimal Atlassian Statuspage API (/statuspage/v1/pages/{page_id}/incidents[...]), over the
 * model in sim/src/statuspage/model.ts. Every request is in the call log as service `statuspage`.
 */
import type http from 'node:http';
import type { SimEngine } from '../core/engine';
import { SimError } from '../core/errors';
import { parseJson, sendJson } from '../core/http';
import type { HttpRequest } from '../core/service';
import type { StatuspageModel } from './model';

export function handleStatuspage(engine: Pick<SimEngine, 'tick' | 'recordCall'>, sp: StatuspageModel, { method, url, body, req }: HttpRequest, res: http.ServerResponse): void {
  const auth = req.headers.authorization;
  if (auth !== undefined && !/^OAuth \S+/.test(auth)) {
    sendJson(res, 401, { error: "Couldn't authenticate you: use 'Authorization: OAuth <api key>'" });
    return;
  }
  engine.tick();
  const m = /^\/statuspage\/v1\/pages\/([^/]+)\/incidents(?:\/([^/]+))?\/?$/.exec(url.pathname);
  let action = 'Unknown';
  const params: Record<string, string> = {};
  const respond = (status: number, value: unknown, errorCode?: string): void => {
    engine.recordCall({
      service: 'statuspage',
      action,
      region: 'global',
      account: m ? (m[1] as string) : '-',
      params,
      isMutation: method !== 'GET',
      httpStatus: status,
      errorCode,
    });
    sendJson(res, status, value);
  };
  try {
    if (!m) {
      respond(404, { error: `No simulated Statuspage endpoint at ${method} ${url.pathname} (have /statuspage/v1/pages/{page_id}/incidents[...])` }, 'not_found');
      return;
    }
    const pageId = decodeURIComponent(m[1] as string);
    const sub = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    if (body) params.body = body.length > 2000 ? `${body.slice(0, 2000)}…` : body;
    if (sub === undefined && method === 'POST') {
      action = 'CreateIncident';
      const input = parseJson(body).incident;
      if (!input || typeof input !== 'object') throw new SimError('invalid', 'The body must be {"incident": {...}}', 400);
      respond(201, sp.create(pageId, input as Record<string, unknown>));
    } else if (sub === undefined && method === 'GET') {
      action = 'ListIncidents';
      respond(200, sp.list(pageId, 'all'));
    } else if (sub === 'scheduled' && method === 'GET') {
      action = 'ListScheduledIncidents';
      respond(200, sp.list(pageId, 'scheduled'));
    } else if (sub === 'active_maintenance' && method === 'GET') {
      action = 'ListActiveMaintenances';
      respond(200, sp.list(pageId, 'active_maintenance'));
    } else if (sub !== undefined && method === 'GET') {
      action = 'GetIncident';
      params.id = sub;
      respond(200, sp.get(pageId, sub));
    } else if (sub !== undefined && (method === 'PATCH' || method === 'PUT')) {
      action = 'UpdateIncident';
      params.id = sub;
      const input = parseJson(body).incident;
      if (!input || typeof input !== 'object') throw new SimError('invalid', 'The body must be {"incident": {...}}', 400);
      respond(200, sp.patch(pageId, sub, input as Record<string, unknown>));
    } else if (method === 'DELETE') {
      action = 'DeleteIncident';
      respond(405, { error: 'The simulator never deletes incidents: cancel a scheduled maintenance by PATCHing status=completed.' }, 'method_not_allowed');
    } else {
      respond(405, { error: `${method} is not supported on ${url.pathname}` }, 'method_not_allowed');
    }
  } catch (err) {
    if (!(err instanceof SimError)) throw err;
    respond(err.status, { error: err.message }, err.code);
  }
}
