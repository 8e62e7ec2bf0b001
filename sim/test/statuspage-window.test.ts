import assert from 'node:assert/strict';
import { formatMaintenanceWindow, isInWindow, nextWindowStartAfter, parseMaintenanceWindow } from '../src/window';
import { Catalogue, compareVersions, defaultCatalogue } from '../src/catalogue';
import { startHarness } from './helpers';
import type { SimHarness } from './helpers';

describe('sim: maintenance-window maths and catalogue', function () {
  const mon1200 = Date.UTC(2025, 0, 6, 12, 0, 0); // Monday

  it('finds the next opening, also for windows that wrap from Sunday into Monday', function () {
    assert.equal(new Date(nextWindowStartAfter(parseMaintenanceWindow('mon:12:10-mon:12:40'), mon1200)).toISOString(), '2025-01-06T12:10:00.000Z');
    assert.equal(new Date(nextWindowStartAfter(parseMaintenanceWindow('mon:11:00-mon:11:30'), mon1200)).toISOString(), '2025-01-13T11:00:00.000Z');
    const wrap = parseMaintenanceWindow('sun:23:30-mon:00:30');
    assert.equal(wrap.durationMinutes, 60);
    assert.equal(new Date(nextWindowStartAfter(wrap, mon1200)).toISOString(), '2025-01-12T23:30:00.000Z');
    assert.ok(isInWindow(wrap, Date.UTC(2025, 0, 6, 0, 15)));
    assert.ok(!isInWindow(wrap, Date.UTC(2025, 0, 6, 0, 30)));
    assert.equal(nextWindowStartAfter(parseMaintenanceWindow('mon:12:00-mon:12:30'), mon1200), mon1200 + 7 * 86_400_000, 'strictly after');
  });

  it('refuses malformed or too-short windows and formats windows from an instant', function () {
    assert.throws(() => parseMaintenanceWindow('monday 12:00'), /ddd:hh24:mi-ddd:hh24:mi/);
    assert.throws(() => parseMaintenanceWindow('mon:25:00-mon:26:00'), /ddd:hh24:mi/);
    assert.throws(() => parseMaintenanceWindow('mon:12:00-mon:12:29'), /at least 30 minutes/);
    assert.equal(formatMaintenanceWindow(Date.UTC(2025, 0, 12, 23, 50, 31), 30), 'sun:23:50-mon:00:20');
  });

  it('orders versions numerically and lists upgrade targets', function () {
    assert.equal(compareVersions('15.10', '15.8'), 1);
    assert.equal(compareVersions('15.8', '15.8'), 0);
    const cat = new Catalogue(defaultCatalogue());
    assert.equal(cat.autoUpgradeTargetFor('postgres', '15.5'), '15.8');
    assert.deepEqual(cat.validUpgradeTargets('postgres', '16.6'), []);
    assert.throws(() => new Catalogue([{ engine: 'postgres', major: '15', versions: ['15.1'], autoUpgradeTarget: '15.2' }]), /not one of its versions/);
  });
});

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
