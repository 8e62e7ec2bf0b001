/**
 * Conformance with AWS's published service models: every response the product's AWS calls receive from
 * the simulator is validated, as raw XML, against botocore's models (see service-model.ts for what is
 * and is not checked). The calls go through the product's own activity factories where they exist and
 * raw SDK commands for the rest, through a recording proxy, so the bytes are checked, not the SDK's
 * forgiving parse. Each finding names the operation, the path in the response and what is wrong.
 *
 * A few expectations are documented AWS behaviour that the models cannot express (a private zone is
 * refused by TestDNSAnswer, ...); they are listed as findings in the same report, under `(behaviour)`.
 */
import assert from 'node:assert/strict';
import { AddTagsToResourceCommand, DescribeDBInstancesCommand, ListTagsForResourceCommand, ModifyDBInstanceCommand, RDSClient, RestoreDBInstanceToPointInTimeCommand, StartDBInstanceCommand } from '@aws-sdk/client-rds';
import { GetHostedZoneCommand, ListHostedZonesCommand, Route53Client } from '@aws-sdk/client-route-53';
import { CreateSecurityGroupCommand, DescribeSecurityGroupsCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { createEc2Activities, createRdsActivities, createRoute53Activities } from '../../src/activities';
import { SimAdminClient } from '../../sim';
import { DAY, ManualClock, SECOND } from '../../sim';
import { defaultVpcId } from '../../sim';
import { startSimulator } from '../../sim';
import type { RunningSimulator } from '../../sim';
import type { Exchange, RecordingProxy } from './recording-proxy';
import { startRecordingProxy } from './recording-proxy';
import type { Finding, ServiceModel } from './service-model';
import { PINNED_BOTOCORE, loadServiceModel, locateBotocore } from './service-model';

const REGION = 'eu-west-2';
const ACCOUNT = '123456789012';
const CREDENTIALS = { accessKeyId: 'x', secretAccessKey: 'x' };
const START = Date.UTC(2025, 0, 6, 12, 0, 0); // a Monday, 12:00 UTC
const PRIVATE_ZONE = 'ZCONFORMPRIVATE';
const PUBLIC_ZONE = 'ZCONFORMPUBLIC1';
const PREVIEW = 'db-preview';
const STAGING = 'db-staging';
const PRODUCTION = 'db-production';
/** Security group ids shaped like EC2's (sg- and 17 hex digits). */
const DB_GROUPS: Record<string, string> = { [PREVIEW]: 'sg-0c0f00000000000a1', [STAGING]: 'sg-0c0f00000000000a2', [PRODUCTION]: 'sg-0c0f00000000000a3' };
const APP_GROUP = 'sg-0c0f00000000000b1';

/** 'ok', 'error' (any error code), or one exact error code. */
type Outcome = string;

const errorCode = (e: Exchange): string => (e.status < 300 ? 'ok' : (/<Code>([^<]*)<\/Code>/.exec(e.body)?.[1] ?? `HTTP ${e.status} without <Code>`));
const errorText = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

/** Runs calls through the proxy, checks each produced the outcome asked for, then validates every exchange. */
class Conformance {
  readonly findings: Finding[] = [];

  constructor(
    private readonly proxy: RecordingProxy,
    private readonly models: Record<string, ServiceModel>,
  ) {}

  operationOf(e: Exchange): string | undefined {
    return this.models[e.service]?.operationFor(e.method, e.url, e.requestBody);
  }

  /** `fn` must send at least one `operation` request answered with `outcome`; an error is the point of some calls. */
  async call<T>(label: string, operation: string, outcome: Outcome, fn: () => Promise<T>): Promise<T | undefined> {
    const { result, error, exchanges } = await this.proxy.during(fn);
    const got = exchanges.filter((e) => this.operationOf(e) === operation).map(errorCode);
    const ok = got.some((g) => (outcome === 'error' ? g !== 'ok' : g === outcome));
    const threw = error !== undefined && outcome === 'ok' ? `; the call threw ${errorText(error)}` : '';
    if (!ok || threw) {
      const want = outcome === 'ok' ? 'success' : outcome === 'error' ? 'an error' : `error ${outcome}`;
      this.behaviour(operation, label, `expected ${want}, got ${got.join(', ') || `no ${operation} request`}${threw}`);
    }
    return result;
  }

  behaviour(operation: string, label: string, problem: string): void {
    this.findings.push({ operation, path: `(behaviour) ${label}`, problem });
  }

  /** Validates every recorded exchange of `service`. */
  validate(service: string): Finding[] {
    for (const e of this.proxy.exchanges.filter((x) => x.service === service)) {
      const op = this.operationOf(e);
      if (!op) this.findings.push({ operation: `${service}?`, path: '(request)', problem: `${e.method} ${e.url} matches no operation of the model` });
      else this.findings.push(...(this.models[service] as ServiceModel).validate(op, e));
    }
    return this.findings;
  }
}

/** Identical findings (the same bug in every DescribeDBInstances) print once, with a count, grouped by operation. */
function report(title: string, findings: Finding[]): string {
  const counts = new Map<string, number>();
  for (const f of findings) {
    const key = JSON.stringify([f.operation, f.path, f.problem]);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const byOp = new Map<string, string[]>();
  for (const [key, n] of counts) {
    const [op, where, problem] = JSON.parse(key) as [string, string, string];
    byOp.set(op, [...(byOp.get(op) ?? []), `    ${where}: ${problem}${n > 1 ? ` (x${n})` : ''}`]);
  }
  const lines = [...byOp].sort(([a], [b]) => a.localeCompare(b)).flatMap(([op, ls]) => [`  ${op}`, ...ls]);
  return `${title}: ${counts.size} distinct finding(s)\n${lines.join('\n')}`;
}

describe('conformance: simulator responses against AWS service models (botocore)', function () {
  this.timeout(60_000);
  let sim: RunningSimulator;
  let clock: ManualClock;
  let proxy: RecordingProxy;
  let models: Record<string, ServiceModel>;
  let rds: RDSClient;
  let ec2: EC2Client;
  let route53: Route53Client;
  const advance = (seconds: number): void => clock.advance(seconds * SECOND);

  before(async function () {
    const { dataDir, version } = locateBotocore();
    if (version !== PINNED_BOTOCORE) console.warn(`      (validating against botocore ${version}; the pin is ${PINNED_BOTOCORE})`);
    models = { rds: loadServiceModel('rds', dataDir), ec2: loadServiceModel('ec2', dataDir), route53: loadServiceModel('route53', dataDir) };
    clock = new ManualClock(START);
    sim = await startSimulator({ port: 0, clock });
    proxy = await startRecordingProxy(sim.url);
    // One attempt: a retried call would hide which response the SDK got first.
    const config = { endpoint: proxy.url, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 };
    rds = new RDSClient(config);
    ec2 = new EC2Client(config);
    route53 = new Route53Client({ ...config, region: 'us-east-1' });
    // An explicit seed (not demoFleet) keeps this test independent of the demo's resources: three
    // PostgreSQL 15.5 instances below the catalogue's preferred 15.8 (so each has a db-upgrade pending
    // action), their security groups, and one private and one public hosted zone.
    await new SimAdminClient(sim.url).seed({
      reset: true,
      securityGroups: [APP_GROUP, ...Object.values(DB_GROUPS)].map((id) => ({ region: REGION, account: ACCOUNT, id, name: `group-${id}`, description: 'seeded' })),
      instances: Object.entries(DB_GROUPS).map(([id, group]) => ({
        region: REGION,
        account: ACCOUNT,
        id,
        engineVersion: '15.5',
        instanceClass: 'db.t4g.medium',
        allocatedStorage: 100,
        storageType: 'gp3',
        backupRetentionPeriod: 7,
        autoMinorVersionUpgrade: false,
        preferredMaintenanceWindow: 'sun:03:00-sun:03:30',
        vpcSecurityGroupIds: [group],
        tags: { environment: id.replace('db-', '') },
      })),
      hostedZones: [
        { account: ACCOUNT, id: PRIVATE_ZONE, name: 'db.internal', privateZone: true, vpcs: [{ region: REGION, vpcId: defaultVpcId(ACCOUNT, REGION) }], records: [{ name: 'app.db.internal', type: 'CNAME', ttl: 60, values: ['db-preview.example.net'] }] },
        { account: ACCOUNT, id: PUBLIC_ZONE, name: 'example.com', privateZone: false, records: [{ name: 'app.example.com', type: 'CNAME', ttl: 60, setIdentifier: 'blue', weight: 100, values: ['blue.example.net'] }] },
      ],
    });
  });

  after(async function () {
    rds?.destroy();
    ec2?.destroy();
    route53?.destroy();
    await proxy?.close();
    await sim?.close();
  });

  it('RDS: every response conforms to the rds 2014-10-31 model', async function () {
    const check = new Conformance(proxy, models);
    const act = createRdsActivities({ rdsClientFor: () => rds, now: () => new Date(sim.engine.now()) });
    const call = check.call.bind(check);
    const preview = await call('describeInstance (found)', 'DescribeDBInstances', 'ok', () => act.describeInstance({ where: REGION, instanceId: PREVIEW }));
    await call('describeInstance with the restorable window AWS publishes', 'DescribeDBInstanceAutomatedBackups', 'ok', () => act.describeInstance({ where: REGION, instanceId: PREVIEW, restoreWindow: true }));
    await call('findInstance of a missing id', 'DescribeDBInstances', 'DBInstanceNotFound', () => act.findInstance({ where: REGION, instanceId: 'db-missing' }));
    await call('listUpgradeTargets', 'DescribeDBEngineVersions', 'ok', () => act.listUpgradeTargets({ where: REGION, engine: 'postgres', engineVersion: '15.5' }));
    await call('listPendingMaintenance', 'DescribePendingMaintenanceActions', 'ok', () => act.listPendingMaintenance({ where: REGION, instanceId: PREVIEW }));
    await call('setAutoMinorVersionUpgrade', 'ModifyDBInstance', 'ok', () => act.setAutoMinorVersionUpgrade({ where: REGION, instanceId: STAGING, enabled: true }));
    await call('applyUpgradeNow (pending db-upgrade, immediate)', 'ApplyPendingMaintenanceAction', 'ok', () => act.applyUpgradeNow({ where: REGION, instanceId: PREVIEW, targetVersion: '15.8' }));
    advance(10);
    await call('ModifyDBInstance EngineVersion ApplyImmediately', 'ModifyDBInstance', 'ok', () =>
      rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: STAGING, EngineVersion: '15.8', ApplyImmediately: true })),
    );
    // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html: VpcSecurityGroupIds
    // "A list of Amazon EC2 VPC security groups to associate with this DB instance" (applied asynchronously, soon).
    const groups = [DB_GROUPS[PRODUCTION] as string, APP_GROUP];
    await call('ModifyDBInstance VpcSecurityGroupIds', 'ModifyDBInstance', 'ok', () =>
      rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: PRODUCTION, VpcSecurityGroupIds: groups, ApplyImmediately: true })),
    );
    advance(60);
    const production = await call('describe after the security-group change', 'DescribeDBInstances', 'ok', () => act.describeInstance({ where: REGION, instanceId: PRODUCTION }));
    if (production && !groups.every((g) => production.vpcSecurityGroupIds.includes(g))) {
      check.behaviour('ModifyDBInstance', 'VpcSecurityGroupIds', `asked for ${groups.join(', ')}, DescribeDBInstances then shows ${production.vpcSecurityGroupIds.join(', ') || 'none'}`);
    }
    await call('restoreToPointInTime (latest restorable time)', 'RestoreDBInstanceToPointInTime', 'ok', () =>
      act.restoreToPointInTime({ region: REGION, sourceInstanceId: PRODUCTION, targetInstanceId: `${PRODUCTION}-restore`, copySourceSettings: true, ownerTag: { key: 'restored-by', value: 'conformance' } }),
    );
    await call('RestoreDBInstanceToPointInTime before the restorable window', 'RestoreDBInstanceToPointInTime', 'error', () =>
      rds.send(new RestoreDBInstanceToPointInTimeCommand({ SourceDBInstanceIdentifier: PRODUCTION, TargetDBInstanceIdentifier: 'too-old', RestoreTime: new Date(START - 400 * DAY) })),
    );
    await call('StartDBInstance of a running instance', 'StartDBInstance', 'InvalidDBInstanceState', () => rds.send(new StartDBInstanceCommand({ DBInstanceIdentifier: PRODUCTION })));
    await call('stopInstance', 'StopDBInstance', 'ok', () => act.stopInstance({ where: REGION, instanceId: PRODUCTION }));
    // Every instance in a transient status (upgrading, modifying, stopping, creating) in one listing.
    await call('DescribeDBInstances of the whole region', 'DescribeDBInstances', 'ok', () => rds.send(new DescribeDBInstancesCommand({})));
    advance(120);
    await call('startInstance', 'StartDBInstance', 'ok', () => act.startInstance({ where: REGION, instanceId: PRODUCTION }));
    const arn = preview?.arn ?? '';
    await call('AddTagsToResource', 'AddTagsToResource', 'ok', () => rds.send(new AddTagsToResourceCommand({ ResourceName: arn, Tags: [{ Key: 'checked-by', Value: 'conformance' }] })));
    await call('ListTagsForResource', 'ListTagsForResource', 'ok', () => rds.send(new ListTagsForResourceCommand({ ResourceName: arn })));
    await call('DescribeDBInstances after the moves', 'DescribeDBInstances', 'ok', () => rds.send(new DescribeDBInstancesCommand({})));

    const findings = check.validate('rds');
    if (findings.length > 0) assert.fail(report('RDS', findings));
  });

  it('EC2: every response conforms to the ec2 2016-11-15 model', async function () {
    const check = new Conformance(proxy, models);
    const act = createEc2Activities({ ec2ClientFor: () => ec2 });
    const call = check.call.bind(check);
    // DescribeVpcs is optional for the simulator (only this test uses it, to find a VPC id): InvalidAction
    // (a documented EC2 error) means it is not served. Its response is validated either way.
    const vpcs = await proxy.during(() => ec2.send(new DescribeVpcsCommand({})));
    if (vpcs.error && (vpcs.error as Error).name !== 'InvalidAction') check.behaviour('DescribeVpcs', 'DescribeVpcs', `failed: ${errorText(vpcs.error)}`);
    if (vpcs.error) console.log('      (DescribeVpcs is not served by the simulator: answered InvalidAction)');
    const vpcId = vpcs.result?.Vpcs?.[0]?.VpcId ?? defaultVpcId(ACCOUNT, REGION);
    const created = await call('CreateSecurityGroup with VpcId and TagSpecifications', 'CreateSecurityGroup', 'ok', () =>
      ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: 'conformance-app',
          Description: 'conformance test',
          VpcId: vpcId,
          TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'purpose', Value: 'conformance' }] }],
        }),
      ),
    );
    const groupId = created?.GroupId ?? '';
    await call('DescribeSecurityGroups by id', 'DescribeSecurityGroups', 'ok', () => ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] })));
    const filtered = await call('DescribeSecurityGroups by filters', 'DescribeSecurityGroups', 'ok', () =>
      ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'tag:purpose', Values: ['conformance'] }] })),
    );
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html: TagSpecification "The tags to assign to the security group".
    if (filtered && !filtered.SecurityGroups?.some((g) => g.GroupId === groupId)) {
      check.behaviour('CreateSecurityGroup', 'TagSpecifications', `the group was created with tag purpose=conformance in ${vpcId}, a tag:purpose + vpc-id filter does not find it`);
    }
    const dbGroup = DB_GROUPS[PREVIEW] as string;
    await call('allowIngressFromSecurityGroup', 'AuthorizeSecurityGroupIngress', 'ok', () => act.allowIngressFromSecurityGroup({ where: REGION, securityGroupId: dbGroup, sourceSecurityGroupId: groupId, port: 5432 }));
    await call('allowIngressFromSecurityGroup again', 'AuthorizeSecurityGroupIngress', 'InvalidPermission.Duplicate', () => act.allowIngressFromSecurityGroup({ where: REGION, securityGroupId: dbGroup, sourceSecurityGroupId: groupId, port: 5432 }));
    await call('DescribeSecurityGroups with an ingress rule', 'DescribeSecurityGroups', 'ok', () => ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [dbGroup] })));

    const findings = check.validate('ec2');
    if (findings.length > 0) assert.fail(report('EC2', findings));
  });

  it('Route 53: every response conforms to the route53 2013-04-01 model', async function () {
    const check = new Conformance(proxy, models);
    const act = createRoute53Activities({ route53For: () => route53 });
    const call = check.call.bind(check);
    const first = await call('ListHostedZones, one per page', 'ListHostedZones', 'ok', () => route53.send(new ListHostedZonesCommand({ MaxItems: 1 })));
    await call('ListHostedZones from a marker', 'ListHostedZones', 'ok', () => route53.send(new ListHostedZonesCommand({ Marker: first?.NextMarker })));
    await call('GetHostedZone (public)', 'GetHostedZone', 'ok', () => route53.send(new GetHostedZoneCommand({ Id: PUBLIC_ZONE })));
    const priv = await call('GetHostedZone (private)', 'GetHostedZone', 'ok', () => route53.send(new GetHostedZoneCommand({ Id: PRIVATE_ZONE })));
    // https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHostedZone.html: VPCs "(private hosted zones only)";
    // a private zone always has one, CreateHostedZone requires a VPC for it.
    if (priv && !priv.VPCs?.length) check.behaviour('GetHostedZone', 'VPCs of a private zone', 'a private hosted zone is returned without <VPCs>');
    await call('GetHostedZone of an unknown zone', 'GetHostedZone', 'NoSuchHostedZone', () => route53.send(new GetHostedZoneCommand({ Id: 'ZNOSUCHZONE0001' })));
    await call('getWeightedCname', 'ListResourceRecordSets', 'ok', () => act.getWeightedCname({ hostedZoneId: PUBLIC_ZONE, recordName: 'app.example.com', setIdentifier: 'blue' }));
    const upsert = await call('upsertWeightedCname', 'ChangeResourceRecordSets', 'ok', () =>
      act.upsertWeightedCname({ record: { hostedZoneId: PUBLIC_ZONE, recordName: 'app.example.com', setIdentifier: 'blue', weight: 50, ttlSeconds: 60, value: 'green.example.net' } }),
    );
    const changeId = upsert?.changeId ?? '';
    // PENDING makes the activity throw a retryable "not ready"; only the response matters here.
    await call('waitForChangeInsync while PENDING', 'GetChange', 'ok', () => act.waitForChangeInsync({ changeId }).catch(() => undefined));
    advance(15);
    await call('waitForChangeInsync once INSYNC', 'GetChange', 'ok', () => act.waitForChangeInsync({ changeId }));
    await call('testDnsAnswer (public zone)', 'TestDNSAnswer', 'ok', () => act.testDnsAnswer({ hostedZoneId: PUBLIC_ZONE, recordName: 'app.example.com' }));
    // The model's own documentation of TestDNSAnswer: "This call only supports querying public hosted zones."
    await call('testDnsAnswer (private zone) must be refused', 'TestDNSAnswer', 'error', () => act.testDnsAnswer({ hostedZoneId: PRIVATE_ZONE, recordName: 'app.db.internal' }));

    const findings = check.validate('route53');
    if (findings.length > 0) assert.fail(report('Route 53', findings));
  });
});
