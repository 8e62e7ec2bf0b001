/**
 * CloudTrail LookupEvents (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html) over
 * the simulator's call log, through @aws-sdk/client-cloudtrail, and its answers checked against botocore's
 * `cloudtrail/2013-11-01` model (JSON 1.1) with sim/test/json-protocol-model.ts. "Who turned the flag off" is read
 * as in AWS: a ModifyDBInstance made by another principal (Terraform's IAM user) shows with that principal.
 */
import assert from 'node:assert/strict';
import { CloudTrailClient, LookupEventsCommand, paginateLookupEvents } from '@aws-sdk/client-cloudtrail';
import type { Event, LookupEventsCommandInput } from '@aws-sdk/client-cloudtrail';
import { DescribeDBInstancesCommand, ModifyDBInstanceCommand } from '@aws-sdk/client-rds';
import { ListHostedZonesCommand } from '@aws-sdk/client-route-53';
import { loadServiceModel, locateBotocore } from '../../../test/conformance/service-model';
import type { Finding, ServiceModel } from '../../../test/conformance/service-model';
import { ACCOUNT, CREDENTIALS, REGION, rejectsWith, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';
import { validateJson } from '../json-protocol-model';
import { rawCloudTrail } from '../raw-aws';
import { ClientPool } from '../sts-helpers';

const TERRAFORM = { accessKeyId: 'AKIATERRAFORM0000001', secretAccessKey: 'tf' };
const TERRAFORM_ARN = `arn:aws:iam::${ACCOUNT}:user/terraform`;
const CI = { accessKeyId: 'AKIACIUSER0000000001', secretAccessKey: 'ci' };
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/rds-orchestrator`;
const problems = (findings: Finding[]): string[] => findings.map((f) => `${f.operation} ${f.path}: ${f.problem}`);

describe('sim: CloudTrail LookupEvents over the call log', function () {
  let h: SimHarness;
  let pool: ClientPool;
  let trail: CloudTrailClient;
  let model: ServiceModel;
  before(function () {
    model = loadServiceModel('cloudtrail', locateBotocore().dataDir);
  });
  beforeEach(async function () {
    h = await startHarness();
    pool = new ClientPool(h.sim.url);
    trail = new CloudTrailClient({ endpoint: h.sim.url, region: REGION, credentials: CREDENTIALS });
    await h.admin.seed({
      roles: [{ account: ACCOUNT, name: 'rds-orchestrator' }],
      identities: [
        { accessKeyId: TERRAFORM.accessKeyId, account: ACCOUNT, arn: TERRAFORM_ARN },
        { accessKeyId: CI.accessKeyId, account: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/ci` },
      ],
      instances: [{ region: REGION, id: 'db1', engineVersion: '15.5', autoMinorVersionUpgrade: true }],
    });
  });
  afterEach(async function () {
    trail.destroy();
    pool.destroyAll();
    await h.close();
  });

  const lookup = async (input: LookupEventsCommandInput = {}): Promise<Event[]> => (await trail.send(new LookupEventsCommand(input))).Events ?? [];
  const record = (e: Event | undefined): Record<string, unknown> => JSON.parse(e?.CloudTrailEvent ?? '{}') as Record<string, unknown>;

  it('a ModifyDBInstance by another principal (Terraform’s IAM user) shows with that principal and its requestParameters', async function () {
    const session = await pool.assume(CI, { RoleArn: ROLE_ARN, RoleSessionName: 'campaign-1' });
    await pool.with(session).rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db1', AutoMinorVersionUpgrade: false }));
    h.advance(60);
    await pool.with(TERRAFORM).rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db1', AutoMinorVersionUpgrade: true, ApplyImmediately: true }));
    // The change is applied and logged with that principal, like the worker's own calls.
    const db = (await h.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db1' }))).DBInstances?.[0];
    assert.equal(db?.AutoMinorVersionUpgrade, true);
    const [tfCall] = await h.admin.calls({ principal: TERRAFORM_ARN });
    assert.deepEqual([tfCall?.action, tfCall?.account, tfCall?.accessKeyId], ['ModifyDBInstance', ACCOUNT, TERRAFORM.accessKeyId]);

    const [byTerraform, byCampaign, ...none] = await lookup({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'ModifyDBInstance' }] });
    assert.equal(none.length, 0);
    assert.deepEqual(
      { ...byTerraform, CloudTrailEvent: undefined },
      {
        EventId: byTerraform?.EventId,
        EventName: 'ModifyDBInstance',
        ReadOnly: 'false',
        AccessKeyId: TERRAFORM.accessKeyId,
        EventTime: new Date(Date.parse(tfCall?.at as string)),
        EventSource: 'rds.amazonaws.com',
        Username: 'terraform',
        Resources: [{ ResourceType: 'AWS::RDS::DBInstance', ResourceName: 'db1' }],
        CloudTrailEvent: undefined,
      },
    );
    const tf = record(byTerraform);
    assert.deepEqual(tf.userIdentity, { type: 'IAMUser', principalId: (tf.userIdentity as { principalId: string }).principalId, arn: TERRAFORM_ARN, accountId: ACCOUNT, accessKeyId: TERRAFORM.accessKeyId, userName: 'terraform' });
    assert.match((tf.userIdentity as { principalId: string }).principalId, /^AIDA/);
    assert.deepEqual(tf.requestParameters, { dBInstanceIdentifier: 'db1', autoMinorVersionUpgrade: true, applyImmediately: true });
    assert.deepEqual(
      [tf.eventVersion, tf.eventSource, tf.eventName, tf.awsRegion, tf.readOnly, tf.eventType, tf.managementEvent, tf.recipientAccountId, tf.eventCategory, tf.requestID, tf.eventID],
      ['1.09', 'rds.amazonaws.com', 'ModifyDBInstance', REGION, false, 'AwsApiCall', true, ACCOUNT, 'Management', tfCall?.requestId, byTerraform?.EventId],
    );
    assert.equal(tf.sourceIPAddress, '127.0.0.1');
    assert.match(String(tf.userAgent), /aws-sdk-js/);
    assert.deepEqual([(tf.responseElements as Record<string, unknown>).dBInstanceIdentifier, (tf.responseElements as Record<string, unknown>).autoMinorVersionUpgrade], ['db1', true]);
    assert.match(String(tf.eventTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    assert.equal(byCampaign?.Username, 'campaign-1', 'a role session is named by its session name');
    const campaign = record(byCampaign);
    assert.deepEqual(campaign.requestParameters, { dBInstanceIdentifier: 'db1', autoMinorVersionUpgrade: false });
    const identity = campaign.userIdentity as Record<string, unknown> & { sessionContext: { sessionIssuer: Record<string, unknown>; attributes: Record<string, unknown> } };
    assert.deepEqual([identity.type, identity.arn, identity.principalId, identity.accessKeyId], ['AssumedRole', session.arn, session.assumedRoleId, session.accessKeyId]);
    assert.deepEqual(identity.sessionContext.sessionIssuer, { type: 'Role', principalId: session.assumedRoleId.split(':')[0], arn: ROLE_ARN, accountId: ACCOUNT, userName: 'rds-orchestrator' });
    assert.equal(identity.sessionContext.attributes.mfaAuthenticated, 'false');
  });

  it('lookup attributes, the Region, the account and the time range select events; newest first', async function () {
    const t0 = new Date(h.clock.now());
    await h.rds.send(new DescribeDBInstancesCommand({}));
    h.advance(600);
    await pool.with(TERRAFORM).rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db1', DeletionProtection: true }));
    await rejectsWith(h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'nope', DeletionProtection: true })), 'DBInstanceNotFoundFault');
    await h.route53.send(new ListHostedZonesCommand({}));
    await pool.with({ accessKeyId: '222222222222', secretAccessKey: 'x' }).rds.send(new DescribeDBInstancesCommand({}));
    const names = (events: Event[]): string[] => events.map((e) => `${e.EventName}:${e.Username}`);

    assert.deepEqual(names(await lookup()), ['ModifyDBInstance:simulator', 'ModifyDBInstance:terraform', 'DescribeDBInstances:simulator'], 'this account, this Region, newest first');
    assert.deepEqual(names(await lookup({ LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: 'terraform' }] })), ['ModifyDBInstance:terraform']);
    // The two lookups before this one are read-only events too.
    assert.deepEqual(names(await lookup({ LookupAttributes: [{ AttributeKey: 'ReadOnly', AttributeValue: 'true' }] })), ['LookupEvents:simulator', 'LookupEvents:simulator', 'DescribeDBInstances:simulator']);
    assert.deepEqual(names(await lookup({ LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: 'db1' }] })), ['ModifyDBInstance:terraform']);
    assert.deepEqual(names(await lookup({ LookupAttributes: [{ AttributeKey: 'ResourceType', AttributeValue: 'AWS::RDS::DBInstance' }] })), ['ModifyDBInstance:simulator', 'ModifyDBInstance:terraform']);
    assert.deepEqual(names(await lookup({ LookupAttributes: [{ AttributeKey: 'AccessKeyId', AttributeValue: TERRAFORM.accessKeyId }] })), ['ModifyDBInstance:terraform']);
    assert.deepEqual(names(await lookup({ LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: 'rds.amazonaws.com' }] })).length, 3);
    const [failed] = await lookup({ LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: 'nope' }] });
    assert.deepEqual([record(failed).errorCode, record(failed).errorMessage, record(failed).responseElements], ['DBInstanceNotFound', 'DBInstance nope not found.', null]);
    const byId = await lookup({ LookupAttributes: [{ AttributeKey: 'EventId', AttributeValue: failed?.EventId as string }] });
    assert.deepEqual(byId.map((e) => e.EventId), [failed?.EventId]);
    assert.deepEqual(names(await lookup({ StartTime: t0, EndTime: new Date(t0.getTime() + 1000) })), ['DescribeDBInstances:simulator'], 'StartTime and EndTime are inclusive');

    // Route 53 is global: its events are in us-east-1 (with the LookupEvents calls made there).
    const east = new CloudTrailClient({ endpoint: h.sim.url, region: 'us-east-1', credentials: CREDENTIALS });
    try {
      const [zones] = await east.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: 'route53.amazonaws.com' }] })).then((o) => o.Events ?? []);
      assert.deepEqual([zones?.EventName, record(zones).awsRegion, record(zones).readOnly], ['ListHostedZones', 'us-east-1', true]);
    } finally {
      east.destroy();
    }
    // LookupEvents is itself an event, read-only, from cloudtrail.amazonaws.com.
    const lookups = await lookup({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'LookupEvents' }] });
    assert.ok(lookups.length >= 10);
    assert.deepEqual([lookups[0]?.EventSource, lookups[0]?.ReadOnly], ['cloudtrail.amazonaws.com', 'true']);
  });

  it('MaxResults and NextToken page through the events; the SDK paginator reads them all; a token needs the same parameters', async function () {
    for (let i = 0; i < 7; i++) await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db1', BackupRetentionPeriod: 10 + i }));
    const only = { LookupAttributes: [{ AttributeKey: 'EventName' as const, AttributeValue: 'ModifyDBInstance' }] };
    const first = await trail.send(new LookupEventsCommand({ ...only, MaxResults: 3 }));
    assert.equal(first.Events?.length, 3);
    assert.ok(first.NextToken);
    const retention = (e: Event): unknown => (record(e).requestParameters as { backupRetentionPeriod: number }).backupRetentionPeriod;
    assert.deepEqual(first.Events?.map(retention), [16, 15, 14]);
    const all: Event[] = [];
    for await (const page of paginateLookupEvents({ client: trail, pageSize: 2 }, only)) all.push(...(page.Events ?? []));
    assert.deepEqual(all.map(retention), [16, 15, 14, 13, 12, 11, 10]);
    assert.equal(new Set(all.map((e) => e.EventId)).size, 7);
    await rejectsWith(trail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'DescribeDBInstances' }], NextToken: first.NextToken })), 'InvalidNextTokenException');
    await rejectsWith(trail.send(new LookupEventsCommand({ NextToken: 'not-a-token' })), 'InvalidNextTokenException');
  });

  it('the documented errors, as the JSON protocol renders them', async function () {
    const two = [
      { AttributeKey: 'EventName' as const, AttributeValue: 'ModifyDBInstance' },
      { AttributeKey: 'Username' as const, AttributeValue: 'terraform' },
    ];
    await rejectsWith(trail.send(new LookupEventsCommand({ LookupAttributes: two })), 'InvalidLookupAttributesException', 'more than one');
    await rejectsWith(trail.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'Colour' as never, AttributeValue: 'x' }] })), 'InvalidLookupAttributesException', 'Colour');
    await rejectsWith(trail.send(new LookupEventsCommand({ StartTime: new Date(h.clock.now()), EndTime: new Date(h.clock.now() - 1000) })), 'InvalidTimeRangeException');
    for (const MaxResults of [0, 51]) {
      const e = await rejectsWith(trail.send(new LookupEventsCommand({ MaxResults })), 'InvalidMaxResultsException');
      assert.equal(e.$metadata?.httpStatusCode, 400);
    }
    await rejectsWith(trail.send(new LookupEventsCommand({ EventCategory: 'other' as never })), 'InvalidEventCategoryException');
    assert.deepEqual(await lookup({ EventCategory: 'insight' }), [], 'no Insights events');
  });

  it('conforms to botocore’s cloudtrail model (JSON 1.1): events, pages and errors', async function () {
    await pool.with(TERRAFORM).rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db1', AutoMinorVersionUpgrade: false }));
    await h.rds.send(new DescribeDBInstancesCommand({}));
    const ok = await rawCloudTrail(h.sim.url, CREDENTIALS, REGION, 'LookupEvents', { MaxResults: 1 });
    assert.equal(ok.status, 200, ok.body);
    assert.deepEqual(problems(validateJson(model, 'LookupEvents', ok)), []);
    assert.ok((JSON.parse(ok.body) as { NextToken?: string }).NextToken, 'a page with more behind it has a NextToken');
    const everything = await rawCloudTrail(h.sim.url, CREDENTIALS, REGION, 'LookupEvents', { StartTime: h.clock.now() / 1000 - 3600, EndTime: h.clock.now() / 1000 + 1 });
    assert.deepEqual(problems(validateJson(model, 'LookupEvents', everything)), []);
    for (const [input, code] of [
      [{ MaxResults: 99 }, 'InvalidMaxResultsException'],
      [{ NextToken: 'x' }, 'InvalidNextTokenException'],
      [{ StartTime: 2, EndTime: 1 }, 'InvalidTimeRangeException'],
      [{ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: '' }] }, 'InvalidLookupAttributesException'],
    ] as const) {
      const raw = await rawCloudTrail(h.sim.url, CREDENTIALS, REGION, 'LookupEvents', input);
      assert.equal(raw.status, 400, raw.body);
      assert.equal(JSON.parse(raw.body).__type, code);
      assert.equal(raw.headers['x-amzn-errortype'], code);
      assert.deepEqual(problems(validateJson(model, 'LookupEvents', raw)), [], code);
    }
    const refused = await rawCloudTrail(h.sim.url, { accessKeyId: 'ASIAAAAAAAAAAAAAAAAA', secretAccessKey: 'x', sessionToken: 't' }, REGION, 'LookupEvents', {});
    assert.deepEqual([refused.status, JSON.parse(refused.body).__type], [403, 'InvalidClientTokenId']);
    assert.deepEqual(problems(validateJson(model, 'LookupEvents', refused)), []);
  });
});
