import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config';
import { awsClientConfig, createActivities, perRegion } from '../../src/activities';
import { FailureTypes } from '../../src/activities/types';
import { expectFailure, startServer, type RecordedRequest, type TestServer } from './helpers';

const RDS_NS = 'http://rds.amazonaws.com/doc/2014-10-31/';

/** Just enough of the RDS query/XML and Route 53 REST/XML protocols to check the wiring on the wire. */
function fakeAws(req: RecordedRequest) {
  if (req.url.startsWith('/2013-04-01/change/')) {
    const id = req.url.split('/').pop();
    return {
      status: 200,
      headers: { 'Content-Type': 'text/xml' },
      body: `<?xml version="1.0"?><GetChangeResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeInfo><Id>/change/${id}</Id><Status>INSYNC</Status><SubmittedAt>2024-01-01T00:00:00Z</SubmittedAt></ChangeInfo></GetChangeResponse>`,
    };
  }
  const form = new URLSearchParams(req.body);
  if (form.get('Action') === 'DescribeDBInstances' && form.get('DBInstanceIdentifier') === 'orders-db') {
    return {
      status: 200,
      headers: { 'Content-Type': 'text/xml' },
      body:
        `<DescribeDBInstancesResponse xmlns="${RDS_NS}"><DescribeDBInstancesResult><DBInstances><DBInstance>` +
        '<DBInstanceIdentifier>orders-db</DBInstanceIdentifier><Engine>postgres</Engine><EngineVersion>15.5</EngineVersion>' +
        '<DBInstanceStatus>available</DBInstanceStatus><AutoMinorVersionUpgrade>true</AutoMinorVersionUpgrade>' +
        '<VpcSecurityGroups><VpcSecurityGroupMembership><VpcSecurityGroupId>sg-1</VpcSecurityGroupId><Status>active</Status></VpcSecurityGroupMembership></VpcSecurityGroups>' +
        '<TagList><Tag><Key>team</Key><Value>orders</Value></Tag></TagList>' +
        '</DBInstance></DBInstances></DescribeDBInstancesResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></DescribeDBInstancesResponse>',
    };
  }
  return {
    status: 404,
    headers: { 'Content-Type': 'text/xml' },
    body: `<ErrorResponse xmlns="${RDS_NS}"><Error><Type>Sender</Type><Code>DBInstanceNotFound</Code><Message>DBInstance ${form.get('DBInstanceIdentifier')} not found.</Message></Error><RequestId>r2</RequestId></ErrorResponse>`,
  };
}

describe('createActivities', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('exposes every activity of the contract as a function', () => {
    const acts = createActivities({ config: loadConfig({}) });
    const expected = [
      'describeInstance', 'findInstance', 'listUpgradeTargets', 'listPendingMaintenance', 'setAutoMinorVersionUpgrade',
      'applyUpgradeNow', 'waitForInstance', 'restoreToPointInTime', 'stopInstance', 'startInstance',
      'allowIngressFromSecurityGroup',
      'getWeightedCname', 'upsertWeightedCname', 'waitForChangeInsync', 'testDnsAnswer',
      'createScheduledMaintenance', 'cancelScheduledMaintenance',
      'runAvailabilityProbe', 'checkHealth',
      'notify',
    ];
    assert.deepEqual(Object.keys(acts).sort(), [...expected].sort());
    for (const name of expected) assert.equal(typeof (acts as unknown as Record<string, unknown>)[name], 'function', name);
  });

  it('talks to the configured endpoint with the per-call region, and Route 53 in us-east-1', async () => {
    server = await startServer(fakeAws);
    const config = loadConfig({ ORCHESTRATOR_AWS_ENDPOINT: server.url, AWS_REGION: 'eu-west-2' });
    const acts = createActivities({ config, env: {} });

    const info = await acts.describeInstance('eu-west-1', 'orders-db');
    assert.equal(info.region, 'eu-west-1');
    assert.equal(info.engineVersion, '15.5');
    assert.deepEqual(info.vpcSecurityGroupIds, ['sg-1']);
    assert.deepEqual(info.tags, { team: 'orders' });
    const rdsCall = server.requests[0];
    assert.match(String(rdsCall.headers.authorization), /Credential=simulator\/\d{8}\/eu-west-1\/rds\/aws4_request/);

    await expectFailure(acts.describeInstance('eu-west-1', 'nope'), {
      type: FailureTypes.InstanceNotFound,
      nonRetryable: true,
      message: [/'nope'/, /eu-west-1/],
    });

    await acts.waitForChangeInsync('C123');
    const r53Call = server.requests[server.requests.length - 1];
    assert.equal(r53Call.url, '/2013-04-01/change/C123');
    assert.match(String(r53Call.headers.authorization), /\/us-east-1\/route53\/aws4_request/);
  });

  it('uses static dummy credentials only for an endpoint without credentials in the env', () => {
    const withEndpoint = loadConfig({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4599' });
    const requestHandler = { connectionTimeout: 5_000, requestTimeout: 20_000, throwOnRequestTimeout: true };
    assert.deepEqual(awsClientConfig(withEndpoint, 'eu-west-1', {}), {
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:4599',
      requestHandler,
      credentials: { accessKeyId: 'simulator', secretAccessKey: 'simulator' },
    });
    assert.deepEqual(awsClientConfig(withEndpoint, 'eu-west-1', { AWS_ACCESS_KEY_ID: 'AKIA...', AWS_SECRET_ACCESS_KEY: 's' }), {
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:4599',
      requestHandler,
    });
    assert.deepEqual(awsClientConfig(loadConfig({}), 'eu-west-1', {}), { region: 'eu-west-1', requestHandler });
  });

  it('reuses one client per region', () => {
    let made = 0;
    const clientFor = perRegion((region) => ({ region, n: ++made }));
    assert.equal(clientFor('eu-west-1'), clientFor('eu-west-1'));
    assert.notEqual(clientFor('eu-west-1'), clientFor('us-east-1'));
    assert.equal(made, 2);
  });
});
