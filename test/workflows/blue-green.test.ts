/**
 * method blue-green on the time-skipping server: a production stage from the deployment's creation to a
 * verified switchover in its approved window; AWS rolling the switchover back (the team is asked, nothing is
 * retried silently); abort before the switchover (the green copy left in place, as a follow-up); an approval
 * that came too late for its window (asked again); a fleet stage of three instances.
 */
import assert from 'node:assert/strict';
import { abortUpdate, approveUpdate, campaignStatusQuery, decideUpdate, type CampaignSpec, type CampaignStatus, type StageSpec } from '../../src/api';
import { campaignRecord, formatRecord } from '../../src/cli/record';
import { formatCampaignStatus } from '../../src/cli/format';
import { startCampaign } from '../../src/client';
import { assessStage } from '../../src/domain/preflight';
import { resolveCampaignSpec } from '../../src/input';
import { FakeAws } from '../fixtures/fake-aws';
import { timeSkippingEnv } from '../harness';
import { advanceUntil, withWorker } from './helpers';

const DAY = 86_400_000;

const production = (overrides: Partial<StageSpec> = {}): StageSpec => ({
  name: 'production',
  region: 'eu-west-2',
  instanceId: 'notify-production',
  method: 'blue-green',
  blueGreen: { switchoverTimeout: '2m' },
  ...overrides,
});

function spec(stages: StageSpec[], overrides: Partial<CampaignSpec> = {}): CampaignSpec {
  return { targetEngineVersion: '15.8', requester: 'alice', stages, pollInterval: '5m', ...overrides };
}

const waitingFor = (kind: string) => (s: CampaignStatus) => s.waitingFor?.kind === kind;

function world(): FakeAws {
  const fake = new FakeAws();
  fake.addInstance({ instanceId: 'notify-production', preferredMaintenanceWindow: 'wed:22:00-wed:22:30' });
  return fake;
}

