/**
 * A production stage by Blue/Green end to end against moto's server: the production workflow bundle on the
 * time-skipping test server, the product's real activities signing as an IAM user holding exactly the
 * permissions README.md documents (moto enforcing IAM), and moto as the AWS nobody here wrote: its
 * CreateBlueGreenDeployment, DescribeBlueGreenDeployments and SwitchoverBlueGreenDeployment (instant: the
 * deployment is AVAILABLE at once, the switchover renames at once, as moto models it).
 *
 * moto lacks two reads every campaign's preflight makes (DescribeDBEngineVersions and
 * DescribePendingMaintenanceActions answer HTTP 500), so those two activities answer from a fixed catalogue
 * here; every other call, every Blue/Green call and every change goes to moto.
 */
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { approveUpdate, campaignStatusQuery, type Activities, type CampaignStatus } from '../../src/api';
import { startCampaign } from '../../src/client';
import { loadConfig } from '../../src/config';
import { resolveCampaignSpec } from '../../src/input';
import { timeSkippingEnv } from '../harness';
import { advanceUntil, withWorker } from '../workflows/helpers';
import { MotoClients, REGION, documentedWorkerPermissions, seedRestoreWorld, startMoto, type Credentials, type Moto } from './moto';

const CREDENTIAL_VARS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'] as const;

