import assert from 'node:assert/strict';
import { resolveRestoreSpec } from '../../src/input';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { abortUpdate, approveUpdate, decideUpdate, restoreStatusQuery, type ResolvedRestoreSpec, type RestoreSpec, type RestoreStatus } from '../../src/api';
import { restoreAndCutover } from '../../src/workflows';
import { FakeAws } from '../fixtures/fake-aws';
import { timeSkippingEnv } from '../harness';
import { failureOf, patchIds, rejected, withWorker } from './helpers';
import { COVERED_BY_ONE_MARKER, EVERY_PATCH_OF_2026_12_07 } from '../../src/workflows/shared/patches';
import { BASTION_CHECKED_PATCH, LEAST_ACCESS_AND_SAFE_CUTOVER_PATCH, NOTIFY_BEFORE_STOP_PATCH } from '../../src/workflows/restore/run';
import { NOTIFY_LOCALLY_PATCH } from '../../src/workflows/shared/people';
import { SIGNED_ACTIONS_PATCH } from '../../src/workflows/shared/identity';

const DAY = 86_400_000;
const REGION = 'eu-west-2';
const ZONE = 'Z0123456789ABCDEFGHIJ';
const RECORD = 'db.notify.example.com';
const SET = 'notify';
const BASTION_SG = 'sg-0123456789abcdef0';
const OLD = 'notify-production.abc.eu-west-2.rds.amazonaws.com';
const NEW = 'notify-restored.abc.eu-west-2.rds.amazonaws.com';
const OWNER_TAG = 'rds-orchestrator:restore-id';
const CUTOVER = { hostedZoneId: ZONE, recordName: RECORD, setIdentifier: SET };

function world(): FakeAws {
  const fake = new FakeAws();
  fake.addInstance({ instanceId: 'notify-production', tags: { environment: 'production' } });
  fake.records.set(`${ZONE}/${RECORD}/${SET}`, { hostedZoneId: ZONE, recordName: RECORD, setIdentifier: SET, weight: 100, ttlSeconds: 300, value: OLD });
  fake.zones.set(ZONE, { hostedZoneId: ZONE, name: 'notify.example.com', privateZone: false, vpcs: [] });
  fake.foreignGroups.set(`123456789012/${BASTION_SG}`, { groupId: BASTION_SG, groupName: 'bastion', vpcId: 'vpc-0fa4e000000000001', ownerId: '123456789012' });
  return fake;
}

function restoreSpec(overrides: Partial<RestoreSpec> = {}): RestoreSpec {
  return {
    requester: 'alice',
    source: { region: REGION, instanceId: 'notify-production' },
    targetInstanceId: 'notify-restored',
    restoreTime: 'latest',
    bastion: { securityGroupId: BASTION_SG },
    pollInterval: '5m',
    ...overrides,
  };
}

function record(fake: FakeAws) {
  return fake.records.get(`${ZONE}/${RECORD}/${SET}`)!;
}

function status(fake: FakeAws, id: string): string {
  return fake.instances.get(`${REGION}/${id}`)!.status;
}

/** Lets server time move on until the status satisfies `pred` (the test server only skips while someone waits). */
async function advanceUntil(env: TestWorkflowEnvironment, handle: WorkflowHandle, pred: (s: RestoreStatus) => boolean, stepMs = 30 * 60_000): Promise<RestoreStatus> {
  let last: RestoreStatus | undefined;
  for (let i = 0; i < 400; i++) {
    last = await handle.query(restoreStatusQuery);
    if (pred(last)) return last;
    await env.sleep(stepMs);
  }
  throw new Error(`restore never reached the expected state; last status: ${JSON.stringify(last, null, 2)}`);
}

const waitingForApproval = (s: RestoreStatus) => s.state === 'waiting-for-approval';



/** Call names with consecutive repeats (polling) collapsed. */
function sequence(names: string[]): string[] {
  return names.filter((n, i) => i === 0 || names[i - 1] !== n);
}

