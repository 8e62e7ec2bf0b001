/**
 * Each environment in its own AWS account, reached by assumed roles, against the simulator's STS (which
 * issues temporary credentials for a role's account, refuses callers its trust policy does not name, and
 * serves each request from its credentials' account) with the product's real activities and SDK providers,
 * on the time-skipping server.
 */
import assert from 'node:assert/strict';
import { approveUpdate, campaignStatusQuery, decideUpdate, restoreStatusQuery, type CampaignSpec, type RestoreStatus } from '../../src/api';
import { createActivities } from '../../src/activities';
import { runCli } from '../../src/cli';
import type { ChangeRecord } from '../../src/cli/record';
import { loadConfig } from '../../src/config';
import { campaignHandle, restoreHandle, startCampaign, startRestore } from '../../src/client';
import { resolveCampaignSpec, resolveRestoreSpec } from '../../src/input';
import { ACCOUNTS, REGION, TARGET_VERSION, fleetAtRest } from '../../dev/fixtures';
import { simulatorConfig } from '../../dev/simulator';
import { SimAdminClient } from '../../sim';
import { DEMO_ACCOUNTS, DEMO_BASTION_SECURITY_GROUP_ID, demoInstanceId, demoRoleArn, type DemoEnvironment } from '../../sim';
import { startSimulator, type RunningSimulator } from '../../sim';
import { timeSkippingEnv } from '../harness';
import { failureOf, withWorker } from '../workflows/helpers';

const ENVS: DemoEnvironment[] = ['preview', 'staging', 'production'];
const account = (env: DemoEnvironment) => ({ ...DEMO_ACCOUNTS, ...ACCOUNTS })[env];

