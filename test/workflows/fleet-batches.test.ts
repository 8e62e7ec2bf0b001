/**
 * A fleet's waves through batch workflows (src/workflows/campaign/fleet-batch.ts), on the time-skipping server, with
 * `instancesPerWorkflow` small enough that a wave crosses batches: the campaign's history grows per batch, not per
 * instance; pause, abort and status reach every instance through its batch; each instance's own workflow keeps
 * its id (status --instance, the record).
 */
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { abortUpdate, campaignStatusOfQuery, campaignStatusQuery, pauseUpdate, resumeUpdate, type CampaignSpec, type CampaignStatus, type StageSpec } from '../../src/api';
import { findFleetInstance, statusFor, wholeCampaignStatus } from '../../src/cli/fleet-instance';
import { STATUS_LISTS_AT_MOST } from '../../src/domain/fleet-status';
import { resolveCampaignSpec } from '../../src/input';
import { upgradeCampaign } from '../../src/workflows';
import { FakeAws } from '../fixtures/fake-aws';
import { timeSkippingEnv } from '../harness';
import { advanceUntil, withWorker } from './helpers';

const DAY = 86_400_000;

function spec(stages: StageSpec[], overrides: Partial<CampaignSpec> = {}): CampaignSpec {
  return { targetEngineVersion: '15.8', requester: 'alice', stages, pollInterval: '5m', ...overrides };
}

const fleetOf = (s: CampaignStatus) => s.stages[0].fleet!;

/** A workflow's history: its events, how many children it started, and the bytes of their inputs. */
async function eventsOf(client: Client, workflowId: string): Promise<{ total: number; steps: number; childrenStarted: number; childInputBytes: number }> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  // Workflow-task events depend on timing (what completes in the same task); the others are the workflow's own steps.
  const steps = events.filter((e) => !e.workflowTaskScheduledEventAttributes && !e.workflowTaskStartedEventAttributes && !e.workflowTaskCompletedEventAttributes).length;
  const starts = events.flatMap((e) => (e.startChildWorkflowExecutionInitiatedEventAttributes ? [e.startChildWorkflowExecutionInitiatedEventAttributes] : []));
  const childInputBytes = starts.reduce((n, a) => n + (a.input?.payloads ?? []).reduce((m, p) => m + (p.data?.length ?? 0), 0), 0);
  return { total: events.length, steps, childrenStarted: starts.length, childInputBytes };
}

