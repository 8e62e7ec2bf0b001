/**
 * Fleet stages on the time-skipping server: selection by tag, waves with maxConcurrent, the failure threshold
 * and the team's decision, abort compensating in running children, skipped instances, and one production
 * approval covering several windows (each window group announced once).
 */
import assert from 'node:assert/strict';
import { abortUpdate, approveUpdate, campaignStatusQuery, decideUpdate, pauseUpdate, resumeUpdate, type CampaignSpec, type CampaignStatus, type StageSpec } from '../../src/api';
import { RDS_CAMPAIGN_ID, RDS_INSTANCES, RDS_OPERATION } from '../../src/api/search-attributes';
import { startCampaign } from '../../src/client';
import { resolveCampaignSpec } from '../../src/input';
import { formatCampaignStatus } from '../../src/cli/format';
import { upgradeCampaign } from '../../src/workflows';
import { WINDOW_GROUP_TEXT_PATCH } from '../../src/workflows/campaign';
import { FakeAws } from '../fixtures/fake-aws';
import { timeSkippingEnv } from '../harness';
import { startTimeSkippingServer } from '../../dev/temporal-server';
import { advanceUntil, patchIds, withWorker } from './helpers';
import { COVERED_BY_ONE_MARKER, EVERY_PATCH_OF_2026_12_07 } from '../../src/workflows/shared/patches';
import { ABORTED_RUN_RESOLVES_PATCH } from '../../src/workflows/campaign/on-call';

const DAY = 86_400_000;

function spec(stages: StageSpec[], overrides: Partial<CampaignSpec> = {}): CampaignSpec {
  return { targetEngineVersion: '15.8', requester: 'alice', stages, pollInterval: '5m', ...overrides };
}

const staging = (waves: StageSpec['waves'] = { maxConcurrent: 2 }): StageSpec => ({
  name: 'staging',
  region: 'eu-west-2',
  select: { tags: { environment: 'staging', team: 'notify' } },
  waves,
  method: 'apply-now',
  probe: { url: 'http://status.example/{instanceId}/_status' },
});

/** Staging: four instances of the team (one already at the target), one of another team, one in production. */
function stagingFleet(fake: FakeAws): void {
  const tags = { environment: 'staging', team: 'notify' };
  fake.addInstance({ instanceId: 'notify-stg-api', tags, allocatedStorage: 100 });
  fake.addInstance({ instanceId: 'notify-stg-admin', tags, allocatedStorage: 20 });
  fake.addInstance({ instanceId: 'notify-stg-jobs', tags, allocatedStorage: 50 });
  fake.addInstance({ instanceId: 'notify-stg-old', tags, allocatedStorage: 10, engineVersion: '15.8', pending: [] });
  fake.addInstance({ instanceId: 'billing-stg', tags: { environment: 'staging', team: 'billing' } });
  fake.addInstance({ instanceId: 'notify-prod-api', tags: { environment: 'production', team: 'notify' } });
}

const fleetOf = (s: CampaignStatus, stage = 0) => s.stages[stage].fleet!;

