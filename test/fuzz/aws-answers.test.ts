/**
 * Issue 25, part 2 (fuzzed inputs): what an endpoint may answer the real AWS SDK v3 clients (built as the
 * worker builds them: src/activities/clients.ts awsClientConfig and instrument) used through our activities:
 * well-formed answers with fields missing, doubled, nested or of the wrong type; truncated XML; HTML pages of
 * proxies; empty bodies; random bytes; JSON; AWS errors of every kind, one of them echoing the signed request
 * as SignatureDoesNotMatch does; connections cut in the middle of the body. Each call ends with a parsed
 * result or a Temporal ApplicationFailure, and a failure over an answer that was not a usable AWS answer
 * names the call (DescribeDBInstances, GetHostedZone ...). Never an unhandled rejection, never a raw
 * TypeError; and never the client's secret key or session token in what the worker would record.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { ApplicationFailure, DefaultFailureConverter, defaultPayloadConverter } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import fc from 'fast-check';
import { FailureTypes } from '../../src/api';
import { createBlueGreenActivities } from '../../src/activities/blue-green';
import { toActivityError } from '../../src/activities/aws-errors';
import { awsClientConfig, instrument } from '../../src/activities/clients';
import { createRdsActivities } from '../../src/activities/rds';
import { createRoute53Activities } from '../../src/activities/route53';
import { loadConfig } from '../../src/config';
import { SEED, anyText } from './junk';

const REGION = 'eu-west-2';
const ID = 'notify-production';
const ARN = `arn:aws:rds:${REGION}:123456789012:db:${ID}`;
/** The client's credentials: recognisable, so a leak is found by searching for them. */
const CREDENTIALS = { accessKeyId: 'AKIAFUZZCANARY000025', secretAccessKey: 'fuzz-canary-secret-access-key-25', sessionToken: 'FuzzCanarySessionToken25xyz' };
const SECRETS = [CREDENTIALS.secretAccessKey, CREDENTIALS.sessionToken];

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

// ---------------------------------------------------------------------------------------------------------
// Answers: XML built field by field, each field usually right and sometimes missing, of a wrong type,
// doubled or nested; then the whole answer sometimes replaced by something that is not an AWS answer.
// ---------------------------------------------------------------------------------------------------------

type Kind = 'text' | 'int' | 'bool' | 'date';
const WRONG: Record<Kind, string[]> = {
  text: ['', ' '],
  int: ['abc', '1.5', '-1', '99999999999999999999', '1e400', '', 'NaN'],
  bool: ['yes', '1', 'TRUE', ''],
  date: ['yesterday', '2026-13-45T00:00:00Z', '0000-01-01T00:00:00Z', '2026-01-01', '1700000000', '+275760-09-13T00:00:00Z', '9999-12-31T23:59:59.999Z', ''],
};
const junkText = fc.oneof(anyText.map(escape), fc.constantFrom('<', '&', ']]>', '&amp', '<x>', '&#0;', '&unknown;'));

function field(tag: string, valid: string, kind: Kind = 'text'): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 40, arbitrary: fc.constant(`<${tag}>${valid}</${tag}>`) },
    { weight: 1, arbitrary: fc.constant('') },
    { weight: 2, arbitrary: fc.oneof(fc.constantFrom(...WRONG[kind], 'x'), junkText).map((v) => `<${tag}>${v}</${tag}>`) },
    { weight: 1, arbitrary: fc.constant(`<${tag}><${tag}>${valid}</${tag}></${tag}>`) },
    { weight: 1, arbitrary: fc.constant(`<${tag}>${valid}</${tag}><${tag}>${valid}</${tag}>`) },
    { weight: 1, arbitrary: fc.constant(`<${tag}>${valid}</${tag}><Unexpected>${valid}</Unexpected>`) },
  );
}

function struct(tag: string, ...fields: fc.Arbitrary<string>[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 20, arbitrary: fc.tuple(...fields).map((parts) => `<${tag}>${parts.join('')}</${tag}>`) },
    { weight: 1, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: junkText.map((t) => `<${tag}>${t}</${tag}>`) },
  );
}

