import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { createStatuspageActivities, retryAfterSeconds } from '../../src/activities/statuspage';
import { FailureTypes, type ScheduledMaintenanceRequest } from '../../src/api';
import { expectFailure, rejection, startServer, type RecordedRequest, type TestServer } from './helpers';

const PAGE = 'kctbh9vrtdwd';
const KEY = 'sp-test-key';

interface FakeIncident {
  id: string;
  name: string;
  status: string;
  shortlink: string;
  body?: string;
  metadata?: Record<string, unknown>;
  incident_updates: { status: string; body: string }[];
}

/** A small in-memory Statuspage: the endpoints the activities use, with its auth and error shapes. */
function fakeStatuspage(opts: { filler?: number } = {}) {
  const incidents: FakeIncident[] = [];
  // Unrelated maintenances, so pagination has to be followed to find ours.
  for (let i = 0; i < (opts.filler ?? 0); i++) {
    incidents.push({ id: `filler${i}`, name: `Other ${i}`, status: 'scheduled', shortlink: '', metadata: {}, incident_updates: [] });
  }
  let nextId = 1;
  let failNext: { status: number; body: unknown; headers?: Record<string, string> } | undefined;
  const handler = (req: RecordedRequest) => {
    if (failNext) {
      const f = failNext;
      failNext = undefined;
      return { status: f.status, body: f.body, headers: f.headers };
    }
    if (req.headers.authorization !== `OAuth ${KEY}`) return { status: 401, body: { error: 'Could not authenticate' } };
    const url = new URL(req.url, 'http://x');
    const prefix = `/v1/pages/${PAGE}/incidents`;
    if (!url.pathname.startsWith(prefix)) return { status: 404, body: { error: 'Page not found' } };
    const rest = url.pathname.slice(prefix.length);
    if (req.method === 'GET' && rest === '' && url.searchParams.has('q')) {
      // The real search reads names, statuses and update bodies (not metadata).
      const q = url.searchParams.get('q')!.toLowerCase();
      const page = Number(url.searchParams.get('page') ?? 1);
      const limit = Number(url.searchParams.get('limit') ?? 100);
      const matching = incidents.filter((i) => [i.name, i.status, ...i.incident_updates.map((u) => u.body)].some((t) => t.toLowerCase().includes(q)));
      return { status: 200, body: matching.slice((page - 1) * limit, page * limit) };
    }
    if (req.method === 'GET' && (rest === '/scheduled' || rest === '/active_maintenance')) {
      const wanted = rest === '/scheduled' ? 'scheduled' : 'in_progress';
      const page = Number(url.searchParams.get('page') ?? 1);
      const perPage = Number(url.searchParams.get('per_page') ?? 100);
      const matching = incidents.filter((i) => i.status === wanted);
      return { status: 200, body: matching.slice((page - 1) * perPage, page * perPage) };
    }
    if (req.method === 'POST' && rest === '') {
      const { incident } = JSON.parse(req.body) as { incident: Record<string, unknown> };
      if (!incident.name) return { status: 422, body: { error: "Name can't be blank" } };
      const id = `inc${nextId++}`;
      const created: FakeIncident = {
        id,
        name: String(incident.name),
        status: String(incident.status),
        shortlink: `https://stspg.io/${id}`,
        metadata: incident.metadata as Record<string, unknown>,
        incident_updates: [{ status: String(incident.status), body: String(incident.body) }],
      };
      incidents.push(created);
      return { status: 201, body: created };
    }
    const m = /^\/([^/]+)$/.exec(rest);
    const incident = m ? incidents.find((i) => i.id === m[1]) : undefined;
    if (!incident) return { status: 404, body: { error: 'Incident not found' } };
    if (req.method === 'GET') return { status: 200, body: incident };
    if (req.method === 'PATCH') {
      const { incident: patch } = JSON.parse(req.body) as { incident: { status?: string; body?: string } };
      if (patch.status) incident.status = patch.status;
      if (patch.body) incident.incident_updates.push({ status: incident.status, body: patch.body });
      return { status: 200, body: incident };
    }
    return { status: 405, body: { error: 'not supported by the fake' } };
  };
  return {
    incidents,
    handler,
    failOnce(status: number, body: unknown, headers?: Record<string, string>) {
      failNext = { status, body, headers };
    },
  };
}