describe('a Blue/Green production stage on moto (real activities, real workflow bundle, documented permissions)', function () {
  this.timeout(120_000);
  let moto: Moto;
  let env: TestWorkflowEnvironment;

  before(async function () {
    this.timeout(90_000);
    [moto, env] = await Promise.all([startMoto(), timeSkippingEnv()]);
  });

  after(async function () {
    await moto?.stop();
  });

  /** The product's activities against moto as `worker`; the two reads moto lacks answer from a catalogue. */
  function onMoto(worker: Credentials): Activities {
    const config = loadConfig({ ORCHESTRATOR_AWS_ENDPOINT: moto.url, AWS_REGION: REGION });
    const real = createActivities({ config, notifyLog: () => undefined, env: { ...process.env, AWS_ACCESS_KEY_ID: worker.accessKeyId, AWS_SECRET_ACCESS_KEY: worker.secretAccessKey } });
    // (The SDK's default chain reads the process's environment: the tests set the worker's keys there too.)
    const targets = [{ engineVersion: '15.8', isMajorVersionUpgrade: false, autoUpgrade: true }];
    return {
      ...real,
      listUpgradeTargets: async () => targets,
      inspectInstance: async (input) => ({ info: await real.describeInstance(input), targets }),
      listPendingMaintenance: async () => [],
    };
  }

  it('without rds:CreateBlueGreenDeployment moto refuses the creation, and the campaign fails naming the call and the permission, having changed nothing', async function () {
    await moto.enforceIam(false);
    await moto.reset();
    const admin = new MotoClients(moto.url, await moto.createUser('test-admin', ['*']));
    const w = await seedRestoreWorld(admin, { zone: 'private' });
    const worker = await moto.createUser('rds-orchestrator-worker', documentedWorkerPermissions().filter((a) => a !== 'rds:CreateBlueGreenDeployment'));
    const saved = Object.fromEntries(CREDENTIAL_VARS.map((k) => [k, process.env[k]]));
    process.env.AWS_ACCESS_KEY_ID = worker.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = worker.secretAccessKey;
    try {
      await moto.enforceIam(true);
      const failure = await withWorker(env, onMoto(worker), async (taskQueue) => {
        const spec = resolveCampaignSpec({ targetEngineVersion: '15.8', requester: 'alice', pollInterval: '5s', stages: [{ name: 'production', region: REGION, instanceId: w.sourceId, method: 'blue-green', statusPage: { enabled: false } }] });
        const handle = await startCampaign(env.client, spec, { taskQueue, workflowId: `moto-bg-denied-${taskQueue}` });
        const result = await handle.result().catch((err: Error) => err);
        return result instanceof Error ? result : new Error(`campaign ended ${JSON.stringify(result.state)}: ${JSON.stringify(await handle.query(campaignStatusQuery))}`);
      });
      assert.match(String((failure as { cause?: Error }).cause?.message ?? failure.message), /CreateBlueGreenDeployment.*(AccessDenied|not authorized)/s);
      assert.equal((await admin.instance(w.sourceId))?.EngineVersion, '15.5');
    } finally {
      await moto.enforceIam(false);
      for (const k of CREDENTIAL_VARS) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });

  it('creates the deployment at the target, asks approval naming it, switches over in the window, and the original name runs the target; the old blue is kept', async function () {
    await moto.enforceIam(false);
    await moto.reset();
    const admin = new MotoClients(moto.url, await moto.createUser('test-admin', ['*']));
    const w = await seedRestoreWorld(admin, { zone: 'private' });
    const worker = await moto.createUser('rds-orchestrator-worker', documentedWorkerPermissions());
    const saved = Object.fromEntries(CREDENTIAL_VARS.map((k) => [k, process.env[k]]));
    for (const k of CREDENTIAL_VARS) delete process.env[k];
    process.env.AWS_ACCESS_KEY_ID = worker.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = worker.secretAccessKey;
    const mark = moto.requests().length;
    try {
      await moto.enforceIam(true);
      const status = await withWorker(env, onMoto(worker), async (taskQueue) => {
        const spec = resolveCampaignSpec({
          targetEngineVersion: '15.8',
          requester: 'alice',
          pollInterval: '5s',
          stages: [{ name: 'production', region: REGION, instanceId: w.sourceId, method: 'blue-green', statusPage: { enabled: false }, pagerDuty: { enabled: false }, blueGreen: { switchoverTimeout: '1m' } }],
        });
        const handle = await startCampaign(env.client, spec, { taskQueue, workflowId: `moto-bg-${taskQueue}` });
        const asking = await advanceUntil(env, handle, (s: CampaignStatus) => s.waitingFor?.kind === 'approval', { stepMs: 5_000 });
        const deploymentId = asking.stages[0].blueGreen!.deploymentId;
        assert.match(deploymentId, /^bgd-[a-z0-9]{16}$/, 'moto\'s identifier');
        assert.ok(asking.waitingFor!.plan!.endsWith(`|blue-green ${deploymentId}`));
        await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: asking.waitingFor!.plan }] });
        const result = await handle.result();
        assert.equal(result.state, 'completed', JSON.stringify(result));
        return handle.query(campaignStatusQuery);
      });
      const stage = status.stages[0];
      assert.equal(stage.blueGreen!.status, 'SWITCHOVER_COMPLETED');
      // moto renamed as AWS does: the original name is the former green at the target, the old blue is -old1.
      assert.equal((await admin.instance(w.sourceId))?.EngineVersion, '15.8');
      assert.equal((await admin.instance(`${w.sourceId}-old1`))?.EngineVersion, '15.5');
      assert.ok(status.timeline.some((t) => t.step === 'verified'), 'verified under the original name');
      assert.deepEqual(status.changes!.map((c) => c.action), ['rds:CreateBlueGreenDeployment', 'rds:SwitchoverBlueGreenDeployment']);
      assert.ok(status.followUps.some((f) => f.includes(`${w.sourceId}-old1`)));
      // Nothing was deleted, and every Blue/Green call reached moto (none refused by its IAM).
      const actions = moto.requests().slice(mark).filter((r) => r.method === 'POST').map((r) => r.status);
      assert.ok(actions.every((code) => code < 400), `moto refused a call: ${JSON.stringify(moto.requests().slice(mark).filter((r) => r.status >= 400))}`);
    } finally {
      await moto.enforceIam(false);
      for (const k of CREDENTIAL_VARS) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });
});