describe('method blue-green (time-skipping)', function () {
  this.timeout(180_000);

  it('production: creates the green copy at the target, asks approval naming the window and the deployment, announces, pre-checks, switches over in the window, verifies the original name and endpoint', async function () {
    const env = await timeSkippingEnv();
    const fake = world();
    const endpointBefore = fake.instances.get('eu-west-2/notify-production')!.endpoint.address;
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await startCampaign(env.client, resolveCampaignSpec(spec([production({ probe: { url: 'http://status.example/_status' } })])), { taskQueue, workflowId: `bg-happy-${taskQueue}` });
      const asking = await advanceUntil(env, handle, waitingFor('approval'), { stepMs: 3600_000 });
      // The green copy exists (at the exact target) before anyone is asked; production itself is untouched.
      assert.equal(fake.deployments.size, 1);
      const d = [...fake.deployments.values()][0];
      assert.equal(d.status, 'AVAILABLE');
      assert.equal(d.target, '15.8');
      assert.equal(d.name, 'pg-minor-15-8-notify-production');
      assert.deepEqual(d.tags, { 'rds-orchestrator:campaign': 'pg-minor-15-8' });
      assert.equal(fake.instances.get('eu-west-2/notify-production')!.engineVersion, '15.5');
      assert.ok(asking.waitingFor!.plan!.endsWith(`|blue-green ${d.id}`), asking.waitingFor!.plan);
      assert.match(asking.waitingFor!.description, new RegExp(`by Blue/Green switchover of deployment ${d.id} \\(green notify-production-green-\\w+, available at 15.8\\)`));
      assert.equal(fake.incidents.size, 0, 'no announcement before approval');
      const approvedAtMs = await env.currentTimeMs();
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: asking.waitingFor!.plan }] });

      const result = await handle.result();
      assert.equal(result.state, 'completed', JSON.stringify(result.stages[0]));
      const status = await handle.query(campaignStatusQuery);
      const prod = status.stages[0];
      const windowStart = Date.parse(prod.window!.start);
      assert.ok(windowStart >= approvedAtMs + 14 * DAY && windowStart < approvedAtMs + 21 * DAY, 'the first window at least 14 days after the approval');
      // One announcement for exactly that window; the pre-check 3 days before; the switchover inside the window.
      const incident = [...fake.incidents.values()][0];
      assert.deepEqual([fake.incidents.size, incident.scheduledFor, incident.status], [1, prod.window!.start, 'scheduled']);
      const switchovers = fake.callsOf('switchoverBlueGreenDeployment');
      assert.equal(switchovers.length, 1, 'one switchover');
      assert.ok(switchovers[0].atMs >= windowStart && switchovers[0].atMs < Date.parse(prod.window!.end), 'inside the window');
      assert.equal(switchovers[0].input.timeoutSeconds, 120);
      const precheck = status.timeline.find((t) => t.step === 'precheck-passed');
      assert.ok(precheck, 'pre-checked');
      // The original name and endpoint now run the target; the old blue is kept, renamed.
      const now = fake.instances.get('eu-west-2/notify-production')!;
      assert.deepEqual([now.engineVersion, now.endpoint.address], ['15.8', endpointBefore]);
      assert.equal(fake.instances.get('eu-west-2/notify-production-old1')!.engineVersion, '15.5');
      assert.equal(prod.mechanism, 'blue-green');
      assert.deepEqual([prod.blueGreen!.deploymentId, prod.blueGreen!.status, prod.blueGreen!.oldInstanceId], [d.id, 'SWITCHOVER_COMPLETED', 'notify-production-old1']);
      assert.ok(status.timeline.some((t) => t.step === 'verified'));
      assert.equal(prod.downtimeSeconds, 10, 'the probe measured the switchover');
      // Nothing deleted; the follow-up names what is left, its cost and the commands.
      const followUp = status.followUps.find((f) => f.startsWith('Blue/Green:'))!;
      assert.match(followUp, /old blue instance notify-production-old1 still runs and is billed like notify-production \(db.t4g.medium\) until it is removed/);
      assert.match(followUp, new RegExp(`aws rds delete-blue-green-deployment --region eu-west-2 --blue-green-deployment-identifier ${d.id}\\)`));
      assert.match(followUp, /aws rds delete-db-instance --region eu-west-2 --db-instance-identifier notify-production-old1 --final-db-snapshot-identifier notify-production-old1-final/);
      assert.deepEqual(fake.mutations().map((c) => c.name), ['createBlueGreenDeployment', 'createScheduledMaintenance', 'switchoverBlueGreenDeployment']);
      // The change record lists the deployment (its ARN) and every call made to it; status shows it.
      const record = campaignRecord(handle.workflowId, status, undefined, '');
      assert.deepEqual(record.blueGreen!.map((b) => [b.deploymentId, b.arn, b.oldBlue, b.calls.map((c) => c.action)]), [[d.id, `arn:aws:rds:eu-west-2:123456789012:deployment:${d.id}`, 'notify-production-old1', ['rds:CreateBlueGreenDeployment', 'rds:SwitchoverBlueGreenDeployment']]]);
      assert.match(formatRecord(record), new RegExp(`## Blue/Green deployments\n\n- production eu-west-2/notify-production: ${d.id} \\(arn:aws:rds:eu-west-2:123456789012:deployment:${d.id}\\), SWITCHOVER_COMPLETED`));
      assert.match(formatCampaignStatus(status), new RegExp(`\\[production\\] Blue/Green deployment ${d.id} \\(pg-minor-15-8-notify-production\\): SWITCHOVER_COMPLETED, green notify-production-green-\\w+, old blue notify-production-old1`));
    });
  });

  it('a switchover AWS rolls back asks the team; "continue" asks approval for a new window and switches over there, once', async function () {
    const env = await timeSkippingEnv();
    const fake = world();
    fake.switchoverRollbacks = 1;
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await startCampaign(env.client, resolveCampaignSpec(spec([production()])), { taskQueue, workflowId: `bg-rollback-${taskQueue}` });
      const first = await advanceUntil(env, handle, waitingFor('approval'), { stepMs: 3600_000 });
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: first.waitingFor!.plan }] });
      const asked = await advanceUntil(env, handle, waitingFor('decision'), { stepMs: 6 * 3600_000 });
      assert.match(asked.waitingFor!.question!, /AWS rolled back the switchover of notify-production \(SWITCHOVER_FAILED \(Switchover rolled back: replica lag exceeded the switchover timeout\)\)/);
      assert.equal(fake.callsOf('switchoverBlueGreenDeployment').length, 1, 'not retried silently');
      assert.equal(asked.stages[0].blueGreen!.rolledBack, 1);
      assert.ok(fake.notifications.some((n) => n.event === 'escalation' && /rolled back/.test(n.text)));
      await handle.executeUpdate(decideUpdate, { args: [{ by: 'bob', decision: 'continue', comment: 'replica lag was a batch job; try next window' }] });
      const second = await advanceUntil(env, handle, (s) => waitingFor('approval')(s) && s.waitingFor!.plan !== first.waitingFor!.plan, { stepMs: 3600_000 });
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: second.waitingFor!.plan }] });
      assert.equal((await handle.result()).state, 'completed');
      assert.deepEqual(fake.callsOf('switchoverBlueGreenDeployment').map((c) => c.input.retryAfterFailure), [undefined, true], 'the second only on the team\'s decision');
      assert.equal(fake.callsOf('createBlueGreenDeployment').filter((c) => fake.mutations().includes(c)).length, 1, 'the same deployment, created once');
      assert.equal(fake.instances.get('eu-west-2/notify-production')!.engineVersion, '15.8');
      // The first announcement was for a window that did happen (the rolled-back maintenance); the second is its own.
      assert.equal(fake.incidents.size, 2);
    });
  });

  it('a switchover that leaves a member behind (MISSING_TARGET) asks the team; the old blue is the -old2 the deployment names after an earlier -old1', async function () {
    const env = await timeSkippingEnv();
    const fake = world();
    fake.switchoverMissingTargets = ['notify-production-replica'];
    fake.addInstance({ instanceId: 'notify-production-old1', engineVersion: '15.2', pending: [] });
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await startCampaign(env.client, resolveCampaignSpec(spec([production()])), { taskQueue, workflowId: `bg-stray-${taskQueue}` });
      const asking = await advanceUntil(env, handle, waitingFor('approval'), { stepMs: 3600_000 });
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: asking.waitingFor!.plan }] });
      const asked = await advanceUntil(env, handle, waitingFor('decision'), { stepMs: 6 * 3600_000 });
      assert.match(asked.waitingFor!.question!, /left members behind \(notify-production-replica → \? MISSING_TARGET\): a read replica left so still replicates from the old blue/);
      assert.equal(asked.stages[0].blueGreen!.status, 'SWITCHOVER_COMPLETED');
      await handle.executeUpdate(decideUpdate, { args: [{ by: 'bob', decision: 'continue', comment: 'replica rebuilt by hand' }] });
      assert.equal((await handle.result()).state, 'completed');
      // RDS appends -oldn, the first n free: the follow-up never points at the earlier switchover's -old1.
      const status = await handle.query(campaignStatusQuery);
      assert.equal(status.stages[0].blueGreen!.oldInstanceId, 'notify-production-old2');
      const followUp = status.followUps.find((f) => f.startsWith('Blue/Green:'))!;
      assert.match(followUp, /--db-instance-identifier notify-production-old2 --final-db-snapshot-identifier notify-production-old2-final/);
      assert.doesNotMatch(followUp, /notify-production-old1/);
      assert.equal(fake.instances.get('eu-west-2/notify-production-old1')!.engineVersion, '15.2', 'the earlier old blue is untouched');
    });
  });

  it('RDS refusing the switchover all through the window (an instance not available): retried only until the latest start, then the team is asked', async function () {
    const env = await timeSkippingEnv();
    const fake = world();
    fake.switchoverRefusedUntilMs = Number.MAX_SAFE_INTEGER;
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await startCampaign(env.client, resolveCampaignSpec(spec([production()])), { taskQueue, workflowId: `bg-refused-${taskQueue}` });
      const first = await advanceUntil(env, handle, waitingFor('approval'), { stepMs: 3600_000 });
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: first.waitingFor!.plan }] });
      const asked = await advanceUntil(env, handle, waitingFor('decision'), { stepMs: 6 * 3600_000 });
      const window = asked.stages[0].window!;
      assert.match(asked.waitingFor!.question!, /the window .* passed before notify-production was switched over/);
      const calls = fake.callsOf('switchoverBlueGreenDeployment');
      assert.ok(calls.length > 1, `retried while RDS refused (${calls.length} attempts)`);
      const notAfter = Date.parse(String(calls[0].input.notAfter));
      assert.ok(notAfter < Date.parse(window.end) && notAfter >= Date.parse(window.start), 'the latest start lies in the window, before its end');
      assert.ok(calls.every((c) => c.atMs <= Date.parse(window.end)), 'no attempt after the window');
      assert.equal(asked.stages[0].blueGreen!.status, 'AVAILABLE', 'nothing switched over');
      assert.ok(asked.timeline.some((t) => t.step === 'window-passed' && /was not switched over by/.test(t.detail ?? '')));
      await handle.executeUpdate(abortUpdate, { args: [{ by: 'bob', reason: 'look at the instances first' }] });
      await handle.result().catch(() => undefined);
    });
  });

  it('abort before the switchover leaves the green copy in place as a follow-up and cancels the announcement', async function () {
    const env = await timeSkippingEnv();
    const fake = world();
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await startCampaign(env.client, resolveCampaignSpec(spec([production()])), { taskQueue, workflowId: `bg-abort-${taskQueue}` });
      const asking = await advanceUntil(env, handle, waitingFor('approval'), { stepMs: 3600_000 });
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: asking.waitingFor!.plan }] });
      await advanceUntil(env, handle, waitingFor('precheck'), { stepMs: 3600_000 });
      await handle.executeUpdate(abortUpdate, { args: [{ by: 'alice', reason: 'incident in progress' }] });
      const result = await handle.result();
      assert.equal(result.state, 'aborted');
      const status = await handle.query(campaignStatusQuery);
      const d = [...fake.deployments.values()][0];
      assert.equal(d.status, 'AVAILABLE', 'the deployment is kept');
      assert.ok(fake.instances.has(`eu-west-2/${d.greenId}`), 'the green copy is kept');
      assert.equal(fake.callsOf('switchoverBlueGreenDeployment').length, 0);
      assert.equal([...fake.incidents.values()][0].status, 'completed', 'the announcement is cancelled');
      const followUp = status.followUps.find((f) => f.startsWith('Blue/Green:'))!;
      assert.match(followUp, new RegExp(`its green copy ${d.greenId} still runs and is billed like notify-production`));
      assert.match(followUp, new RegExp(`aws rds delete-blue-green-deployment --region eu-west-2 --blue-green-deployment-identifier ${d.id} --delete-target`));
      assert.ok(status.timeline.some((t) => t.step === 'green-left'));
    });
  });

  it('an approval that comes after its window opened is asked again for the next window', async function () {
    const env = await timeSkippingEnv();
    const fake = world();
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await startCampaign(env.client, resolveCampaignSpec(spec([production()], { approval: { reminderInterval: '7d' } })), { taskQueue, workflowId: `bg-late-${taskQueue}` });
      const first = await advanceUntil(env, handle, waitingFor('approval'), { stepMs: 3600_000 });
      const windowStart = Date.parse(first.stages[0].window!.start);
      // Nobody answers until the proposed window has opened.
      await env.sleep(windowStart - (await env.currentTimeMs()) + 60_000);
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: first.waitingFor!.plan }] });
      const second = await advanceUntil(env, handle, (s) => waitingFor('approval')(s) && s.waitingFor!.plan !== first.waitingFor!.plan, { stepMs: 60_000 });
      assert.ok(second.timeline.some((t) => t.step === 'plan-changed'));
      assert.ok(Date.parse(second.stages[0].window!.start) >= windowStart + 14 * DAY);
      assert.equal(fake.callsOf('switchoverBlueGreenDeployment').length, 0, 'no switchover on the late approval');
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: second.waitingFor!.plan }] });
      assert.equal((await handle.result()).state, 'completed');
      assert.equal(fake.callsOf('switchoverBlueGreenDeployment').length, 1);
    });
  });

  it('a deployment AWS fails to provision (INVALID_CONFIGURATION) asks the team, and abort leaves it as a follow-up', async function () {
    const env = await timeSkippingEnv();
    const fake = world();
    fake.provisioningFails = true;
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await startCampaign(env.client, resolveCampaignSpec(spec([production()])), { taskQueue, workflowId: `bg-provfail-${taskQueue}` });
      const asked = await advanceUntil(env, handle, waitingFor('decision'), { stepMs: 3600_000 });
      assert.match(asked.waitingFor!.question!, /is INVALID_CONFIGURATION \(Creation of blue\/green deployment failed.*\) while it was being provisioned/);
      await handle.executeUpdate(decideUpdate, { args: [{ by: 'bob', decision: 'abort' }] });
      assert.equal((await handle.result()).state, 'aborted');
      assert.ok((await handle.query(campaignStatusQuery)).followUps.some((f) => f.startsWith('Blue/Green:')));
      assert.equal(fake.callsOf('switchoverBlueGreenDeployment').length, 0);
    });
  });

  it('a fleet stage of three instances: one approval by window group, a deployment and a switchover per instance in its window', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    for (const id of ['prod-a', 'prod-b', 'prod-c']) fake.addInstance({ instanceId: id, preferredMaintenanceWindow: id === 'prod-c' ? 'thu:03:00-thu:03:30' : 'wed:22:00-wed:22:30' });
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const stage: StageSpec = { name: 'production', region: 'eu-west-2', instances: ['prod-a', 'prod-b', 'prod-c'], method: 'blue-green' };
      const handle = await startCampaign(env.client, resolveCampaignSpec(spec([stage])), { taskQueue, workflowId: `bg-fleet-${taskQueue}` });
      const asking = await advanceUntil(env, handle, waitingFor('approval'), { stepMs: 3600_000 });
      assert.match(asking.waitingFor!.description, /upgrade 3 instance\(s\) to 15.8 by Blue\/Green switchover \(a deployment per instance at the target, created at its window group's pre-check\) in 2 window group\(s\)/);
      assert.equal(fake.deployments.size, 0, 'nothing created before the approval');
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: asking.waitingFor!.plan }] });
      const result = await handle.result();
      assert.equal(result.state, 'completed', JSON.stringify(result.stages[0].fleet));
      const status = await handle.query(campaignStatusQuery);
      assert.equal(fake.deployments.size, 3);
      assert.equal(fake.callsOf('switchoverBlueGreenDeployment').length, 3);
      for (const id of ['prod-a', 'prod-b', 'prod-c']) {
        assert.equal(fake.instances.get(`eu-west-2/${id}`)!.engineVersion, '15.8', id);
        assert.ok(fake.instances.has(`eu-west-2/${id}-old1`), `${id}'s old blue kept`);
        const window = status.stages[0].fleet!.instances.find((i) => i.instanceId === id)!.window!;
        const at = fake.callsOf('switchoverBlueGreenDeployment').find((c) => [...fake.deployments.values()].find((d) => d.id === c.input.deploymentId)!.name.endsWith(id))!.atMs;
        assert.ok(at >= Date.parse(window.start) && at < Date.parse(window.end), `${id} switched over in its own window`);
      }
      assert.equal(fake.incidents.size, 2, 'one announcement per window group');
      assert.equal(status.followUps.filter((f) => f.startsWith('Blue/Green:')).length, 3, 'each old blue named');

      // The record lists each instance's deployment and its calls, read from the instance's own workflow.
      const children = await Promise.all(
        status.stages[0].fleet!.instances.map(async (i) => ({ stage: 'production', instance: `${i.region}/${i.instanceId}`, status: await env.client.workflow.getHandle(i.workflowId).query(campaignStatusQuery) })),
      );
      const record = campaignRecord(handle.workflowId, status, undefined, '', children);
      assert.deepEqual(record.blueGreen!.map((b) => [b.instance, b.status, b.oldBlue]), ['prod-a', 'prod-b', 'prod-c'].map((id) => [`eu-west-2/${id}`, 'SWITCHOVER_COMPLETED', `${id}-old1`]));
      for (const b of record.blueGreen!) assert.deepEqual(b.calls.map((c) => c.action), ['rds:CreateBlueGreenDeployment', 'rds:SwitchoverBlueGreenDeployment'], b.instance);
      assert.ok(record.changes.some((c) => c.stage === 'production' && c.action === 'rds:SwitchoverBlueGreenDeployment'), "the instances' changes are in the record's changes");
      const text = formatRecord(record);
      for (const id of ['prod-a', 'prod-b', 'prod-c']) assert.match(text, new RegExp(`- production eu-west-2/${id}: bgd-\\w+ .*SWITCHOVER_COMPLETED; green ${id}-green-\\w+; old blue ${id}-old1`));
    });
  });

  it('refuses blueGreen settings on another method, a switchover timeout under AWS\'s 30 s, and "now" on a stage that needs approval', function () {
    assert.throws(
      () => resolveCampaignSpec(spec([production({ method: 'maintenance-window', blueGreen: { switchoverTimeout: '1m' } })])),
      /stages\[0\]\.blueGreen: is for method "blue-green" only/,
    );
    assert.throws(() => resolveCampaignSpec(spec([production({ blueGreen: { switchoverTimeout: '10s' } })])), /stages\[0\]\.blueGreen\.switchoverTimeout: 10s is too short; use at least 30s/);
    assert.throws(() => resolveCampaignSpec(spec([production({ blueGreen: { switchover: 'now' } })])), /stages\[0\]\.blueGreen\.switchover: "now" is for stages without approval/);
    const resolved = resolveCampaignSpec(spec([production({ blueGreen: undefined })]));
    assert.deepEqual(resolved.stages[0].blueGreen, { switchoverTimeoutSeconds: 300, provisioningTimeoutMs: DAY, switchover: 'window' });
  });

  it('preflight refuses an instance whose master password is managed in Secrets Manager, or with a cross-Region read replica (Blue/Green supports neither), naming what to do', function () {
    const stage = resolveCampaignSpec(spec([production()])).stages[0];
    const info = { engine: 'postgres', engineVersion: '15.5', preferredMaintenanceWindow: 'wed:22:00-wed:22:30' };
    const targets = [{ engineVersion: '15.8', isMajorVersionUpgrade: false, autoUpgrade: false }];
    assert.equal(assessStage(stage, info, '15.8', targets).kind, 'ready', 'Blue/Green takes the exact target, not only RDS\'s automatic one');
    const managed = assessStage(stage, { ...info, masterUserSecretArn: 'arn:aws:secretsmanager:eu-west-2:123456789012:secret:rds!db-1' }, '15.8', targets);
    assert.equal(managed.kind, 'problem');
    assert.match((managed as { problems: string[] }).problems[0], /production: notify-production cannot be upgraded by Blue\/Green: its master password is managed in Secrets Manager .* use method maintenance-window or apply-now/);
    // Read replicas in the instance's Region are copied into the green environment; one in another Region is not supported.
    const sameRegion = assessStage(stage, { ...info, readReplicaIds: ['notify-production-replica'] }, '15.8', targets);
    assert.equal(sameRegion.kind, 'ready');
    const crossRegion = assessStage(stage, { ...info, readReplicaIds: ['notify-production-replica', 'arn:aws:rds:eu-west-1:123456789012:db:notify-dr'] }, '15.8', targets);
    assert.equal(crossRegion.kind, 'problem');
    assert.match((crossRegion as { problems: string[] }).problems[0], /notify-production cannot be upgraded by Blue\/Green: it has read replicas in another Region \(arn:aws:rds:eu-west-1:123456789012:db:notify-dr\)/);
    // Its green copy is a read replica: no automated backups, no Blue/Green.
    const noBackups = assessStage(stage, { ...info, backupRetentionPeriodDays: 0 }, '15.8', targets);
    assert.match((noBackups as { problems: string[] }).problems[0], /cannot be upgraded by Blue\/Green: it keeps no automated backups \(BackupRetentionPeriod 0\)/);
    assert.equal(assessStage(stage, { ...info, backupRetentionPeriodDays: 7 }, '15.8', targets).kind, 'ready');
  });
});
