/**
 * STS and accounts through the real SDK clients, as AWS documents them:
 * - https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html (credentials, expiry, validation,
 *   role chaining) and API_GetCallerIdentity.html
 * - trust policies and the sts:ExternalId condition (IAM User Guide, id_roles_common-scenarios_third-party.html)
 * - refused credentials: InvalidClientTokenId / ExpiredToken (RDS, STS, Route 53), AuthFailure / RequestExpired
 *   (EC2 errors-overview.html)
 */
import assert from 'node:assert/strict';
import { DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { DescribeDBInstancesCommand, ModifyDBInstanceCommand } from '@aws-sdk/client-rds';
import { GetHostedZoneCommand, ListHostedZonesCommand } from '@aws-sdk/client-route-53';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import type { AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { CREDENTIALS, REGION, rejectsWith, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';
import { ClientPool, errorCode, getCallerIdentity, rawQuery } from '../sts-helpers';
import type { Creds } from '../sts-helpers';

const ORCH = '111111111111';
const A = '222222222222';
const B = '333333333333';
const ORCH_USER = `arn:aws:iam::${ORCH}:user/orchestrator`;
const ORCHESTRATOR: Creds = { accessKeyId: 'AKIAORCHESTRATOR0001', secretAccessKey: 's' };
const COLLEAGUE: Creds = { accessKeyId: 'AKIAORCHESTRATOR0002', secretAccessKey: 's' };
const INTRUDER: Creds = { accessKeyId: 'AKIASOMEONEELSE00001', secretAccessKey: 's' };
const ROOT: Creds = { accessKeyId: 'AKIAROOTOFORCHESTRA1', secretAccessKey: 's' };
const roleArn = (account: string, name: string): string => `arn:aws:iam::${account}:role/${name}`;
const DEPLOYER_A = roleArn(A, 'deployer');
const DEPLOYER_B = roleArn(B, 'deployer');
const SG_A = 'sg-0a0000000000000a1';
const denied = (caller: string, role: string): string => `User: ${caller} is not authorized to perform: sts:AssumeRole on resource: ${role}`;

describe('sim: STS AssumeRole, GetCallerIdentity and accounts', function () {
  let h: SimHarness;
  let pool: ClientPool;
  let zoneB: string;
  const assume = (base: Creds, input: Partial<AssumeRoleCommandInput> = {}): ReturnType<ClientPool['assume']> =>
    pool.assume(base, { RoleArn: DEPLOYER_A, RoleSessionName: 'campaign-42.preview', ...input });
  const assumeFails = (base: Creds, input: Partial<AssumeRoleCommandInput>, name: string, message?: string | RegExp): ReturnType<typeof rejectsWith> =>
    rejectsWith(pool.with(base).sts.send(new AssumeRoleCommand({ RoleArn: DEPLOYER_A, RoleSessionName: 'session', ...input })), name, message);

  beforeEach(async function () {
    h = await startHarness();
    pool = new ClientPool(h.sim.url);
    const seeded = await h.admin.seed({
      roles: [
        { account: A, name: 'deployer', trust: { accounts: [ORCH] } },
        { account: B, name: 'deployer', trust: { accounts: [ORCH], externalId: 'notify-ext-1' }, maxSessionSeconds: 7200 },
        { account: B, name: 'by-principal', trust: { principals: [ORCH_USER] } },
        { account: B, name: 'chained', trust: { principals: [DEPLOYER_A] } },
      ],
      identities: [
        { accessKeyId: ORCHESTRATOR.accessKeyId, account: ORCH, arn: ORCH_USER },
        { accessKeyId: COLLEAGUE.accessKeyId, account: ORCH, arn: `arn:aws:iam::${ORCH}:user/colleague` },
        { accessKeyId: INTRUDER.accessKeyId, account: '555555555555', arn: 'arn:aws:iam::555555555555:user/intruder' },
        { accessKeyId: ROOT.accessKeyId, account: ORCH, arn: `arn:aws:iam::${ORCH}:root` },
      ],
      securityGroups: [{ region: REGION, account: A, id: SG_A, name: 'app-a' }],
      instances: [
        { region: REGION, account: A, id: 'db-a', engineVersion: '15.5' },
        { region: REGION, account: B, id: 'db-b', engineVersion: '15.5' },
        { region: REGION, id: 'db-default', engineVersion: '15.5' },
      ],
      hostedZones: [{ account: B, name: 'b.example.com' }],
    });
    assert.deepEqual(seeded.roles.map((r) => r.arn), [DEPLOYER_A, DEPLOYER_B, roleArn(B, 'by-principal'), roleArn(B, 'chained')]);
    zoneB = seeded.hostedZones[0]?.id as string;
  });
  afterEach(async function () {
    pool.destroyAll();
    await h.close();
  });

  it('AssumeRole issues ASIA credentials of the role account, expiring DurationSeconds later on the simulator clock', async function () {
    const now = h.clock.now();
    const c = await assume(ORCHESTRATOR);
    assert.match(c.accessKeyId, /^ASIA[A-Z0-9]{16}$/);
    assert.ok(c.secretAccessKey.length >= 40 && c.sessionToken.length > 100);
    assert.equal(c.expiration.getTime(), now + 3600_000);
    assert.equal(c.arn, `arn:aws:sts::${A}:assumed-role/deployer/campaign-42.preview`);
    assert.match(c.assumedRoleId, /^AROA[A-Z0-9]{17}:campaign-42\.preview$/);
    assert.equal((await assume(ORCHESTRATOR, { RoleSessionName: 'again' })).assumedRoleId.split(':')[0], c.assumedRoleId.split(':')[0], 'one role, one unique id');
    assert.equal((await assume(ORCHESTRATOR, { DurationSeconds: 900 })).expiration.getTime(), now + 900_000);
    h.sim.advance(600); // the simulator's own offset counts too
    assert.equal((await assume(ORCHESTRATOR)).expiration.getTime(), now + 600_000 + 3600_000);
  });

  it('temporary credentials see only their account: another account’s instance is DBInstanceNotFound, its group and zone not found', async function () {
    const a = pool.with(await assume(ORCHESTRATOR));
    const b = pool.with(await assume(ORCHESTRATOR, { RoleArn: DEPLOYER_B, ExternalId: 'notify-ext-1' }));
    const ids = async (c: typeof a): Promise<string[]> => ((await c.rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? []).map((d) => d.DBInstanceIdentifier as string);
    assert.deepEqual(await ids(a), ['db-a']);
    assert.deepEqual(await ids(b), ['db-b']);
    assert.deepEqual(await ids(pool.with(CREDENTIALS)), ['db-default']);
    assert.deepEqual(await ids(pool.with(ORCHESTRATOR)), [], 'the orchestrator account itself has no instance');
    const e = await rejectsWith(a.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db-b' })), 'DBInstanceNotFoundFault', 'DBInstance db-b not found.');
    assert.equal(e.$metadata?.httpStatusCode, 404);
    await rejectsWith(a.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db-b', AutoMinorVersionUpgrade: true })), 'DBInstanceNotFoundFault');
    await a.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [SG_A] }));
    await rejectsWith(b.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [SG_A] })), 'InvalidGroup.NotFound');
    assert.equal((await b.route53.send(new ListHostedZonesCommand({}))).HostedZones?.length, 1);
    assert.equal((await a.route53.send(new ListHostedZonesCommand({}))).HostedZones?.length, 0);
    await rejectsWith(a.route53.send(new GetHostedZoneCommand({ Id: zoneB })), 'NoSuchHostedZone');
  });

  it('GetCallerIdentity: a seeded identity, an unseeded key (an IAM user of the default or 12-digit account) and an assumed role', async function () {
    const orch = await getCallerIdentity(pool, h.sim.url, ORCHESTRATOR);
    assert.deepEqual([orch.Account, orch.Arn], [ORCH, ORCH_USER]);
    assert.match(orch.UserId, /^AIDA[A-Z2-7]{17}$/);
    const anyKey = await getCallerIdentity(pool, h.sim.url, CREDENTIALS);
    assert.deepEqual([anyKey.Account, anyKey.Arn], ['123456789012', 'arn:aws:iam::123456789012:user/simulator']);
    assert.equal((await getCallerIdentity(pool, h.sim.url, { accessKeyId: '444455556666', secretAccessKey: 'x' })).Account, '444455556666');
    assert.deepEqual((await getCallerIdentity(pool, h.sim.url, ROOT)).UserId, ORCH, 'root: the account id');
    const c = await assume(ORCHESTRATOR);
    const me = await getCallerIdentity(pool, h.sim.url, c);
    assert.deepEqual([me.Account, me.Arn, me.UserId], [A, c.arn, c.assumedRoleId]);
  });

  it('trust policies: AccessDenied for an untrusted account or principal, an unknown role and a root caller; the ExternalId condition', async function () {
    const intruder = 'arn:aws:iam::555555555555:user/intruder';
    const e = await assumeFails(INTRUDER, {}, 'AccessDenied', denied(intruder, DEPLOYER_A));
    assert.equal(e.$metadata?.httpStatusCode, 403);
    await assumeFails(CREDENTIALS, {}, 'AccessDenied', denied('arn:aws:iam::123456789012:user/simulator', DEPLOYER_A));
    const missing = roleArn(A, 'missing');
    await assumeFails(ORCHESTRATOR, { RoleArn: missing }, 'AccessDenied', denied(ORCH_USER, missing));
    await assumeFails(ROOT, {}, 'AccessDenied', 'Roles may not be assumed by root accounts.');
    // An account in the trust policy admits every principal of it; a principal ARN only that principal.
    await assume(COLLEAGUE);
    await assume(ORCHESTRATOR, { RoleArn: roleArn(B, 'by-principal') });
    await assumeFails(COLLEAGUE, { RoleArn: roleArn(B, 'by-principal') }, 'AccessDenied', denied(`arn:aws:iam::${ORCH}:user/colleague`, roleArn(B, 'by-principal')));
    // sts:ExternalId: missing or wrong is refused as AccessDenied; an ExternalId the role does not ask for is ignored.
    await assumeFails(ORCHESTRATOR, { RoleArn: DEPLOYER_B }, 'AccessDenied', denied(ORCH_USER, DEPLOYER_B));
    await assumeFails(ORCHESTRATOR, { RoleArn: DEPLOYER_B, ExternalId: 'notify-ext-2' }, 'AccessDenied', denied(ORCH_USER, DEPLOYER_B));
    assert.equal((await assume(ORCHESTRATOR, { RoleArn: DEPLOYER_B, ExternalId: 'notify-ext-1' })).arn.split(':')[4], B);
    await assume(ORCHESTRATOR, { ExternalId: 'not-asked-for' });
  });

  it('role chaining: a session may assume a role that trusts its role, for at most one hour', async function () {
    const first = await assume(ORCHESTRATOR);
    const second = await pool.assume(first, { RoleArn: roleArn(B, 'chained'), RoleSessionName: 'hop' });
    assert.equal(second.arn, `arn:aws:sts::${B}:assumed-role/chained/hop`);
    assert.equal((await getCallerIdentity(pool, h.sim.url, second)).Account, B);
    await assumeFails(first, { RoleArn: roleArn(B, 'chained'), DurationSeconds: 3601 }, 'ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
    await assumeFails(ORCHESTRATOR, { RoleArn: roleArn(B, 'chained') }, 'AccessDenied');
  });

  it('validation: RoleSessionName, DurationSeconds, ExternalId and RoleArn constraints, and the role’s MaxSessionDuration', async function () {
    const at = (value: string, field: string, rule: string): string => `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: Member must ${rule}`;
    const e = await assumeFails(ORCHESTRATOR, { RoleSessionName: 'a' }, 'ValidationError', at('a', 'roleSessionName', 'have length greater than or equal to 2'));
    assert.equal(e.$metadata?.httpStatusCode, 400);
    await assumeFails(ORCHESTRATOR, { RoleSessionName: 'x'.repeat(65) }, 'ValidationError', at('x'.repeat(65), 'roleSessionName', 'have length less than or equal to 64'));
    await assumeFails(ORCHESTRATOR, { RoleSessionName: 'campaign 42' }, 'ValidationError', at('campaign 42', 'roleSessionName', 'satisfy regular expression pattern: [\\w+=,.@-]*'));
    await assumeFails(ORCHESTRATOR, { DurationSeconds: 899 }, 'ValidationError', at('899', 'durationSeconds', 'have value greater than or equal to 900'));
    await assumeFails(ORCHESTRATOR, { DurationSeconds: 43201 }, 'ValidationError', at('43201', 'durationSeconds', 'have value less than or equal to 43200'));
    await assumeFails(ORCHESTRATOR, { ExternalId: 'x' }, 'ValidationError', at('x', 'externalId', 'have length greater than or equal to 2'));
    await assumeFails(ORCHESTRATOR, { RoleArn: 'deployer' }, 'ValidationError', at('deployer', 'roleArn', 'have length greater than or equal to 20'));
    await assumeFails(ORCHESTRATOR, { RoleArn: 'arn:aws:iam::222222222222:user/deployer' }, 'ValidationError', 'arn:aws:iam::222222222222:user/deployer is invalid');
    await assumeFails(ORCHESTRATOR, { RoleSessionName: 'a', DurationSeconds: 100 }, 'ValidationError', /^2 validation errors detected: .*roleSessionName.*; .*durationSeconds/);
    await assumeFails(ORCHESTRATOR, { DurationSeconds: 3601 }, 'ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    const long = await assume(ORCHESTRATOR, { RoleArn: DEPLOYER_B, ExternalId: 'notify-ext-1', DurationSeconds: 7200 });
    assert.equal(long.expiration.getTime(), h.clock.now() + 7200_000);
  });

  it('expired credentials: ExpiredToken on RDS, STS and Route 53, RequestExpired on EC2, from Expiration on; a new session works', async function () {
    const c = await assume(ORCHESTRATOR, { DurationSeconds: 900 });
    const x = pool.with(c, { maxAttempts: 1 });
    h.advance(899);
    await x.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db-a' }));
    h.advance(1); // now === Expiration
    const rds = await rejectsWith(x.rds.send(new DescribeDBInstancesCommand({})), 'ExpiredToken', 'The security token included in the request is expired');
    assert.equal(rds.$metadata?.httpStatusCode, 403);
    const r53 = await rejectsWith(x.route53.send(new ListHostedZonesCommand({})), 'ExpiredToken', 'The security token included in the request is expired');
    assert.equal(r53.$metadata?.httpStatusCode, 403);
    const ec2 = await rejectsWith(x.ec2.send(new DescribeSecurityGroupsCommand({})), 'RequestExpired', 'Request has expired.');
    assert.equal(ec2.$metadata?.httpStatusCode, 400);
    await assumeFails(c, { RoleArn: roleArn(B, 'chained') }, 'ExpiredToken');
    const sts = await rawQuery(h.sim.url, 'sts', c, { Action: 'GetCallerIdentity', Version: '2011-06-15' });
    assert.deepEqual([sts.status, errorCode(sts)], [403, 'ExpiredToken']);
    // The simulator's own clock offset (POST /_sim/advance) expires them the same way.
    const d = await assume(ORCHESTRATOR, { DurationSeconds: 900 });
    await h.admin.advance(900);
    await rejectsWith(pool.with(d, { maxAttempts: 1 }).rds.send(new DescribeDBInstancesCommand({})), 'ExpiredToken');
    const fresh = pool.with(await assume(ORCHESTRATOR));
    assert.equal((await fresh.rds.send(new DescribeDBInstancesCommand({}))).DBInstances?.length, 1);
    // A refused call is logged with the session that made it.
    const refused = await h.admin.calls({ action: 'DescribeDBInstances' });
    assert.deepEqual(refused.filter((r) => r.errorCode === 'ExpiredToken').map((r) => [r.account, r.principal, r.httpStatus]), [
      [A, c.arn, 403],
      [A, d.arn, 403],
    ]);
  });

  it('unknown credentials: InvalidClientTokenId (AuthFailure on EC2), also for a wrong session token and after a reset', async function () {
    const unknown = pool.with({ accessKeyId: 'ASIAAAAAAAAAAAAAAAAA', secretAccessKey: 's', sessionToken: 'garbage' }, { maxAttempts: 1 });
    const e = await rejectsWith(unknown.rds.send(new DescribeDBInstancesCommand({})), 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    assert.equal(e.$metadata?.httpStatusCode, 403);
    await rejectsWith(unknown.route53.send(new ListHostedZonesCommand({})), 'InvalidClientTokenId');
    const ec2 = await rejectsWith(unknown.ec2.send(new DescribeSecurityGroupsCommand({})), 'AuthFailure', 'AWS was not able to validate the provided access credentials');
    assert.equal(ec2.$metadata?.httpStatusCode, 401);
    await assumeFails({ accessKeyId: 'ASIAAAAAAAAAAAAAAAAA', secretAccessKey: 's' }, {}, 'InvalidClientTokenId');
    const c = await assume(ORCHESTRATOR);
    await rejectsWith(pool.with({ ...c, sessionToken: 'another' }, { maxAttempts: 1 }).rds.send(new DescribeDBInstancesCommand({})), 'InvalidClientTokenId');
    await rejectsWith(pool.with({ ...c, sessionToken: undefined }, { maxAttempts: 1 }).rds.send(new DescribeDBInstancesCommand({})), 'InvalidClientTokenId');
    const short = await assume(ORCHESTRATOR, { DurationSeconds: 900 });
    h.advance(1000);
    await h.admin.reset();
    // The roles are gone: a live session is unknown; an expired one still says so, as its token carries the expiry.
    await rejectsWith(pool.with(c, { maxAttempts: 1 }).rds.send(new DescribeDBInstancesCommand({})), 'InvalidClientTokenId');
    await rejectsWith(pool.with(short, { maxAttempts: 1 }).rds.send(new DescribeDBInstancesCommand({})), 'ExpiredToken');
    // (The reset emptied the call log.) Unknown callers are logged without account or principal, with their key.
    assert.deepEqual((await h.admin.calls()).map((r) => [r.errorCode, r.account, r.principal, r.accessKeyId]), [
      ['InvalidClientTokenId', '-', undefined, c.accessKeyId],
      ['ExpiredToken', '-', undefined, short.accessKeyId],
    ]);
  });

  it('the call log records account, principal and access key of each call; filter by account or principal', async function () {
    const c = await assume(ORCHESTRATOR);
    await pool.with(c).rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db-a', AutoMinorVersionUpgrade: true }));
    await pool.with(CREDENTIALS).rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db-default', AutoMinorVersionUpgrade: true }));
    const mutations = await h.admin.calls({ mutationsOnly: true });
    assert.deepEqual(mutations.map((m) => [m.params.DBInstanceIdentifier, m.account, m.principal, m.accessKeyId]), [
      ['db-a', A, c.arn, c.accessKeyId],
      ['db-default', '123456789012', 'arn:aws:iam::123456789012:user/simulator', 'x'],
    ]);
    const [assumeCall] = await h.admin.calls({ service: 'sts' });
    assert.deepEqual([assumeCall?.action, assumeCall?.account, assumeCall?.principal, assumeCall?.isMutation, assumeCall?.params.RoleArn], ['AssumeRole', ORCH, ORCH_USER, false, DEPLOYER_A]);
    assert.deepEqual((await h.admin.calls({ account: A })).map((m) => m.action), ['ModifyDBInstance']);
    assert.deepEqual((await h.admin.calls({ principal: ORCH_USER })).map((m) => m.action), ['AssumeRole']);
  });

  it('seeding refuses malformed roles and identities', async function () {
    await assert.rejects(h.admin.seed({ roles: [{ account: '12', name: 'r' }] }), /account must be 12 digits/);
    await assert.rejects(h.admin.seed({ roles: [{ account: A, name: 'r', maxSessionSeconds: 60 }] }), /maxSessionSeconds must be an integer from 3600 to 43200/);
    await assert.rejects(h.admin.seed({ roles: [{ account: A, name: 'r', trust: { accounts: ['x'] } }] }), /not a 12-digit account id/);
    await assert.rejects(h.admin.seed({ identities: [{ accessKeyId: 'ASIAXXXXXXXXXXXXXXXX', account: A }] }), /not start with ASIA/);
    await assert.rejects(h.admin.seed({ identities: [{ accessKeyId: 'AKIAXXXXXXXXXXXXXXXX', account: A, arn: `arn:aws:iam::${B}:user/u` }] }), /must be an IAM or STS ARN of account 222222222222/);
  });
});