function list(tag: string, member: fc.Arbitrary<string>, maxLength = 2): fc.Arbitrary<string> {
  return fc.oneof({ weight: 10, arbitrary: fc.array(member, { minLength: 1, maxLength }).map((m) => `<${tag}>${m.join('')}</${tag}>`) }, { weight: 1, arbitrary: fc.constantFrom('', `<${tag}></${tag}>`, `<${tag}/>`) });
}

const dbInstance = struct(
  'DBInstance',
  field('DBInstanceIdentifier', ID),
  field('DBInstanceArn', ARN),
  field('Engine', 'postgres'),
  field('EngineVersion', '15.5'),
  field('DBInstanceStatus', 'available'),
  field('AutoMinorVersionUpgrade', 'false', 'bool'),
  field('PreferredMaintenanceWindow', 'tue:02:00-tue:02:30'),
  field('DBInstanceClass', 'db.t3.micro'),
  field('AllocatedStorage', '20', 'int'),
  field('InstanceCreateTime', '2025-01-01T00:00:00.000Z', 'date'),
  field('LatestRestorableTime', '2026-06-01T10:00:00.000Z', 'date'),
  field('BackupRetentionPeriod', '7', 'int'),
  struct('Endpoint', field('Address', `${ID}.abc.${REGION}.rds.amazonaws.com`), field('Port', '5432', 'int'), field('HostedZoneId', 'Z1TTGA775OQIYO')),
  list('TagList', struct('Tag', field('Key', 'environment'), field('Value', 'production'))),
  list('VpcSecurityGroups', struct('VpcSecurityGroupMembership', field('VpcSecurityGroupId', 'sg-0123456789abcdef0'), field('Status', 'active'))),
  struct('DBSubnetGroup', field('DBSubnetGroupName', 'default'), field('VpcId', 'vpc-1')),
  list('DBParameterGroups', struct('DBParameterGroup', field('DBParameterGroupName', 'default.postgres15'))),
  struct('PendingModifiedValues', field('EngineVersion', '15.8')),
  field('MultiAZ', 'false', 'bool'),
  field('DeletionProtection', 'true', 'bool'),
  field('Iops', '3000', 'int'),
  list('ReadReplicaDBInstanceIdentifiers', field('ReadReplicaDBInstanceIdentifier', 'notify-replica')),
  struct('MasterUserSecret', field('SecretArn', 'arn:aws:secretsmanager:eu-west-2:123456789012:secret:x')),
  field('IAMDatabaseAuthenticationEnabled', 'false', 'bool'),
);

const upgradeTarget = (version: string, auto: string) => struct('UpgradeTarget', field('Engine', 'postgres'), field('EngineVersion', version), field('IsMajorVersionUpgrade', 'false', 'bool'), field('AutoUpgrade', auto, 'bool'));
const engineVersion = struct('DBEngineVersion', field('Engine', 'postgres'), field('EngineVersion', '15.5'), list('ValidUpgradeTarget', fc.oneof(upgradeTarget('15.8', 'true'), upgradeTarget('15.6', 'false'), upgradeTarget('16.4', 'false')), 3));
const pendingAction = struct(
  'PendingMaintenanceAction',
  field('Action', 'db-upgrade'),
  field('Description', 'Upgrade to PostgreSQL 15.8'),
  field('AutoAppliedAfterDate', '2026-07-01T00:00:00.000Z', 'date'),
  field('ForcedApplyDate', '2026-08-01T00:00:00.000Z', 'date'),
  field('CurrentApplyDate', '2026-07-01T00:00:00.000Z', 'date'),
  field('OptInStatus', 'pending'),
);
const resourcePending = struct('ResourcePendingMaintenanceActions', field('ResourceIdentifier', ARN), list('PendingMaintenanceActionDetails', pendingAction));
const blueGreen = struct(
  'member',
  field('BlueGreenDeploymentIdentifier', 'bgd-0123456789abcdef'),
  field('BlueGreenDeploymentName', 'pg-minor-15-8-notify-production'),
  field('Source', ARN),
  field('Target', `arn:aws:rds:${REGION}:123456789012:db:${ID}-green-abc123`),
  field('Status', 'AVAILABLE'),
  field('StatusDetails', ''),
  list('Tasks', struct('member', field('Name', 'CREATING_READ_REPLICA_OF_SOURCE'), field('Status', 'COMPLETED'))),
  list('SwitchoverDetails', struct('member', field('SourceMember', ARN), field('TargetMember', `${ARN}-green`), field('Status', 'AVAILABLE'))),
  field('CreateTime', '2026-06-01T10:00:00.000Z', 'date'),
  list('TagList', struct('Tag', field('Key', 'rds-orchestrator:campaign'), field('Value', 'pg-minor-15-8'))),
);