describe('accounts: every environment in its own AWS account, reached by assumed roles', function () {
  this.timeout(120_000);
  let sim: RunningSimulator;
  let admin: SimAdminClient;

  before(async function () {
    sim = await startSimulator({ port: 0, speed: 60 });
    admin = new SimAdminClient(sim.url);
  });

  after(async function () {
    await sim?.close();
  });

  beforeEach(async function () {
    await admin.seed(fleetAtRest(Date.now(), true));
  });

  /** Every stage upgraded now, in its own account (production without approval: this test is about accounts). */
  function campaignSpec(id: string, over: (env: DemoEnvironment) => Partial<CampaignSpec['stages'][number]> = () => ({})): CampaignSpec {
    return {
      campaignId: id,
      targetEngineVersion: TARGET_VERSION,
      requester: 'alice',
      stages: ENVS.map((env) => ({
        name: env,
        region: REGION,
        instanceId: demoInstanceId(env),
        method: 'apply-now' as const,
        requiresApproval: false,
        probe: { url: admin.appStatusUrl(REGION, demoInstanceId(env), account(env)), ratePerSecond: 5, settle: '1s', maxDuration: '5m' },
        aws: { roleArn: demoRoleArn(env) },
        ...over(env),
      })),
      pollInterval: '2s',
    };
  }

  /**
   * The change record (`record --json`) lists exactly the changes AWS answered: each successful mutation in
   * the simulator's call log, by its AWS request id, action, account and region.
   */
  async function sameChangesAsAws(kind: 'campaign' | 'restore', id: string): Promise<void> {
    const env = await timeSkippingEnv();
    const out: string[] = [];
    const code = await runCli([kind, 'record', id, '--json'], { out: (l) => out.push(l), err: (l) => out.push(l), config: loadConfig({}), client: env.client });
    assert.equal(code, 0, out.join('\n'));
    const record = JSON.parse(out.join('\n')) as ChangeRecord;
    const aws = (await admin.calls({ mutationsOnly: true })).filter((c) => c.service !== 'statuspage' && c.httpStatus < 300);
    const key = (x: { requestId?: string; action: string; account?: string }) => `${x.requestId} ${x.action.replace(/^[a-z0-9]+:/, '')} ${x.account}`;
    const recorded = record.changes.filter((c) => !c.action.startsWith('statuspage:'));
    // The run's own calls: its sessions are named after it (this test's other runs are in the log too).
    const made = aws.filter((c) => String(c.principal).includes(`:assumed-role/rds-orchestrator/${id}-`));
    assert.ok(recorded.length > 0 && recorded.every((c) => /^[0-9a-f-]{36}$/.test(String(c.requestId))), JSON.stringify(recorded));
    assert.deepEqual(recorded.map(key).sort(), made.map(key).sort());
    assert.equal(new Set(recorded.map((c) => c.requestId)).size, recorded.length, 'one record per request');
    const since = Date.parse(record.outcome.startedAt);
    assert.ok(recorded.every((c) => Date.parse(c.at) >= since));
  }

  const activities = () => createActivities({ config: simulatorConfig(sim.url), env: {}, notifyLog: () => undefined });

  it('a campaign across three accounts completes; each mutation is made with its account\'s role; expired credentials are refreshed', async function () {
    const env = await timeSkippingEnv();
    await withWorker(env, activities(), async (taskQueue) => {
      const handle = await startCampaign(env.client, resolveCampaignSpec(campaignSpec('accounts')), { taskQueue });
      // The simulator's clock jumps past the hour the first sessions were issued for: those credentials expire.
      let expired = false;
      for (;;) {
        const s = await campaignHandle(env.client, 'accounts').query(campaignStatusQuery);
        if (!expired && s.stages[0].status === 'completed') {
          await admin.advance(2 * 3600);
          expired = true;
        }
        if (['completed', 'failed', 'aborted'].includes(s.state)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const result = await handle.result();
      assert.equal(result.state, 'completed', JSON.stringify(result));
      const status = await handle.query(campaignStatusQuery);
      assert.deepEqual(status.stages.map((s) => [s.name, s.account, s.role]), ENVS.map((e) => [e, account(e), demoRoleArn(e)]));
      assert.ok(!status.timeline.some((t) => t.step === 'aws-call-failing'), 'no step failed because credentials expired');

      const mutations = await admin.calls({ mutationsOnly: true });
      assert.ok(mutations.length >= 3, JSON.stringify(mutations));
      for (const e of ENVS) {
        const mine = mutations.filter((c) => JSON.stringify(c.params).includes(demoInstanceId(e)));
        assert.ok(mine.length > 0, `a mutation for ${e}`);
        for (const c of mine) {
          assert.equal(c.account, account(e), `${c.action} for ${e} in its account`);
          assert.equal(c.principal, `arn:aws:sts::${account(e)}:assumed-role/rds-orchestrator/accounts-${e}`, 'the session names the campaign and the stage');
        }
      }
      const assumed = (await admin.calls()).filter((c) => c.action === 'AssumeRole');
      assert.ok(assumed.length > ENVS.length, `credentials were refreshed after they expired (${assumed.length} AssumeRole calls)`);
      await sameChangesAsAws('campaign', 'accounts');
    });
  });

  it('a stage whose role cannot be assumed fails the campaign in preflight, naming stage, role and account; nothing changes anywhere', async function () {
    const env = await timeSkippingEnv();
    const wrong = 'arn:aws:iam::999999999999:role/rds-orchestrator';
    await withWorker(env, activities(), async (taskQueue) => {
      const spec = campaignSpec('no-role', (e) => (e === 'staging' ? { aws: { roleArn: wrong } } : {}));
      const handle = await startCampaign(env.client, resolveCampaignSpec(spec), { taskQueue });
      const failure = await failureOf(handle.result());
      assert.equal(failure.type, 'PreflightFailed');
      assert.match(failure.message, /staging: AssumeRole and GetCallerIdentity in region eu-west-2 as role arn:aws:iam::999999999999:role\/rds-orchestrator \(account 999999999999\) was refused \(AccessDenied\)/);
      assert.deepEqual(await admin.calls({ mutationsOnly: true }), [], 'nothing changed in any account');
    });
  });

  it('a restore with the zone in another account than the database cuts over, then rolls back correctly after a failed switch', async function () {
    const env = await timeSkippingEnv();
    // staging's database (its account) behind a CNAME in production's account's zone, reached by production's role.
    const staging = demoInstanceId('staging');
    const cname = { hostedZoneId: 'ZDEMONOTIFY0001', recordName: 'db.staging.notify.internal', setIdentifier: staging };
    const spec = (restoreId: string) =>
      resolveRestoreSpec({
        restoreId,
        requester: 'alice',
        source: { region: REGION, instanceId: staging, aws: { roleArn: demoRoleArn('staging') } },
        targetInstanceId: `${staging}-${restoreId}`,
        restoreTime: 'latest',
        bastion: { securityGroupId: DEMO_BASTION_SECURITY_GROUP_ID, aws: { roleArn: demoRoleArn('production') } },
        cutover: { ...cname, aws: { roleArn: demoRoleArn('production') } },
        pollInterval: '2s',
      });
    const intruder = createActivities({ config: simulatorConfig(sim.url), env: {} });
    const zoneAccess = { roleArn: demoRoleArn('production'), sessionName: 'test-intruder' };
    const approveWhenAsked = async (id: string, meddle?: (s: RestoreStatus) => Promise<boolean>): Promise<RestoreStatus> => {
      let approved = false;
      for (;;) {
        const s = await restoreHandle(env.client, id).query(restoreStatusQuery);
        if (!approved && s.waitingFor?.kind === 'approval') {
          await restoreHandle(env.client, id).executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: s.waitingFor.plan }] });
          approved = true;
        }
        if (meddle && (await meddle(s))) return s;
        if (['completed', 'rolled-back', 'failed', 'aborted'].includes(s.state)) return s;
        await env.sleep(5_000);
      }
    };
    await withWorker(env, activities(), async (taskQueue) => {

      const cut = await startRestore(env.client, spec('cut'), { taskQueue });
      await approveWhenAsked('cut');
      const done = await cut.result();
      assert.equal(done.state, 'completed', JSON.stringify(done.failure ?? done.rollback));
      assert.deepEqual([done.source.account, done.cutover?.account], [account('staging'), account('production')]);
      const record = await intruder.getWeightedCname({ hostedZoneId: cname.hostedZoneId, recordName: cname.recordName, setIdentifier: cname.setIdentifier, access: zoneAccess });
      assert.equal(record?.value, done.target.endpoint, 'the CNAME in production\'s zone points at the restored instance');
      const calls = await admin.calls({ mutationsOnly: true });
      const byAction = (a: string) => calls.filter((c) => c.action === a);
      assert.deepEqual([...new Set(byAction('ChangeResourceRecordSets').map((c) => c.account))], [account('production')], 'the zone changed in its account');
      for (const a of ['CreateSecurityGroup', 'RestoreDBInstanceToPointInTime', 'StopDBInstance', 'AuthorizeSecurityGroupIngress']) {
        assert.deepEqual([...new Set(byAction(a).map((c) => c.account))], [account('staging')], `${a} in the database's account`);
      }
      assert.match(JSON.stringify(byAction('AuthorizeSecurityGroupIngress')[0].params), new RegExp(account('production')), 'the bastion group is named with its account');
      await sameChangesAsAws('restore', 'cut');

    });

    // Again, from a running source (a fresh simulator state, so fresh sessions: a worker and an intruder of
    // their own): someone repoints the record during the TTL wait; the team rolls back.
    await admin.seed(fleetAtRest(Date.now(), true));
    const meddler = createActivities({ config: simulatorConfig(sim.url), env: {} });
    await withWorker(env, activities(), async (taskQueue) => {
      const back = await startRestore(env.client, spec('back'), { taskQueue });
      let meddled = false;
      const asked = await approveWhenAsked('back', async (s) => {
        if (!meddled && s.currentStep === 'waiting-for-ttl') {
          const current = await meddler.getWeightedCname({ hostedZoneId: cname.hostedZoneId, recordName: cname.recordName, setIdentifier: cname.setIdentifier, access: zoneAccess });
          await meddler.upsertWeightedCname({ record: { ...current!, value: 'someone-else.example.net' }, access: zoneAccess });
          meddled = true;
        }
        return s.state === 'waiting-for-decision';
      });
      assert.equal(asked.state, 'waiting-for-decision');
      await back.executeUpdate(decideUpdate, { args: [{ by: 'carol', decision: 'roll-back' }] });
      const rolled = await back.result();
      assert.equal(rolled.state, 'rolled-back');
      const after = await meddler.getWeightedCname({ hostedZoneId: cname.hostedZoneId, recordName: cname.recordName, setIdentifier: cname.setIdentifier, access: zoneAccess });
      assert.equal(after?.value, rolled.source.endpoint, 'the CNAME is back on the old instance, in the zone\'s account');
      const started = (await admin.calls({ mutationsOnly: true })).filter((c) => c.action === 'StartDBInstance');
      assert.deepEqual(started.map((c) => c.account), [account('staging')], 'the old instance started again in its account');
    });
  });
});