type CreateResult = Awaited<ReturnType<ReturnType<typeof createStatuspageActivities>['createScheduledMaintenance']>>;

const request: ScheduledMaintenanceRequest = {
  idempotencyKey: 'campaign-42/staging',
  name: 'Database maintenance: PostgreSQL 15.7 (staging)',
  body: 'We will upgrade the staging database. Expect up to 5 minutes of errors.',
  scheduledFor: '2030-06-15T03:00:00Z',
  scheduledUntil: '2030-06-15T04:00:00Z',
  componentIds: ['cmp-db'],
  notify: true,
};

describe('statuspage activities', () => {
  let server: TestServer;
  let fake: ReturnType<typeof fakeStatuspage>;
  const acts = () => createStatuspageActivities({ baseUrl: `${server.url}/v1/`, apiKey: KEY, pageId: PAGE });

  async function start(opts: { filler?: number } = {}) {
    fake = fakeStatuspage(opts);
    server = await startServer(fake.handler);
  }

  afterEach(async () => {
    await server?.close();
  });

  it('creates a scheduled maintenance with auto start/complete, metadata and OAuth header', async () => {
    await start();
    const r = await acts().createScheduledMaintenance(request);
    assert.equal(r.changed, true);
    assert.equal(r.incidentId, 'inc1');
    assert.equal(r.shortlink, 'https://stspg.io/inc1');
    const post = server.requests.find((q) => q.method === 'POST');
    assert.ok(post, 'a POST was sent');
    assert.equal(post.url, `/v1/pages/${PAGE}/incidents`);
    assert.equal(post.headers.authorization, `OAuth ${KEY}`);
    assert.equal(post.headers['content-type'], 'application/json');
    const { incident } = JSON.parse(post.body) as { incident: Record<string, unknown> };
    assert.deepEqual(
      {
        name: incident.name,
        status: incident.status,
        scheduled_for: incident.scheduled_for,
        scheduled_until: incident.scheduled_until,
        scheduled_auto_in_progress: incident.scheduled_auto_in_progress,
        scheduled_auto_completed: incident.scheduled_auto_completed,
        scheduled_remind_prior: incident.scheduled_remind_prior,
        deliver_notifications: incident.deliver_notifications,
        body: incident.body,
        component_ids: incident.component_ids,
        metadata: incident.metadata,
      },
      {
        name: request.name,
        status: 'scheduled',
        scheduled_for: '2030-06-15T03:00:00.000Z',
        scheduled_until: '2030-06-15T04:00:00.000Z',
        scheduled_auto_in_progress: true,
        scheduled_auto_completed: true,
        scheduled_remind_prior: true,
        deliver_notifications: true,
        body: `${request.body}\n\nReference: campaign-42/staging`,
        component_ids: ['cmp-db'],
        metadata: { rds_orchestrator: { idempotency_key: 'campaign-42/staging' } },
      },
    );
  });

  it('reuses the incident with the same idempotency key instead of creating a second one', async () => {
    await start({ filler: 150 });
    const first = await acts().createScheduledMaintenance(request);
    const second = await acts().createScheduledMaintenance(request);
    assert.equal(second.changed, false);
    assert.equal(second.incidentId, first.incidentId);
    assert.equal(server.requests.filter((q) => q.method === 'POST').length, 1);
    assert.equal(fake.incidents.filter((i) => i.name === request.name).length, 1);
    // 150 unrelated maintenances + ours: one search by the key found it, no listing of the page's maintenances.
    const gets = server.requests.filter((q) => q.method === 'GET');
    assert.deepEqual(gets.map((q) => q.url), [
      `/v1/pages/${PAGE}/incidents?q=campaign-42%2Fstaging&page=1&limit=100`,
      `/v1/pages/${PAGE}/incidents?q=campaign-42%2Fstaging&page=1&limit=100`,
    ]);
    const third = await acts().createScheduledMaintenance({ ...request, idempotencyKey: 'campaign-42/prod' });
    assert.equal(third.changed, true);
    assert.notEqual(third.incidentId, first.incidentId);
  });

  it('finds its maintenance after it auto-started (in progress)', async () => {
    await start();
    const first = await acts().createScheduledMaintenance(request);
    fake.incidents.find((i) => i.id === first.incidentId)!.status = 'in_progress';
    const again = await acts().createScheduledMaintenance(request);
    assert.equal(again.changed, false);
    assert.equal(again.incidentId, first.incidentId);
    assert.ok(!server.requests.some((q) => q.url.includes('/incidents/active_maintenance')), 'the search found it');
  });

  it('on a retried attempt also lists the maintenances, for one the search does not show', async () => {
    await start({ filler: 150 });
    // Created without the reference line (before it existed): only the listing can find it.
    fake.incidents.push({ id: 'legacy', name: request.name, status: 'scheduled', shortlink: '', metadata: { rds_orchestrator: { idempotency_key: request.idempotencyKey } }, incident_updates: [] });
    const first = await acts().createScheduledMaintenance(request);
    assert.equal(first.changed, true, 'attempt 1 trusts the search');
    const env = new MockActivityEnvironment({ attempt: 2 });
    const retried = await env.run<[], CreateResult, () => Promise<CreateResult>>(() => acts().createScheduledMaintenance({ ...request, idempotencyKey: 'campaign-42/prod' }));
    assert.equal(retried.changed, true);
    fake.incidents.push({ id: 'legacy2', name: request.name, status: 'scheduled', shortlink: '', metadata: { rds_orchestrator: { idempotency_key: 'campaign-42/old' } }, incident_updates: [] });
    const found = await env.run<[], CreateResult, () => Promise<CreateResult>>(() => acts().createScheduledMaintenance({ ...request, idempotencyKey: 'campaign-42/old' }));
    assert.equal(found.changed, false);
    assert.equal(found.incidentId, 'legacy2');
    assert.ok(server.requests.some((q) => q.url.includes('/incidents/scheduled?page=2&per_page=100')), 'the listing followed the pages');
  });

  it("a later round of the workflow's (a new activity, attempt 1 again) lists the maintenances too, for one the search does not show", async () => {
    await start();
    fake.incidents.push({ id: 'lost', name: request.name, status: 'scheduled', shortlink: '', metadata: { rds_orchestrator: { idempotency_key: 'campaign-42/lost' } }, incident_updates: [] });
    const found = await acts().createScheduledMaintenance({ ...request, idempotencyKey: 'campaign-42/lost', retried: true });
    assert.deepEqual([found.changed, found.incidentId], [false, 'lost']);
  });

  it('a maintenance someone deleted by hand has nothing left to cancel: the compensation ends, changing nothing', async () => {
    await start();
    const r = await acts().cancelScheduledMaintenance({ incidentId: 'deleted-by-hand', reason: 'campaign aborted' });
    assert.deepEqual([r.changed, /no longer on page/.test(r.detail)], [false, true]);
    assert.equal(server.requests.filter((q) => q.method === 'PATCH').length, 0);
  });

  it('cancels by completing with the reason, never DELETE, and only once', async () => {
    await start();
    const { incidentId } = await acts().createScheduledMaintenance(request);
    const r = await acts().cancelScheduledMaintenance({ incidentId, reason: 'staging upgrade aborted by alice' });
    assert.equal(r.changed, true);
    const patch = server.requests.find((q) => q.method === 'PATCH');
    assert.ok(patch);
    assert.equal(patch.url, `/v1/pages/${PAGE}/incidents/${incidentId}`);
    assert.equal(patch.headers.authorization, `OAuth ${KEY}`);
    const { incident } = JSON.parse(patch.body) as { incident: { status: string; body: string } };
    assert.equal(incident.status, 'completed');
    assert.match(incident.body, /cancelled/);
    assert.match(incident.body, /staging upgrade aborted by alice/);

    const again = await acts().cancelScheduledMaintenance({ incidentId, reason: 'retry' });
    assert.equal(again.changed, false);
    assert.equal(server.requests.filter((q) => q.method === 'PATCH').length, 1);
    assert.equal(server.requests.filter((q) => q.method === 'DELETE').length, 0);
    assert.equal(fake.incidents.find((i) => i.id === incidentId)?.status, 'completed');
  });

  it('says which env var to set when the API key or page id is missing, without calling the API', async () => {
    await start();
    await expectFailure(createStatuspageActivities({ baseUrl: server.url, pageId: PAGE }).createScheduledMaintenance(request), {
      type: FailureTypes.Unauthorized,
      nonRetryable: true,
      message: [/STATUSPAGE_API_KEY/],
    });
    await expectFailure(createStatuspageActivities({ baseUrl: server.url, apiKey: KEY }).cancelScheduledMaintenance({ incidentId: 'inc1', reason: 'x' }), {
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message: [/STATUSPAGE_PAGE_ID/],
    });
    assert.equal(server.requests.length, 0);
  });

  it('reports a rejected key as non-retryable Unauthorized with the API message', async () => {
    await start();
    const wrongKey = createStatuspageActivities({ baseUrl: `${server.url}/v1`, apiKey: 'wrong', pageId: PAGE });
    await expectFailure(wrongKey.createScheduledMaintenance(request), {
      type: FailureTypes.Unauthorized,
      nonRetryable: true,
      message: [/401/, /Could not authenticate/, /STATUSPAGE_API_KEY/],
    });
  });

  it('reports a 422 as non-retryable with the API message', async () => {
    await start();
    await expectFailure(acts().createScheduledMaintenance({ ...request, name: '' }), {
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message: [/422/, /Name can't be blank/],
    });
  });

  for (const status of [420, 429, 503]) {
    it(`keeps ${status} retryable`, async () => {
      await start();
      fake.failOnce(status, { error: status === 503 ? 'Service unavailable' : 'Rate limit exceeded' });
      await expectFailure(acts().createScheduledMaintenance(request), {
        type: 'StatuspageUnavailable',
        nonRetryable: false,
        message: [new RegExp(String(status))],
      });
      // The retry succeeds and creates exactly one incident.
      await acts().createScheduledMaintenance(request);
      assert.equal(fake.incidents.length, 1);
    });
  }

  it('a rate limit with Retry-After is retried no sooner than it says (at most 5 minutes)', async () => {
    await start();
    for (const [header, seconds] of [['60', 60], ['3600', 300]] as const) {
      fake.failOnce(420, { error: 'Rate limit exceeded' }, { 'Retry-After': header });
      const err = (await rejection(acts().createScheduledMaintenance(request))) as ApplicationFailure;
      assert.equal(err.type, 'StatuspageUnavailable');
      assert.equal(err.nonRetryable, false);
      assert.equal(err.nextRetryDelay, `${seconds}s`);
    }
    assert.equal(retryAfterSeconds('Wed, 21 Oct 2015 07:28:00 GMT'), undefined, 'an HTTP date is left to the retry policy');
  });

  it('rejects a window that ends before it starts, before calling the API', async () => {
    await start();
    await expectFailure(acts().createScheduledMaintenance({ ...request, scheduledUntil: '2030-06-15T02:00:00Z' }), {
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message: [/scheduledUntil/],
    });
    assert.equal(server.requests.length, 0);
  });
});
