/**
 * The Blue/Green activities (src/activities/blue-green.ts) through the real SDK against the simulator, on a
 * hand-driven clock: create at the exact target (found by name on a retry, never created twice), wait while
 * AWS provisions, switch over (once: not again while in progress, not after AWS rolled it back unless the team
 * decided), and what the instance under its original name runs afterwards. Plus the refusals a person must
 * act on: a managed master password, another deployment of the instance, a deployment deleted by hand.
 */
import assert from 'node:assert/strict';
import { DeleteBlueGreenDeploymentCommand, RDSClient } from '@aws-sdk/client-rds';
import { ApplicationFailure } from '@temporalio/common';
import { createBlueGreenActivities } from '../../src/activities/blue-green';
import { createRdsActivities } from '../../src/activities/rds';
import type { BlueGreenActivities, RdsActivities } from '../../src/api';
import { ManualClock, SimAdminClient, startSimulator, type RunningSimulator } from '../../sim';

/** The simulator on a hand-driven clock, an RDS client on it, and its admin API. */
interface SimHarness {
  sim: RunningSimulator;
  rds: RDSClient;
  admin: SimAdminClient;
  advance(seconds: number): void;
  close(): Promise<void>;
}

async function startHarness(opts: { durations: Record<string, number> }): Promise<SimHarness> {
  const clock = new ManualClock(Date.UTC(2025, 0, 6, 12, 0, 0));
  const sim = await startSimulator({ port: 0, clock, durations: opts.durations });
  const rds = new RDSClient({ endpoint: sim.url, region: REGION, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
  return {
    sim,
    rds,
    admin: new SimAdminClient(sim.url),
    advance: (seconds) => clock.advance(seconds * 1000),
    close: async () => {
      rds.destroy();
      await sim.close();
    },
  };
}

const REGION = 'eu-west-2';
const where = REGION;

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    return err;
  }
  assert.fail('did not fail');
}

