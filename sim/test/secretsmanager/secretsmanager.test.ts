/**
 * Secrets Manager in the simulator through @aws-sdk/client-secrets-manager: secrets seeded through POST /_sim/seed,
 * GetSecretValue by ARN, partial ARN and name, DescribeSecret, ResourceNotFoundException as AWS answers; the raw
 * answers checked against botocore's `secretsmanager/2017-10-17` model (JSON 1.1) with sim/test/json-protocol-model.ts;
 * the RDS-managed master secret the RDS side will create.
 */
import assert from 'node:assert/strict';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { loadServiceModel, locateBotocore } from '../../../test/conformance/service-model';
import type { Finding, RawResponse, ServiceModel } from '../../../test/conformance/service-model';
import type { Creds } from '../sts-helpers';
import { ACCOUNT, CREDENTIALS, REGION, rejectsWith, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';
import { validateJson } from '../json-protocol-model';

const ARN_RE = new RegExp(`^arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:notify/app-[A-Za-z0-9]{6}$`);
const problems = (findings: Finding[]): string[] => findings.map((f) => `${f.operation} ${f.path}: ${f.problem}`);

/** A raw Secrets Manager JSON 1.1 request (the simulator reads the credential scope, not the signature). */
async function rawSecrets(url: string, creds: Creds, region: string, operation: string, input: unknown): Promise<RawResponse> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `secretsmanager.${operation}`,
      'x-amz-date': '20250106T120000Z',
      authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/20250106/${region}/secretsmanager/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=${'0'.repeat(64)}`,
    },
    body: JSON.stringify(input),
  });
  return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
}

describe('sim: Secrets Manager (GetSecretValue, DescribeSecret)', function () {
  let h: SimHarness;
  let sm: SecretsManagerClient;
  let model: ServiceModel;
  let arn: string;
  const VALUE = JSON.stringify({ username: 'app', password: 'pw-in-the-secret' });

  before(function () {
    model = loadServiceModel('secretsmanager', locateBotocore().dataDir);
  });
  beforeEach(async function () {
    h = await startHarness();
    sm = new SecretsManagerClient({ endpoint: h.sim.url, region: REGION, credentials: CREDENTIALS });
    const seeded = (await h.admin.seed({ secrets: [{ name: 'notify/app', secretString: VALUE, region: REGION, tags: { team: 'notify' } }, { name: 'plain', secretString: 'just-a-password', region: REGION }] })) as unknown as {
      secrets: { name: string; arn: string; account: string; region: string }[];
    };
    arn = seeded.secrets[0]?.arn as string;
    assert.match(arn, ARN_RE);
    assert.deepEqual(seeded.secrets[1], { name: 'plain', arn: seeded.secrets[1]?.arn, account: ACCOUNT, region: REGION });
  });
  afterEach(async function () {
    sm.destroy();
    await h.close();
  });

  it('GetSecretValue by ARN, by partial ARN and by name: the current version', async function () {
    for (const id of [arn, arn.replace(/-[A-Za-z0-9]{6}$/, ''), 'notify/app']) {
      const out = await sm.send(new GetSecretValueCommand({ SecretId: id }));
      assert.deepEqual([out.ARN, out.Name, out.SecretString, out.VersionStages], [arn, 'notify/app', VALUE, ['AWSCURRENT']], id);
      assert.match(out.VersionId ?? '', /^[0-9a-f-]{36}$/);
      assert.equal(out.CreatedDate?.getTime(), Date.UTC(2025, 0, 6, 12, 0, 0));
    }
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'plain' }))).SecretString, 'just-a-password');
  });

  it('DescribeSecret: ARN, name, tags, versions; never the value', async function () {
    const out = await sm.send(new DescribeSecretCommand({ SecretId: arn }));
    assert.deepEqual([out.ARN, out.Name, out.Tags], [arn, 'notify/app', [{ Key: 'team', Value: 'notify' }]]);
    assert.deepEqual(Object.values(out.VersionIdsToStages ?? {}), [['AWSCURRENT']]);
    assert.ok(!JSON.stringify(out).includes('pw-in-the-secret'));
  });

  it('a secret that does not exist, or lives in another Region or account: ResourceNotFoundException (HTTP 400)', async function () {
    const notFound = "Secrets Manager can't find the specified secret.";
    const e = await rejectsWith(sm.send(new GetSecretValueCommand({ SecretId: 'missing' })), 'ResourceNotFoundException', notFound);
    assert.equal(e.$metadata?.httpStatusCode, 400);
    await rejectsWith(sm.send(new DescribeSecretCommand({ SecretId: `${arn.slice(0, -6)}XXXXXX` })), 'ResourceNotFoundException');
    const other = new SecretsManagerClient({ endpoint: h.sim.url, region: 'us-east-1', credentials: CREDENTIALS });
    try {
      await rejectsWith(other.send(new GetSecretValueCommand({ SecretId: 'notify/app' })), 'ResourceNotFoundException');
      await rejectsWith(other.send(new GetSecretValueCommand({ SecretId: arn })), 'ResourceNotFoundException');
    } finally {
      other.destroy();
    }
  });

  it("answers as botocore's model says (JSON 1.1): both operations and the not-found error", async function () {
    const creds = { accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey: CREDENTIALS.secretAccessKey };
    const get = await rawSecrets(h.sim.url, creds, REGION, 'GetSecretValue', { SecretId: arn });
    const describe = await rawSecrets(h.sim.url, creds, REGION, 'DescribeSecret', { SecretId: 'notify/app' });
    const missing = await rawSecrets(h.sim.url, creds, REGION, 'GetSecretValue', { SecretId: 'missing' });
    assert.equal(missing.status, 400);
    assert.deepEqual(
      problems([...validateJson(model, 'GetSecretValue', get), ...validateJson(model, 'DescribeSecret', describe), ...validateJson(model, 'GetSecretValue', missing)]),
      [],
    );
    // A made-up error would be caught: the validator is not blind.
    assert.notDeepEqual(problems(validateJson(model, 'GetSecretValue', { ...missing, body: JSON.stringify({ __type: 'NoSuchSecret', Message: 'x' }) })), []);
  });

  it('the value is not in the call log; seeding a name again gives it a new value and keeps its ARN', async function () {
    await sm.send(new GetSecretValueCommand({ SecretId: arn }));
    assert.ok(!JSON.stringify(await h.admin.calls({})).includes('pw-in-the-secret'));
    const again = (await h.admin.seed({ secrets: [{ name: 'notify/app', secretString: 'rotated', region: REGION }] })) as unknown as { secrets: { arn: string }[] };
    assert.equal(again.secrets[0]?.arn, arn);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString, 'rotated');
  });

  it('createRdsManagedSecret: rds!db-…, {"username","password"}, tagged with the instance ARN, owned by RDS; once per instance', async function () {
    const secretsManager = h.sim.engine.secretsManager;
    const made = secretsManager.createRdsManagedSecret({ instanceId: 'db1', username: 'master', password: 'pw1', account: ACCOUNT, region: REGION });
    assert.match(made, new RegExp(`^arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:rds!db-[0-9a-f-]{36}-[A-Za-z0-9]{6}$`));
    const value = await sm.send(new GetSecretValueCommand({ SecretId: made }));
    assert.deepEqual(JSON.parse(value.SecretString ?? ''), { username: 'master', password: 'pw1' });
    const d = await sm.send(new DescribeSecretCommand({ SecretId: made }));
    assert.equal(d.OwningService, 'rds');
    assert.deepEqual(d.Tags?.find((t) => t.Key === 'aws:rds:primaryDBInstanceArn')?.Value, `arn:aws:rds:${REGION}:${ACCOUNT}:db:db1`);
    assert.equal(secretsManager.createRdsManagedSecret({ instanceId: 'db1', username: 'master', password: 'pw2', account: ACCOUNT, region: REGION }), made);
  });

  it('an instance seeded with manageMasterUserPassword names its RDS-managed secret in MasterUserSecret, and the secret holds its master login', async function () {
    await h.admin.seed({ instances: [{ region: REGION, id: 'managed-db', engineVersion: '15.5', masterUsername: 'master', masterUserPassword: 'a-long-password', manageMasterUserPassword: true }, { region: REGION, id: 'plain-db', engineVersion: '15.5' }] });
    const managed = await h.describeOne('managed-db');
    assert.match(managed.MasterUserSecret?.SecretArn ?? '', new RegExp(`^arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:rds!db-`));
    assert.equal(managed.MasterUserSecret?.SecretStatus, 'active');
    assert.equal((await h.describeOne('plain-db')).MasterUserSecret, undefined, 'only where RDS manages the password');
    const value = await sm.send(new GetSecretValueCommand({ SecretId: managed.MasterUserSecret!.SecretArn }));
    assert.deepEqual(JSON.parse(value.SecretString!), { username: 'master', password: 'a-long-password' });
    await assert.rejects(h.admin.seed({ instances: [{ region: REGION, id: 'no-password', engineVersion: '15.5', manageMasterUserPassword: true }] }), /manageMasterUserPassword needs masterUserPassword/);
  });
});
