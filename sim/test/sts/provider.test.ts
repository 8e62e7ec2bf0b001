/**
 * The SDK's own role provider, `fromTemporaryCredentials` (@aws-sdk/credential-providers), against the
 * simulator: the path the worker takes to reach another account. It calls AssumeRole with the base
 * credentials, signs with the session, and refreshes when the Expiration it was given is near on the
 * machine's clock. The simulator's clock starts at the machine's here, so the two agree until it is moved.
 */
import assert from 'node:assert/strict';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { REGION, rejectsWith, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';

const ORCH = '111111111111';
const STAGING = '333333333333';
const ROLE = `arn:aws:iam::${STAGING}:role/rds-orchestrator`;
const BASE = { accessKeyId: 'AKIAORCHESTRATOR0001', secretAccessKey: 's' };
const SESSION_ARN = `arn:aws:sts::${STAGING}:assumed-role/rds-orchestrator/campaign-7.staging`;

describe('sim: the SDK’s fromTemporaryCredentials provider', function () {
  let h: SimHarness;
  let rds: RDSClient;
  beforeEach(async function () {
    h = await startHarness({ startAt: Math.floor(Date.now() / 1000) * 1000 });
    await h.admin.seed({
      roles: [{ account: STAGING, name: 'rds-orchestrator', trust: { accounts: [ORCH], externalId: 'ext-7' } }],
      identities: [{ accessKeyId: BASE.accessKeyId, account: ORCH, arn: `arn:aws:iam::${ORCH}:user/orchestrator` }],
      instances: [
        { region: REGION, account: STAGING, id: 'notifydb-staging', engineVersion: '15.5' },
        { region: REGION, id: 'elsewhere', engineVersion: '15.5' },
      ],
    });
    const credentials = fromTemporaryCredentials({
      masterCredentials: BASE,
      params: { RoleArn: ROLE, RoleSessionName: 'campaign-7.staging', ExternalId: 'ext-7', DurationSeconds: 900 },
      clientConfig: { endpoint: h.sim.url, region: REGION },
    });
    rds = new RDSClient({ endpoint: h.sim.url, region: REGION, credentials, maxAttempts: 1 });
  });
  afterEach(async function () {
    rds.destroy();
    await h.close();
  });

  const ids = async (): Promise<string[]> => ((await rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? []).map((d) => d.DBInstanceIdentifier as string);

  it('assumes the role once with the base credentials and signs every call with the session, in the role’s account', async function () {
    assert.deepEqual(await ids(), ['notifydb-staging']);
    assert.deepEqual(await ids(), ['notifydb-staging']);
    const calls = await h.admin.calls();
    assert.deepEqual(calls.map((c) => [c.service, c.action, c.account, c.principal, c.httpStatus]), [
      ['sts', 'AssumeRole', ORCH, `arn:aws:iam::${ORCH}:user/orchestrator`, 200],
      ['rds', 'DescribeDBInstances', STAGING, SESSION_ARN, 200],
      ['rds', 'DescribeDBInstances', STAGING, SESSION_ARN, 200],
    ]);
    assert.equal(calls[0]?.params.ExternalId, 'ext-7');
  });

  it('past Expiration on the simulator’s clock only: ExpiredToken until the credentials are refreshed', async function () {
    await ids();
    h.advance(900); // the simulator's clock, not the machine's: the SDK still believes the session valid
    await rejectsWith(rds.send(new DescribeDBInstancesCommand({})), 'ExpiredToken', 'The security token included in the request is expired');
    await (rds.config.credentials as (o?: { forceRefresh?: boolean }) => Promise<unknown>)({ forceRefresh: true });
    assert.deepEqual(await ids(), ['notifydb-staging']);
    const assumed = await h.admin.calls({ action: 'AssumeRole' });
    assert.equal(assumed.length, 2, 'assumed again on the refresh');
  });

  it('a trust policy that refuses: the provider’s error is STS’s AccessDenied naming caller and role', async function () {
    await h.admin.seed({ roles: [{ account: STAGING, name: 'rds-orchestrator', trust: { accounts: ['999999999999'] } }] });
    await rejectsWith(rds.send(new DescribeDBInstancesCommand({})), 'AccessDenied', `User: arn:aws:iam::${ORCH}:user/orchestrator is not authorized to perform: sts:AssumeRole on resource: ${ROLE}`);
    assert.deepEqual(await h.admin.calls({ service: 'rds' }), [], 'nothing reached RDS');
  });
});
