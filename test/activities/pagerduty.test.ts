import assert from 'node:assert/strict';
import { DEMO_PAGERDUTY_ROUTING_KEY, simulatorConfig } from '../../dev/simulator';
import { PAGE_FAILED, SUMMARY_MAX_CHARS, createOnCallActivities } from '../../src/activities/pagerduty';
import { FailureTypes, type OnCallEvent } from '../../src/api';
import { ConfigError, PAGERDUTY_EVENTS_URL, loadConfig } from '../../src/config';
import { expectFailure, startServer } from './helpers';

const KEY = 'e93facc04764012d7bfb002500d5d1a6';
const STAGE_KEY = 'R0123456789abcdefABCDEF012345678';
const EVENTS_URL = 'https://events.pagerduty.example/v2/enqueue';

const trigger: OnCallEvent = {
  action: 'trigger',
  dedupKey: 'campaign-42/prod/orders-db/2025-06-14',
  summary: 'orders-db: AutoMinorVersionUpgrade was turned off before its maintenance window',
  severity: 'critical',
  source: 'eu-west-2/orders-db',
  component: 'postgres',
  group: 'prod',
  class: 'flag-reverted',
  customDetails: { changedBy: 'arn:aws:sts::222222222222:assumed-role/terraform/ci-4411' },
};

interface Sent {
  url: string;
  init: RequestInit;
  body: Record<string, unknown>;
}

/** A fetch that records what it is asked and answers `status` with `body` (JSON). */
function fakePagerDuty(status: number, body: unknown = { status: 'success', message: 'Event processed', dedup_key: trigger.dedupKey }) {
  const sent: Sent[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    sent.push({ url: String(input), init: init ?? {}, body: JSON.parse(String(init?.body)) as Record<string, unknown> });
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  };
  return { sent, fetch };
}

