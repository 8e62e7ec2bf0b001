/**
 * Where a database password comes from (src/activities/database/credentials.ts, connect.ts connectionParams):
 * each source, each error a person must fix, and that no message ever carries the password or token.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DescribeDBInstancesCommand, RDSClient, type DBInstance } from '@aws-sdk/client-rds';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient, DecryptionFailure } from '@aws-sdk/client-secrets-manager';
import { ApplicationFailure } from '@temporalio/common';
import { mockClient } from 'aws-sdk-client-mock';
import { clientConfig, connectionParams, libpqEnv, connectFailure, type DatabaseDeps } from '../../../src/activities/database/connect';
import { FailureTypes, type AwsWhere } from '../../../src/api/activities';
import type { DatabaseAccess, DatabaseTarget } from '../../../src/api/database';
import { awsError, expectFailure, rejection } from '../helpers';

const REGION = 'eu-west-2';
const ID = 'notify-db';
const MASTER_ARN = `arn:aws:secretsmanager:${REGION}:111122223333:secret:rds!db-1234-AbCdEf`;
const OTHER_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:notify-app-XyZ123';
const PASSWORD = 'S3cr3t-Pa55word-do-not-show';
const TOKEN = 'iam-token-Signature=abcdef0123456789';

function instance(overrides: Partial<DBInstance> = {}): { DBInstances: DBInstance[] } {
  return {
    DBInstances: [
      {
        DBInstanceIdentifier: ID,
        DBInstanceStatus: 'available',
        Endpoint: { Address: `${ID}.abc.${REGION}.rds.amazonaws.com`, Port: 5432 },
        MasterUsername: 'master',
        MasterUserSecret: { SecretArn: MASTER_ARN, SecretStatus: 'active' },
        IAMDatabaseAuthenticationEnabled: false,
        ...overrides,
      },
    ],
  };
}

describe('database credentials', function () {
  const rds = new RDSClient({ region: REGION });
  const secrets = new SecretsManagerClient({ region: REGION });
  const rdsMock = mockClient(rds);
  const secretsMock = mockClient(secrets);
  let secretRegions: string[];
  let signed: { where: AwsWhere; host: string; port: number; username: string }[];
  let env: NodeJS.ProcessEnv;

  const deps = (): DatabaseDeps => ({
    rdsClientFor: () => rds,
    secretsClientFor: (where) => {
      secretRegions.push(typeof where === 'string' ? where : where.region);
      return secrets;
    },
    iamToken: async (where, host, port, username) => {
      signed.push({ where, host, port, username });
      return TOKEN;
    },
    env,
  });
  const target = (access: Partial<DatabaseAccess> = {}): DatabaseTarget => ({
    where: REGION,
    instanceId: ID,
    access: { database: 'notify', credentials: { kind: 'master-secret' }, tls: 'require', ...access },
  });

  /** Every message of the failure and its causes, checked for the secrets. */
  function assertNoSecret(err: unknown): void {
    for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
      const text = `${(e as Error).message} ${JSON.stringify((e as ApplicationFailure).details ?? null)}`;
      assert.ok(!text.includes(PASSWORD), `the password appears in: ${text}`);
      assert.ok(!text.includes(TOKEN), `the token appears in: ${text}`);
    }
  }
  async function expectAccessFailure(p: Promise<unknown>, type: string, nonRetryable: boolean, message: RegExp[]): Promise<void> {
    const err = await expectFailure(p, { type, nonRetryable, message });
    assertNoSecret(err);
  }

  beforeEach(function () {
    rdsMock.reset();
    secretsMock.reset();
    secretRegions = [];
    signed = [];
    env = {};
    rdsMock.on(DescribeDBInstancesCommand).resolves(instance());
  });

  describe('master-secret', function () {
    it("a restored instance without a secret of its own reads its source's (masterSecretOf); a refused login then says the secret may have rotated since the restore and how to fix it", async function () {
      const restored = { ...instance({ DBInstanceIdentifier: 'notify-restored', MasterUserSecret: undefined }).DBInstances[0], Endpoint: { Address: `notify-restored.abc.${REGION}.rds.amazonaws.com`, Port: 5432 } };
      rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'notify-restored' }).resolves({ DBInstances: [restored] });
      rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: ID }).resolves(instance());
      secretsMock.on(GetSecretValueCommand, { SecretId: MASTER_ARN }).resolves({ SecretString: JSON.stringify({ username: 'master', password: PASSWORD }) });
      const t: DatabaseTarget = { ...target(), instanceId: 'notify-restored', masterSecretOf: ID };
      const p = await connectionParams(deps(), t);
      assert.deepEqual([p.host, p.user, p.password], [`notify-restored.abc.${REGION}.rds.amazonaws.com`, 'master', PASSWORD], "the restored endpoint, the source's login");
      const refused = connectFailure(Object.assign(new Error('password authentication failed for user "master"'), { code: '28P01' }), {
        target: t,
        params: p,
        source: `the RDS-managed master user secret of ${ID} (${MASTER_ARN}; notify-restored, restored from it, has none of its own)`,
      });
      assert.equal(refused.nonRetryable, true);
      assert.match(refused.message, /rotated since, turn on ManageMasterUserPassword for notify-restored .*modify-db-instance --db-instance-identifier notify-restored --manage-master-user-password/);
      assertNoSecret(refused);
      // Without masterSecretOf, an instance without a secret is told to turn one on, as before.
      await expectAccessFailure(connectionParams(deps(), { ...t, masterSecretOf: undefined }), FailureTypes.DatabaseAccess, true, [/instance 'notify-restored' in eu-west-2 has no RDS-managed master user secret/]);
    });

    it("reads the instance's RDS-managed secret: its username and password, the endpoint from DescribeDBInstances", async function () {
      secretsMock.on(GetSecretValueCommand, { SecretId: MASTER_ARN }).resolves({ SecretString: JSON.stringify({ username: 'master', password: PASSWORD }) });
      const p = await connectionParams(deps(), target());
      assert.deepEqual(p, { host: `${ID}.abc.${REGION}.rds.amazonaws.com`, port: 5432, user: 'master', password: PASSWORD, database: 'notify', ssl: { rejectUnauthorized: false } });
      assert.deepEqual(rdsMock.commandCalls(DescribeDBInstancesCommand)[0]?.args[0].input, { DBInstanceIdentifier: ID });
      assert.deepEqual(secretRegions, [REGION]);
    });

    it('a host and port override the endpoint (the cutover connects through its CNAME); the access may name another user', async function () {
      secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'master', password: PASSWORD }) });
      const p = await connectionParams(deps(), target({ username: 'reader' }), { host: 'db.internal.example.com', port: 6432 });
      assert.deepEqual([p.host, p.port, p.user], ['db.internal.example.com', 6432, 'reader']);
    });

    it('an instance without MasterUserSecret: non-retryable, says to set ManageMasterUserPassword or name another source', async function () {
      rdsMock.on(DescribeDBInstancesCommand).resolves(instance({ MasterUserSecret: undefined }));
      await expectAccessFailure(connectionParams(deps(), target()), FailureTypes.DatabaseAccess, true, [/notify-db/, /'notify'/, /ManageMasterUserPassword/, /another source/]);
      assert.equal(secretsMock.commandCalls(GetSecretValueCommand).length, 0);
    });

    it('an instance that does not exist: InstanceNotFound; one being created (no endpoint yet): retryable NotReady', async function () {
      rdsMock.on(DescribeDBInstancesCommand).rejects(awsError('DBInstanceNotFound', `DBInstance ${ID} not found.`, 404));
      await expectFailure(connectionParams(deps(), target()), { type: FailureTypes.InstanceNotFound, nonRetryable: true, message: [/notify-db/] });
      rdsMock.on(DescribeDBInstancesCommand).resolves(instance({ Endpoint: undefined, DBInstanceStatus: 'creating' }));
      await expectFailure(connectionParams(deps(), target()), { type: FailureTypes.NotReady, nonRetryable: false, message: [/no endpoint yet/, /creating/] });
    });
  });

  describe('secret', function () {
    it("a JSON secret's password, with its username unless the access names one; read in the ARN's region", async function () {
      secretsMock.on(GetSecretValueCommand, { SecretId: OTHER_ARN }).resolves({ SecretString: JSON.stringify({ username: 'app', password: PASSWORD, engine: 'postgres' }) });
      const p = await connectionParams(deps(), target({ credentials: { kind: 'secret', secretArn: OTHER_ARN } }));
      assert.deepEqual([p.user, p.password], ['app', PASSWORD]);
      assert.deepEqual(secretRegions, ['us-east-1']);
      const named = await connectionParams(deps(), target({ username: 'other', credentials: { kind: 'secret', secretArn: OTHER_ARN } }));
      assert.equal(named.user, 'other');
    });

    it('a plain-string secret is the password; without a username in the access it is a clear error', async function () {
      secretsMock.on(GetSecretValueCommand).resolves({ SecretString: PASSWORD });
      const p = await connectionParams(deps(), target({ username: 'app', credentials: { kind: 'secret', secretArn: OTHER_ARN } }));
      assert.deepEqual([p.user, p.password], ['app', PASSWORD]);
      await expectAccessFailure(connectionParams(deps(), target({ credentials: { kind: 'secret', secretArn: OTHER_ARN } })), FailureTypes.DatabaseAccess, true, [/plain password/, /access\.username/]);
    });

    it('a JSON secret without a password member names the members it has, not their values', async function () {
      secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'app', pass: PASSWORD }) });
      await expectAccessFailure(connectionParams(deps(), target({ credentials: { kind: 'secret', secretArn: OTHER_ARN } })), FailureTypes.DatabaseAccess, true, [/"password"/, /username, pass/]);
    });

    it('a missing secret, one that cannot be decrypted, a binary one: non-retryable, naming the secret, instance and database', async function () {
      const t = target({ credentials: { kind: 'secret', secretArn: OTHER_ARN } });
      secretsMock.on(GetSecretValueCommand).rejects(new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: { httpStatusCode: 400 } }));
      await expectAccessFailure(connectionParams(deps(), t), FailureTypes.DatabaseAccess, true, [/does not exist/, new RegExp(OTHER_ARN), /notify-db/, /'notify'/]);
      secretsMock.on(GetSecretValueCommand).rejects(new DecryptionFailure({ message: 'denied', $metadata: { httpStatusCode: 400 } }));
      await expectAccessFailure(connectionParams(deps(), t), FailureTypes.DatabaseAccess, true, [/kms:Decrypt/]);
      secretsMock.on(GetSecretValueCommand).resolves({ SecretBinary: Buffer.from(PASSWORD) });
      await expectAccessFailure(connectionParams(deps(), t), FailureTypes.DatabaseAccess, true, [/no SecretString/]);
    });

    it('no permission: Unauthorized; a throttled or failed call: retryable AwsCallFailed', async function () {
      const t = target({ credentials: { kind: 'secret', secretArn: OTHER_ARN } });
      secretsMock.on(GetSecretValueCommand).rejects(awsError('AccessDeniedException', 'User is not authorized to perform: secretsmanager:GetSecretValue'));
      await expectAccessFailure(connectionParams(deps(), t), FailureTypes.Unauthorized, true, [/GetSecretValue/, /permission/]);
      secretsMock.on(GetSecretValueCommand).rejects(awsError('InternalServiceError', 'oops', 500));
      await expectAccessFailure(connectionParams(deps(), t), FailureTypes.AwsCallFailed, false, [/GetSecretValue/]);
    });
  });

  describe('env', function () {
    it("the workers' environment variable, with the access's user", async function () {
      env.NOTIFY_DB_PASSWORD = PASSWORD;
      const p = await connectionParams(deps(), target({ username: 'app', credentials: { kind: 'env', variable: 'NOTIFY_DB_PASSWORD' } }));
      assert.deepEqual([p.user, p.password], ['app', PASSWORD]);
      assert.equal(secretsMock.calls().length, 0);
    });

    it('an unset or empty variable says to set it on every worker; no username is InvalidInput', async function () {
      const t = target({ username: 'app', credentials: { kind: 'env', variable: 'NOTIFY_DB_PASSWORD' } });
      await expectAccessFailure(connectionParams(deps(), t), FailureTypes.DatabaseAccess, true, [/NOTIFY_DB_PASSWORD/, /not set/, /every worker/, /'app'/, /notify-db/]);
      env.NOTIFY_DB_PASSWORD = '';
      await expectAccessFailure(connectionParams(deps(), t), FailureTypes.DatabaseAccess, true, [/empty/]);
      env.NOTIFY_DB_PASSWORD = PASSWORD;
      await expectAccessFailure(connectionParams(deps(), target({ credentials: { kind: 'env', variable: 'NOTIFY_DB_PASSWORD' } })), FailureTypes.InvalidInput, true, [/access\.username is required/]);
    });
  });

  describe('iam', function () {
    it("a token signed for the instance's own endpoint, even when connecting through a CNAME", async function () {
      rdsMock.on(DescribeDBInstancesCommand).resolves(instance({ IAMDatabaseAuthenticationEnabled: true }));
      const p = await connectionParams(deps(), target({ username: 'app_iam', credentials: { kind: 'iam' } }), { host: 'db.example.com' });
      assert.deepEqual([p.host, p.user, p.password], ['db.example.com', 'app_iam', TOKEN]);
      assert.deepEqual(signed, [{ where: REGION, host: `${ID}.abc.${REGION}.rds.amazonaws.com`, port: 5432, username: 'app_iam' }]);
    });

    it('the default signer (@aws-sdk/rds-signer) signs with the credentials of the RDS client of the place', async function () {
      const client = new RDSClient({ region: REGION, credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'x' } });
      const m = mockClient(client);
      m.on(DescribeDBInstancesCommand).resolves(instance({ IAMDatabaseAuthenticationEnabled: true }));
      try {
        const p = await connectionParams({ rdsClientFor: () => client, secretsClientFor: () => secrets }, target({ username: 'app_iam', credentials: { kind: 'iam' } }));
        assert.match(p.password, new RegExp(`^${ID}\\.abc\\.${REGION}\\.rds\\.amazonaws\\.com:5432/\\?Action=connect&DBUser=app_iam&.*X-Amz-Credential=AKIAEXAMPLE`));
      } finally {
        m.restore();
      }
    });

    it('an instance without IAM authentication is refused clearly, before signing', async function () {
      await expectAccessFailure(connectionParams(deps(), target({ username: 'app_iam', credentials: { kind: 'iam' } })), FailureTypes.DatabaseAccess, true, [/IAMDatabaseAuthenticationEnabled is false/, /EnableIAMDatabaseAuthentication/]);
      assert.equal(signed.length, 0);
    });
  });

  describe('TLS and libpq', function () {
    it('disable, require, verify-full (with the RDS_CA_BUNDLE file), and the libpq environment of each', async function () {
      env.PW = PASSWORD;
      const t = (tls: DatabaseAccess['tls']) => target({ username: 'app', tls, credentials: { kind: 'env', variable: 'PW' } });
      const off = await connectionParams(deps(), t('disable'));
      assert.equal(off.ssl, false);
      assert.equal(libpqEnv(off).PGSSLMODE, 'disable');
      const req = await connectionParams(deps(), t('require'));
      assert.deepEqual(req.ssl, { rejectUnauthorized: false });
      const e = libpqEnv(req);
      assert.deepEqual(
        [e.PGHOST, e.PGPORT, e.PGUSER, e.PGPASSWORD, e.PGDATABASE, e.PGSSLMODE, e.PGSSLROOTCERT],
        [`${ID}.abc.${REGION}.rds.amazonaws.com`, '5432', 'app', PASSWORD, 'notify', 'require', undefined],
      );
      assert.deepEqual((await connectionParams(deps(), t('verify-full'))).ssl, { rejectUnauthorized: true });
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-ca-'));
      try {
        const bundle = path.join(dir, 'global-bundle.pem');
        fs.writeFileSync(bundle, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
        env.RDS_CA_BUNDLE = bundle;
        const full = await connectionParams(deps(), t('verify-full'));
        assert.deepEqual(full.ssl, { rejectUnauthorized: true, ca: fs.readFileSync(bundle, 'utf8'), caFile: bundle });
        assert.deepEqual([libpqEnv(full).PGSSLMODE, libpqEnv(full).PGSSLROOTCERT], ['verify-full', bundle]);
        env.RDS_CA_BUNDLE = path.join(dir, 'missing.pem');
        await expectAccessFailure(connectionParams(deps(), t('verify-full')), FailureTypes.InvalidConfig, true, [/RDS_CA_BUNDLE/, /missing\.pem/]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('through another name (the cutover\'s CNAME)', function () {
    it('dials that name but checks the certificate (and sends SNI) for the instance endpoint, so verify-full works through a CNAME', async function () {
      env.PW = PASSWORD;
      const t = target({ username: 'app', tls: 'verify-full', credentials: { kind: 'env', variable: 'PW' } });
      const p = await connectionParams(deps(), t, { host: 'db.notify.internal' });
      assert.deepEqual([p.host, p.tlsName], ['db.notify.internal', `${ID}.abc.${REGION}.rds.amazonaws.com`]);
      const config = clientConfig(p);
      assert.equal(config.host, 'db.notify.internal');
      assert.equal((config.ssl as { servername?: string }).servername, `${ID}.abc.${REGION}.rds.amazonaws.com`);
      // By address (resolved through named DNS servers), libpq dials hostaddr and checks host.
      const e = libpqEnv({ ...p, hostAddress: '10.0.3.7' });
      assert.deepEqual([e.PGHOST, e.PGHOSTADDR], [`${ID}.abc.${REGION}.rds.amazonaws.com`, '10.0.3.7']);
      // The instance's own name: nothing to override.
      assert.equal((await connectionParams(deps(), t)).tlsName, undefined);
    });
  });

  describe('connect failures', function () {
    const described = { target: target(), params: { host: 'h', port: 5432, user: 'master', password: PASSWORD, database: 'notify', ssl: false as const }, source: 'Secrets Manager secret X' };
    const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

    it('a wrong password (28P01) and a missing database (3D000) are non-retryable and say what to fix', function () {
      const wrong = connectFailure(pgError('28P01', 'password authentication failed for user "master"'), described);
      assert.deepEqual([wrong.type, wrong.nonRetryable], [FailureTypes.DatabaseAccess, true]);
      assert.match(wrong.message, /user 'master' to database 'notify' on instance 'notify-db'.*password from Secrets Manager secret X.*Check the user and the password/);
      const missing = connectFailure(pgError('3D000', 'database "notify" does not exist'), described);
      assert.deepEqual([missing.type, missing.nonRetryable], [FailureTypes.DatabaseAccess, true]);
      assert.match(missing.message, /does not exist.*Check access\.database/);
    });

    it('refused, timed out, starting up: retryable DatabaseUnavailable; a message quoting the password is scrubbed', function () {
      for (const err of [pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'), new Error('Connection terminated due to connection timeout'), pgError('57P03', 'the database system is starting up')]) {
        const f = connectFailure(err, described);
        assert.deepEqual([f.type, f.nonRetryable], [FailureTypes.DatabaseUnavailable, false], f.message);
      }
      const leaky = connectFailure(pgError('28P01', `bad password ${PASSWORD} for "master"`), described);
      assertNoSecret(leaky);
      assert.match(leaky.message, /bad password \*\*\*\* for/);
    });
  });

  it('(the checks above can fail: a message holding the password is caught)', async function () {
    const err = await rejection(Promise.reject(ApplicationFailure.nonRetryable(`oops ${PASSWORD}`)));
    assert.throws(() => assertNoSecret(err), /the password appears/);
  });
});
