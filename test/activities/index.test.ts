import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config';
import { awsClientConfig, createActivities, createAwsClients } from '../../src/activities';
import { FailureTypes } from '../../src/api';
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
      'describeInstance', 'findInstance', 'findFleet', 'readFleetPlace', 'inspectInstance', 'listUpgradeTargets', 'listPendingMaintenance', 'setAutoMinorVersionUpgrade',
      'applyUpgradeNow', 'waitForInstance', 'watchMaintenanceWindow', 'restoreToPointInTime', 'stopInstance', 'startInstance',
      'createBlueGreenDeployment', 'describeBlueGreenDeployment', 'waitForBlueGreenDeployment', 'switchoverBlueGreenDeployment',
      'attachSecurityGroup', 'allowIngressFromSecurityGroup', 'ensureSecurityGroup', 'describeSecurityGroup', 'whoAmI',
      'findInstanceChanges', 'pageOnCall',
      'describeHostedZone', 'getWeightedCname', 'upsertWeightedCname', 'waitForChangeInsync', 'testDnsAnswer', 'lookupCname',
      'createScheduledMaintenance', 'cancelScheduledMaintenance',
      'runAvailabilityProbe', 'checkHealth',
      'runSqlAvailabilityProbe', 'describeDatabase', 'dumpDatabase', 'compareRows', 'writeRows',
      'notify',
      'readAllowedSigners',
    ];
    assert.deepEqual(Object.keys(acts).sort(), [...expected].sort());
    for (const name of expected) assert.equal(typeof (acts as unknown as Record<string, unknown>)[name], 'function', name);
  });

  it('talks to the configured endpoint with the per-call region, and Route 53 in us-east-1', async () => {
    server = await startServer(fakeAws);
    const config = loadConfig({ ORCHESTRATOR_AWS_ENDPOINT: server.url, AWS_REGION: 'eu-west-2' });
    const acts = createActivities({ config, env: {} });

    const info = await acts.describeInstance({ where: 'eu-west-1', instanceId: 'orders-db' });
    assert.equal(info.region, 'eu-west-1');
    assert.equal(info.engineVersion, '15.5');
    assert.deepEqual(info.vpcSecurityGroupIds, ['sg-1']);
    assert.deepEqual(info.tags, { team: 'orders' });
    const rdsCall = server.requests[0];
    assert.match(String(rdsCall.headers.authorization), /Credential=simulator\/\d{8}\/eu-west-1\/rds\/aws4_request/);

    await expectFailure(acts.describeInstance({ where: 'eu-west-1', instanceId: 'nope' }), {
      type: FailureTypes.InstanceNotFound,
      nonRetryable: true,
      message: [/'nope'/, /eu-west-1/],
    });

    await acts.waitForChangeInsync({ changeId: 'C123' });
    const r53Call = server.requests[server.requests.length - 1];
    assert.equal(r53Call.url, '/2013-04-01/change/C123');
    assert.match(String(r53Call.headers.authorization), /\/us-east-1\/route53\/aws4_request/);
  });

  // What a person sees when the endpoint is not AWS (a proxy's error page, a wrong port): the call, the
  // endpoint, the HTTP status and the start of the body, not "@aws-sdk XML parse error".
  const notAws: { name: string; reply: (req: RecordedRequest) => { status: number; headers: Record<string, string>; body: string }; want: RegExp[]; kind: string }[] = [
    {
      name: 'an HTML 500 page with mismatched tags',
      reply: () => ({ status: 500, headers: { 'Content-Type': 'text/html' }, body: '<html><title>500 Internal Server Error</html>' }),
      want: [/DescribeDBEngineVersions postgres 15\.5 against http:\/\/127\.0\.0\.1:\d+ \(eu-west-2\) failed: HTTP 500 with a response that is not an AWS answer \(text\/html\): "<html><title>500 Internal Server Error<\/html>"/],
      kind: 'not-aws',
    },
    {
      name: 'an HTML 502 from a proxy (well-formed)',
      reply: () => ({ status: 502, headers: { 'Content-Type': 'text/html' }, body: '<html><head><title>502 Bad Gateway</title></head><body>bad gateway</body></html>' }),
      want: [/against http:\/\/127\.0\.0\.1:\d+ .*HTTP 502 with a response that is not an AWS answer/],
      kind: 'not-aws',
    },
    {
      name: 'a 200 whose body is not XML',
      reply: () => ({ status: 200, headers: { 'Content-Type': 'text/plain' }, body: 'hello from the wrong service' }),
      want: [/HTTP 200 with a response that is not an AWS answer \(text\/plain\): "hello from the wrong service"/],
      kind: 'not-aws',
    },
  ];
  for (const c of notAws) {
    it(`reports ${c.name} as not an AWS answer, naming the call and the endpoint`, async () => {
      server = await startServer(c.reply);
      const acts = createActivities({ config: loadConfig({ ORCHESTRATOR_AWS_ENDPOINT: server.url }), env: {} });
      const f = await expectFailure(acts.listUpgradeTargets({ where: 'eu-west-2', engine: 'postgres', engineVersion: '15.5' }), { type: FailureTypes.AwsCallFailed, nonRetryable: false, message: c.want });
      const problem = f.details?.[0] as { kind: string; endpoint: string; operation: string };
      assert.equal(problem.kind, c.kind);
      assert.equal(problem.endpoint, server.url);
      assert.equal(problem.operation, 'DescribeDBEngineVersions postgres 15.5');
    });
  }

  it('reports a refused connection as no answer, naming the call and the endpoint', async () => {
    server = await startServer(() => ({ status: 200, headers: {}, body: '' }));
    const url = server.url;
    await server.close();
    server = undefined;
    const acts = createActivities({ config: loadConfig({ ORCHESTRATOR_AWS_ENDPOINT: url }), env: {} });
    const f = await expectFailure(acts.describeInstance({ where: 'eu-west-2', instanceId: 'orders-db' }), {
      type: FailureTypes.AwsCallFailed,
      nonRetryable: false,
      message: [new RegExp(`DescribeDBInstances orders-db against ${url.replace(/[.]/g, '\\.')} \\(eu-west-2\\) failed: no answer: connection refused \\(ECONNREFUSED\\)`)],
    });
    assert.equal((f.details?.[0] as { kind: string }).kind, 'network');
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

  it('reuses one client per service, region and identity', () => {
    const clients = createAwsClients(loadConfig({ ORCHESTRATOR_AWS_ENDPOINT: 'http://127.0.0.1:4599' }), {});
    const role = { region: 'eu-west-1', roleArn: 'arn:aws:iam::222222222222:role/x', sessionName: 'c-preview' };
    assert.equal(clients.rds('eu-west-1'), clients.rds({ region: 'eu-west-1' }), 'a plain region is the worker\'s own identity');
    assert.notEqual(clients.rds('eu-west-1'), clients.rds('us-east-1'));
    assert.equal(clients.rds(role), clients.rds({ ...role }));
    assert.notEqual(clients.rds(role), clients.rds('eu-west-1'), 'a role has clients of its own');
    assert.notEqual(clients.rds(role), clients.rds({ ...role, sessionName: 'c-production' }));
    assert.equal(clients.route53({ region: 'eu-west-1', roleArn: role.roleArn }), clients.route53({ region: 'us-east-1', roleArn: role.roleArn }), 'Route 53 is global');
  });
});
