/**
 * PagerDuty's Events API v2 on the simulator (`POST /v2/enqueue`), as
 * https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ and .../resolve-events/ describe it: what it
 * answers, the alerts it keeps (also across a restart), and the call log.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/core/clock';
import { SimAdminClient } from '../../src/client';
import { startSimulator } from '../../src/server';
import { startHarness } from '../helpers';
import type { SimHarness } from '../helpers';

const KEY = 'R0UT1NGKEY0000000000000000001234'; // 32 characters
const OTHER_KEY = 'R0UT1NGKEY0000000000000000005678';

async function enqueue(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}/v2/enqueue`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const trigger = (extra: Record<string, unknown> = {}, payload: Record<string, unknown> = {}): Record<string, unknown> => ({
  routing_key: KEY,
  event_action: 'trigger',
  payload: { summary: 'notifydb-production upgrade is blocked', source: 'rds-orchestrator', severity: 'error', custom_details: { campaign: 'pg15-minor' }, ...payload },
  links: [{ href: 'https://temporal.example/campaign/1', text: 'campaign' }],
  client: 'rds-orchestrator',
  client_url: 'https://temporal.example',
  ...extra,
});

describe('sim: PagerDuty Events API v2 (POST /v2/enqueue)', function () {
  let h: SimHarness;
  beforeEach(async function () {
    h = await startHarness();
  });
  afterEach(async function () {
    await h.close();
  });

  it('trigger, acknowledge, resolve: 202 "Event processed" with the dedup key; one alert per routing key and dedup key, with its events', async function () {
    const first = await enqueue(h.sim.url, trigger({ dedup_key: 'campaign-1/notifydb-production' }));
    assert.deepEqual(first, { status: 202, json: { status: 'success', message: 'Event processed', dedup_key: 'campaign-1/notifydb-production' } });
    await enqueue(h.sim.url, trigger({ dedup_key: 'campaign-1/notifydb-production' }, { severity: 'critical' }));
    await enqueue(h.sim.url, { routing_key: KEY, event_action: 'acknowledge', dedup_key: 'campaign-1/notifydb-production' });
    // The same dedup key under another routing key is another alert.
    await enqueue(h.sim.url, trigger({ routing_key: OTHER_KEY, dedup_key: 'campaign-1/notifydb-production' }));
    const resolved = await enqueue(h.sim.url, { routing_key: KEY, event_action: 'resolve', dedup_key: 'campaign-1/notifydb-production' });
    assert.equal(resolved.status, 202);

    const [alert, ...rest] = await h.admin.pagerDutyAlerts({ routingKey: KEY });
    assert.equal(rest.length, 0);
    assert.deepEqual([alert?.status, alert?.severity, alert?.summary, alert?.routingKey], ['resolved', 'critical', 'notifydb-production upgrade is blocked', `${'*'.repeat(28)}1234`]);
    assert.deepEqual(alert?.events.map((e) => e.event_action), ['trigger', 'trigger', 'acknowledge', 'resolve']);
    assert.deepEqual(alert?.events[0]?.payload?.custom_details, { campaign: 'pg15-minor' });
    assert.equal(alert?.acknowledgedAt !== undefined && alert.resolvedAt !== undefined, true);
    assert.deepEqual((await h.admin.pagerDutyAlerts({ routingKey: OTHER_KEY })).map((a) => a.status), ['triggered']);
    assert.equal(JSON.stringify(await h.admin.state()).includes(KEY), false, 'the state never holds a routing key');

    // After the resolve, a trigger with the same dedup key opens a new alert; a resolve of nothing open is accepted and dropped.
    await enqueue(h.sim.url, trigger({ dedup_key: 'campaign-1/notifydb-production' }));
    assert.deepEqual((await h.admin.pagerDutyAlerts({ routingKey: KEY })).map((a) => a.status), ['triggered', 'resolved']);
    const dropped = await enqueue(h.sim.url, { routing_key: KEY, event_action: 'resolve', dedup_key: 'never-triggered' });
    assert.deepEqual(dropped, { status: 202, json: { status: 'success', message: 'Event processed', dedup_key: 'never-triggered' } });
  });

  it('a trigger without dedup_key gets a generated one, and a new alert each time', async function () {
    const a = await enqueue(h.sim.url, trigger());
    const b = await enqueue(h.sim.url, trigger());
    assert.match(String(a.json.dedup_key), /^[0-9a-f]{32}$/);
    assert.notEqual(a.json.dedup_key, b.json.dedup_key);
    assert.equal((await h.admin.pagerDutyAlerts({ status: 'triggered' })).length, 2);
  });

  it('invalid events: 400 "invalid event" listing what is wrong; a body that is not JSON: "Unrecognized object"', async function () {
    const cases: Array<[unknown, string[]]> = [
      [trigger({ routing_key: 'short' }), ["Length of 'routing_key' is incorrect (should be 32 characters)"]],
      [{ ...trigger(), routing_key: undefined }, ["'routing_key' is missing or blank"]],
      [trigger({ event_action: 'escalate' }), ["'event_action' is invalid: 'escalate' is not one of trigger, acknowledge, resolve"]],
      [trigger({}, { severity: 'fatal' }), ["'payload.severity' is invalid: 'fatal' is not one of critical, error, warning, info"]],
      [trigger({}, { summary: '', source: undefined }), ["'payload.summary' is missing or blank", "'payload.source' is missing or blank"]],
      [trigger({}, { summary: 'x'.repeat(1025) }), ["'payload.summary' is too long (maximum is 1024 characters)"]],
      [trigger({}, { timestamp: 'yesterday' }), ["'payload.timestamp' is not a valid ISO 8601 timestamp"]],
      [trigger({ dedup_key: 'd'.repeat(256) }), ["'dedup_key' is too long (maximum is 255 characters)"]],
      [trigger({ payload: undefined }), ["'payload' is missing or is not an object"]],
      [{ routing_key: KEY, event_action: 'resolve' }, ["'dedup_key' is missing or blank; it is required for resolve events"]],
      [trigger({ links: [{ text: 'no href' }] }), ["'links[0].href' is missing or blank"]],
    ];
    for (const [body, errors] of cases) {
      const res = await enqueue(h.sim.url, body);
      assert.deepEqual(res, { status: 400, json: { status: 'invalid event', message: 'Event object is invalid', errors } }, JSON.stringify(body).slice(0, 80));
    }
    assert.deepEqual(await enqueue(h.sim.url, 'not json'), { status: 400, json: { status: 'Unrecognized object', message: 'Event object format is unrecognized', errors: ['JSON parse error'] } });
    const ok = await enqueue(h.sim.url, trigger({}, { timestamp: '2015-07-17T08:42:58.315+0000', component: 'postgres', group: 'prod', class: 'upgrade' }));
    assert.equal(ok.status, 202, JSON.stringify(ok.json));
    assert.equal((await h.admin.pagerDutyAlerts()).length, 1, 'invalid events create nothing');
  });

  it('every request is in the call log as service pagerduty, action = event_action, the routing key masked but its last 4', async function () {
    await enqueue(h.sim.url, trigger({ dedup_key: 'k1' }));
    await enqueue(h.sim.url, trigger({ routing_key: 'short' }));
    const calls = await h.admin.calls({ service: 'pagerduty' });
    assert.deepEqual(
      calls.map((c) => [c.action, c.httpStatus, c.errorCode, c.isMutation, c.account]),
      [
        ['trigger', 202, undefined, true, `${'*'.repeat(28)}1234`],
        ['trigger', 400, 'invalid event', false, '*hort'],
      ],
    );
    assert.deepEqual(
      { ...calls[0]?.params },
      {
        routing_key: `${'*'.repeat(28)}1234`,
        event_action: 'trigger',
        dedup_key: 'k1',
        'payload.summary': 'notifydb-production upgrade is blocked',
        'payload.source': 'rds-orchestrator',
        'payload.severity': 'error',
        'payload.custom_details': '{"campaign":"pg15-minor"}',
        links: '[{"href":"https://temporal.example/campaign/1","text":"campaign"}]',
        client: 'rds-orchestrator',
        client_url: 'https://temporal.example',
      },
    );
    assert.equal(h.admin.pagerDutyEventsUrl(), `${h.sim.url}/v2/enqueue`);
  });

  it('the alerts survive a restart with a state file', async function () {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-pagerduty-'));
    try {
      const clock = new ManualClock(Date.UTC(2025, 0, 6, 12, 0, 0));
      const stateFile = path.join(tmp, 'state.json');
      const first = await startSimulator({ port: 0, clock, stateFile });
      await enqueue(first.url, trigger({ dedup_key: 'survives' }));
      await first.close();
      const second = await startSimulator({ port: 0, clock, stateFile });
      try {
        await enqueue(second.url, { routing_key: KEY, event_action: 'resolve', dedup_key: 'survives' });
        assert.deepEqual((await new SimAdminClient(second.url).pagerDutyAlerts()).map((a) => [a.dedupKey, a.status, a.events.length]), [['survives', 'resolved', 2]]);
      } finally {
        await second.close();
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