const rdsOk = (action: string, inner: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><${action}Result>${inner}</${action}Result><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></${action}Response>`;

/** The inside of a successful answer to each RDS action, fields fuzzed. */
const RDS_RESULTS: Record<string, fc.Arbitrary<string>> = {
  DescribeDBInstances: list('DBInstances', dbInstance),
  DescribeDBEngineVersions: list('DBEngineVersions', engineVersion),
  DescribePendingMaintenanceActions: list('PendingMaintenanceActions', resourcePending),
  ModifyDBInstance: dbInstance,
  StopDBInstance: dbInstance,
  StartDBInstance: dbInstance,
  RestoreDBInstanceToPointInTime: dbInstance,
  ApplyPendingMaintenanceAction: resourcePending,
  DescribeBlueGreenDeployments: list('BlueGreenDeployments', blueGreen),
  CreateBlueGreenDeployment: blueGreen.map((m) => m.replace(/^<member>/, '<BlueGreenDeployment>').replace(/<\/member>$/, '</BlueGreenDeployment>')),
  SwitchoverBlueGreenDeployment: blueGreen.map((m) => m.replace(/^<member>/, '<BlueGreenDeployment>').replace(/<\/member>$/, '</BlueGreenDeployment>')),
};

/** A plain answer to each action once the planned answers are used up: an instance that is there and available. */
const PLAIN: Record<string, string> = {
  DescribeDBInstances: `<DBInstances><DBInstance><DBInstanceIdentifier>${ID}</DBInstanceIdentifier><DBInstanceArn>${ARN}</DBInstanceArn><Engine>postgres</Engine><EngineVersion>15.5</EngineVersion><DBInstanceStatus>available</DBInstanceStatus></DBInstance></DBInstances>`,
  DescribeBlueGreenDeployments: '<BlueGreenDeployments></BlueGreenDeployments>',
};

const route53Ok = (inner: string) => `<?xml version="1.0"?>\n<GetHostedZoneResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">${inner}</GetHostedZoneResponse>`;
const hostedZone = fc
  .tuple(
    struct('HostedZone', field('Id', '/hostedzone/Z0123456789ABCDEFGHIJ'), field('Name', 'example.com.'), field('CallerReference', 'x'), struct('Config', field('PrivateZone', 'true', 'bool')), field('ResourceRecordSetCount', '3', 'int')),
    list('VPCs', struct('VPC', field('VPCRegion', REGION), field('VPCId', 'vpc-1'))),
  )
  .map(([zone, vpcs]) => zone + vpcs);

interface Request {
  action: string;
  headers: http.IncomingHttpHeaders;
}

/** One answer: its status, content type and body, or a connection cut part way; `usable` when it is a good AWS answer. */
interface Answer {
  status: number;
  contentType?: string;
  body: (req: Request) => Buffer;
  cut?: boolean;
  usable: boolean;
  /** An AWS error whose code says "not found" (the activity may answer with its own not-found message). */
  notFound?: boolean;
  label: string;
}

/** What AWS says of a signature it cannot match: the canonical request, signed headers and all (a session token among them). */
function signatureEcho(req: Request): string {
  const headers = Object.entries(req.headers)
    .filter(([k]) => k !== 'authorization')
    .map(([k, v]) => `${k}:${String(v).trim()}`)
    .sort()
    .join('\n');
  return (
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. ' +
    `Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'POST\n/\n\n${headers}\n'\n\n` +
    `The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20260601T100000Z\n20260601/${REGION}/rds/aws4_request\n0123abcd'`
  );
}

const awsErrorXml = (code: string, message: string) => `<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>Sender</Type><Code>${escape(code)}</Code><Message>${escape(message)}</Message></Error><RequestId>req-err</RequestId></ErrorResponse>`;

const ERROR_CODES = ['Throttling', 'ThrottlingException', 'InternalFailure', 'ServiceUnavailable', 'DBInstanceNotFound', 'DBInstanceNotFoundFault', 'InvalidDBInstanceState', 'InvalidParameterValue', 'AccessDenied', 'InvalidClientTokenId', 'ExpiredToken', 'RequestExpired', 'BlueGreenDeploymentNotFoundFault', 'DBUpgradeDependencyFailure', 'NoSuchHostedZone', 'SomethingNew', ''];

function answers(action: string): fc.Arbitrary<Answer> {
  const xml = action === 'GetHostedZone' ? hostedZone.map(route53Ok) : RDS_RESULTS[action].map((inner) => rdsOk(action, inner));
  const text = (status: number, contentType: string | undefined, body: string, label: string, usable = false): Answer => ({ status, contentType, body: () => Buffer.from(body), usable, label });
  return fc.oneof(
    { weight: 6, arbitrary: xml.map((body) => text(200, 'text/xml', body, 'xml', true)) },
    { weight: 2, arbitrary: fc.tuple(xml, fc.nat()).map(([body, at]) => text(200, 'text/xml', body.slice(0, at % body.length), 'truncated xml')) },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.constantFrom(...ERROR_CODES), fc.oneof(anyText, fc.constant('Rate exceeded')), fc.constantFrom(400, 403, 404, 500, 503)).map(([code, message, status]) => ({
        ...text(status, 'text/xml', awsErrorXml(code, message), `AWS error ${code} ${status}`),
        notFound: /NotFound|NoSuch/.test(code),
      })),
    },
    { weight: 1, arbitrary: fc.constant<Answer>({ status: 403, contentType: 'text/xml', body: (req) => Buffer.from(awsErrorXml('SignatureDoesNotMatch', signatureEcho(req))), usable: false, label: 'SignatureDoesNotMatch echoing the canonical request' }) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(200, 403, 502, 503, 504), anyText).map(([status, title]) => text(status, 'text/html', `<html><head><title>${escape(title)}</title></head><body><h1>Bad Gateway</h1></body></html>`, `HTML ${status}`)) },
    { weight: 1, arbitrary: fc.constantFrom(200, 204, 400, 500).map((status) => text(status, undefined, '', `empty ${status}`)) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(200, 500), fc.uint8Array({ maxLength: 200 })).map(([status, bytes]) => ({ status, contentType: 'application/octet-stream', body: () => Buffer.from(bytes), usable: false, label: `random bytes ${status}` })) },
    { weight: 1, arbitrary: fc.constantFrom(200, 400).map((status) => text(status, 'application/json', '{"__type":"ValidationException","message":"json"}', `JSON ${status}`)) },
    { weight: 1, arbitrary: xml.map((body) => ({ ...text(200, 'text/xml', body, 'cut mid-body'), cut: true })) },
  );
}