describe('fleet waves through batch workflows (time-skipping)', function () {
  this.timeout(180_000);

  it('a wave of 7 in batches of 3: the campaign starts 3 batches, not 7 instances; every instance upgraded once, found by status and --instance', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    const ids = Array.from({ length: 7 }, (_, i) => `stg-${i}`);
    for (const id of ids) fake.addInstance({ instanceId: id, tags: { environment: 'staging' } });
    const staging: StageSpec = { name: 'staging', region: 'eu-west-2', select: { tags: { environment: 'staging' } }, method: 'apply-now', waves: { maxConcurrent: 7, instancesPerWorkflow: 3 }, probe: { url: 'http://status.example/{instanceId}/_status' } };
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const workflowId = `batches-${taskQueue}`;
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec([staging]))], taskQueue, workflowId });
      const result = await handle.result();
      assert.equal(result.state, 'completed');
      const status = await handle.query(campaignStatusQuery);
      assert.deepEqual(fleetOf(status).counts, { pending: 0, running: 0, completed: 7, failed: 0, skipped: 0, aborted: 0 });
      assert.equal(fake.callsOf('applyUpgradeNow').length, 7, 'each instance upgraded once');

      // The campaign started three batches; the batches started the instances.
      const campaign = await eventsOf(env.client, workflowId);
      assert.equal(campaign.childrenStarted, 3);
      for (const b of [1, 2, 3]) {
        const batch = await eventsOf(env.client, `${workflowId}/staging/wave-1/batch-${b}`);
        assert.equal(batch.childrenStarted, b === 1 ? 3 : 2, `batch ${b} of 3, 2, 2`);
      }
      // Each instance keeps its own workflow, under the id the campaign's status names.
      const found = findFleetInstance(status, 'stg-4');
      const child = await env.client.workflow.getHandle(found.instance.workflowId).query(campaignStatusQuery);
      assert.equal(child.stages[0].instanceId, 'stg-4');
      assert.equal(child.state, 'completed');
      const described = await env.client.workflow.getHandle(found.instance.workflowId).describe();
      assert.equal(described.raw.workflowExecutionInfo?.parentExecution?.workflowId, `${workflowId}/staging/wave-1/batch-2`, 'its batch is its parent');

      // What `--instance` and `--all` ask of a stage too large to list whole, through the workflow's own handler.
      const one = await statusFor(handle, 'EU-WEST-2/stg-4');
      assert.deepEqual(fleetOf(one).instances, [found.instance]);
      assert.deepEqual(fleetOf(one).listed, { which: 'matching', of: 7, fromVersions: ['15.5'] });
      const page = await handle.query(campaignStatusOfQuery, { page: { from: 5, size: 5 } });
      assert.deepEqual(fleetOf(page).instances, fleetOf(status).instances.slice(5));
      assert.deepEqual(fleetOf(page).counts, fleetOf(status).counts);
      await assert.rejects(handle.query(campaignStatusOfQuery, { page: { from: -1, size: 5 } }), /campaign status: page is \{ from, size \}/);
      assert.deepEqual(await handle.query(campaignStatusQuery), status, 'a refused request changes nothing');
    });
  });

  it("the campaign's history grows per batch, not per instance: 20 instances in batches of 10 and of 5 against 20 of 20", async function () {
    const env = await timeSkippingEnv();
    const sizes: Record<number, number> = {};
    const steps: Record<number, number> = {};
    for (const perWorkflow of [20, 10, 5]) {
      const fake = new FakeAws();
      for (let i = 0; i < 20; i++) fake.addInstance({ instanceId: `stg-${i}`, tags: { environment: 'staging' } });
      const staging: StageSpec = { name: 'staging', region: 'eu-west-2', select: { tags: { environment: 'staging' } }, method: 'apply-now', waves: { maxConcurrent: 20, instancesPerWorkflow: perWorkflow }, probe: { url: 'http://status.example/{instanceId}/_status' } };
      await withWorker(env, fake.activities(), async (taskQueue) => {
        const workflowId = `batches-size-${perWorkflow}-${taskQueue}`;
        const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec([staging]))], taskQueue, workflowId });
        assert.equal((await handle.result()).state, 'completed');
        const campaign = await eventsOf(env.client, workflowId);
        sizes[perWorkflow] = campaign.total;
        steps[perWorkflow] = campaign.steps;
        const batch = await eventsOf(env.client, `${workflowId}/staging/wave-1/batch-1`);
        assert.equal(batch.childrenStarted, perWorkflow);
        // The batches' inputs hold the stage once and each instance's own part: a fraction of its whole input.
        const perInstanceInCampaign = campaign.childInputBytes / 20;
        const wholeInput = batch.childInputBytes / perWorkflow;
        assert.ok(perInstanceInCampaign * 2 < wholeInput, `an instance costs the campaign's history ${perInstanceInCampaign} bytes, its own input is ${wholeInput}`);
      });
    }
    // The campaign's own events: a few per batch (start, its progress signals, its end), the same for any instance count.
    // Each batch more is three events of the campaign's own (initiated, started, completed), whatever the timing;
    // the workflow tasks around them vary with it (a test run under load once put two batches' ends in one task).
    assert.deepEqual([steps[10] - steps[20], steps[5] - steps[20]], [3, 9], JSON.stringify(steps));
    assert.ok(sizes[5] - sizes[20] < 80, `4 batches instead of 1 cost the campaign ${sizes[5] - sizes[20]} events: ${JSON.stringify(sizes)}`);
  });

  it("an instance whose workflow cannot be started (its id taken) ends failed, naming why; the threshold asks the team", async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    for (const id of ['stg-0', 'stg-1', 'stg-2']) fake.addInstance({ instanceId: id, tags: { environment: 'staging' } });
    fake.addInstance({ instanceId: 'blocker', preferredMaintenanceWindow: 'wed:22:00-wed:22:30' });
    const staging: StageSpec = { name: 'staging', region: 'eu-west-2', select: { tags: { environment: 'staging' } }, method: 'apply-now', waves: { maxConcurrent: 3, instancesPerWorkflow: 2 }, probe: { url: 'http://status.example/{instanceId}/_status' } };
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const workflowId = `batches-taken-${taskQueue}`;
      // Another run holds stg-0's workflow id (a campaign waiting for its approval).
      const blocker = { name: 'production', region: 'eu-west-2', instanceId: 'blocker', method: 'maintenance-window' } as StageSpec;
      await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec([blocker], { approval: { approvers: ['bob'] } }))], taskQueue, workflowId: `${workflowId}/staging/eu-west-2/stg-0` });
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec([staging]))], taskQueue, workflowId });
      const asked = await advanceUntil(env, handle, (x) => x.waitingFor?.kind === 'decision', { stepMs: 60_000 });
      const stg0 = fleetOf(asked).instances.find((i) => i.instanceId === 'stg-0')!;
      assert.equal(stg0.state, 'failed');
      assert.match(stg0.note ?? '', /its workflow could not be started/);
      assert.deepEqual(fleetOf(asked).instances.filter((i) => i.instanceId !== 'stg-0').map((i) => i.state), ['completed', 'completed']);
      assert.match(asked.waitingFor!.description, /1 instance\(s\) failed/);
      await handle.terminate('test done');
    });
  });

  it('pause reaches instances through their batches (they hold before the flag goes back off); resume goes on', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    for (const id of ['pv-a', 'pv-b', 'pv-c']) fake.addInstance({ instanceId: id, preferredMaintenanceWindow: 'mon:03:00-mon:03:30' });
    const preview: StageSpec = { name: 'preview', region: 'eu-west-2', instances: ['pv-a', 'pv-b', 'pv-c'], method: 'maintenance-window', waves: { maxConcurrent: 3, instancesPerWorkflow: 1 } };
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec([preview]))], taskQueue, workflowId: `batches-pause-${taskQueue}` });
      const s = await advanceUntil(env, handle, (x) => x.stages[0].fleet?.counts.running === 3, { stepMs: 1000 });
      const children = fleetOf(s).instances.map((i) => env.client.workflow.getHandle(i.workflowId));
      for (const child of children) await advanceUntil(env, child, (x) => x.waitingFor?.kind === 'window', { stepMs: 1000 });
      await handle.executeUpdate(pauseUpdate, { args: [{ by: 'alice', reason: 'look first' }] });
      for (const child of children) await advanceUntil(env, child, (x) => x.state === 'paused');
      for (const id of ['pv-a', 'pv-b', 'pv-c']) {
        const inst = fake.instances.get(`eu-west-2/${id}`)!;
        assert.deepEqual([inst.engineVersion, inst.autoMinorVersionUpgrade], ['15.8', true], `${id} upgraded in its window, held before the flag goes back off`);
      }
      await env.sleep(DAY);
      await handle.executeUpdate(resumeUpdate, { args: [{ by: 'alice' }] });
      assert.equal((await handle.result()).state, 'completed');
      for (const id of ['pv-a', 'pv-b', 'pv-c']) assert.equal(fake.instances.get(`eu-west-2/${id}`)!.autoMinorVersionUpgrade, false, `${id} flag back off`);
      assert.deepEqual(fleetOf(await handle.query(campaignStatusQuery)).counts.completed, 3);
    });
  });

  it('a stage of more than 1,000 instances: status and result list those needing attention with the whole counts, --all and --instance reach any instance, pause and abort reach the running ones', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    // A thousand already at the target (skipped at preflight, no workflow of their own) and four to upgrade: the
    // stage lists 1004 instances, past what one answer names, without running a thousand workflows.
    for (let n = 0; n < STATUS_LISTS_AT_MOST; n++) fake.addInstance({ instanceId: `pv-${String(n).padStart(4, '0')}`, tags: { environment: 'preview' }, engineVersion: '15.8', preferredMaintenanceWindow: 'mon:03:00-mon:03:30' });
    for (const id of ['pv-a', 'pv-b', 'pv-c', 'pv-d']) fake.addInstance({ instanceId: id, tags: { environment: 'preview' }, preferredMaintenanceWindow: 'mon:03:00-mon:03:30' });
    const preview: StageSpec = { name: 'preview', region: 'eu-west-2', select: { tags: { environment: 'preview' } }, method: 'maintenance-window', waves: { maxConcurrent: 3, instancesPerWorkflow: 2 } };
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec([preview]))], taskQueue, workflowId: `batches-large-${taskQueue}` });
      const s = await advanceUntil(env, handle, (x) => x.stages[0].fleet?.counts.running === 3, { stepMs: 1000 });
      const f = fleetOf(s);
      assert.deepEqual(f.counts, { pending: 1, running: 3, completed: 0, failed: 0, skipped: 1000, aborted: 0 });
      assert.deepEqual(f.listed, { which: 'attention', of: 1004, fromVersions: ['15.5', '15.8'] });
      assert.deepEqual(f.instances.map((i) => i.state), ['running', 'running', 'running'], 'the running ones, not the thousand skipped');

      // Any instance, listed or not, in one query; every instance page by page.
      const skipped = findFleetInstance(await statusFor(handle, 'eu-west-2/PV-0500'), 'eu-west-2/PV-0500');
      assert.equal(skipped.instance.state, 'skipped');
      assert.equal(findFleetInstance(await statusFor(handle, 'pv-d'), 'pv-d').instance.state, 'pending');
      const whole = fleetOf(await wholeCampaignStatus(handle));
      assert.equal(whole.listed, undefined);
      assert.equal(whole.instances.length, 1004);
      assert.equal(new Set(whole.instances.map((i) => i.instanceId)).size, 1004, 'each instance once');

      const children = f.instances.map((i) => env.client.workflow.getHandle(i.workflowId));
      for (const child of children) await advanceUntil(env, child, (x) => x.waitingFor?.kind === 'window', { stepMs: 1000 });
      await handle.executeUpdate(pauseUpdate, { args: [{ by: 'alice', reason: 'look first' }] });
      for (const child of children) await advanceUntil(env, child, (x) => x.state === 'paused');
      await handle.executeUpdate(abortUpdate, { args: [{ by: 'alice', reason: 'freeze' }] });
      const result = await handle.result();
      assert.equal(result.state, 'aborted');
      const r = result.stages[0].fleet!;
      assert.deepEqual(r.counts, { pending: 1, running: 0, completed: 0, failed: 0, skipped: 1000, aborted: 3 });
      assert.deepEqual(r.instances.map((i) => [i.instanceId, i.state]), f.instances.map((i) => [i.instanceId, 'aborted']), 'the result lists the aborted ones');
      assert.equal(r.listed?.of, 1004);
      for (const child of children) assert.equal((await child.query(campaignStatusQuery)).state, 'aborted');
      assert.equal(fake.callsOf('setAutoMinorVersionUpgrade').filter((c) => c.input.instanceId === 'pv-d').length, 0, 'the next wave never started');
      for (const i of f.instances) assert.equal(fake.instances.get(`eu-west-2/${i.instanceId}`)!.autoMinorVersionUpgrade, false, `${i.instanceId} flag back off`);
    });
  });

  it('abort reaches instances through their batches: each puts its flag back, the next wave never starts, the status says aborted', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    for (const id of ['pv-a', 'pv-b', 'pv-c', 'pv-d']) fake.addInstance({ instanceId: id, preferredMaintenanceWindow: 'mon:03:00-mon:03:30' });
    const preview: StageSpec = { name: 'preview', region: 'eu-west-2', instances: ['pv-a', 'pv-b', 'pv-c', 'pv-d'], method: 'maintenance-window', waves: { maxConcurrent: 3, instancesPerWorkflow: 2 } };
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const workflowId = `batches-abort-${taskQueue}`;
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec([preview]))], taskQueue, workflowId });
      const s = await advanceUntil(env, handle, (x) => x.stages[0].fleet?.counts.running === 3, { stepMs: 1000 });
      const children = fleetOf(s).instances.slice(0, 3).map((i) => env.client.workflow.getHandle(i.workflowId));
      for (const child of children) await advanceUntil(env, child, (x) => x.waitingFor?.kind === 'window', { stepMs: 1000 });
      await handle.executeUpdate(abortUpdate, { args: [{ by: 'alice', reason: 'freeze' }] });
      assert.equal((await handle.result()).state, 'aborted');
      const status = await handle.query(campaignStatusQuery);
      assert.deepEqual(fleetOf(status).instances.map((i) => i.state), ['aborted', 'aborted', 'aborted', 'pending']);
      for (const id of ['pv-a', 'pv-b', 'pv-c']) assert.equal(fake.instances.get(`eu-west-2/${id}`)!.autoMinorVersionUpgrade, false, `${id} flag back off`);
      for (const child of children) assert.equal((await child.query(campaignStatusQuery)).state, 'aborted');
      assert.equal(fake.callsOf('setAutoMinorVersionUpgrade').filter((c) => c.input.instanceId === 'pv-d').length, 0, 'the next wave never started');
      for (const b of [1, 2]) {
        const batch = await env.client.workflow.getHandle(`${workflowId}/preview/wave-1/batch-${b}`).describe();
        assert.equal(batch.status.name, 'COMPLETED', `batch ${b} ended once its instances compensated`);
      }
    });
  });
});
