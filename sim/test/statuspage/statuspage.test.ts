import assert from 'node:assert/strict';
import { startHarness } from '../helpers';
import type { SimHarness } from '../helpers';

describe('sim: Statuspage API', function () {
  let h: SimHarness;
  const base = (): string => `${h.sim.url}/statuspage/v1/pages/page1`;
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> & Array<Record<string, unknown>> }> => {
    const res = await fetch(`${base()}${path}`, {
      method,
      headers: { authorization: 'OAuth test-key', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> & Array<Record<string, unknown>> };
  };
  beforeEach(async function () {
    h = await startHarness();
  });
  afterEach(async function () {
    await h.close();
  });

  it('creates a scheduled maintenance that moves to in_progress and completed on its own; lists, gets and patches it; never deletes', async function () {
    const created = await call('POST', '/incidents', {
      incident: {
        name: 'Database upgrade',
        status: 'scheduled',
        scheduled_for: '2025-01-06T13:00:00Z',
        scheduled_until: '2025-01-06T14:00:00Z',
        scheduled_remind_prior: true,
        scheduled_auto_in_progress: true,
        scheduled_auto_completed: true,
        deliver_notifications: true,
        body: 'We will upgrade the database.',
        metadata: { orchestrator: { key: 'campaign-1/production' } },
        components: { comp1: 'under_maintenance' },
      },
    });
    assert.equal(created.status, 201);
    const id = created.json.id as string;
    assert.equal(created.json.status, 'scheduled');
    assert.equal(created.json.scheduled_for, '2025-01-06T13:00:00.000Z');
    assert.deepEqual(created.json.metadata, { orchestrator: { key: 'campaign-1/production' } });
    assert.match(created.json.shortlink as string, /^https:\/\/stspg\.io\//);

    const scheduled = await call('GET', '/incidents/scheduled');
    assert.deepEqual(scheduled.json.map((i) => i.id), [id]);
    h.advance(3600);
    assert.equal((await call('GET', `/incidents/${id}`)).json.status, 'in_progress');
    assert.deepEqual((await call('GET', '/incidents/scheduled')).json, []);
    h.advance(3600);
    const done = await call('GET', `/incidents/${id}`);
    assert.equal(done.json.status, 'completed');
    assert.equal((done.json.incident_updates as unknown[]).length, 3);

    const second = await call('POST', '/incidents', { incident: { name: 'Later', status: 'scheduled', scheduled_for: '2025-02-01T00:00:00Z', scheduled_until: '2025-02-01T01:00:00Z' } });
    const patched = await call('PATCH', `/incidents/${second.json.id as string}`, { incident: { status: 'completed', body: 'Cancelled: not needed.' } });
    assert.equal(patched.status, 200);
    assert.equal(patched.json.status, 'completed');
    assert.equal((patched.json.incident_updates as Array<{ body: string }>)[0]?.body, 'Cancelled: not needed.');

    const del = await call('DELETE', `/incidents/${id}`);
    assert.equal(del.status, 405);
    assert.equal((await call('GET', `/incidents/${id}`)).status, 200);
    assert.equal((await call('GET', '/incidents/nope')).status, 404);
    assert.equal((await call('POST', '/incidents', { incident: { status: 'scheduled', name: 'x' } })).status, 422);
    const calls = await h.admin.calls({ service: 'statuspage' });
    assert.ok(calls.some((c) => c.action === 'CreateIncident' && c.isMutation));
  });
});