describe('pagerduty activities', () => {
  it('POSTs an Events API v2 trigger with the routing key, the dedup_key and the payload', async () => {
    const pd = fakePagerDuty(202);
    const r = await createOnCallActivities({ routingKey: KEY, eventsUrl: EVENTS_URL, fetch: pd.fetch }).pageOnCall(trigger);
    assert.equal(r.sent, true);
    assert.equal(r.dedupKey, trigger.dedupKey);
    assert.match(r.detail, /accepted \(HTTP 202: Event processed\)/);
    assert.equal(pd.sent.length, 1);
    const [req] = pd.sent;
    assert.equal(req.url, EVENTS_URL);
    assert.equal(req.init.method, 'POST');
    assert.deepEqual(req.init.headers, { 'Content-Type': 'application/json' });
    assert.deepEqual(req.body, {
      routing_key: KEY,
      event_action: 'trigger',
      dedup_key: trigger.dedupKey,
      payload: {
        summary: trigger.summary,
        source: 'eu-west-2/orders-db',
        severity: 'critical',
        component: 'postgres',
        group: 'prod',
        class: 'flag-reverted',
        custom_details: { changedBy: 'arn:aws:sts::222222222222:assumed-role/terraform/ci-4411' },
      },
      client: 'rds-orchestrator',
    });
  });

  it("uses the stage's routing key over the workers' one", async () => {
    const pd = fakePagerDuty(202);
    await createOnCallActivities({ routingKey: KEY, eventsUrl: EVENTS_URL, fetch: pd.fetch }).pageOnCall({ ...trigger, routingKey: STAGE_KEY });
    assert.equal(pd.sent[0].body.routing_key, STAGE_KEY);
  });

  it("reads a stage's key from the workers' variable it names (the key never crosses the workflow); an unset variable is a configuration error naming it", async () => {
    const pd = fakePagerDuty(202);
    await createOnCallActivities({ routingKey: KEY, eventsUrl: EVENTS_URL, fetch: pd.fetch, env: { NOTIFY_PD: STAGE_KEY } }).pageOnCall({ ...trigger, routingKeyEnv: 'NOTIFY_PD' });
    assert.equal(pd.sent[0].body.routing_key, STAGE_KEY);
    await expectFailure(createOnCallActivities({ routingKey: KEY, eventsUrl: EVENTS_URL, fetch: pd.fetch, env: {} }).pageOnCall({ ...trigger, routingKeyEnv: 'NOTIFY_PD' }), {
      type: 'InvalidConfig',
      nonRetryable: true,
      message: [/environment variable NOTIFY_PD, which is not set on this worker/],
    });
  });

  it('resolves the alert by its dedup_key, as the reference shows', async () => {
    const pd = fakePagerDuty(202);
    const r = await createOnCallActivities({ routingKey: KEY, eventsUrl: EVENTS_URL, fetch: pd.fetch }).pageOnCall({ ...trigger, action: 'resolve' });
    assert.equal(r.sent, true);
    assert.deepEqual(pd.sent[0].body, { routing_key: KEY, event_action: 'resolve', dedup_key: trigger.dedupKey });
  });

  it("a resolve with companion alerts (an escalation's own) resolves each by its dedup_key", async () => {
    const pd = fakePagerDuty(202);
    const escalation = `${trigger.dedupKey}/escalation`;
    const r = await createOnCallActivities({ routingKey: KEY, eventsUrl: EVENTS_URL, fetch: pd.fetch }).pageOnCall({ ...trigger, action: 'resolve', alsoDedupKeys: [escalation] });
    assert.equal(r.sent, true);
    assert.deepEqual(pd.sent.map((s) => s.body), [
      { routing_key: KEY, event_action: 'resolve', dedup_key: trigger.dedupKey },
      { routing_key: KEY, event_action: 'resolve', dedup_key: escalation },
    ]);
    assert.match(r.detail, /1 companion alert\(s\) resolved/);
  });

  it('cuts the summary to PagerDuty\'s 1024 characters', async () => {
    const pd = fakePagerDuty(202);
    await createOnCallActivities({ routingKey: KEY, eventsUrl: EVENTS_URL, fetch: pd.fetch }).pageOnCall({ ...trigger, summary: 'x'.repeat(5000) });
    const summary = (pd.sent[0].body.payload as { summary: string }).summary;
    assert.equal(summary.length, SUMMARY_MAX_CHARS);
    assert.ok(summary.endsWith('…'));
    await createOnCallActivities({ routingKey: KEY, eventsUrl: EVENTS_URL, fetch: pd.fetch }).pageOnCall({ ...trigger, summary: '🔥'.repeat(600) });
    const emoji = (pd.sent[1].body.payload as { summary: string }).summary;
    assert.ok(emoji.length <= SUMMARY_MAX_CHARS && emoji.startsWith('🔥') && emoji.endsWith('🔥…'), 'no character cut in half');
  });

  it('only logs the event when no routing key is configured anywhere', async () => {
    const pd = fakePagerDuty(202);
    const lines: string[] = [];
    const r = await createOnCallActivities({ eventsUrl: EVENTS_URL, fetch: pd.fetch, log: (l) => lines.push(l) }).pageOnCall(trigger);
    assert.equal(r.sent, false);
    assert.equal(r.dedupKey, trigger.dedupKey);
    assert.match(r.detail, /ORCHESTRATOR_PAGERDUTY_ROUTING_KEY/);
    assert.equal(pd.sent.length, 0);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /trigger critical.*eu-west-2\/orders-db.*AutoMinorVersionUpgrade was turned off/);
  });

  it('a 400 is a non-retryable InvalidInput with PagerDuty\'s errors and what to fix', async () => {
    const pd = fakePagerDuty(400, { status: 'invalid event', message: 'Event object is invalid', errors: ["'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')"] });
    await expectFailure(createOnCallActivities({ routingKey: KEY, eventsUrl: EVENTS_URL, fetch: pd.fetch }).pageOnCall(trigger), {
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message: [/refused by PagerDuty \(HTTP 400, Event object is invalid\)/, /'payload\.severity' is invalid/, /Fix the event or the routing key/],
    });
  });

  it('a 429 is retried, after PagerDuty\'s advised 30 s', async () => {
    const pd = fakePagerDuty(429, { status: 'throttle event', message: 'Requests for this service are arriving too quickly.' });
    const f = await expectFailure(createOnCallActivities({ routingKey: KEY, eventsUrl: EVENTS_URL, fetch: pd.fetch }).pageOnCall(trigger), {
      type: PAGE_FAILED,
      nonRetryable: false,
      message: [/HTTP 429/, /arriving too quickly/],
    });
    assert.equal(f.nextRetryDelay, 30_000);
  });

  it('a 5xx is retried, and the same dedup_key is sent again', async () => {
    const pd = fakePagerDuty(503, 'upstream unavailable');
    const acts = createOnCallActivities({ routingKey: KEY, eventsUrl: EVENTS_URL, fetch: pd.fetch });
    await expectFailure(acts.pageOnCall(trigger), { type: PAGE_FAILED, nonRetryable: false, message: [/HTTP 503 \(upstream unavailable\)/] });
    await expectFailure(acts.pageOnCall(trigger), { type: PAGE_FAILED, nonRetryable: false });
    assert.deepEqual(pd.sent.map((s) => s.body.dedup_key), [trigger.dedupKey, trigger.dedupKey]);
  });

  it('no answer (a refused connection) is retried, naming the URL', async () => {
    const server = await startServer(() => ({ status: 202 }));
    const url = `${server.url}/v2/enqueue`;
    await server.close();
    await expectFailure(createOnCallActivities({ routingKey: KEY, eventsUrl: url }).pageOnCall(trigger), {
      type: PAGE_FAILED,
      nonRetryable: false,
      message: [new RegExp(`no answer from ${url.replace(/[.]/g, '\\.')} \\(ECONNREFUSED\\)`)],
    });
  });

  it('a 404 says the events URL is wrong, and is not retried', async () => {
    const pd = fakePagerDuty(404, 'Not Found');
    await expectFailure(createOnCallActivities({ routingKey: KEY, eventsUrl: EVENTS_URL, fetch: pd.fetch }).pageOnCall(trigger), {
      type: FailureTypes.InvalidConfig,
      nonRetryable: true,
      message: [/HTTP 404/, /ORCHESTRATOR_PAGERDUTY_EVENTS_URL/],
    });
  });

  it("refuses a stage's malformed routing key before sending, without quoting it", async () => {
    const pd = fakePagerDuty(202);
    const f = await expectFailure(createOnCallActivities({ routingKey: KEY, eventsUrl: EVENTS_URL, fetch: pd.fetch }).pageOnCall({ ...trigger, routingKey: 'u+abcdefghijklmnopqr' }), {
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message: [/routing key is 20 characters long/, /32/],
    });
    assert.doesNotMatch(f.message, /u\+abcdefghijklmnopqr/);
    assert.equal(pd.sent.length, 0);
  });

  it('reaches a real HTTP endpoint with a JSON body', async () => {
    const server = await startServer(() => ({ status: 202, body: { status: 'success', message: 'Event processed', dedup_key: trigger.dedupKey } }));
    try {
      const r = await createOnCallActivities({ routingKey: KEY, eventsUrl: `${server.url}/v2/enqueue` }).pageOnCall(trigger);
      assert.equal(r.sent, true);
      assert.equal(server.requests[0].url, '/v2/enqueue');
      assert.equal(server.requests[0].headers['content-type'], 'application/json');
      assert.equal((JSON.parse(server.requests[0].body) as { dedup_key: string }).dedup_key, trigger.dedupKey);
    } finally {
      await server.close();
    }
  });
});

