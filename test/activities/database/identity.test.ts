/**
 * Connecting to a real PostgreSQL server (test/postgres.ts) the way the activities do: the endpoint from
 * DescribeDBInstances (an RDS mock whose instance's endpoint is the test server), the password from the
 * instance's master secret (a Secrets Manager mock); then describeDatabase, and each connect failure a person
 * must fix (and the ones a retry fixes), with no password in any message.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { mockClient } from 'aws-sdk-client-mock';
import { connectDatabase, libpqEnv, connectionParams, type DatabaseDeps } from '../../../src/activities/database/connect';
import { createDatabaseIdentityActivities } from '../../../src/activities/database/identity';
import { FailureTypes } from '../../../src/api/activities';
import type { DatabaseAccess, DatabaseIdentity, DatabaseTarget } from '../../../src/api/database';
import { findPostgresBinDir, freePort, postgresAddress, SimAdminClient, startSimulator, type RunningSimulator } from '../../../sim';
import { createActivities } from '../../../src/activities';
import { loadConfig } from '../../../src/config';
import { needPostgres, startTestPostgres, type TestPostgres } from '../../postgres';
import { expectFailure } from '../helpers';

const REGION = 'eu-west-2';
const ID = 'notify-db';
const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:111122223333:secret:rds!db-1-AbCdEf`;

describe('database: connecting to a real PostgreSQL and describeDatabase', function () {
  this.timeout(30_000);
  let server: TestPostgres;
  const rds = new RDSClient({ region: REGION });
  const secrets = new SecretsManagerClient({ region: REGION });
  const rdsMock = mockClient(rds);
  const secretsMock = mockClient(secrets);
  const deps: DatabaseDeps = { rdsClientFor: () => rds, secretsClientFor: () => secrets, env: {} };
  let endpointPort: number;
  let secretPassword: string;

  before(async function () {
    needPostgres(this);
    server = await startTestPostgres();
    await server.sql('CREATE DATABASE notify');
  });
  after(async function () {
    await server?.stop();
  });
  beforeEach(function () {
    rdsMock.reset();
    secretsMock.reset();
    endpointPort = server.port;
    secretPassword = server.password;
    rdsMock.on(DescribeDBInstancesCommand).callsFake(() => ({
      DBInstances: [{ DBInstanceIdentifier: ID, DBInstanceStatus: 'available', Endpoint: { Address: '127.0.0.1', Port: endpointPort }, MasterUsername: server.user, MasterUserSecret: { SecretArn: SECRET_ARN } }],
    }));
    secretsMock.on(GetSecretValueCommand).callsFake(() => ({ SecretString: JSON.stringify({ username: server.user, password: secretPassword }) }));
  });

  const target = (access: Partial<DatabaseAccess> = {}): DatabaseTarget => ({ where: REGION, instanceId: ID, access: { database: 'notify', credentials: { kind: 'master-secret' }, tls: 'disable', ...access } });
  const env = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
  const assertNoPassword = (err: unknown, password: string) => assert.ok(!(err as Error).message.includes(password), `password in: ${(err as Error).message}`);

  it('connectDatabase: a connected client with the statement timeout and application_name set', async function () {
    const client = await connectDatabase(deps, target());
    try {
      const { rows } = await client.query<{ db: string; app: string; timeout: string }>("SELECT current_database() AS db, current_setting('application_name') AS app, current_setting('statement_timeout') AS timeout");
      assert.deepEqual(rows[0], { db: 'notify', app: 'rds-orchestrator', timeout: '1min' });
    } finally {
      await client.end();
    }
  });

  it('describeDatabase: system_identifier, version and the address the server answered on; through another host name too (a CNAME)', async function () {
    const [control] = await server.sql<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()');
    const acts = createDatabaseIdentityActivities(deps);
    const direct = (await env().run(acts.describeDatabase, { target: target() })) as DatabaseIdentity;
    assert.equal(direct.systemIdentifier, control?.id);
    assert.match(direct.serverVersion, /^1[3-9]\.\d+/);
    assert.equal(direct.address, `127.0.0.1:${server.port}`);
    // The endpoint RDS shows is unreachable; the override (as the cutover's CNAME) is what is dialled.
    endpointPort = await freePort();
    const viaName = (await env().run(acts.describeDatabase, { target: target(), host: 'localhost', port: server.port })) as DatabaseIdentity;
    assert.equal(viaName.systemIdentifier, control?.id);
  });

  it('a wrong password (28P01) is non-retryable, says what to fix, never shows the password', async function () {
    secretPassword = 'wrong-Password-1234';
    const err = await expectFailure(connectDatabase(deps, target()), {
      type: FailureTypes.DatabaseAccess,
      nonRetryable: true,
      message: [/28P01/, new RegExp(`user '${server.user}' to database 'notify' on instance 'notify-db'`), new RegExp(`password from the instance's RDS-managed master secret ${SECRET_ARN.replace(/[!$]/g, '.')}`), /Check the user and the password/],
    });
    assertNoPassword(err, secretPassword);
    assertNoPassword(err, server.password);
  });

  it('a database that does not exist (3D000) is non-retryable and says to check access.database', async function () {
    const err = await expectFailure(connectDatabase(deps, target({ database: 'nope' })), { type: FailureTypes.DatabaseAccess, nonRetryable: true, message: [/'nope' does not exist/, /access\.database/] });
    assertNoPassword(err, server.password);
  });

  it('TLS asked of a server without it is a configuration error; a refused connection is retryable', async function () {
    await expectFailure(connectDatabase(deps, target({ tls: 'require' })), { type: FailureTypes.InvalidConfig, nonRetryable: true, message: [/does not accept TLS/, /tls to disable/] });
    endpointPort = await freePort();
    const err = await expectFailure(connectDatabase(deps, target()), { type: FailureTypes.DatabaseUnavailable, nonRetryable: false, message: [/ECONNREFUSED/, /notify-db/] });
    assertNoPassword(err, server.password);
  });

  it("libpqEnv: psql connects with it (the environment pg_dump gets)", async function () {
    const bin = findPostgresBinDir() as string;
    const psql = [path.join(bin, 'psql'), '/usr/bin/psql'].find((p) => spawnSync(p, ['--version']).status === 0);
    if (!psql) {
      // psql comes with the PostgreSQL packages .ci/run installs: under CI its absence is a failure, not a skip.
      if (process.env.CI) assert.fail(`psql not found in ${bin} or /usr/bin`);
      this.skip();
    }
    const p = await connectionParams(deps, target());
    const out = spawnSync(psql as string, ['-XAtc', 'SELECT current_database()'], { env: { PATH: process.env.PATH, ...libpqEnv(p) }, encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stdout.trim(), 'notify');
  });
});

describe('database: through the simulator (RDS endpoint, Secrets Manager secret, a PostgreSQL-backed instance)', function () {
  this.timeout(60_000);
  let sim: RunningSimulator;
  let secretArn: string;
  const PASSWORD = 'sim-db-Password-42';

  before(async function () {
    needPostgres(this);
    sim = await startSimulator({ port: 0, durations: { creating: 0.2, backingUp: 0.2 } });
    const admin = new SimAdminClient(sim.url);
    await admin.seed({ instances: [{ region: REGION, id: ID, engineVersion: '15.5', postgres: true, masterUsername: 'master', masterUserPassword: PASSWORD }] });
    const seeded = (await admin.seed({ secrets: [{ name: 'notify/master', secretString: JSON.stringify({ username: 'master', password: PASSWORD }), region: REGION }] })) as unknown as { secrets: { arn: string }[] };
    secretArn = seeded.secrets[0]?.arn as string;
  });
  after(async function () {
    await sim?.close();
  });

  it('describeDatabase with the worker’s own clients: endpoint port from DescribeDBInstances, password from GetSecretValue', async function () {
    const acts = createActivities({ config: loadConfig({ ORCHESTRATOR_AWS_ENDPOINT: sim.url }), env: {} });
    const target: DatabaseTarget = { where: REGION, instanceId: ID, access: { database: 'postgres', credentials: { kind: 'secret', secretArn }, tls: 'disable' } };
    const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
    // The endpoint's name resolves in the simulator's DNS only: dial the instance's own address on the port RDS shows.
    const { host } = postgresAddress(sim.engine.rds.get('123456789012', REGION, ID));
    const identity = (await env.run(acts.describeDatabase, { target, host })) as DatabaseIdentity;
    assert.match(identity.systemIdentifier, /^\d{10,}$/);
    assert.match(identity.serverVersion, /^15\./);
    const missing = `${secretArn.slice(0, -6)}ZZZZZZ`;
    const err = await expectFailure(env.run(acts.describeDatabase, { target: { ...target, access: { ...target.access, credentials: { kind: 'secret' as const, secretArn: missing } } }, host }) as Promise<unknown>, {
      type: FailureTypes.DatabaseAccess,
      nonRetryable: true,
      message: [/does not exist/, /notify-db/],
    });
    assert.ok(!err.message.includes(PASSWORD));
  });
});
