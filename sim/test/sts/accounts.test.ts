/**
 * The demo fleet in three accounts (preview, staging, production, as the runbook's), its DNS through the
 * production account's resolver, STS state across a restart, and the STS answers checked against botocore's
 * `sts/2011-06-15` model with the project's validator (test/conformance/service-model.ts).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Resolver } from 'node:dns/promises';
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { ListHostedZonesCommand } from '@aws-sdk/client-route-53';
import { loadServiceModel, locateBotocore } from '../../../test/conformance/service-model';
import type { Finding, RawResponse, ServiceModel } from '../../../test/conformance/service-model';
import { ManualClock } from '../../src/core/clock';
import { SimAdminClient } from '../../src/client';
import { parseSimulatorArgs } from '../../src/main';
import {
  DEMO_ACCOUNTS,
  DEMO_BASTION_SECURITY_GROUP_ID,
  DEMO_ENVIRONMENTS,
  DEMO_ORCHESTRATOR_ACCESS_KEY_ID,
  DEMO_VPC_ID,
  demoDbSecurityGroupId,
  demoFleet,
  demoInstanceId,
  demoOrchestratorArn,
  demoRoleArn,
  demoVpcId,
} from '../../src/demo-fleet';
import { startSimulator } from '../../src/server';
import { CREDENTIALS, rejectsWith, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';
import { ClientPool, getCallerIdentity, rawQuery, rawRoute53 } from '../sts-helpers';

const ORCHESTRATOR = { accessKeyId: DEMO_ORCHESTRATOR_ACCESS_KEY_ID, secretAccessKey: 'demo' };

describe('sim: the demo fleet in three accounts', function () {
  let h: SimHarness;
  let pool: ClientPool;
  beforeEach(async function () {
    h = await startHarness({ dnsPort: 0, dnsVpcId: DEMO_VPC_ID, dnsAccount: DEMO_ACCOUNTS.production });
    pool = new ClientPool(h.sim.url);
  });
  afterEach(async function () {
    pool.destroyAll();
    await h.close();
  });

  it('each environment in its own account, reached through its rds-orchestrator role; zone and bastion in production', async function () {
    const seeded = await h.admin.seed(demoFleet(h.clock.now(), { multiAccount: true }));
    assert.deepEqual(seeded.instances.map((i) => [i.id, i.account]), DEMO_ENVIRONMENTS.map((env) => [demoInstanceId(env), DEMO_ACCOUNTS[env]]));
    assert.deepEqual(seeded.roles.map((r) => r.arn), DEMO_ENVIRONMENTS.map((env) => demoRoleArn(env)));
    assert.equal(demoRoleArn('staging'), 'arn:aws:iam::333333333333:role/rds-orchestrator');
    assert.deepEqual((await getCallerIdentity(pool, h.sim.url, ORCHESTRATOR)).Arn, demoOrchestratorArn());

    for (const env of DEMO_ENVIRONMENTS) {
      const c = pool.with(await pool.assume(ORCHESTRATOR, { RoleArn: demoRoleArn(env), RoleSessionName: `demo-campaign.${env}` }));
      const [db, ...others] = (await c.rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? [];
      assert.equal(others.length, 0, `${env} sees one instance`);
      assert.deepEqual([db?.DBInstanceIdentifier, db?.DBSubnetGroup?.VpcId, db?.VpcSecurityGroups?.[0]?.VpcSecurityGroupId], [demoInstanceId(env), demoVpcId(env, true), demoDbSecurityGroupId(env)]);
      const zones = (await c.route53.send(new ListHostedZonesCommand({}))).HostedZones ?? [];
      assert.deepEqual(zones.map((z) => z.Name), env === 'production' ? ['notify.internal.'] : [], `${env}: the zone lives in production`);
      const bastion = c.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [DEMO_BASTION_SECURITY_GROUP_ID] }));
      if (env === 'production') await bastion;
      else await rejectsWith(bastion, 'InvalidGroup.NotFound');
    }
    // The orchestrator's own account and the default credentials see none of it.
    for (const creds of [ORCHESTRATOR, CREDENTIALS]) assert.deepEqual((await pool.with(creds).rds.send(new DescribeDBInstancesCommand({}))).DBInstances, []);
    // The bastion rule is made in production with production's credentials, on production's group.
    const prod = pool.with(await pool.assume(ORCHESTRATOR, { RoleArn: demoRoleArn('production'), RoleSessionName: 'restore-1' }));
    await prod.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: demoDbSecurityGroupId('production'), IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: DEMO_BASTION_SECURITY_GROUP_ID }] }] }),
    );
    const [rule] = await h.admin.calls({ mutationsOnly: true });
    assert.deepEqual([rule?.account, rule?.principal], [DEMO_ACCOUNTS.production, `arn:aws:sts::${DEMO_ACCOUNTS.production}:assumed-role/rds-orchestrator/restore-1`]);
  });

  it('the DNS server answers the production account’s private zone, with every environment’s record', async function () {
    await h.admin.seed(demoFleet(h.clock.now(), { multiAccount: true }));
    const r = new Resolver({ timeout: 1000, tries: 1 });
    r.setServers([h.sim.dnsAddress as string]);
    const answer = await r.resolveCname('db.preview.notify.internal');
    assert.match(answer[0] as string, /^notifydb-preview\.[a-z0-9]{12}\.eu-west-2\.rds\.amazonaws\.com$/);
    assert.deepEqual(parseSimulatorArgs(['--seed-demo-accounts', '--dns-port', '0', '--dns-account', '444444444444']), {
      port: 4599,
      host: '127.0.0.1',
      speed: 1,
      seedDemo: true,
      seedDemoAccounts: true,
      dnsPort: 0,
      dnsAccount: '444444444444',
    });
    assert.throws(() => parseSimulatorArgs(['--dns-account', 'prod']), /not a 12-digit account id/);
  });

  it('the ExternalId option: every role then requires it', async function () {
    await h.admin.seed(demoFleet(h.clock.now(), { multiAccount: { orchestrator: '999999999999' }, externalId: 'notify-demo' }));
    const orch = { accessKeyId: DEMO_ORCHESTRATOR_ACCESS_KEY_ID, secretAccessKey: 's' };
    assert.equal((await getCallerIdentity(pool, h.sim.url, orch)).Account, '999999999999');
    await rejectsWith(pool.assume(orch, { RoleArn: demoRoleArn('preview'), RoleSessionName: 'no-external-id' }), 'AccessDenied');
    const c = await pool.assume(orch, { RoleArn: demoRoleArn('preview'), RoleSessionName: 'with-external-id', ExternalId: 'notify-demo' });
    assert.equal((await getCallerIdentity(pool, h.sim.url, c)).Account, DEMO_ACCOUNTS.preview);
  });

  it('roles, identities and issued sessions survive a restart with a state file', async function () {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-sts-'));
    try {
      const clock = new ManualClock(Date.UTC(2025, 0, 6, 12, 0, 0));
      const stateFile = path.join(tmp, 'state.json');
      const first = await startSimulator({ port: 0, clock, stateFile });
      await new SimAdminClient(first.url).seed(demoFleet(clock.now(), { multiAccount: true }));
      const firstPool = new ClientPool(first.url);
      const c = await firstPool.assume(ORCHESTRATOR, { RoleArn: demoRoleArn('staging'), RoleSessionName: 'before-restart' });
      firstPool.destroyAll();
      await first.close();
      const second = await startSimulator({ port: 0, clock, stateFile });
      const secondPool = new ClientPool(second.url);
      try {
        assert.deepEqual(((await secondPool.with(c).rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? []).map((d) => d.DBInstanceIdentifier), ['notifydb-staging']);
        await secondPool.assume(ORCHESTRATOR, { RoleArn: demoRoleArn('production'), RoleSessionName: 'after-restart' });
      } finally {
        secondPool.destroyAll();
        await second.close();
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('sim: STS answers against botocore’s service models', function () {
  let h: SimHarness;
  let models: Record<'sts' | 'rds' | 'ec2' | 'route53', ServiceModel>;
  before(function () {
    const { dataDir } = locateBotocore();
    models = { sts: loadServiceModel('sts', dataDir), rds: loadServiceModel('rds', dataDir), ec2: loadServiceModel('ec2', dataDir), route53: loadServiceModel('route53', dataDir) };
  });
  beforeEach(async function () {
    h = await startHarness();
    await h.admin.seed(demoFleet(h.clock.now(), { multiAccount: true, externalId: 'x-1' }));
  });
  afterEach(async function () {
    await h.close();
  });

  const sts = (creds: { accessKeyId: string; sessionToken?: string }, form: Record<string, string>): Promise<RawResponse> =>
    rawQuery(h.sim.url, 'sts', { secretAccessKey: 's', ...creds }, { Version: '2011-06-15', ...form });
  const problems = (findings: Finding[]): string[] => findings.map((f) => `${f.operation} ${f.path}: ${f.problem}`);

  it('AssumeRole, GetCallerIdentity, AccessDenied and ValidationError conform to the sts model', async function () {
    const ok = await sts(ORCHESTRATOR, { Action: 'AssumeRole', RoleArn: demoRoleArn('preview'), RoleSessionName: 'conformance', ExternalId: 'x-1', SourceIdentity: 'alice' });
    assert.equal(ok.status, 200, ok.body);
    assert.deepEqual(problems(models.sts.validate('AssumeRole', ok)), []);
    assert.match(ok.body, /<Expiration>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ<\/Expiration>/, 'to the second, as AWS');
    const session = { accessKeyId: /<AccessKeyId>([^<]+)</.exec(ok.body)?.[1] as string, sessionToken: /<SessionToken>([^<]+)</.exec(ok.body)?.[1] as string };
    for (const creds of [ORCHESTRATOR, session]) {
      const me = await sts(creds, { Action: 'GetCallerIdentity' });
      assert.deepEqual(problems(models.sts.validate('GetCallerIdentity', me)), []);
    }
    const deniedRaw = await sts(ORCHESTRATOR, { Action: 'AssumeRole', RoleArn: demoRoleArn('preview'), RoleSessionName: 'conformance' });
    assert.equal(deniedRaw.status, 403);
    assert.deepEqual(problems(models.sts.validate('AssumeRole', deniedRaw)), []);
    const invalid = await sts(ORCHESTRATOR, { Action: 'AssumeRole', RoleArn: demoRoleArn('preview'), RoleSessionName: 'x' });
    assert.equal(invalid.status, 400);
    assert.deepEqual(problems(models.sts.validate('AssumeRole', invalid)), []);
  });

  it('refused credentials: the envelope of each service conforms; the codes are AWS’s common errors, not in the per-operation models', async function () {
    const s = await sts(ORCHESTRATOR, { Action: 'AssumeRole', RoleArn: demoRoleArn('production'), RoleSessionName: 'short', ExternalId: 'x-1', DurationSeconds: '900' });
    const expired = { accessKeyId: /<AccessKeyId>([^<]+)</.exec(s.body)?.[1] as string, secretAccessKey: 's', sessionToken: /<SessionToken>([^<]+)</.exec(s.body)?.[1] as string };
    h.advance(900);
    const unknown = { accessKeyId: 'ASIAAAAAAAAAAAAAAAAA', secretAccessKey: 's', sessionToken: 't' };
    // The validator knows an operation's modelled errors and a short list of common ones, where these codes
    // stand (AWS's common-error pages: InvalidClientTokenId, ExpiredTokenException, AuthFailure,
    // RequestExpired): no finding at all, the envelope included.
    const cases: Array<[keyof typeof models, string, RawResponse, number, string]> = [
      ['sts', 'GetCallerIdentity', await rawQuery(h.sim.url, 'sts', expired, { Action: 'GetCallerIdentity', Version: '2011-06-15' }), 403, 'ExpiredToken'],
      ['sts', 'GetCallerIdentity', await rawQuery(h.sim.url, 'sts', unknown, { Action: 'GetCallerIdentity', Version: '2011-06-15' }), 403, 'InvalidClientTokenId'],
      ['rds', 'DescribeDBInstances', await rawQuery(h.sim.url, 'rds', expired, { Action: 'DescribeDBInstances', Version: '2014-10-31' }), 403, 'ExpiredToken'],
      ['rds', 'DescribeDBInstances', await rawQuery(h.sim.url, 'rds', unknown, { Action: 'DescribeDBInstances', Version: '2014-10-31' }), 403, 'InvalidClientTokenId'],
      ['ec2', 'DescribeSecurityGroups', await rawQuery(h.sim.url, 'ec2', expired, { Action: 'DescribeSecurityGroups', Version: '2016-11-15' }), 400, 'RequestExpired'],
      ['ec2', 'DescribeSecurityGroups', await rawQuery(h.sim.url, 'ec2', unknown, { Action: 'DescribeSecurityGroups', Version: '2016-11-15' }), 401, 'AuthFailure'],
      ['route53', 'ListHostedZones', await rawRoute53(h.sim.url, '/2013-04-01/hostedzone', expired), 403, 'ExpiredToken'],
      ['route53', 'ListHostedZones', await rawRoute53(h.sim.url, '/2013-04-01/hostedzone', unknown), 403, 'InvalidClientTokenId'],
    ];
    for (const [service, operation, raw, status, code] of cases) {
      assert.equal(raw.status, status, `${service} ${code}: ${raw.body}`);
      assert.deepEqual(problems(models[service].validate(operation, raw)), [], `${service} ${code}`);
    }
  });
});