describe('ORCHESTRATOR_PAGERDUTY_* settings', () => {
  it('default to PagerDuty\'s events URL and no routing key', () => {
    assert.deepEqual(loadConfig({}).pagerDuty, { eventsUrl: PAGERDUTY_EVENTS_URL, routingKey: undefined });
    assert.equal(PAGERDUTY_EVENTS_URL, 'https://events.pagerduty.com/v2/enqueue');
  });

  it('take a 32-character integration key and another events URL', () => {
    const c = loadConfig({ ORCHESTRATOR_PAGERDUTY_ROUTING_KEY: KEY, ORCHESTRATOR_PAGERDUTY_EVENTS_URL: 'https://events.eu.pagerduty.com/v2/enqueue' });
    assert.deepEqual(c.pagerDuty, { routingKey: KEY, eventsUrl: 'https://events.eu.pagerduty.com/v2/enqueue' });
    assert.equal(loadConfig({ ORCHESTRATOR_PAGERDUTY_ROUTING_KEY: STAGE_KEY }).pagerDuty.routingKey, STAGE_KEY, 'a ruleset key');
  });

  const refused: [string, string, RegExp][] = [
    ['a REST API key (20 characters)', 'y_NbAkKc66ryYTWUXYEu', /is 20 characters long, and an Events API v2 integration \(routing\) key is 32/],
    ['a key with a trailing newline', `${KEY}\n`, /contains whitespace/],
    ['a key with other characters', 'e93facc0-4764-012d-7bfb-002500d5', /other than letters and digits/],
  ];
  for (const [name, key, why] of refused) {
    it(`refuse ${name}, saying what is wrong without quoting the key`, () => {
      const err = (() => {
        try {
          loadConfig({ ORCHESTRATOR_PAGERDUTY_ROUTING_KEY: key });
        } catch (e) {
          return e;
        }
        assert.fail('expected a ConfigError');
      })();
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /^ORCHESTRATOR_PAGERDUTY_ROUTING_KEY /);
      assert.match(err.message, why);
      assert.ok(!err.message.includes(key.trim()), 'the key is a secret');
    });
  }

  it('refuse an events URL that is not a URL', () => {
    assert.throws(() => loadConfig({ ORCHESTRATOR_PAGERDUTY_EVENTS_URL: 'events.pagerduty.com' }), ConfigError);
  });

  it('point the demo at the simulator\'s Events API, with a demo key the workers accept', () => {
    const c = simulatorConfig('http://127.0.0.1:4599');
    assert.deepEqual(c.pagerDuty, { routingKey: DEMO_PAGERDUTY_ROUTING_KEY, eventsUrl: 'http://127.0.0.1:4599/v2/enqueue' });
    assert.equal(DEMO_PAGERDUTY_ROUTING_KEY.length, 32);
    assert.match(DEMO_PAGERDUTY_ROUTING_KEY, /demo/);
  });
});
