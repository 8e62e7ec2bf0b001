/**
 * The blue/green faults a test arms through `POST /_sim/blue-green/fault` (sim/src/rds/blue-green-faults.ts): a
 * rolled-back switchover, the guardrails, a failed provisioning and a broken green environment, each with the
 * status and StatusDetails the deployment then shows, through the real SDK.
 */
import assert from 'node:assert/strict';
import { SwitchoverBlueGreenDeploymentCommand } from '@aws-sdk/client-rds';
import { SimAdminError } from '../../src/client';
import { REGION, rejectsWith, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';
import { SWITCHOVER_SECONDS, blueGreenReads, instanceArn } from './blue-green-reads';

describe('sim: RDS blue/green deployment faults (/_sim/blue-green/fault)', function () {
  let h: SimHarness;
  const bg = blueGreenReads(() => h);
  beforeEach(async function () {
    h = await startHarness();
    await bg.seedSource('shop');
  });
  afterEach(async function () {
    await h?.close();
  });

  const availableDeployment = async (): Promise<{ id: string; greenId: string }> => {
    const id = (await bg.create('shop-to-16', 'shop')).BlueGreenDeploymentIdentifier as string;
    const greenId = (await bg.untilAvailable(id)).Target?.split(':db:')[1] as string;
    return { id, greenId };
  };
  const switchover = (id: string, SwitchoverTimeout?: number) => h.rds.send(new SwitchoverBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: id, SwitchoverTimeout }));
  const probe = async (name: string): Promise<number> => (await fetch(h.admin.appStatusUrl(REGION, name))).status;

  it('switchover-rollback: the switchover starts (writes stop), is rolled back after afterSeconds: SWITCHOVER_FAILED, the reason in StatusDetails, nothing renamed; a second switchover completes', async function () {
    const { id, greenId } = await availableDeployment();
    assert.deepEqual(await h.admin.blueGreenFault({ region: REGION, deployment: id, fault: 'switchover-rollback', reason: 'replica lag exceeded the timeout', afterSeconds: 40 }), {
      armed: { fault: 'switchover-rollback', reason: 'replica lag exceeded the timeout', afterSeconds: 40 },
      deployment: id,
      status: 'AVAILABLE',
    });
    assert.equal((await switchover(id, 60)).BlueGreenDeployment?.Status, 'SWITCHOVER_IN_PROGRESS');
    h.advance(SWITCHOVER_SECONDS);
    assert.equal((await bg.describe(id)).Status, 'SWITCHOVER_IN_PROGRESS', 'still trying');
    assert.equal(await probe('shop'), 503);
    h.advance(40 - SWITCHOVER_SECONDS);
    const failed = await bg.describe(id);
    assert.deepEqual([failed.Status, failed.SwitchoverDetails?.[0]?.Status], ['SWITCHOVER_FAILED', 'SWITCHOVER_FAILED']);
    assert.equal(failed.StatusDetails, 'Switchover rolled back: replica lag exceeded the timeout. No changes were made to either environment.');
    assert.deepEqual([failed.Source, failed.Target], [instanceArn('shop'), instanceArn(greenId)]);
    assert.deepEqual([(await h.describeOne('shop')).EngineVersion, await probe('shop'), await probe(greenId)], ['15.5', 200, 200], 'the outage is over, nothing moved');
    // The fault acted once: the next switchover goes through.
    await switchover(id);
    h.advance(SWITCHOVER_SECONDS);
    assert.equal((await bg.describe(id)).Status, 'SWITCHOVER_COMPLETED');
    assert.equal((await h.describeOne('shop')).EngineVersion, '16.4');
  });

  it('guardrail: the checks cancel the switchover before writes stop: SWITCHOVER_FAILED at once, the check in StatusDetails, no outage', async function () {
    const { id } = await availableDeployment();
    await h.admin.blueGreenFault({ region: REGION, source: 'shop', fault: 'guardrail', guardrail: 'long-running-ddl' });
    await h.admin.blueGreenFault({ region: REGION, deployment: id, fault: 'guardrail' });
    assert.equal((await switchover(id)).BlueGreenDeployment?.Status, 'SWITCHOVER_IN_PROGRESS');
    assert.equal(await probe('shop'), 200, 'writes never stopped');
    const ddl = await bg.describe(id);
    assert.equal(ddl.Status, 'SWITCHOVER_FAILED');
    assert.match(ddl.StatusDetails ?? '', /^Switchover canceled: guardrail check failed: Long-running DDL statements/);
    await switchover(id, 45);
    assert.match((await bg.describe(id)).StatusDetails ?? '', /Replication lag: .* switchover timeout of 45 seconds/, 'the default guardrail');
    await switchover(id);
    h.advance(SWITCHOVER_SECONDS);
    assert.equal((await bg.describe(id)).Status, 'SWITCHOVER_COMPLETED');
  });

  it('provisioning-failed: armed on the source before the deployment exists, the task under way FAILED, the green instance failed, the deployment INVALID_CONFIGURATION; a switchover is refused', async function () {
    assert.deepEqual(await h.admin.blueGreenFault({ region: REGION, source: instanceArn('shop'), fault: 'provisioning-failed', reason: 'the green could not be upgraded' }), {
      armed: { fault: 'provisioning-failed', reason: 'the green could not be upgraded' },
      deployment: null,
      status: null,
    });
    const created = await bg.create('doomed', 'shop');
    assert.equal(created.Status, 'PROVISIONING');
    const id = created.BlueGreenDeploymentIdentifier as string;
    const failed = await bg.describe(id);
    assert.deepEqual([failed.Status, failed.StatusDetails], ['INVALID_CONFIGURATION', 'Creation of blue/green deployment failed: the green could not be upgraded']);
    assert.deepEqual(failed.Tasks?.map((t) => t.Status), ['FAILED', 'PENDING', 'PENDING', 'PENDING']);
    assert.equal((await h.describeOne(failed.Target?.split(':db:')[1] as string)).DBInstanceStatus, 'failed');
    await rejectsWith(switchover(id), 'InvalidBlueGreenDeploymentStateFault', 'INVALID_CONFIGURATION');
    // Armed on a deployment that is past provisioning: refused, with the reason.
    await assert.rejects(h.admin.blueGreenFault({ region: REGION, deployment: id, fault: 'provisioning-failed' }), (err: SimAdminError) => err.status === 400 && /its status is INVALID_CONFIGURATION/.test(err.message));
  });

  it('provisioning-failed on a deployment under way fails the task it is on; invalid-configuration armed while provisioning acts once it is AVAILABLE', async function () {
    const upgrading = (await bg.create('mid-way', 'shop')).BlueGreenDeploymentIdentifier as string;
    h.advance(70);
    await h.admin.blueGreenFault({ region: REGION, deployment: upgrading, fault: 'provisioning-failed' });
    const failed = await bg.describe(upgrading);
    assert.equal(failed.Status, 'INVALID_CONFIGURATION');
    assert.deepEqual(failed.Tasks?.map((t) => `${t.Name}:${t.Status}`), ['CREATING_READ_REPLICA_OF_SOURCE:COMPLETED', 'DB_ENGINE_VERSION_UPGRADE:FAILED', 'CONFIGURE_BACKUPS:PENDING', 'CREATING_TOPOLOGY_OF_SOURCE:PENDING']);

    await bg.seedSource('cart');
    const id = (await bg.create('cart-to-16', 'cart')).BlueGreenDeploymentIdentifier as string;
    assert.equal((await h.admin.blueGreenFault({ region: REGION, source: 'cart', fault: 'invalid-configuration' })).deployment, id, 'the source’s active deployment');
    assert.equal((await bg.describe(id)).Status, 'PROVISIONING');
    h.advance(120);
    const broken = await bg.describe(id);
    assert.equal(broken.Status, 'INVALID_CONFIGURATION');
    assert.match(broken.StatusDetails ?? '', /Replication from the blue environment to the green environment is broken/);
    assert.equal(broken.SwitchoverDetails?.[0]?.Status, 'AVAILABLE');
    await rejectsWith(switchover(id), 'InvalidBlueGreenDeploymentStateFault');
  });

  it('the route refuses what it cannot arm', async function () {
    const refuses = async (spec: Record<string, unknown>, status: number, message: RegExp): Promise<void> => {
      await assert.rejects(h.admin.blueGreenFault(spec as never), (err: SimAdminError) => err.status === status && message.test(err.message));
    };
    await refuses({ region: REGION, deployment: 'bgd-x', fault: 'meteor' }, 400, /unknown fault "meteor"/);
    await refuses({ region: REGION, fault: 'guardrail' }, 400, /exactly one of deployment and source/);
    await refuses({ region: REGION, source: 'shop', fault: 'guardrail', guardrail: 'vibes' }, 400, /guardrail must be one of/);
    await refuses({ region: REGION, source: 'nope', fault: 'guardrail' }, 404, /no DB instance nope/);
    await refuses({ region: REGION, deployment: 'bgd-0000000000000000', fault: 'guardrail' }, 404, /doesn't refer to an existing blue\/green deployment/);
  });
});