describe('activities: Blue/Green deployments against the simulator', function () {
  let h: SimHarness;
  let bg: BlueGreenActivities;
  let rds: RdsActivities;

  beforeEach(async function () {
    h = await startHarness({ durations: { creating: 60, upgrading: 30, backingUp: 20, blueGreenSwitchover: 20 } });
    await h.admin.seed({
      reset: true,
      dbParameterGroups: [{ region: REGION, name: 'notify-pg15', family: 'postgres15' }],
      instances: [
        { region: REGION, id: 'notify-prod', engineVersion: '15.5', parameterGroupName: 'notify-pg15', preferredMaintenanceWindow: 'wed:22:00-wed:22:30', backupRetentionPeriod: 7 },
        { region: REGION, id: 'notify-managed', engineVersion: '15.5', preferredMaintenanceWindow: 'wed:22:00-wed:22:30', backupRetentionPeriod: 7, masterUsername: 'postgres', masterUserPassword: 'pw-in-the-secret', manageMasterUserPassword: true },
      ],
    } as never);
    bg = createBlueGreenActivities({ rdsClientFor: () => h.rds });
    rds = createRdsActivities({ rdsClientFor: () => h.rds });
  });
  afterEach(async function () {
    await h?.close();
  });

  const create = (instanceId = 'notify-prod') =>
    bg.createBlueGreenDeployment({ where, instanceId, name: `pg-minor-15-8-${instanceId}`, targetEngineVersion: '15.8', targetParameterGroup: 'notify-pg15', tags: { 'rds-orchestrator:campaign': 'pg-minor-15-8' } });

  it('creates at the target, is found by name on a retry, provisions over time, switches over once; the original name then runs 15.8 at its endpoint, the old blue is kept', async function () {
    const endpointBefore = (await rds.describeInstance({ where, instanceId: 'notify-prod' })).endpoint;
    const first = await create();
    assert.equal(first.changed, true);
    assert.equal(first.action, 'rds:CreateBlueGreenDeployment');
    assert.match(first.deployment.id, /^bgd-[a-z0-9]{16}$/);
    assert.equal(first.resource, `arn:aws:rds:${REGION}:123456789012:deployment:${first.deployment.id}`);
    assert.equal(first.deployment.status, 'PROVISIONING');
    assert.deepEqual(first.deployment.tags, { 'rds-orchestrator:campaign': 'pg-minor-15-8' });
    const again = await create();
    assert.deepEqual([again.changed, again.deployment.id], [false, first.deployment.id], 'a retry finds it by name');

    await assert.rejects(bg.waitForBlueGreenDeployment({ where, deploymentId: first.deployment.id, while: ['PROVISIONING'] }), (e: ApplicationFailure) => e.type === 'NotReady' && /is PROVISIONING; tasks: CREATING_READ_REPLICA_OF_SOURCE/.test(e.message));
    h.advance(200);
    const available = await bg.waitForBlueGreenDeployment({ where, deploymentId: first.deployment.id, while: ['PROVISIONING'] });
    assert.equal(available.status, 'AVAILABLE');
    assert.match(available.targetArn ?? '', /:db:notify-prod-green-[a-z0-9]{6}$/);
    assert.ok(available.tasks.every((t) => t.status === 'COMPLETED'), JSON.stringify(available.tasks));
    const green = await rds.describeInstance({ where, instanceId: available.targetArn!.split(':db:')[1] });
    assert.deepEqual([green.engineVersion, green.parameterGroupName], ['15.8', 'notify-pg15']);

    // Past the latest start that ends in its window, nothing is sent (the activity reads the wall clock).
    await assert.rejects(
      bg.switchoverBlueGreenDeployment({ where, deploymentId: first.deployment.id, timeoutSeconds: 60, notAfter: new Date(Date.now() - 1000).toISOString() }),
      (e: ApplicationFailure) => e.type === 'SwitchoverTooLate' && e.nonRetryable && /nothing was sent/.test(e.message),
    );
    const sw = await bg.switchoverBlueGreenDeployment({ where, deploymentId: first.deployment.id, timeoutSeconds: 60, notAfter: new Date(Date.now() + 3600_000).toISOString() });
    assert.deepEqual([sw.changed, sw.action], [true, 'rds:SwitchoverBlueGreenDeployment']);
    const twice = await bg.switchoverBlueGreenDeployment({ where, deploymentId: first.deployment.id, timeoutSeconds: 60 });
    assert.deepEqual([twice.changed, twice.deployment.status], [false, 'SWITCHOVER_IN_PROGRESS'], 'not asked twice');
    assert.equal((await h.admin.appStatus(REGION, 'notify-prod')).healthy, false, 'writes refused during the switchover');
    h.advance(30);
    const done = await bg.waitForBlueGreenDeployment({ where, deploymentId: first.deployment.id, while: ['SWITCHOVER_IN_PROGRESS'] });
    assert.equal(done.status, 'SWITCHOVER_COMPLETED');
    const now = await rds.describeInstance({ where, instanceId: 'notify-prod' });
    assert.deepEqual([now.engineVersion, now.endpoint?.address, now.endpoint?.port], ['15.8', endpointBefore?.address, endpointBefore?.port]);
    assert.equal((await rds.describeInstance({ where, instanceId: 'notify-prod-old1' })).engineVersion, '15.5');
    const calls = await h.admin.calls({ service: 'rds' } as never);
    assert.equal(calls.filter((c) => c.action === 'CreateBlueGreenDeployment').length, 1);
    assert.equal(calls.filter((c) => c.action === 'SwitchoverBlueGreenDeployment').length, 1);
    assert.equal(calls.filter((c) => /^Delete/.test(c.action)).length, 0, 'nothing deleted');
  });

  it('a primary with a read replica in its Region: the replica is copied into the green environment and switched over with it; both names then run 15.8', async function () {
    await h.admin.seed({ instances: [{ region: REGION, id: 'notify-prod-replica', replicaOf: 'notify-prod' }] } as never);
    const { deployment } = await create();
    h.advance(400);
    const available = await bg.waitForBlueGreenDeployment({ where, deploymentId: deployment.id, while: ['PROVISIONING'] });
    assert.equal(available.status, 'AVAILABLE');
    assert.deepEqual(
      available.switchover.map((m) => [m.sourceMember?.split(':db:')[1], m.targetMember?.split(':db:')[1].replace(/-green-[a-z0-9]{6}$/, '-green')]),
      [['notify-prod', 'notify-prod-green'], ['notify-prod-replica', 'notify-prod-replica-green']],
      'one member per blue instance, the replica included',
    );
    await bg.switchoverBlueGreenDeployment({ where, deploymentId: deployment.id, timeoutSeconds: 60 });
    h.advance(30);
    assert.equal((await bg.waitForBlueGreenDeployment({ where, deploymentId: deployment.id, while: ['SWITCHOVER_IN_PROGRESS'] })).status, 'SWITCHOVER_COMPLETED');
    const primary = await rds.describeInstance({ where, instanceId: 'notify-prod' });
    const replica = await rds.describeInstance({ where, instanceId: 'notify-prod-replica' });
    assert.deepEqual([primary.engineVersion, replica.engineVersion], ['15.8', '15.8']);
    assert.equal(replica.replicaSourceId, 'notify-prod', 'the new replica follows the new primary');
    assert.deepEqual(primary.readReplicaIds, ['notify-prod-replica']);
  });

  it('a switchover AWS rolls back (SWITCHOVER_FAILED) is not asked again by a retry, only with retryAfterFailure (the team\'s decision)', async function () {
    const { deployment } = await create();
    h.advance(200);
    await h.admin.blueGreenFault({ region: REGION, deployment: deployment.id, fault: 'switchover-rollback', reason: 'replica lag over the timeout', afterSeconds: 30 });
    await bg.switchoverBlueGreenDeployment({ where, deploymentId: deployment.id, timeoutSeconds: 60 });
    h.advance(40);
    const failed = await bg.waitForBlueGreenDeployment({ where, deploymentId: deployment.id, while: ['SWITCHOVER_IN_PROGRESS'] });
    assert.equal(failed.status, 'SWITCHOVER_FAILED');
    assert.match(failed.statusDetails ?? '', /rolled back: replica lag over the timeout/);
    assert.equal((await rds.describeInstance({ where, instanceId: 'notify-prod' })).engineVersion, '15.5', 'nothing renamed');
    const retried = await bg.switchoverBlueGreenDeployment({ where, deploymentId: deployment.id, timeoutSeconds: 60 });
    assert.deepEqual([retried.changed, retried.deployment.status], [false, 'SWITCHOVER_FAILED']);
    const decided = await bg.switchoverBlueGreenDeployment({ where, deploymentId: deployment.id, timeoutSeconds: 60, retryAfterFailure: true });
    assert.equal(decided.changed, true);
    h.advance(30);
    assert.equal((await bg.waitForBlueGreenDeployment({ where, deploymentId: deployment.id, while: ['SWITCHOVER_IN_PROGRESS'] })).status, 'SWITCHOVER_COMPLETED');
  });

  it('refusals a person must act on: a managed master password, another deployment of the instance, a deployment deleted by hand', async function () {
    const managed = await failure(create('notify-managed'));
    assert.equal(managed.nonRetryable, true);
    assert.match(managed.message, /CreateBlueGreenDeployment pg-minor-15-8-notify-managed in region eu-west-2 was rejected as invalid \(SourceDatabaseNotSupportedFault\)/);

    const theirs = await bg.createBlueGreenDeployment({ where, instanceId: 'notify-prod', name: 'someone-elses', targetEngineVersion: '15.8', tags: {} });
    const other = await failure(create());
    assert.equal(other.type, 'InvalidState');
    assert.match(other.message, new RegExp(`notify-prod already has a Blue/Green deployment of its own: ${theirs.deployment.id} \\(someone-elses, PROVISIONING\\)`));

    // One that broke (INVALID_CONFIGURATION) is in the way too until someone deletes it: said, not retried.
    await h.admin.blueGreenFault({ region: REGION, deployment: theirs.deployment.id, fault: 'provisioning-failed' });
    h.advance(200);
    assert.equal((await bg.describeBlueGreenDeployment({ where, deploymentId: theirs.deployment.id })).status, 'INVALID_CONFIGURATION');
    const broken = await failure(create());
    assert.deepEqual([broken.type, broken.nonRetryable], ['InvalidState', true]);
    assert.match(broken.message, /already has a Blue\/Green deployment of its own: .*INVALID_CONFIGURATION/);

    await h.rds.send(new DeleteBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: theirs.deployment.id }));
    const gone = await failure(bg.describeBlueGreenDeployment({ where, deploymentId: theirs.deployment.id }));
    assert.deepEqual([gone.type, gone.nonRetryable], ['BlueGreenDeploymentNotFound', true]);
    assert.match(gone.message, /deleted outside the campaign/);
  });
});