// ---------------------------------------------------------------------------------------------------------
// The server: each request gets the next planned answer; when the plan is used up, a plain good answer.
// ---------------------------------------------------------------------------------------------------------

interface FuzzServer {
  url: string;
  plan: Answer[];
  served: { action: string; answer: Answer }[];
  close(): Promise<void>;
}

async function startFuzzServer(): Promise<FuzzServer> {
  const state: FuzzServer = { url: '', plan: [], served: [], close: async () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const action = req.url?.startsWith('/2013-04-01/hostedzone') ? 'GetHostedZone' : (new URLSearchParams(body).get('Action') ?? '?');
      const answer: Answer = state.plan.shift() ?? {
        status: 200,
        contentType: 'text/xml',
        body: () => Buffer.from(action === 'GetHostedZone' ? route53Ok('<HostedZone><Id>/hostedzone/Z1</Id><Name>example.com.</Name><CallerReference>x</CallerReference></HostedZone>') : rdsOk(action, PLAIN[action] ?? '')),
        usable: true,
        label: 'plain',
      };
      state.served.push({ action, answer });
      const bytes = answer.body({ action, headers: req.headers });
      res.writeHead(answer.status, { ...(answer.contentType ? { 'Content-Type': answer.contentType } : {}), 'Content-Length': String(bytes.length + (answer.cut ? 100 : 0)) });
      if (answer.cut) {
        res.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
        setImmediate(() => res.destroy());
      } else {
        res.end(bytes);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

// ---------------------------------------------------------------------------------------------------------
// The calls: each activity with the answers of the actions it makes.
// ---------------------------------------------------------------------------------------------------------

interface Call {
  name: string;
  /** The actions it may send, in order: the plan is drawn from their answers. */
  actions: string[];
  run(acts: Acts): Promise<unknown>;
}

type Acts = ReturnType<typeof createRdsActivities> & ReturnType<typeof createBlueGreenActivities> & ReturnType<typeof createRoute53Activities>;

const ref = { where: REGION, instanceId: ID };
const CALLS: Call[] = [
  { name: 'describeInstance', actions: ['DescribeDBInstances'], run: (a) => a.describeInstance(ref) },
  { name: 'findInstance (as a role)', actions: ['DescribeDBInstances'], run: (a) => a.findInstance({ where: { region: REGION, roleArn: 'arn:aws:iam::222222222222:role/x' }, instanceId: ID }) },
  { name: 'listUpgradeTargets', actions: ['DescribeDBEngineVersions'], run: (a) => a.listUpgradeTargets({ where: REGION, engine: 'postgres', engineVersion: '15.5' }) },
  { name: 'inspectInstance', actions: ['DescribeDBInstances', 'DescribeDBEngineVersions'], run: (a) => a.inspectInstance(ref) },
  { name: 'listPendingMaintenance', actions: ['DescribePendingMaintenanceActions'], run: (a) => a.listPendingMaintenance(ref) },
  { name: 'setAutoMinorVersionUpgrade', actions: ['DescribeDBInstances', 'ModifyDBInstance'], run: (a) => a.setAutoMinorVersionUpgrade({ ...ref, enabled: true }) },
  { name: 'applyUpgradeNow', actions: ['DescribeDBInstances', 'DescribePendingMaintenanceActions', 'ApplyPendingMaintenanceAction'], run: (a) => a.applyUpgradeNow({ ...ref, targetVersion: '15.8' }) },
  {
    name: 'restoreToPointInTime',
    actions: ['DescribeDBInstances', 'DescribeDBInstances', 'RestoreDBInstanceToPointInTime'],
    run: (a) => a.restoreToPointInTime({ region: REGION, sourceInstanceId: ID, targetInstanceId: 'notify-restored', restoreTime: '2026-05-30T10:00:00Z', copySourceSettings: true, ownerTag: { key: 'rds-orchestrator:restore-id', value: 'r1' } }),
  },
  { name: 'stopInstance', actions: ['DescribeDBInstances', 'StopDBInstance'], run: (a) => a.stopInstance(ref) },
  { name: 'startInstance', actions: ['DescribeDBInstances', 'StartDBInstance'], run: (a) => a.startInstance(ref) },
  { name: 'attachSecurityGroup', actions: ['DescribeDBInstances', 'ModifyDBInstance'], run: (a) => a.attachSecurityGroup({ ...ref, securityGroupId: 'sg-0fedcba9876543210' }) },
  { name: 'findFleet', actions: ['DescribeDBInstances', 'DescribePendingMaintenanceActions'], run: (a) => a.findFleet({ where: REGION, query: { tags: { environment: 'production' }, engine: 'postgres' } } as Parameters<Acts['findFleet']>[0]) },
  { name: 'describeBlueGreenDeployment', actions: ['DescribeBlueGreenDeployments'], run: (a) => a.describeBlueGreenDeployment({ where: REGION, deploymentId: 'bgd-0123456789abcdef' }) },
  {
    name: 'createBlueGreenDeployment',
    actions: ['DescribeBlueGreenDeployments', 'DescribeDBInstances', 'DescribeBlueGreenDeployments', 'CreateBlueGreenDeployment'],
    run: (a) => a.createBlueGreenDeployment({ ...ref, name: 'pg-minor-15-8-notify-production', targetEngineVersion: '15.8', tags: { 'rds-orchestrator:campaign': 'pg-minor-15-8' } }),
  },
  { name: 'switchoverBlueGreenDeployment', actions: ['DescribeBlueGreenDeployments', 'SwitchoverBlueGreenDeployment'], run: (a) => a.switchoverBlueGreenDeployment({ where: REGION, deploymentId: 'bgd-0123456789abcdef', timeoutSeconds: 300 }) },
  { name: 'describeHostedZone (Route 53)', actions: ['GetHostedZone'], run: (a) => a.describeHostedZone({ hostedZoneId: 'Z0123456789ABCDEFGHIJ' }) },
];

/** A call and a plan: an answer for each action it sends (the later ones sometimes left to the plain answer). */
const callAndPlan = fc.constantFrom(...CALLS).chain((call) => fc.tuple(fc.constant(call), fc.tuple(...call.actions.map(answers)), fc.integer({ min: 1, max: call.actions.length })).map(([c, plan, n]) => ({ call: c, plan: plan.slice(0, n) })));

/** What the worker would write to history for this failure (message, stack and causes). */
function recorded(err: unknown): string {
  return JSON.stringify(new DefaultFailureConverter().errorToFailure(err, defaultPayloadConverter));
}

describe('fuzzed AWS answers (issue 25): a parsed result or an ApplicationFailure naming the call', function () {
  this.timeout(60_000);
  let server: FuzzServer;
  let acts: Acts;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  before(async function () {
    server = await startFuzzServer();
    const config = loadConfig({ ORCHESTRATOR_AWS_ENDPOINT: server.url, ORCHESTRATOR_RDS_REQUESTS_PER_SECOND: 'off' });
    // As the worker builds its clients (awsClientConfig, instrument), with the canary credentials and one attempt
    // per call (the SDK's own retries would only repeat the same answer, slowly).
    const rds = instrument(new RDSClient({ ...awsClientConfig(config, REGION, {}), credentials: CREDENTIALS, maxAttempts: 1 }));
    const route53 = instrument(new Route53Client({ ...awsClientConfig(config, 'us-east-1', {}), credentials: CREDENTIALS, maxAttempts: 1 }));
    acts = { ...createRdsActivities({ rdsClientFor: () => rds, now: () => new Date('2026-06-01T12:00:00Z') }), ...createBlueGreenActivities({ rdsClientFor: () => rds }), ...createRoute53Activities({ route53For: () => route53 }) };
    process.on('unhandledRejection', onUnhandled);
  });

  after(async function () {
    process.off('unhandledRejection', onUnhandled);
    await server?.close();
  });

  it('every activity, every kind of answer', async function () {
    const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
    await fc.assert(
      fc.asyncProperty(callAndPlan, async ({ call, plan }) => {
        server.plan = [...plan];
        server.served = [];
        let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
        try {
          outcome = { ok: true, value: await env.run(() => call.run(acts)) };
        } catch (error) {
          outcome = { ok: false, error };
        }
        const served = server.served.map((s) => `${s.action}: ${s.answer.label}`).join('; ');
        if (outcome.ok) {
          const text = JSON.stringify(outcome.value) ?? '';
          for (const s of SECRETS) assert.ok(!text.includes(s), `a credential in the result of ${call.name}`);
          return;
        }
        const err = outcome.error;
        assert.ok(err instanceof ApplicationFailure, `${call.name} after [${served}] threw ${err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err)}`);
        assert.ok((Object.values(FailureTypes) as string[]).includes(err.type ?? ''), `failure type ${err.type}`);
        assert.ok(err.message.trim() !== '');
        const last = server.served[server.served.length - 1];
        // An error status, or a connection cut: the failure says which call got it. (A 2xx page that is not an AWS
        // answer: the test below.)
        if (last && (last.answer.status >= 300 || last.answer.cut) && !last.answer.notFound) {
          assert.ok(err.message.includes(last.action), `${call.name} after [${served}]: the failure does not name ${last.action}: ${err.message}`);
        }
        const history = recorded(err);
        for (const s of SECRETS) assert.ok(!history.includes(s), `${call.name} after [${served}]: the failure the worker records carries a credential: ${history.slice(0, 600)}`);
      }),
      { seed: SEED, numRuns: 250 },
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, [], 'no unhandled rejection');
  });

  it('SignatureDoesNotMatch echoing the signed headers: the failure names the call and the code, without the session token (regression)', async function () {
    const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
    server.plan = [{ status: 403, contentType: 'text/xml', body: (req) => Buffer.from(awsErrorXml('SignatureDoesNotMatch', signatureEcho(req))), usable: false, label: 'echo' }];
    const err = await env.run(() => acts.describeInstance(ref)).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.type, FailureTypes.Unauthorized);
    assert.match(err.message, /^DescribeDBInstances notify-production in region eu-west-2 was refused \(SignatureDoesNotMatch\): The request signature we calculated does not match/);
    assert.match(err.message, /canonical request and string to sign that AWS showed are left out/);
    for (const s of SECRETS) assert.ok(!recorded(err).includes(s));
    for (const s of SECRETS) assert.ok(!recorded(toActivityError(Object.assign(new Error(signatureEcho({ action: 'x', headers: { 'x-amz-security-token': s } })), { name: 'Odd', $metadata: { httpStatusCode: 400 } }), { operation: 'Odd' })).includes(s), 'nor through the cause of a retryable failure');
  });

  /**
   * Found by the property above: a 2xx answer whose body is no AWS answer (a proxy's or captive portal's HTML page,
   * an empty body, JSON) was read by the SDK as an answer without its result element, an empty one: describeInstance
   * failed non-retryably with InstanceNotFound, findInstance answered that there was no such instance, and
   * describeBlueGreenDeployment that the deployment was deleted. The clients now refuse a 2xx whose body is not the
   * action's `<ActionResponse>` (src/activities/clients.ts), and the call is retried.
   */
  it('a 2xx page that is not an AWS answer fails retryably, naming the call (found by the property above)', async function () {
    const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
    const page = (status: number, contentType: string, body: string): Answer => ({ status, contentType, body: () => Buffer.from(body), usable: false, label: `${contentType} ${status}` });
    for (const answer of [page(200, 'text/html', '<html><head><title>Proxy</title></head><body>Sign in</body></html>'), page(200, 'text/plain', ''), page(200, 'application/json', '{}')]) {
      for (const call of CALLS.filter((c) => ['describeInstance', 'describeBlueGreenDeployment', 'findInstance (as a role)'].includes(c.name))) {
        server.plan = [answer];
        const err = await env.run(() => call.run(acts)).then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof ApplicationFailure, `${call.name} over ${answer.label}: no failure`);
        assert.equal(err.type, FailureTypes.AwsCallFailed, `${call.name} over ${answer.label}: ${err.message}`);
        assert.equal(err.nonRetryable, false);
        assert.match(err.message, new RegExp(call.actions[0]));
      }
    }
  });
});