describe('fleet stages (time-skipping)', function () {
  this.timeout(180_000);

  it('a SQL probe: each instance of the wave is probed with SELECT 1 on its own database, and its measured outage is the stage\'s downtime', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    stagingFleet(fake);
    const sql = { ...staging(), probe: { postgres: { name: 'notify', password: 'master-secret' as const }, ratePerSecond: 1 } };
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await startCampaign(env.client, resolveCampaignSpec(spec([sql])), { taskQueue, workflowId: `fleet-sql-probe-${taskQueue}` });
      const result = await handle.result();
      assert.equal(result.state, 'completed');
      assert.equal(fake.callsOf('runAvailabilityProbe').length, 0, 'no HTTP probe');
      // Each instance's login is checked before its upgrade, so a wrong access fails before anything changes.
      for (const id of ['notify-stg-admin', 'notify-stg-api', 'notify-stg-jobs']) {
        const login = fake.calls.findIndex((c) => c.name === 'describeDatabase' && (c.input.target as { instanceId: string }).instanceId === id);
        const upgrade = fake.calls.findIndex((c) => c.name === 'applyUpgradeNow' && c.input.instanceId === id);
        assert.ok(login >= 0 && login < upgrade, `${id}: login checked before the upgrade`);
      }
      const probes = fake.callsOf('runSqlAvailabilityProbe').map((c) => c.input as { target: { instanceId: string; access: { database: string; credentials: { kind: string } } }; ratePerSecond: number; stopWhen: { instanceId: string } });
      assert.deepEqual(
        probes.map((p) => [p.target.instanceId, p.stopWhen.instanceId, p.target.access.database, p.target.access.credentials.kind, p.ratePerSecond]).sort(),
        ['notify-stg-admin', 'notify-stg-api', 'notify-stg-jobs'].map((id) => [id, id, 'notify', 'master-secret', 1]),
      );
      const child = env.client.workflow.getHandle(fleetOf(await handle.query(campaignStatusQuery)).instances.find((i) => i.instanceId === 'notify-stg-api')!.workflowId);
      const childStatus = await child.query(campaignStatusQuery);
      assert.match(childStatus.timeline.find((t) => t.step === 'probe-started')!.detail!, /SELECT 1 on database notify/);
      assert.equal(childStatus.stages[0].downtimeSeconds, 10);
    });
  });

  it('selects by tag, skips the instance at the target, runs waves of maxConcurrent smallest first, each in a child workflow of its own', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    stagingFleet(fake);
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await startCampaign(env.client, resolveCampaignSpec(spec([staging()])), { taskQueue, workflowId: `fleet-waves-${taskQueue}` });
      // A fleet's parent may replay a large history in one workflow task: it gets more than the default 10 s.
      const config = (await handle.describe()).raw.executionConfig!;
      assert.equal(Number(config.defaultWorkflowTaskTimeout!.seconds), 60);
      const result = await handle.result();
      assert.equal(result.state, 'completed');
      const status = await handle.query(campaignStatusQuery);
      const f = fleetOf(status);
      assert.equal(f.selection, 'tags environment=staging, team=notify; postgres; in eu-west-2');
      assert.deepEqual(
        f.instances.map((i) => [i.instanceId, i.state, i.wave]),
        [
          ['notify-stg-admin', 'completed', 1],
          ['notify-stg-api', 'completed', 2],
          ['notify-stg-jobs', 'completed', 1],
          ['notify-stg-old', 'skipped', 0],
        ].sort(),
      );
      assert.match(f.instances.find((i) => i.instanceId === 'notify-stg-old')!.note!, /already at 15\.8/);
      assert.deepEqual(f.counts, { pending: 0, running: 0, completed: 3, failed: 0, skipped: 1, aborted: 0 });
      assert.equal(f.waves, 2);

      // Smallest first, two at a time: admin (20) and jobs (50) together, api (100) only after both were available again.
      const upgrades = fake.callsOf('applyUpgradeNow').map((c) => [c.input.instanceId as string, c.atMs] as const);
      assert.deepEqual(upgrades.map(([id]) => id).slice(0, 2).sort(), ['notify-stg-admin', 'notify-stg-jobs']);
      assert.equal(upgrades[2][0], 'notify-stg-api');
      assert.ok(upgrades[2][1] >= Math.max(upgrades[0][1], upgrades[1][1]) + fake.applyNowDurationMs, 'the second wave starts after the first ended');
      assert.equal(upgrades.length, 3, 'each instance upgraded once; the one at the target untouched');
      // Each instance's probe reads its own status endpoint ({instanceId} in the stage's URL).
      assert.deepEqual(
        fake.callsOf('runAvailabilityProbe').map((c) => (c.input as { url: string }).url).sort(),
        ['notify-stg-admin', 'notify-stg-api', 'notify-stg-jobs'].map((id) => `http://status.example/${id}/_status`),
      );
      for (const id of ['billing-stg', 'notify-prod-api']) assert.equal(fake.instances.get(`eu-west-2/${id}`)!.engineVersion, '15.5', `${id} not selected`);

      // Each instance's own workflow: its timeline, and search attributes that find it from the campaign.
      const child = env.client.workflow.getHandle(f.instances.find((i) => i.instanceId === 'notify-stg-api')!.workflowId);
      const childStatus = await child.query(campaignStatusQuery);
      assert.equal(childStatus.stages[0].instanceId, 'notify-stg-api');
      assert.ok(childStatus.timeline.some((t) => t.step === 'probe-finished'));
      assert.equal(childStatus.stages[0].downtimeSeconds, 10);
      const sa = (await child.describe()).typedSearchAttributes;
      assert.equal(sa.get(RDS_OPERATION), 'campaign-instance');
      assert.equal(sa.get(RDS_CAMPAIGN_ID), status.campaignId);
      assert.deepEqual(sa.get(RDS_INSTANCES), ['eu-west-2/notify-stg-api']);
      assert.equal(status.followUps.length, 1, 'one follow-up for the stage, not one per instance');
    });
  });

  for (const decision of ['continue', 'abort'] as const) {
    it(`the failure threshold stops the stage before its next wave and asks the team (${decision})`, async function () {
      const env = await timeSkippingEnv();
      const fake = new FakeAws();
      const tags = { environment: 'preview' };
      fake.addInstance({ instanceId: 'pv-a', tags, allocatedStorage: 10, windowsToMiss: 5, preferredMaintenanceWindow: 'mon:03:00-mon:03:30' });
      fake.addInstance({ instanceId: 'pv-b', tags, allocatedStorage: 20, preferredMaintenanceWindow: 'mon:03:00-mon:03:30' });
      fake.addInstance({ instanceId: 'pv-c', tags, allocatedStorage: 30, preferredMaintenanceWindow: 'mon:03:00-mon:03:30' });
      const preview: StageSpec = { name: 'preview', region: 'eu-west-2', select: { tags }, method: 'maintenance-window', maxMissedWindows: 1, waves: { maxConcurrent: 1, failureThreshold: 1 } };
      await withWorker(env, fake.activities(), async (taskQueue) => {
        const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec([preview]))], taskQueue, workflowId: `fleet-threshold-${decision}-${taskQueue}` });
        const asked = await advanceUntil(env, handle, (s) => s.waitingFor?.kind === 'decision');
        assert.match(asked.waitingFor!.question!, /1 instance\(s\) failed since the last decision \(threshold 1\): pv-a \(.*was not upgraded in 1 windows.*\)\. Continue with the remaining 2 instance\(s\) in 2 wave\(s\)\?/);
        const f = fleetOf(asked);
        assert.deepEqual(f.counts, { pending: 2, running: 0, completed: 0, failed: 1, skipped: 0, aborted: 0 });
        // The failed instance's own workflow put its flag back; the others were not touched.
        assert.equal(fake.instances.get('eu-west-2/pv-a')!.autoMinorVersionUpgrade, false);
        assert.equal(fake.mutations().filter((c) => c.input.instanceId !== 'pv-a').length, 0);
        assert.ok(fake.notifications.some((n) => n.event === 'escalation' && /threshold of 1 is reached/.test(n.text)));

        await handle.executeUpdate(decideUpdate, { args: [{ by: 'carol', decision }] });
        const result = await handle.result();
        const status = await handle.query(campaignStatusQuery);
        if (decision === 'continue') {
          assert.equal(result.state, 'completed');
          assert.deepEqual(fleetOf(status).counts, { pending: 0, running: 0, completed: 2, failed: 1, skipped: 0, aborted: 0 });
          for (const id of ['pv-b', 'pv-c']) assert.equal(fake.instances.get(`eu-west-2/${id}`)!.engineVersion, '15.8');
          assert.ok(status.followUps.some((x) => /pv-a was not upgraded/.test(x)), 'the failed instance is a follow-up');
        } else {
          assert.equal(result.state, 'aborted');
          assert.equal(status.stages[0].status, 'aborted');
          assert.equal(fake.mutations().filter((c) => c.input.instanceId !== 'pv-a').length, 0, 'no other instance touched');
        }
      });
    });
  }

  it('failures of the last wave over the threshold stop the campaign before its next stage and ask the team', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fake.addInstance({ instanceId: 'pv-a', windowsToMiss: 5, preferredMaintenanceWindow: 'mon:03:00-mon:03:30' });
    fake.addInstance({ instanceId: 'pv-b', preferredMaintenanceWindow: 'mon:03:00-mon:03:30' });
    fake.addInstance({ instanceId: 'stg-a' });
    const preview: StageSpec = { name: 'preview', region: 'eu-west-2', instances: ['pv-a', 'pv-b'], method: 'maintenance-window', maxMissedWindows: 1, waves: { maxConcurrent: 2 } };
    const stagingOne: StageSpec = { name: 'staging', region: 'eu-west-2', instanceId: 'stg-a', method: 'apply-now', probe: { url: 'http://status.example/_status' } };
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec([preview, stagingOne]))], taskQueue, workflowId: `fleet-last-wave-${taskQueue}` });
      const asked = await advanceUntil(env, handle, (s) => s.waitingFor?.kind === 'decision');
      assert.equal(asked.currentStage, 'preview');
      assert.match(asked.waitingFor!.question!, /1 instance\(s\) failed since the last decision \(threshold 1\): pv-a .*go on with the campaign\?/);
      assert.deepEqual(fleetOf(asked).counts, { pending: 0, running: 0, completed: 1, failed: 1, skipped: 0, aborted: 0 });
      assert.equal(fake.mutations().filter((c) => c.input.instanceId === 'stg-a').length, 0, 'staging not started');
      assert.equal(asked.stages[1].status, 'pending');
      await handle.executeUpdate(decideUpdate, { args: [{ by: 'carol', decision: 'continue' }] });
      assert.equal((await handle.result()).state, 'completed');
      assert.equal(fake.instances.get('eu-west-2/stg-a')!.engineVersion, '15.8');
    });
  });

  it('abort while a wave waits for its windows: every running instance puts its flag back, the next wave never starts', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    for (const id of ['pv-a', 'pv-b', 'pv-c']) fake.addInstance({ instanceId: id, preferredMaintenanceWindow: 'mon:03:00-mon:03:30' });
    const preview: StageSpec = { name: 'preview', region: 'eu-west-2', instances: ['pv-a', 'pv-b', 'pv-c'], method: 'maintenance-window', waves: { maxConcurrent: 2 } };
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec([preview]))], taskQueue, workflowId: `fleet-abort-${taskQueue}` });
      const s = await advanceUntil(env, handle, (x) => x.stages[0].fleet?.counts.running === 2, { stepMs: 1000 });
      assert.deepEqual(fleetOf(s).instances.map((i) => [i.instanceId, i.wave]), [['pv-a', 1], ['pv-b', 1], ['pv-c', 2]], 'listed order');
      const children = fleetOf(s).instances.slice(0, 2).map((i) => env.client.workflow.getHandle(i.workflowId));
      // Each child turns its flag on and sleeps towards its window.
      for (const child of children) await advanceUntil(env, child, (x) => x.waitingFor?.kind === 'window', { stepMs: 1000 });
      assert.equal(fake.instances.get('eu-west-2/pv-a')!.autoMinorVersionUpgrade, true);

      await handle.executeUpdate(abortUpdate, { args: [{ by: 'alice', reason: 'freeze' }] });
      const result = await handle.result();
      assert.equal(result.state, 'aborted');
      const status = await handle.query(campaignStatusQuery);
      assert.deepEqual(fleetOf(status).instances.map((i) => i.state), ['aborted', 'aborted', 'pending']);
      for (const id of ['pv-a', 'pv-b', 'pv-c']) {
        const inst = fake.instances.get(`eu-west-2/${id}`)!;
        assert.equal(inst.autoMinorVersionUpgrade, false, `${id} flag off`);
        assert.equal(inst.engineVersion, '15.5');
      }
      for (const child of children) {
        const cs = await child.query(campaignStatusQuery);
        assert.equal(cs.state, 'aborted');
        assert.ok(cs.timeline.some((t) => t.step === 'compensated'));
      }
      assert.equal(fake.callsOf('setAutoMinorVersionUpgrade').filter((c) => c.input.instanceId === 'pv-c').length, 0, 'the next wave never started');
    });
  });

  it('pause reaches the running instance (it holds before its flag goes back off) and holds the next wave; resume goes on', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    for (const id of ['pv-a', 'pv-b']) fake.addInstance({ instanceId: id, preferredMaintenanceWindow: 'mon:03:00-mon:03:30' });
    const preview: StageSpec = { name: 'preview', region: 'eu-west-2', instances: ['pv-a', 'pv-b'], method: 'maintenance-window' };
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec([preview]))], taskQueue, workflowId: `fleet-pause-${taskQueue}` });
      const s = await advanceUntil(env, handle, (x) => x.stages[0].fleet?.counts.running === 1, { stepMs: 1000 });
      const child = env.client.workflow.getHandle(fleetOf(s).instances[0].workflowId);
      await advanceUntil(env, child, (x) => x.waitingFor?.kind === 'window', { stepMs: 1000 });
      await handle.executeUpdate(pauseUpdate, { args: [{ by: 'alice', reason: 'look first' }] });
      // AWS upgrades pv-a in its window; its workflow then holds before turning the flag back off.
      const held = await advanceUntil(env, child, (x) => x.state === 'paused');
      const a = fake.instances.get('eu-west-2/pv-a')!;
      assert.equal(a.engineVersion, '15.8');
      assert.equal(a.autoMinorVersionUpgrade, true, 'held before the flag goes back off');
      assert.match(held.waitingFor!.description, /paused before preview/);
      await env.sleep(2 * DAY);
      assert.equal(fake.calls.filter((c) => c.input.instanceId === 'pv-b').length, 0, 'the next wave waits');

      await handle.executeUpdate(resumeUpdate, { args: [{ by: 'alice' }] });
      assert.equal((await handle.result()).state, 'completed');
      for (const id of ['pv-a', 'pv-b']) {
        assert.equal(fake.instances.get(`eu-west-2/${id}`)!.engineVersion, '15.8');
        assert.equal(fake.instances.get(`eu-west-2/${id}`)!.autoMinorVersionUpgrade, false);
      }
    });
  });

  it('production: two window groups opening at the same minute with different ends read differently in the approval, its notification and the status', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fake.addInstance({ instanceId: 'prod-short', preferredMaintenanceWindow: 'wed:22:00-wed:22:30' });
    fake.addInstance({ instanceId: 'prod-long', preferredMaintenanceWindow: 'wed:22:00-wed:23:15' });
    const production: StageSpec = { name: 'production', region: 'eu-west-2', instances: ['prod-short', 'prod-long'], method: 'maintenance-window' };
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec([production]))], taskQueue, workflowId: `fleet-same-start-${taskQueue}` });
      const asking = await advanceUntil(env, handle, (s) => s.waitingFor?.kind === 'approval', { stepMs: 1000 });
      const short = /Wed \S+ 22:00–22:30 UTC \(prod-short\)/;
      const long = /Wed \S+ 22:00–23:15 UTC \(prod-long\)/;
      const ask = asking.waitingFor!.description;
      assert.match(ask, /in 2 window group\(s\)/);
      for (const group of [short, long]) {
        assert.match(ask, group);
        assert.match(fake.notifications.find((n) => n.event === 'approval-needed')!.text, group);
        assert.match(formatCampaignStatus(asking), group);
      }
      const history = await handle.fetchHistory();
      // A new run takes the patch (with every patch of its code, in one marker: shared/patches.ts).
      assert.deepEqual(patchIds(history), [EVERY_PATCH_OF_2026_12_07], 'a new run records the one marker');
      assert.ok(COVERED_BY_ONE_MARKER.includes(WINDOW_GROUP_TEXT_PATCH));
      await handle.executeUpdate(abortUpdate, { args: [{ by: 'alice', reason: 'test done' }] });
      assert.equal((await handle.result()).state, 'aborted');
    });
  });

  it('abort while paged instances are in their windows: each resolves its alerts in PagerDuty, no false "paging failed"', async function () {
    // A server of its own: the abort cancels each instance's window watch between two attempts of its activity, and
    // the time-skipping server can then stop skipping time for every later test (its "ACTIVITY_UNKNOWN" for the
    // attempt in flight).
    const env = await startTimeSkippingServer();
    try {
      const fake = new FakeAws();
      for (const id of ['prod-a', 'prod-b']) fake.addInstance({ instanceId: id, preferredMaintenanceWindow: 'wed:22:00-wed:22:30' });
      // AWS does not upgrade them in this window: each instance's window is paged, then watched.
      for (const id of ['prod-a', 'prod-b']) fake.instances.get(`eu-west-2/${id}`)!.windowsToMiss = 5;
      const production: StageSpec = { name: 'production', region: 'eu-west-2', instances: ['prod-a', 'prod-b'], method: 'maintenance-window' };
      await withWorker(env, fake.activities(), async (taskQueue) => {
        const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec([production]))], taskQueue, workflowId: `fleet-prod-paged-abort-${taskQueue}` });
        const asking = await advanceUntil(env, handle, (s) => s.waitingFor?.kind === 'approval', { stepMs: 1000 });
        await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: asking.waitingFor!.plan }] });
        const running = await advanceUntil(env, handle, (s) => fleetOf(s).counts.running === 2);
        const children = fleetOf(running).instances.map((i) => env.client.workflow.getHandle(i.workflowId));
        for (const child of children) await advanceUntil(env, child, (x) => Boolean(x.stages[0].onCall?.open?.length), { stepMs: 3_600_000 });
        const opened = new Set(fake.pages.filter((p) => p.action === 'trigger').map((p) => p.dedupKey));
        assert.equal(opened.size, 2, 'one alert per instance and window');

        await handle.executeUpdate(abortUpdate, { args: [{ by: 'alice', reason: 'freeze' }] });
        assert.equal((await handle.result()).state, 'aborted');
        const resolved = fake.pages.filter((p) => p.action === 'resolve');
        assert.deepEqual(new Set(resolved.map((p) => p.dedupKey)), opened, 'every alert the instances opened is resolved');
        assert.ok(resolved.every((p) => /aborted/.test(p.summary)));
        assert.deepEqual(fake.notifications.filter((n) => /paging the person on call failed/.test(n.text)), [], 'no false paging failure');
        for (const child of children) {
          const cs = await child.query(campaignStatusQuery);
          assert.equal(cs.state, 'aborted');
          assert.equal(cs.stages[0].onCall?.state, 'resolved');
          assert.equal(cs.stages[0].onCall?.open, undefined);
          assert.deepEqual(patchIds(await child.fetchHistory()), [EVERY_PATCH_OF_2026_12_07, ABORTED_RUN_RESOLVES_PATCH], 'decided when the alert was opened');
        }
      });
    } finally {
      await env.teardown();
    }
  });

  it('production: one approval covers every instance and its window, each window group announced once, pre-checked per instance', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    const now = await env.currentTimeMs();
    fake.addInstance({ instanceId: 'prod-a', preferredMaintenanceWindow: 'wed:22:00-wed:22:30' });
    fake.addInstance({ instanceId: 'prod-b', preferredMaintenanceWindow: 'wed:22:00-wed:22:30' });
    const early = new Date(now + 13 * DAY).toISOString();
    fake.addInstance({ instanceId: 'prod-c', preferredMaintenanceWindow: 'sat:04:00-sat:04:30', pending: [{ action: 'db-upgrade', description: 'Upgrade to PostgreSQL 15.8', forcedApplyDate: early }] });
    fake.addInstance({ instanceId: 'prod-d', preferredMaintenanceWindow: 'sat:04:00-sat:04:30', engineVersion: '15.8', pending: [] });
    const production: StageSpec = { name: 'production', region: 'eu-west-2', instances: ['prod-a', 'prod-b', 'prod-c', 'prod-d'], method: 'maintenance-window' };
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec([production]))], taskQueue, workflowId: `fleet-prod-${taskQueue}` });
      const asking = await advanceUntil(env, handle, (s) => s.waitingFor?.kind === 'approval', { stepMs: 1000 });
      const plan = asking.waitingFor!.plan!;
      assert.match(plan, /^production\|15\.8\|3 instances in 2 windows .*\|sha256:[0-9a-f]{16}$/);
      assert.match(asking.waitingFor!.description, /upgrade 3 instance\(s\) to 15\.8 in 2 window group\(s\): /);
      assert.match(asking.waitingFor!.description, /Wed \S+ 22:00–22:30 UTC \(prod-a, prod-b\)/);
      assert.match(asking.waitingFor!.description, /Sat \S+ 04:00–04:30 UTC \(prod-c\)/);
      const f = fleetOf(asking);
      assert.equal(f.windowGroups!.length, 2);
      // AWS's forced date comes before prod-c's window (any window at least 14 days ahead): flagged for the approvers.
      const c = f.instances.find((i) => i.instanceId === 'prod-c')!;
      assert.match(asking.waitingFor!.description, /FLAGGED 1: prod-c: AWS applies the upgrade itself on/);
      assert.deepEqual(c.flags, [`AWS applies the upgrade itself on ${early}, before this window`]);
      assert.equal(f.instances.find((i) => i.instanceId === 'prod-a')!.flags, undefined);
      assert.equal(f.instances.find((i) => i.instanceId === 'prod-d')!.state, 'skipped');
      assert.equal(fake.mutations().length, 0, 'nothing before approval');

      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan }] });
      const result = await handle.result();
      assert.equal(result.state, 'completed');
      const status = await handle.query(campaignStatusQuery);
      const done = fleetOf(status);
      assert.deepEqual(done.counts, { pending: 0, running: 0, completed: 3, failed: 0, skipped: 1, aborted: 0 });

      // One scheduled maintenance per window group, for exactly that window.
      assert.equal(fake.incidents.size, 2);
      const incidents = [...fake.incidents.values()].sort((a, b) => a.scheduledFor.localeCompare(b.scheduledFor));
      assert.deepEqual(incidents.map((i) => [i.scheduledFor, i.scheduledUntil]), done.windowGroups!.map((g) => [g.start, g.end]));
      assert.deepEqual(done.windowGroups!.map((g) => g.instances), done.windowGroups![0].start.includes('T22:00') ? [2, 1] : [1, 2]);
      assert.ok(done.windowGroups!.every((g) => g.statusPageIncidentId !== undefined));

      // Each instance: pre-check 3 days before its own window, the flag on before it and off after it.
      for (const id of ['prod-a', 'prod-b', 'prod-c']) {
        const r = done.instances.find((i) => i.instanceId === id)!;
        const start = Date.parse(r.window!.start);
        assert.ok(start >= Date.parse(asking.waitingFor!.askedAt!) + 14 * DAY, `${id}: 14 days' notice`);
        const calls = fake.calls.filter((x) => x.input.instanceId === id);
        const precheck = calls.filter((x) => x.name === 'listPendingMaintenance').pop()!;
        assert.ok(Math.abs(precheck.atMs - (start - 3 * DAY)) < 60_000, `${id}: pre-check 3 days before its window`);
        const flags = calls.filter((x) => x.name === 'setAutoMinorVersionUpgrade').map((x) => [x.input.enabled, x.atMs >= start]);
        assert.deepEqual(flags, [[true, false], [false, true]], `${id}: flag around its window`);
        assert.equal(fake.instances.get(`eu-west-2/${id}`)!.engineVersion, '15.8');
      }
    });
  });

  describe('spec', function () {
    it('refuses two of instanceId, instances and select, maxConcurrent on a production stage, and an empty selection', function () {
      assert.throws(
        () =>
          resolveCampaignSpec(
            spec([
              { name: 'preview', region: 'eu-west-2', instanceId: 'a', instances: ['b'], method: 'maintenance-window' },
              { name: 'production', region: 'eu-west-2', instances: ['c', 'c'], method: 'maintenance-window', waves: { maxConcurrent: 3 } },
              { name: 'staging', region: 'eu-west-2', select: {}, method: 'maintenance-window', waves: { order: 'listed' } },
            ]),
          ),
        (err: Error) => {
          assert.match(err.message, /stages\[0\]: give exactly one of instanceId, instances and select; this stage has instanceId and instances/);
          assert.match(err.message, /stages\[1\]\.instances\[1\]: "c" is already listed at stages\[1\]\.instances\[0\]/);
          assert.match(err.message, /stages\[1\]\.waves\.maxConcurrent: a stage that requires approval upgrades each instance in its own maintenance window/);
          assert.match(err.message, /stages\[2\]\.select: needs tags or engineVersion/);
          assert.match(err.message, /stages\[2\]\.waves\.order: "listed" needs `instances`/);
          return true;
        },
      );
    });
  });
});