describe('restoreAndCutover (time-skipping)', function () {
  this.timeout(180_000);

  it('restore only: restores the latest time, tags it, lets the bastion in on a group of its own, never touches Route 53', async function () {
    const env = await timeSkippingEnv();
    const fake = world();
    // A dead webhook must not stop a restore.
    fake.failNext('notify', ApplicationFailure.nonRetryable('webhook answered 500', 'WebhookDown'), 100);
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(restoreSpec())], taskQueue, workflowId: `restore-only-${taskQueue}` });
      const result = await handle.result();
      assert.equal(result.state, 'completed');
      assert.equal(result.target.endpoint, NEW);
      assert.equal(result.source.endpoint, OLD);

      const restored = fake.instances.get(`${REGION}/notify-restored`)!;
      assert.equal(restored.status, 'available');
      assert.equal(restored.tags[OWNER_TAG], 'notify-restored', 'owner tag = restoreId (defaults to the target identifier)');
      const restores = fake.callsOf('restoreToPointInTime');
      assert.equal(restores.length, 1);
      const req = restores[0].input as { restoreTime?: string; copySourceSettings: boolean; sourceInstanceId: string };
      assert.equal(req.restoreTime, undefined, 'latest → UseLatestRestorableTime');
      assert.equal(req.copySourceSettings, true);
      assert.equal(req.sourceInstanceId, 'notify-production');

      // Least access: a group created for the restored instance, in the source's VPC, carries the bastion rule;
      // the source's own group (which the restored instance also gets) is not widened.
      const [group] = [...fake.securityGroups.values()];
      assert.deepEqual({ name: group.name, vpc: group.vpcId, owner: group.tags[OWNER_TAG] }, { name: 'rds-restore-notify-restored', vpc: 'vpc-0fa4e000000000001', owner: 'notify-restored' });
      assert.equal(result.target.securityGroupId, group.groupId);
      assert.deepEqual([...fake.ingress], [`${REGION}/${group.groupId}/${BASTION_SG}/5432`]);
      assert.deepEqual(restored.vpcSecurityGroupIds, ['sg-notify-production', group.groupId], "the source's groups plus its own");
      assert.deepEqual((restores[0].input as { extraSecurityGroupIds: string[] }).extraSecurityGroupIds, [group.groupId], 'created with it');
      assert.equal(fake.callsOf('getWeightedCname').length + fake.callsOf('upsertWeightedCname').length, 0, 'no Route 53 calls without cutover');
      assert.deepEqual(record(fake).value, OLD);
      assert.equal(status(fake, 'notify-production'), 'available', 'the source keeps running');
      assert.deepEqual(fake.mutations().map((c) => c.name), ['ensureSecurityGroup', 'allowIngressFromSecurityGroup', 'restoreToPointInTime', 'attachSecurityGroup']);
      assert.ok(result.followUps.some((f) => f.includes(`security group ${group.groupId} (rds-restore-notify-restored`)), 'the follow-ups name the group');

      assert.ok(result.followUps.some((f) => /pg_dump -h notify-restored\.abc/.test(f)));
      assert.ok(result.followUps.some((f) => /Terraform state \(tfmigrate or manually\).*use_latest_restorable_time = true/.test(f)));
      assert.ok(result.followUps.some((f) => /keeps running and costs money/.test(f)));
      assert.ok(result.timeline.some((t) => t.step === 'notification-failed'), 'the failed webhook is in the timeline');
      assert.ok(!result.timeline.some((t) => t.stage === 'cutover'));
    });
  });

  it('restore then cutover: stop old → UPSERT → INSYNC → TTL wait → verify, after a four-eyes approval', async function () {
    const env = await timeSkippingEnv();
    const fake = world();
    fake.instances.get(`${REGION}/notify-production`)!.settings = { preferredBackupWindow: '01:00-01:30', resourceId: 'db-NOTIFYPRODUCTION', iamDatabaseAuthentication: true, performanceInsights: true };
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(restoreSpec({ cutover: CUTOVER }))], taskQueue, workflowId: `cutover-${taskQueue}` });
      const asking = await advanceUntil(env, handle, waitingForApproval);
      assert.equal(asking.waitingFor?.kind, 'approval');
      assert.equal(asking.waitingFor?.plan, `cutover|${RECORD}|${OLD}->${NEW}`);
      assert.equal(asking.target.endpoint, NEW);
      // Nothing of the cutover happens before approval.
      assert.equal(status(fake, 'notify-production'), 'available');
      assert.equal(record(fake).value, OLD);
      assert.equal(fake.callsOf('stopInstance').length + fake.callsOf('upsertWeightedCname').length, 0);

      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: asking.waitingFor!.plan, comment: 'data loss confirmed' }] });
      const result = await handle.result();
      assert.equal(result.state, 'completed');

      assert.deepEqual(record(fake), { hostedZoneId: ZONE, recordName: RECORD, setIdentifier: SET, weight: 100, ttlSeconds: 300, value: NEW });
      assert.equal(status(fake, 'notify-production'), 'stopped');
      assert.equal(status(fake, 'notify-restored'), 'available');
      assert.equal(fake.callsOf('restoreToPointInTime').length, 1, 'exactly one restore');
      const polls = fake.callsOf('waitForInstance').filter((c) => c.input.instanceId === 'notify-restored').length;
      assert.ok(polls > 5, `the waiter polled the restore many times (${polls})`);

      const afterStop = fake.calls.slice(fake.calls.findIndex((c) => c.name === 'stopInstance')).map((c) => c.name).filter((n) => n !== 'notify');
      assert.deepEqual(sequence(afterStop), ['stopInstance', 'waitForInstance', 'upsertWeightedCname', 'waitForChangeInsync', 'getWeightedCname', 'testDnsAnswer']);
      assert.deepEqual(result.cutover?.zone, 'public');
      assert.match(result.cutover!.verified!.join('\n'), /Route 53 lists db\.notify\.example\.com \[notify\] → notify-restored[\s\S]*TestDNSAnswer: notify-restored/);
      const insync = fake.callsOf('waitForChangeInsync').pop()!;
      const verify = fake.callsOf('testDnsAnswer').pop()!;
      assert.ok(verify.atMs - insync.atMs >= 300_000, 'verification only after the old TTL had passed');
      const steps = result.timeline.map((t) => t.step);
      for (const [a, b] of [['approved', 'old-instance-stopped'], ['old-instance-stopped', 'cname-insync'], ['cname-insync', 'waiting-for-ttl'], ['waiting-for-ttl', 'dns-verified']]) {
        assert.ok(steps.indexOf(a) < steps.indexOf(b), `${a} before ${b}`);
      }

      assert.deepEqual(result.approvals.map((a) => [a.by, a.stage, a.valid]), [['bob', 'cutover', true]]);
      assert.ok(result.humanActions.some((h) => h.by === 'bob' && h.action === 'approve' && h.comment === 'data loss confirmed'));
      assert.ok(result.followUps.some((f) => /tfmigrate/.test(f)));
      assert.ok(result.followUps.some((f) => /rds_route53.*module\.rds_restore\.host.*security_group_ids/.test(f)));
      assert.ok(result.followUps.some((f) => /notify-production is stopped, not deleted.*7 days/.test(f)));
      // What the restore did not carry over to what is now the production instance.
      assert.ok(
        result.followUps.some((f) =>
          /notify-restored has the maintenance window sat:23:10-sat:23:40 and backup window 04:10-04:40 RDS chose for it, not notify-production's \(tue:02:00-tue:02:30, 01:00-01:30\).*--preferred-maintenance-window tue:02:00-tue:02:30 --preferred-backup-window 01:00-01:30/.test(f),
        ),
      );
      assert.ok(result.followUps.some((f) => /IAM authentication tokens are refused by notify-restored until .*rds-db:connect on its resource id db-NOTIFY-RESTORED.*dbuser:db-NOTIFYPRODUCTION/.test(f)));
      assert.ok(result.followUps.some((f) => /notify-restored runs without Performance Insights, which notify-production had/.test(f)));
      assert.equal(result.rollback, undefined);
      const events = new Set(fake.notifications.map((n) => n.event));
      for (const e of ['stage-completed', 'approval-needed', 'completed']) assert.ok(events.has(e as never), `notified ${e}`);
    });
  });

  it('a switch whose answer was lost: the retry finds the record in place (perhaps still PENDING) and waits for its INSYNC before the TTL wait', async function () {
    const env = await timeSkippingEnv();
    const fake = world();
    fake.loseAnswerOfNext('upsertWeightedCname');
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(restoreSpec({ cutover: CUTOVER }))], taskQueue, workflowId: `lost-switch-${taskQueue}` });
      const asking = await advanceUntil(env, handle, waitingForApproval);
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: asking.waitingFor!.plan }] });
      const result = await handle.result();
      assert.equal(result.state, 'completed');
      assert.equal(fake.callsOf('upsertWeightedCname').length, 2, 'sent, answer lost; sent again');
      assert.deepEqual([...new Set(fake.callsOf('waitForChangeInsync').map((c) => c.input.changeId))], ['C2'], 'waited for the change the retry got');
      const steps = result.timeline.map((t) => t.step);
      assert.ok(steps.indexOf('cname-insync') >= 0 && steps.indexOf('cname-insync') < steps.indexOf('waiting-for-ttl'), steps.join(' '));
    });
  });

  it('with cutover.database the verification connects through the CNAME and checks that the restored instance\'s server answers', async function () {
    const env = await timeSkippingEnv();
    const fake = world();
    const database = { name: 'notify', password: 'master-secret' as const };
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(restoreSpec({ cutover: { ...CUTOVER, database } }))], taskQueue, workflowId: `cutover-data-${taskQueue}` });
      const asking = await advanceUntil(env, handle, waitingForApproval);
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: asking.waitingFor!.plan }] });
      const result = await handle.result();
      assert.equal(result.state, 'completed');
      const asked = fake.callsOf('describeDatabase').map((c) => c.input as { host?: string; target: { instanceId: string; access: { database: string } } });
      assert.deepEqual(asked.map((a) => [a.target.instanceId, a.host, a.target.access.database]), [['notify-restored', undefined, 'notify'], ['notify-restored', RECORD, 'notify']]);
      assert.match(result.cutover!.verified!.at(-1)!, new RegExp(`connected through ${RECORD.replace(/\./g, '\\.')}: database notify of notify-restored answers \\(server ${NEW.replace(/\./g, '\\.')}:5432`));
    });
  });

  it('with cutover.database, a CNAME that leads to another server fails the verification after the switch, and the team decides', async function () {
    const env = await timeSkippingEnv();
    const fake = world();
    fake.addInstance({ instanceId: 'notify-other', endpoint: { address: 'notify-other.abc.eu-west-2.rds.amazonaws.com', port: 5432 } });
    fake.dataPathLeadsTo = 'notify-other.abc.eu-west-2.rds.amazonaws.com';
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(restoreSpec({ cutover: { ...CUTOVER, database: { name: 'notify', password: 'master-secret' } } }))], taskQueue, workflowId: `cutover-data-wrong-${taskQueue}` });
      const asking = await advanceUntil(env, handle, waitingForApproval);
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: asking.waitingFor!.plan }] });
      const deciding = await advanceUntil(env, handle, (s) => s.state === 'waiting-for-decision');
      assert.match(deciding.waitingFor!.description, /answered from notify-other\.abc\.eu-west-2\.rds\.amazonaws\.com:5432 .*not from notify-restored/);
      await handle.executeUpdate(decideUpdate, { args: [{ by: 'bob', decision: 'keep', comment: 'the proxy is ours' }] });
      assert.equal((await handle.result()).state, 'completed');
    });
  });

  it('approval: the requester and people off the approver list are refused; reminders repeat while waiting', async function () {
    const env = await timeSkippingEnv();
    const fake = world();
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const spec = restoreSpec({ cutover: { ...CUTOVER, approvers: ['bob', 'erin'] } });
      const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(spec)], taskQueue, workflowId: `approvers-${taskQueue}` });
      const asking = await advanceUntil(env, handle, waitingForApproval);
      await rejected(handle.executeUpdate(approveUpdate, { args: [{ by: 'alice' }] }), /requested this change and cannot approve/);
      await rejected(handle.executeUpdate(approveUpdate, { args: [{ by: 'mallory' }] }), /not on the approver list \(bob, erin\)/);
      await rejected(handle.executeUpdate(approveUpdate, { args: [{ by: '' }] }), /--as NAME/);
      await rejected(handle.executeUpdate(approveUpdate, { args: [{ by: 'erin', plan: `cutover|${RECORD}|${OLD}->elsewhere` }] }), /plan changed/);
      await env.sleep(2 * DAY + 60_000);
      assert.ok(fake.notifications.filter((n) => n.event === 'reminder').length >= 2, 'a reminder a day');
      assert.equal((await handle.query(restoreStatusQuery)).state, 'waiting-for-approval');
      assert.equal(fake.callsOf('stopInstance').length, 0);
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'Erin', plan: asking.waitingFor!.plan }] });
      const result = await handle.result();
      assert.equal(result.state, 'completed');
      assert.deepEqual(result.humanActions.map((h) => `${h.action}:${h.by}`), ['approve:Erin']);
      // A closed restore takes no more updates.
      await assert.rejects(handle.executeUpdate(abortUpdate, { args: [{ by: 'bob' }] }));
    });
  });

  it('lowers the TTL first, before asking, and keeps the lowered TTL on the switched record', async function () {
    const env = await timeSkippingEnv();
    const fake = world();
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const spec = restoreSpec({ cutover: { ...CUTOVER, lowerTtlFirstTo: 60 } });
      const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(spec)], taskQueue, workflowId: `ttl-${taskQueue}` });
      const asking = await advanceUntil(env, handle, waitingForApproval);
      assert.deepEqual({ value: record(fake).value, ttl: record(fake).ttlSeconds }, { value: OLD, ttl: 60 }, 'TTL lowered, value unchanged');
      assert.ok(asking.timeline.some((t) => t.step === 'ttl-lowered-insync'), 'the lowered TTL was INSYNC before the approval request');
      assert.equal(fake.callsOf('stopInstance').length, 0);

      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] });
      const result = await handle.result();
      assert.equal(result.state, 'completed');
      assert.deepEqual({ value: record(fake).value, ttl: record(fake).ttlSeconds, weight: record(fake).weight }, { value: NEW, ttl: 60, weight: 100 });
      assert.deepEqual(fake.callsOf('upsertWeightedCname').map((c) => [(c.input.record as { value: string }).value, (c.input.record as { ttlSeconds: number }).ttlSeconds]), [[OLD, 60], [NEW, 60]]);
      assert.ok(result.followUps.some((f) => /lowered TTL of 60s; set it back to the original 300s/.test(f)));
      assert.equal(status(fake, 'notify-production'), 'stopped');
    });
  });

  it('abort before the cutover: TTL restored, old instance untouched, restored instance kept', async function () {
    const env = await timeSkippingEnv();
    const fake = world();
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const spec = restoreSpec({ cutover: { ...CUTOVER, lowerTtlFirstTo: 60 } });
      const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(spec)], taskQueue, workflowId: `abort-${taskQueue}` });
      await advanceUntil(env, handle, waitingForApproval);
      await rejected(handle.executeUpdate(abortUpdate, { args: [{ by: ' ' }] }), /--as NAME/);
      assert.match(await handle.executeUpdate(abortUpdate, { args: [{ by: 'carol', reason: 'pg_dump was enough' }] }), /restored instance is kept/);
      const result = await handle.result();
      assert.equal(result.state, 'aborted');
      assert.deepEqual({ value: record(fake).value, ttl: record(fake).ttlSeconds }, { value: OLD, ttl: 300 }, 'TTL back to the original');
      assert.equal(status(fake, 'notify-production'), 'available');
      assert.equal(status(fake, 'notify-restored'), 'available', 'the restored instance is kept');
      assert.equal(fake.callsOf('stopInstance').length + fake.callsOf('startInstance').length, 0);
      assert.ok(result.followUps.some((f) => /notify-restored is kept, never deleted/.test(f)));
      assert.ok(result.humanActions.some((h) => h.by === 'carol' && h.action === 'abort' && h.comment === 'pg_dump was enough'));
      assert.ok(fake.notifications.some((n) => n.event === 'aborted'));
      await assert.rejects(handle.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] }));
    });
  });

  it('abort while the restore is still running keeps the new instance and says so', async function () {
    const env = await timeSkippingEnv();
    const fake = world();
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(restoreSpec({ cutover: CUTOVER }))], taskQueue, workflowId: `abort-restoring-${taskQueue}` });
      const restoring = await advanceUntil(env, handle, (s) => s.state === 'restoring' && s.waitingFor?.kind === 'aws', 60_000);
      assert.match(restoring.waitingFor!.description, /notify-restored to become available/);
      await handle.executeUpdate(abortUpdate, { args: [{ by: 'alice', reason: 'wrong restore time' }] });
      const result = await handle.result();
      assert.equal(result.state, 'aborted');
      assert.equal(result.rollback, undefined, 'nothing to roll back');
      assert.ok(fake.instances.has(`${REGION}/notify-restored`), 'the restore is not deleted');
      assert.ok(result.followUps.some((f) => /notify-restored is kept, never deleted.*costs money/.test(f)));
      assert.deepEqual(fake.mutations().map((c) => c.name), ['ensureSecurityGroup', 'allowIngressFromSecurityGroup', 'restoreToPointInTime']);
      assert.equal(record(fake).value, OLD);
    });
  });

  it('a restore RDS ends in restore-error fails at its next poll (not at the day\'s deadline), before any cutover step, keeping the instance', async function () {
    const env = await timeSkippingEnv();
    const fake = world();
    fake.restoreEndsIn = 'restore-error';
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(restoreSpec({ cutover: CUTOVER }))], taskQueue, workflowId: `restore-error-${taskQueue}` });
      const failure = await failureOf(handle.result());
      assert.equal(failure.type, 'InstanceStuck');
      assert.equal(failure.nonRetryable, true);
      assert.match(failure.message, /notify-restored in eu-west-2 is restore-error, which RDS does not leave by itself, so it will not become available: the restore failed; read the instance's RDS events for why, then restore into another identifier/);
      const s = await handle.query(restoreStatusQuery);
      assert.equal(s.state, 'failed');
      // Polled through the 3 hours the restore took (backing off from 1 s to the 5 minutes' interval), then once
      // more: not every 5 minutes until the day's deadline (288 polls).
      const polls = fake.callsOf('waitForInstance').length;
      assert.ok(polls < 60, `${polls} polls`);
      assert.ok(s.followUps.some((f) => /notify-restored is kept, never deleted/.test(f)), 'the failed instance is kept for its RDS events');
      assert.deepEqual(fake.mutations().map((c) => c.name), ['ensureSecurityGroup', 'allowIngressFromSecurityGroup', 'restoreToPointInTime']);
      assert.equal(status(fake, 'notify-production'), 'available', 'the old instance was never stopped');
      assert.equal(record(fake).value, OLD);
    });
  });

  it('new runs take the patched path: the outage is announced right before the old instance stops (patch marker recorded)', async function () {
    const env = await timeSkippingEnv();
    const fake = world();
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const spec = restoreSpec({ cutover: { ...CUTOVER, lowerTtlFirstTo: 60 } });
      const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(spec)], taskQueue, workflowId: `patched-${taskQueue}` });
      await advanceUntil(env, handle, waitingForApproval);
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] });
      const result = await handle.result();
      assert.equal(result.state, 'completed');

      const names = fake.calls.map((c) => c.name);
      const stop = names.indexOf('stopInstance');
      const announce = fake.calls.findIndex((c) => c.name === 'notify' && /cutover starting now/.test((c.input as { text: string }).text));
      assert.ok(announce >= 0 && announce < stop, `the announcement comes before stopInstance: ${names.join(', ')}`);
      const n = fake.notifications.find((x) => /cutover starting now/.test(x.text))!;
      assert.equal(n.event, 'stage-started');
      assert.match(n.text, new RegExp(`stopping notify-production; .* until ${RECORD.replace(/\./g, '\\.')} points at ${NEW.replace(/\./g, '\\.')} .*TTL 60s, lowered from 300s`));
      const steps = result.timeline.map((t) => t.step);
      assert.ok(steps.indexOf('approved') < steps.indexOf('cutover-announced') && steps.indexOf('cutover-announced') < steps.indexOf('old-instance-stopping'));

      const history = await handle.fetchHistory();
      // The five patches the restore takes (notify before stop, safe cutover, signed actions, notifications as local
      // activities, the bastion account checked), in one marker (shared/patches.ts).
      assert.deepEqual(patchIds(history), [EVERY_PATCH_OF_2026_12_07], 'one patch marker');
      for (const id of [NOTIFY_BEFORE_STOP_PATCH, LEAST_ACCESS_AND_SAFE_CUTOVER_PATCH, BASTION_CHECKED_PATCH, NOTIFY_LOCALLY_PATCH, SIGNED_ACTIONS_PATCH]) assert.ok(COVERED_BY_ONE_MARKER.includes(id), id);
    });
  });

  describe('a failed cutover', function () {
    async function approved(env: TestWorkflowEnvironment, fake: FakeAws, taskQueue: string, spec = resolveRestoreSpec(restoreSpec({ cutover: CUTOVER }))): Promise<WorkflowHandle<typeof restoreAndCutover>> {
      const handle = await env.client.workflow.start(restoreAndCutover, { args: [spec], taskQueue, workflowId: `failed-cutover-${taskQueue}` });
      await advanceUntil(env, handle, waitingForApproval);
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] });
      return handle;
    }

    // Before the CNAME change nothing can have been written to the restored instance: roll back on its own.
    const beforeSwitch: { name: string; setup: (fake: FakeAws) => void; reason: RegExp }[] = [
      {
        name: 'stopping the old instance fails',
        setup: (f) => f.failNext('stopInstance', ApplicationFailure.nonRetryable('not authorized to perform rds:StopDBInstance', 'Unauthorized')),
        reason: /rds:StopDBInstance/,
      },
      {
        name: 'the UPSERT fails and the record still points at the old instance',
        setup: (f) => f.failNext('upsertWeightedCname', ApplicationFailure.nonRetryable('not authorized to perform route53:ChangeResourceRecordSets', 'Unauthorized')),
        reason: /ChangeResourceRecordSets/,
      },
    ];
    for (const c of beforeSwitch) {
      it(`${c.name}: rolled back at once (old instance running), nothing stranded`, async function () {
        const env = await timeSkippingEnv();
        const fake = world();
        c.setup(fake);
        await withWorker(env, fake.activities(), async (taskQueue) => {
          const handle = await approved(env, fake, taskQueue);
          const result = await handle.result();
          assert.equal(result.state, 'rolled-back');
          assert.match(result.rollback!.reason, c.reason);
          assert.equal(result.rollback!.stranded, undefined, 'no write reached the restored instance');
          assert.ok(result.rollback!.steps.some((s) => /start notify-production again/.test(s)));
          assert.ok(!result.rollback!.steps.some((s) => s.startsWith('FAILED')));
          assert.ok(!result.humanActions.some((h) => h.action === 'decide'), 'nobody was asked');
          assert.deepEqual({ value: record(fake).value, ttl: record(fake).ttlSeconds }, { value: OLD, ttl: 300 });
          assert.equal(status(fake, 'notify-production'), 'available', 'old instance serves again');
          assert.equal(status(fake, 'notify-restored'), 'available', 'restored instance kept');
          const failed = fake.notifications.filter((n) => n.event === 'failed');
          assert.equal(failed.length, 1);
          assert.match(failed[0].text, /rolled back/);
          assert.ok(result.followUps.some((f) => /same restoreId/.test(f)));
        });
      });
    }

    // RDS refuses StopDBInstance unless the instance is available: the stop is never sent, and nothing starts it again.
    const refusedStops: { name: string; status: string; replicas?: string[]; reason: RegExp; type: string }[] = [
      { name: 'incompatible-network', status: 'incompatible-network', type: 'InstanceStuck', reason: /notify-production in eu-west-2 is incompatible-network, which RDS does not leave by itself, so it will not become stopped: .*fix its subnets, then start the instance/ },
      { name: 'backing-up', status: 'backing-up', type: 'InvalidState', reason: /notify-production in eu-west-2 is backing-up; it can be stopped once available/ },
      { name: 'given a read replica while the approval waited', status: 'available', replicas: ['notify-ro'], type: 'InvalidState', reason: /notify-production in eu-west-2 cannot be stopped: it has read replicas \(notify-ro\)/ },
    ];
    for (const c of refusedStops) {
      it(`the old instance ${c.name} when it is to be stopped: rolled back without starting it (${c.type}), nothing to do by hand`, async function () {
        const env = await timeSkippingEnv();
        const fake = world();
        await withWorker(env, fake.activities(), async (taskQueue) => {
          const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(restoreSpec({ cutover: CUTOVER }))], taskQueue, workflowId: `refused-stop-${taskQueue}` });
          const asking = await advanceUntil(env, handle, waitingForApproval);
          Object.assign(fake.instances.get(`${REGION}/notify-production`)!, { status: c.status, ...(c.replicas ? { readReplicaIds: c.replicas } : {}) });
          await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: asking.waitingFor!.plan }] });
          const result = await handle.result();
          assert.equal(result.state, 'rolled-back');
          assert.match(result.rollback!.reason, c.reason);
          assert.ok(!result.rollback!.steps.some((s) => s.startsWith('FAILED')), result.rollback!.steps.join('; '));
          assert.equal(fake.callsOf('startInstance').length, 0, 'an instance that was never stopped is not started');
          assert.equal(fake.callsOf('upsertWeightedCname').length, 0);
          assert.equal(status(fake, 'notify-production'), c.status, 'left as RDS has it');
          assert.ok(result.timeline.some((t) => t.step === 'old-instance-not-stopped'));
          assert.ok(result.followUps.some((f) => /notify-production was never stopped \(RDS refused to stop it\) and db\.notify\.example\.com points at it/.test(f)), result.followUps.join('\n'));
          const failed = fake.notifications.filter((n) => n.event === 'failed');
          assert.equal(failed.length, 1);
          assert.match(failed[0].text, /rolled back: .*which was never stopped/);
        });
      });
    }

    it('a record someone else changed while the approval waited: fails before any change, and leaves their record alone', async function () {
      const env = await timeSkippingEnv();
      const fake = world();
      await withWorker(env, fake.activities(), async (taskQueue) => {
        const spec = restoreSpec({ cutover: { ...CUTOVER, lowerTtlFirstTo: 60 } });
        const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(spec)], taskQueue, workflowId: `changed-${taskQueue}` });
        await advanceUntil(env, handle, waitingForApproval);
        Object.assign(record(fake), { value: 'someone-else.example.com', ttlSeconds: 30 });
        await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] });
        const failure = await failureOf(handle.result());
        assert.equal(failure.type, 'InvalidState');
        assert.match(failure.message, /changed while the cutover waited for approval: it was notify-production\..* \(TTL 60s\) and is now someone-else\.example\.com \(TTL 30s\)/);
        assert.deepEqual({ value: record(fake).value, ttl: record(fake).ttlSeconds }, { value: 'someone-else.example.com', ttl: 30 }, 'their record, untouched');
        assert.equal(fake.callsOf('stopInstance').length, 0);
        assert.equal(status(fake, 'notify-production'), 'available');
      });
    });

    it('after the switch (never INSYNC) it asks the team; "roll-back" strands the writes and says since when', async function () {
      const env = await timeSkippingEnv();
      const fake = world();
      fake.nextChangeInsyncDelaysMs = [Infinity];
      await withWorker(env, fake.activities(), async (taskQueue) => {
        const handle = await approved(env, fake, taskQueue);
        const asking = await advanceUntil(env, handle, (s) => s.state === 'waiting-for-decision', 5 * 60_000);
        assert.equal(asking.waitingFor?.kind, 'decision');
        assert.match(asking.waitingFor!.question!, /not INSYNC within[\s\S]*may have written to notify-restored since [0-9T:.-]+Z[\s\S]*Keep it[\s\S]*roll back/);
        assert.ok(asking.cutover?.switchedAt, 'the switch time is shown');
        assert.equal(record(fake).value, NEW, 'nothing rolled back while asking');
        assert.equal(status(fake, 'notify-production'), 'stopped');
        assert.ok(fake.notifications.some((n) => n.event === 'decision-needed' && /restore decide .* --keep\|--roll-back/.test(n.text)));
        await rejected(handle.executeUpdate(decideUpdate, { args: [{ by: 'bob', decision: 'continue' }] }), /"keep" or "roll-back"/);
        assert.match(await handle.executeUpdate(decideUpdate, { args: [{ by: 'bob', decision: 'roll-back', comment: 'too risky' }] }), /stay on it/);

        const result = await handle.result();
        assert.equal(result.state, 'rolled-back');
        assert.equal(record(fake).value, OLD);
        assert.equal(status(fake, 'notify-production'), 'available');
        assert.deepEqual(fake.callsOf('upsertWeightedCname').map((u) => (u.input.record as { value: string }).value), [NEW, OLD]);
        const stranded = result.rollback!.stranded!;
        assert.equal(stranded.instanceId, 'notify-restored');
        assert.equal(stranded.from, asking.cutover!.switchedAt);
        assert.ok(Date.parse(stranded.to) > Date.parse(stranded.from));
        assert.ok(result.followUps.some((f) => f.includes(`writes the applications made to notify-restored between ${stranded.from} and ${stranded.to}`)));
        assert.ok(result.humanActions.some((h) => h.by === 'bob' && h.action === 'decide' && h.detail === 'roll-back'));
        assert.match(fake.notifications.filter((n) => n.event === 'failed').pop()!.text, /rolled back[\s\S]*stay on it/);
      });
    });

    it('after the switch (wrong DNS answer) "keep" completes on the restored instance and records who kept it', async function () {
      const env = await timeSkippingEnv();
      const fake = world();
      fake.dnsAnswerOverride = ['somewhere-else.example.com'];
      await withWorker(env, fake.activities(), async (taskQueue) => {
        const handle = await approved(env, fake, taskQueue);
        const asking = await advanceUntil(env, handle, (s) => s.state === 'waiting-for-decision', 5 * 60_000);
        assert.match(asking.waitingFor!.question!, /TestDNSAnswer gave NOERROR \["somewhere-else\.example\.com"\]/);
        await rejected(handle.executeUpdate(decideUpdate, { args: [{ by: ' ', decision: 'keep' }] }), /--as NAME/);
        await handle.executeUpdate(decideUpdate, { args: [{ by: 'carol', decision: 'keep', comment: 'resolver cache, checked by hand' }] });
        const result = await handle.result();
        assert.equal(result.state, 'completed');
        assert.equal(result.rollback, undefined);
        assert.equal(record(fake).value, NEW);
        assert.equal(status(fake, 'notify-production'), 'stopped');
        assert.ok(result.followUps.some((f) => /verification failed .*carol decided to keep db\.notify\.example\.com on notify-restored/.test(f)));
        assert.equal(fake.callsOf('startInstance').length, 0);
      });
    });

    it('after the switch, abort while asked is a roll-back', async function () {
      const env = await timeSkippingEnv();
      const fake = world();
      fake.dnsAnswerOverride = ['somewhere-else.example.com'];
      await withWorker(env, fake.activities(), async (taskQueue) => {
        const handle = await approved(env, fake, taskQueue);
        await advanceUntil(env, handle, (s) => s.state === 'waiting-for-decision', 5 * 60_000);
        await handle.executeUpdate(abortUpdate, { args: [{ by: 'dave', reason: 'stop now' }] });
        const result = await handle.result();
        assert.equal(result.state, 'aborted');
        assert.equal(record(fake).value, OLD);
        assert.equal(status(fake, 'notify-production'), 'available');
        assert.ok(result.rollback?.stranded, 'the stranded writes are recorded');
      });
    });

    it('a rollback that fails too fails the workflow and says what to do by hand', async function () {
      const env = await timeSkippingEnv();
      const fake = world();
      fake.failNext('upsertWeightedCname', ApplicationFailure.nonRetryable('Route 53 is refusing changes', 'Unauthorized'), 2);
      await withWorker(env, fake.activities(), async (taskQueue) => {
        const handle = await approved(env, fake, taskQueue);
        const failure = await failureOf(handle.result());
        assert.equal(failure.type, 'RollbackFailed');
        assert.equal(failure.nonRetryable, true);
        assert.match(failure.message, /aws route53 change-resource-record-sets --hosted-zone-id Z0123456789ABCDEFGHIJ/);
        const s = await handle.query(restoreStatusQuery);
        assert.equal(s.state, 'failed');
        assert.match(s.followUps[0], new RegExp(`Rollback failed, do this by hand: point ${RECORD} .* at ${OLD} with TTL 300s`));
        // The other compensation still ran.
        assert.equal(status(fake, 'notify-production'), 'available');
        assert.ok(s.rollback!.steps.some((st) => st.startsWith('FAILED')));
      });
    });
  });

  describe('a private hosted zone (TestDNSAnswer "only supports querying public hosted zones")', function () {
    function privateWorld(): FakeAws {
      const fake = world();
      fake.zones.set(ZONE, { hostedZoneId: ZONE, name: 'notify.internal', privateZone: true, vpcs: [{ region: REGION, vpcId: 'vpc-0fa4e000000000001' }] });
      return fake;
    }

    it('without resolvers: verified by INSYNC and the record, never by TestDNSAnswer, and says what was not checked', async function () {
      const env = await timeSkippingEnv();
      const fake = privateWorld();
      await withWorker(env, fake.activities(), async (taskQueue) => {
        const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(restoreSpec({ cutover: CUTOVER }))], taskQueue, workflowId: `private-${taskQueue}` });
        const asking = await advanceUntil(env, handle, waitingForApproval);
        assert.equal(asking.cutover?.zone, 'private');
        await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] });
        const result = await handle.result();
        assert.equal(result.state, 'completed');
        assert.equal(fake.callsOf('testDnsAnswer').length, 0);
        assert.equal(fake.callsOf('lookupCname').length, 0);
        const verified = result.cutover!.verified!.join('\n');
        assert.match(verified, /change INSYNC at/);
        assert.match(verified, /Route 53 lists db\.notify\.example\.com \[notify\] → notify-restored/);
        assert.match(verified, /no DNS lookup \(private zone notify\.internal; give cutover\.resolvers/);
      });
    });

    it('with resolvers: a real lookup there must answer the restored endpoint; a stale answer asks the team', async function () {
      const env = await timeSkippingEnv();
      const fake = privateWorld();
      await withWorker(env, fake.activities(), async (taskQueue) => {
        const spec = restoreSpec({ cutover: { ...CUTOVER, resolvers: ['10.0.0.2', '10.0.0.3:53'] } });
        const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(spec)], taskQueue, workflowId: `private-resolvers-${taskQueue}` });
        await advanceUntil(env, handle, waitingForApproval);
        await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] });
        const result = await handle.result();
        assert.equal(result.state, 'completed');
        assert.deepEqual(fake.callsOf('lookupCname').map((c) => c.input), [{ name: RECORD, resolvers: ['10.0.0.2', '10.0.0.3:53'] }]);
        assert.match(result.cutover!.verified!.join('\n'), /lookup through 10\.0\.0\.2, 10\.0\.0\.3:53: notify-restored/);
      });

      const stale = privateWorld();
      stale.resolverAnswer = [OLD];
      await withWorker(env, stale.activities(), async (taskQueue) => {
        const spec = restoreSpec({ cutover: { ...CUTOVER, resolvers: ['10.0.0.2'] } });
        const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(spec)], taskQueue, workflowId: `private-stale-${taskQueue}` });
        await advanceUntil(env, handle, waitingForApproval);
        await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] });
        const asking = await advanceUntil(env, handle, (s) => s.state === 'waiting-for-decision', 5 * 60_000);
        assert.match(asking.waitingFor!.question!, /resolver 10\.0\.0\.2 answered NOERROR \["notify-production/);
        await handle.executeUpdate(decideUpdate, { args: [{ by: 'bob', decision: 'roll-back' }] });
        assert.equal((await handle.result()).state, 'rolled-back');
      });
    });
  });

  describe('AWS calls that keep failing', function () {
    const notAws = (op: string) =>
      ApplicationFailure.create({
        type: 'AwsCallFailed',
        message: `${op} against http://127.0.0.1:4599 failed: HTTP 500 with a response that is not an AWS answer (text/html)`,
        details: [{ operation: op, endpoint: 'http://127.0.0.1:4599', kind: 'not-aws', httpStatus: 500, error: 'HTTP 500 with a response that is not an AWS answer (text/html)' }],
      });

    it('a failing call shows in status (call, endpoint, error, since when), is notified after a few attempts, and clears when it answers', async function () {
      const env = await timeSkippingEnv();
      const fake = world();
      fake.failNext('restoreToPointInTime', notAws('RestoreDBInstanceToPointInTime notify-production -> notify-restored'), 7);
      await withWorker(env, fake.activities(), async (taskQueue) => {
        const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(restoreSpec())], taskQueue, workflowId: `trouble-${taskQueue}` });
        const troubled = await advanceUntil(env, handle, (s) => s.trouble !== undefined, 10_000);
        assert.equal(troubled.trouble!.step, 'restore');
        assert.equal(troubled.trouble!.endpoint, 'http://127.0.0.1:4599');
        assert.equal(troubled.trouble!.kind, 'not-aws');
        assert.match(troubled.trouble!.error, /HTTP 500 .*not an AWS answer/);
        assert.ok(troubled.trouble!.since && troubled.trouble!.attempts >= 3);
        const result = await handle.result();
        assert.equal(result.state, 'completed');
        assert.equal(result.trouble, undefined, 'cleared once the call answered');
        const steps = result.timeline.map((t) => t.step);
        assert.ok(steps.indexOf('aws-call-failing') < steps.indexOf('aws-call-recovered'));
        assert.ok(fake.notifications.some((n) => n.event === 'escalation' && /RestoreDBInstanceToPointInTime .* against http:\/\/127\.0\.0\.1:4599 failing since/.test(n.text)));
        assert.equal(fake.callsOf('restoreToPointInTime').length, 8, 'seven failed attempts, then one that worked');
      });
    });

    it('a preflight read that keeps failing fails the restore naming the call and the endpoint, changing nothing', async function () {
      const env = await timeSkippingEnv();
      const fake = world();
      fake.failNext('describeHostedZone', notAws('GetHostedZone Z0123456789ABCDEFGHIJ'), 1000);
      await withWorker(env, fake.activities(), async (taskQueue) => {
        const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(restoreSpec({ cutover: CUTOVER }))], taskQueue, workflowId: `preflight-down-${taskQueue}` });
        const failure = await failureOf(handle.result());
        assert.equal(failure.type, 'AwsUnavailable');
        assert.match(failure.message, /^GetHostedZone Z0123456789ABCDEFGHIJ against http:\/\/127\.0\.0\.1:4599 failing since .*HTTP 500.*gave up after .* \(step preflight\)$/);
        assert.equal(fake.callsOf('describeHostedZone').length, 9, 'three rounds of three attempts');
        assert.equal((await handle.query(restoreStatusQuery)).state, 'failed');
      });
      assert.equal(fake.mutations().length, 0, 'nothing in AWS was touched');
    });
  });

  it('a rerun with the identifier this restore created continues without a second restore', async function () {
    const env = await timeSkippingEnv();
    const fake = world();
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const first = await env.client.workflow.execute(restoreAndCutover, { args: [resolveRestoreSpec(restoreSpec())], taskQueue, workflowId: `rerun-1-${taskQueue}` });
      assert.equal(first.state, 'completed');
      const second = await env.client.workflow.execute(restoreAndCutover, { args: [resolveRestoreSpec(restoreSpec())], taskQueue, workflowId: `rerun-2-${taskQueue}` });
      assert.equal(second.state, 'completed');
      assert.equal(second.target.endpoint, NEW);
      assert.ok(second.timeline.some((t) => t.step === 'restore-found'));
      assert.equal(fake.callsOf('restoreToPointInTime').length, 1, 'one restore for both runs');
      assert.equal(fake.ingress.size, 1);
    });
  });

  describe('validation before the first change', function () {
    async function failsWith(spec: RestoreSpec | ResolvedRestoreSpec, fake: FakeAws, type: string, pattern: RegExp): Promise<void> {
      const env = await timeSkippingEnv();
      await withWorker(env, fake.activities(), async (taskQueue) => {
        const handle = await env.client.workflow.start(restoreAndCutover, { args: [spec], taskQueue, workflowId: `invalid-${taskQueue}` });
        const failure = await failureOf(handle.result());
        assert.equal(failure.type, type);
        assert.equal(failure.nonRetryable, true);
        assert.match(failure.message, pattern);
        const s = await handle.query(restoreStatusQuery);
        assert.equal(s.state, 'failed');
      });
      assert.equal(fake.mutations().length, 0, 'nothing in AWS was touched');
    }

    it('rejects a malformed spec naming each wrong field', async function () {
      const spec = { ...restoreSpec(), targetInstanceId: 'notify_restored!', restoreTime: 'yesterday' } as RestoreSpec;
      await failsWith(spec, world(), 'InvalidSpec', /targetInstanceId[\s\S]*restoreTime/);
    });

    it('fails when the source instance does not exist', async function () {
      const fake = world();
      fake.instances.delete(`${REGION}/notify-production`);
      await failsWith(resolveRestoreSpec(restoreSpec()), fake, 'InstanceNotFound', /notify-production not found in eu-west-2.*source\.instanceId/);
    });

    it('assumes the bastion role in preflight: a role the worker may not assume fails before any change, naming it', async function () {
      const fake = world();
      const role = 'arn:aws:iam::555555555555:role/bastion-readonly';
      fake.failNext('whoAmI', ApplicationFailure.nonRetryable(`sts:AssumeRole of ${role} (account 555555555555) was refused (AccessDenied): not authorized`, 'Unauthorized'), 1);
      await failsWith(resolveRestoreSpec(restoreSpec({ bastion: { securityGroupId: BASTION_SG, aws: { roleArn: role } } })), fake, 'Unauthorized', /bastion-readonly.*555555555555.*AccessDenied/);
      assert.equal(fake.callsOf('restoreToPointInTime').length, 0);
    });

    it('checks the bastion group in its own account before any change: a group that is not there fails, naming group and account', async function () {
      const fake = world();
      fake.foreignGroups.clear();
      const role = 'arn:aws:iam::555555555555:role/bastion';
      await failsWith(resolveRestoreSpec(restoreSpec({ bastion: { securityGroupId: BASTION_SG, aws: { roleArn: role } } })), fake, 'InvalidInput', new RegExp(`${BASTION_SG} does not exist .*555555555555`));
      const asked = fake.callsOf('describeSecurityGroup').map((c) => (c.input.where as { roleArn?: string }).roleArn);
      assert.deepEqual(asked, [role], 'the group is looked up with the bastion role, in its account');
    });

    it('a bastion group in another account, found there, lets the restore go on', async function () {
      const env = await timeSkippingEnv();
      const fake = world();
      const role = 'arn:aws:iam::555555555555:role/bastion';
      fake.foreignGroups.set(`555555555555/${BASTION_SG}`, { groupId: BASTION_SG, groupName: 'bastion', vpcId: 'vpc-0bb00000000000001', ownerId: '555555555555' });
      await withWorker(env, fake.activities(), async (taskQueue) => {
        const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(restoreSpec({ bastion: { securityGroupId: BASTION_SG, aws: { roleArn: role } } }))], taskQueue, workflowId: `bastion-ok-${taskQueue}` });
        const s = await advanceUntil(env, handle, (x) => x.timeline.some((t) => t.step === 'preflight-passed'));
        assert.ok(s.timeline.some((t) => t.step === 'bastion-checked' && /555555555555/.test(t.detail ?? '')), JSON.stringify(s.timeline.map((t) => t.step)));
        assert.ok(fake.callsOf('whoAmI').some((c) => (c.input.where as { roleArn?: string }).roleArn === role), 'the bastion role was assumed');
        await handle.terminate('enough');
      });
    });

    it('a bastion group in another account reached by a profile: the ingress rule names its owner as preflight read it', async function () {
      const env = await timeSkippingEnv();
      const fake = world();
      fake.profileAccounts.set('bastion-account', '666666666666');
      fake.foreignGroups.set(`666666666666/${BASTION_SG}`, { groupId: BASTION_SG, groupName: 'bastion', vpcId: 'vpc-0bb00000000000001', ownerId: '666666666666' });
      await withWorker(env, fake.activities(), async (taskQueue) => {
        const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(restoreSpec({ bastion: { securityGroupId: BASTION_SG, aws: { profile: 'bastion-account' } } }))], taskQueue, workflowId: `bastion-profile-${taskQueue}` });
        await advanceUntil(env, handle, (x) => x.timeline.some((t) => t.step === 'bastion-ingress'));
        assert.deepEqual(fake.callsOf('allowIngressFromSecurityGroup').map((c) => [c.input.sourceSecurityGroupId, c.input.sourceAccount]), [[BASTION_SG, '666666666666']]);
        await handle.terminate('enough');
      });
    });

    it('fails on a restore time outside the restorable window, naming the window', async function () {
      const env = await timeSkippingEnv();
      const now = await env.currentTimeMs();
      const fake = world();
      fake.restorable = { earliestMs: now - 31 * DAY, latestMs: now - 5 * 60_000 };
      const tooOld = new Date(now - 40 * DAY).toISOString();
      await failsWith(
        resolveRestoreSpec(restoreSpec({ restoreTime: tooOld })),
        fake,
        'RestoreTimeOutOfRange',
        new RegExp(`${tooOld} is outside the restorable window .*: ${new Date(now - 31 * DAY).toISOString()} to .*"latest"`),
      );
    });

    it('fails on "latest" when the source keeps no automated backups (RDS: PointInTimeRestoreNotEnabled), before any change', async function () {
      const fake = world();
      fake.instances.get(`${REGION}/notify-production`)!.backupRetentionPeriodDays = 0;
      await failsWith(resolveRestoreSpec(restoreSpec()), fake, 'RestoreTimeOutOfRange', /notify-production in eu-west-2 keeps no automated backups \(BackupRetentionPeriod 0\).*nothing was changed/);
      assert.equal(fake.callsOf('restoreToPointInTime').length, 0);
    });

    it('fails when the target identifier belongs to someone else', async function () {
      const fake = world();
      fake.addInstance({ instanceId: 'notify-restored', tags: { [OWNER_TAG]: 'someone-elses-restore' } });
      await failsWith(resolveRestoreSpec(restoreSpec()), fake, 'IdentifierTaken', /notify-restored already exists .*belongs to restore someone-elses-restore.*Pick another targetInstanceId/);
      const fake2 = world();
      fake2.addInstance({ instanceId: 'notify-restored' });
      await failsWith(resolveRestoreSpec(restoreSpec()), fake2, 'IdentifierTaken', /was not created by restore notify-restored/);
    });

    for (const c of [
      { name: 'has a read replica', source: { readReplicaIds: ['notify-ro'] }, reason: /it has read replicas \(notify-ro\), and RDS cannot stop an instance that has a read replica/ },
      { name: 'is a read replica', source: { replicaSourceId: 'notify-main' }, reason: /it is a read replica of notify-main, and RDS cannot stop a read replica/ },
    ]) {
      it(`refuses a cutover whose source ${c.name} (RDS cannot stop it), before any change; a restore alone goes on`, async function () {
        const env = await timeSkippingEnv();
        const fake = world();
        Object.assign(fake.instances.get(`${REGION}/notify-production`)!, c.source);
        await withWorker(env, fake.activities(), async (taskQueue) => {
          const failure = await failureOf(env.client.workflow.execute(restoreAndCutover, { args: [resolveRestoreSpec(restoreSpec({ cutover: CUTOVER }))], taskQueue, workflowId: `replica-source-${taskQueue}` }));
          assert.equal(failure.type, 'InvalidState');
          assert.match(failure.message, c.reason);
          assert.match(failure.message, /Restore without cutover .*nothing was changed/);
          assert.equal(fake.mutations().length, 0, 'nothing changed');
          const restoreOnly = await env.client.workflow.execute(restoreAndCutover, { args: [resolveRestoreSpec(restoreSpec())], taskQueue, workflowId: `replica-source-restore-only-${taskQueue}` });
          assert.equal(restoreOnly.state, 'completed');
        });
      });
    }

    it('fails when the CNAME is missing or points somewhere else', async function () {
      const fake = world();
      record(fake).value = 'hand-edited.example.com';
      await failsWith(resolveRestoreSpec(restoreSpec({ cutover: CUTOVER })), fake, 'InvalidState', /points at hand-edited\.example\.com, not at the source notify-production/);
      await failsWith(resolveRestoreSpec(restoreSpec({ cutover: { ...CUTOVER, setIdentifier: 'other' } })), world(), 'InvalidState', /no weighted CNAME/);
    });
  });
});

describe('restore with extract (time-skipping)', function () {
  this.timeout(180_000);
  const EXTRACT = { database: { name: 'notify', password: 'master-secret' as const }, directory: '/var/lib/rds-orchestrator/extracts', dump: { excludeSchemas: ['audit'] }, repair: { tables: ['orders'] } };
  const rows = (...ids: number[]) => new Map(ids.map((id) => [String(id), { id, total: id * 10 }] as [string, Record<string, unknown>]));

  /** The original lost orders 3 and 4 (and order 2 was edited since): the restored instance has them as they were. */
  function lostOrders(): FakeAws {
    const fake = world();
    fake.databases.set('notify-production', new Map([['public.orders', rows(1, 2)]]));
    fake.databases.get('notify-production')!.get('public.orders')!.set('2', { id: 2, total: 25 });
    fake.databases.set('notify-restored', new Map([['public.orders', rows(1, 2, 3, 4)], ['audit.events', rows(1)]]));
    return fake;
  }

  it('dumps the restored instance, shows the difference, waits for a second person to approve exactly it, then writes the lost rows once', async function () {
    const env = await timeSkippingEnv();
    const fake = lostOrders();
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(restoreSpec({ extract: EXTRACT }))], taskQueue, workflowId: `extract-${taskQueue}` });
      const asking = await advanceUntil(env, handle, waitingForApproval);

      assert.deepEqual(fake.callsOf('dumpDatabase').map((c) => ({ ...c.input, from: undefined })), [
        { from: undefined, directory: EXTRACT.directory, fileName: 'notify-restored.dump', tables: [], excludeSchemas: ['audit'], excludeTables: [] },
      ]);
      const dumpFrom = fake.callsOf('dumpDatabase')[0].input.from as { instanceId: string; access: { database: string } };
      assert.deepEqual({ instance: dumpFrom.instanceId, db: dumpFrom.access.database }, { instance: 'notify-restored', db: 'notify' }, 'dumped from the restored instance');
      assert.equal(asking.extract?.dump?.path, `${EXTRACT.directory}/notify-restored.dump`);
      const [orders] = asking.extract!.repair!.tables;
      assert.deepEqual({ table: orders.table, missing: orders.missing, changed: orders.changed, sample: orders.sampleMissing }, { table: 'public.orders', missing: 2, changed: 1, sample: ['id=3', 'id=4'] });
      assert.match(asking.waitingFor!.description, /public\.orders: 2 missing, 1 changed \(left as they are\)/);
      assert.match(asking.waitingFor!.description, /review the difference .*notify-restored\.repair\.jsonl/);
      assert.equal(fake.callsOf('writeRows').length, 0, 'nothing written before the approval');
      // The original's database was reached with the spec's access before the restore (hours) began.
      const checked = fake.calls.findIndex((c) => c.name === 'describeDatabase');
      assert.ok(checked >= 0 && checked < fake.calls.findIndex((c) => c.name === 'restoreToPointInTime'), 'database checked before the restore');
      assert.equal((fake.callsOf('describeDatabase')[0].input.target as { instanceId: string }).instanceId, 'notify-production');

      await rejected(handle.executeUpdate(approveUpdate, { args: [{ by: 'alice' }] }), /requested this change and cannot approve/);
      await rejected(handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: 'repair|notify-production|notify|another-digest' }] }), /plan changed/);
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: asking.waitingFor!.plan }] });
      const result = await handle.result();

      assert.equal(result.state, 'completed');
      const original = fake.databases.get('notify-production')!.get('public.orders')!;
      assert.deepEqual([...original.keys()].sort(), ['1', '2', '3', '4'], 'the lost orders are back');
      assert.deepEqual(original.get('2'), { id: 2, total: 25 }, 'a changed row is left as it is without updateChanged');
      assert.equal(fake.callsOf('writeRows').length, 1);
      assert.equal((fake.callsOf('writeRows')[0].input as { repairId: string }).repairId, `notify-restored:${asking.extract!.repair!.sha256}`, 'the repair id names the approved difference');
      assert.deepEqual(result.extract?.repair?.written, [{ table: 'public.orders', inserted: 2, updated: 0, skipped: 0 }]);
      assert.ok(result.approvals.some((a) => a.by === 'bob' && a.plan === asking.waitingFor!.plan));
      assert.ok(result.followUps.some((f) => /still running and costs money.*aws rds delete-db-instance --db-instance-identifier notify-restored --final-db-snapshot-identifier/.test(f)), 'says how to remove the restored instance by hand');
      assert.ok(result.followUps.some((f) => /pg_restore .*-d notify --data-only/.test(f)));
      assert.equal(fake.callsOf('getWeightedCname').length, 0, 'an extract never touches DNS');
      assert.equal(status(fake, 'notify-production'), 'available', 'the original keeps running');
      assert.ok(!fake.mutations().some((c) => /delete/i.test(c.name)));
    });
  });

  it('an abort while the repair waits for approval writes nothing; the restored instance and the dump are kept', async function () {
    const env = await timeSkippingEnv();
    const fake = lostOrders();
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(restoreSpec({ extract: EXTRACT }))], taskQueue, workflowId: `extract-abort-${taskQueue}` });
      await advanceUntil(env, handle, waitingForApproval);
      await handle.executeUpdate(abortUpdate, { args: [{ by: 'bob', reason: 'the rows were re-entered by hand' }] });
      const result = await handle.result();
      assert.equal(result.state, 'aborted');
      assert.equal(fake.callsOf('writeRows').length, 0);
      assert.deepEqual([...fake.databases.get('notify-production')!.get('public.orders')!.keys()].sort(), ['1', '2']);
      assert.ok(result.followUps.some((f) => /notify-restored is kept, never deleted/.test(f)));
    });
  });

  it('an access that cannot log in to the original fails before the restore, changing nothing', async function () {
    const env = await timeSkippingEnv();
    const fake = lostOrders();
    fake.failNext('describeDatabase', ApplicationFailure.nonRetryable("Connecting user 'master' to database 'notify' on instance 'notify-production' was refused (SQLSTATE 28P01)", 'DatabaseAccess'));
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(restoreSpec({ extract: EXTRACT }))], taskQueue, workflowId: `extract-no-login-${taskQueue}` });
      const failure = await failureOf(handle.result());
      assert.match(failure.message, /28P01/);
      assert.equal(fake.callsOf('restoreToPointInTime').length, 0, 'no restore started');
      assert.deepEqual(fake.mutations(), [], 'nothing changed');
    });
  });

  it('a restore whose original already has every row asks nobody and writes nothing', async function () {
    const env = await timeSkippingEnv();
    const fake = world();
    fake.databases.set('notify-production', new Map([['public.orders', rows(1, 2)]]));
    fake.databases.set('notify-restored', new Map([['public.orders', rows(1, 2)]]));
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const spec = restoreSpec({ extract: { ...EXTRACT, dump: undefined } });
      const result = await env.client.workflow.execute(restoreAndCutover, { args: [resolveRestoreSpec(spec)], taskQueue, workflowId: `extract-nothing-${taskQueue}` });
      assert.equal(result.state, 'completed');
      assert.equal(fake.callsOf('dumpDatabase').length, 0, 'no dump was asked');
      assert.equal(fake.callsOf('writeRows').length, 0);
      assert.ok(result.timeline.some((t) => t.step === 'nothing-to-repair'));
      assert.ok(!fake.notifications.some((n) => n.event === 'approval-needed'));
    });
  });
});
