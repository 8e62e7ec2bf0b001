/**
 * The validator itself, on hand-written XML: it must accept a conforming response and catch each kind of
 * mistake (so the conformance test can fail), with the operation and the path of the element at fault.
 */
import assert from 'node:assert/strict';
import type { Finding, ModelJson } from './service-model';
import { ServiceModel, loadServiceModel, locateBotocore } from './service-model';

const xml = (s: string): { status: number; headers: Record<string, string>; body: string } => ({ status: 200, headers: { 'content-type': 'text/xml' }, body: s });
const RDS_NS = 'xmlns="http://rds.amazonaws.com/doc/2014-10-31/"';
const R53_NS = 'xmlns="https://route53.amazonaws.com/doc/2013-04-01/"';
const EC2_NS = 'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"';

/** A DescribeDBInstances response with `instance` as the one DBInstance's inner XML. */
const dbInstances = (instance: string): string =>
  `<DescribeDBInstancesResponse ${RDS_NS}><DescribeDBInstancesResult><DBInstances><DBInstance>${instance}</DBInstance></DBInstances></DescribeDBInstancesResult>` +
  '<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></DescribeDBInstancesResponse>';
const GOOD_INSTANCE =
  '<DBInstanceIdentifier>db1</DBInstanceIdentifier><AllocatedStorage>100</AllocatedStorage><InstanceCreateTime>2025-01-06T12:00:00.000Z</InstanceCreateTime>' +
  '<MultiAZ>false</MultiAZ><VpcSecurityGroups><VpcSecurityGroupMembership><VpcSecurityGroupId>sg-1</VpcSecurityGroupId></VpcSecurityGroupMembership></VpcSecurityGroups>' +
  '<TagList><Tag><Key>k</Key><Value>v</Value></Tag></TagList>';
const change = (info: string): string => `<GetChangeResponse ${R53_NS}><ChangeInfo>${info}</ChangeInfo></GetChangeResponse>`;

/** Exactly one finding, at `path`, whose problem matches `problem`. */
function one(findings: Finding[], operation: string, path: string, problem: RegExp): void {
  assert.equal(findings.length, 1, `expected one finding, got ${JSON.stringify(findings, null, 2)}`);
  const [f] = findings as [Finding];
  assert.equal(f.operation, operation);
  assert.equal(f.path, path);
  assert.match(f.problem, problem);
}

describe('conformance: the service-model validator on hand-written XML', function () {
  let rds: ServiceModel;
  let ec2: ServiceModel;
  let route53: ServiceModel;

  before(function () {
    const { dataDir } = locateBotocore();
    rds = loadServiceModel('rds', dataDir);
    ec2 = loadServiceModel('ec2', dataDir);
    route53 = loadServiceModel('route53', dataDir);
  });

  it('accepts conforming responses of the three protocols', function () {
    assert.deepEqual(rds.validate('DescribeDBInstances', xml(dbInstances(GOOD_INSTANCE))), []);
    assert.deepEqual(route53.validate('GetChange', xml(change('<Id>/change/C1</Id><Status>PENDING</Status><SubmittedAt>2025-01-06T12:00:00Z</SubmittedAt>'))), []);
    const groups = `<DescribeSecurityGroupsResponse ${EC2_NS}><requestId>r</requestId><securityGroupInfo><item><groupId>sg-1</groupId><ipPermissions><item><fromPort>5432</fromPort><groups><item><groupId>sg-2</groupId></item></groups></item></ipPermissions></item></securityGroupInfo></DescribeSecurityGroupsResponse>`;
    assert.deepEqual(ec2.validate('DescribeSecurityGroups', xml(groups)), []);
    assert.deepEqual(rds.validate('AddTagsToResource', xml(`<AddTagsToResourceResponse ${RDS_NS}><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AddTagsToResourceResponse>`)), []);
  });

  it('catches an unknown element, and a list item under the wrong name', function () {
    one(rds.validate('DescribeDBInstances', xml(dbInstances(`${GOOD_INSTANCE}<Foo>1</Foo>`))), 'DescribeDBInstances', 'DescribeDBInstancesResult.DBInstances.DBInstance[0].Foo', /unknown element <Foo>/);
    const asMember = dbInstances(GOOD_INSTANCE).replace(/<(\/?)DBInstance>/g, '<$1member>');
    one(rds.validate('DescribeDBInstances', xml(asMember)), 'DescribeDBInstances', 'DescribeDBInstancesResult.DBInstances.member', /list item named <member>.*<DBInstance>/);
    // EC2 names elements by locationName (lower camel): an upper-camel GroupId is not a member.
    const upper = `<CreateSecurityGroupResponse ${EC2_NS}><requestId>r</requestId><GroupId>sg-1</GroupId></CreateSecurityGroupResponse>`;
    one(ec2.validate('CreateSecurityGroup', xml(upper)), 'CreateSecurityGroup', 'CreateSecurityGroupResponse.GroupId', /unknown element <GroupId>/);
  });

  it('catches a missing required member and a repeated scalar', function () {
    one(route53.validate('GetChange', xml(change('<Id>/change/C1</Id><Status>INSYNC</Status>'))), 'GetChange', 'GetChangeResponse.ChangeInfo.SubmittedAt', /missing required element <SubmittedAt>/);
    const twice = dbInstances(`${GOOD_INSTANCE}<Engine>postgres</Engine><Engine>postgres</Engine>`);
    one(rds.validate('DescribeDBInstances', xml(twice)), 'DescribeDBInstances', 'DescribeDBInstancesResult.DBInstances.DBInstance[0].Engine', /appears 2 times/);
  });

  it('catches a value outside an enum', function () {
    one(route53.validate('GetChange', xml(change('<Id>C1</Id><Status>DONE</Status><SubmittedAt>2025-01-06T12:00:00Z</SubmittedAt>'))), 'GetChange', 'GetChangeResponse.ChangeInfo.Status', /"DONE" is not a value of enum ChangeStatus/);
  });

  it('catches a non-integer, a non-boolean and bad timestamps', function () {
    const path = 'DescribeDBInstancesResult.DBInstances.DBInstance[0]';
    const with_ = (from: string, to: string): Finding[] => rds.validate('DescribeDBInstances', xml(dbInstances(GOOD_INSTANCE.replace(from, to))));
    one(with_('<AllocatedStorage>100', '<AllocatedStorage>100.5'), 'DescribeDBInstances', `${path}.AllocatedStorage`, /not an integer/);
    one(with_('<AllocatedStorage>100', '<AllocatedStorage>4294967296'), 'DescribeDBInstances', `${path}.AllocatedStorage`, /range/);
    one(with_('<MultiAZ>false', '<MultiAZ>no'), 'DescribeDBInstances', `${path}.MultiAZ`, /not a boolean/);
    one(with_('2025-01-06T12:00:00.000Z', '2025-13-06T12:00:00Z'), 'DescribeDBInstances', `${path}.InstanceCreateTime`, /not a valid iso8601 timestamp/);
    one(with_('2025-01-06T12:00:00.000Z', 'Mon, 06 Jan 2025 12:00:00 GMT'), 'DescribeDBInstances', `${path}.InstanceCreateTime`, /timestamp/);
    one(with_('<DBInstanceIdentifier>db1', '<DBInstanceIdentifier><x/>db1'), 'DescribeDBInstances', `${path}.DBInstanceIdentifier`, /child elements/);
  });

  it('checks the envelope: root, result wrapper, request id, namespace', function () {
    const noWrapper = `<DescribeDBInstancesResponse ${RDS_NS}><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeDBInstancesResponse>`;
    one(rds.validate('DescribeDBInstances', xml(noWrapper)), 'DescribeDBInstances', 'DescribeDBInstancesResponse.DescribeDBInstancesResult', /missing required/);
    const badNs = dbInstances(GOOD_INSTANCE).replace('2014-10-31', '2013-01-10');
    one(rds.validate('DescribeDBInstances', xml(badNs)), 'DescribeDBInstances', 'DescribeDBInstancesResponse', /xmlns/);
    const zone = '<HostedZone><Id>/hostedzone/Z1</Id><Name>example.com.</Name><CallerReference>c</CallerReference></HostedZone>';
    one(route53.validate('GetHostedZone', xml(`<GetHostedZoneResult ${R53_NS}>${zone}</GetHostedZoneResult>`)), 'GetHostedZone', 'GetHostedZoneResult', /root element <GetHostedZoneResult>, expected <GetHostedZoneResponse>/);
    assert.match(rds.validate('DescribeDBInstances', xml('<DescribeDBInstancesResponse><a></b>'))[0]?.problem ?? '', /not well-formed/);
  });

  it('checks error envelopes, the modelled code and its HTTP status', function () {
    const err = (code: string, status: number, type = '<Type>Sender</Type>'): { status: number; headers: Record<string, string>; body: string } => ({
      ...xml(`<ErrorResponse ${RDS_NS}><Error>${type}<Code>${code}</Code><Message>m</Message></Error><RequestId>r</RequestId></ErrorResponse>`),
      status,
    });
    assert.deepEqual(rds.validate('DescribeDBInstances', err('DBInstanceNotFound', 404)), []);
    assert.deepEqual(rds.validate('DescribeDBInstances', err('Throttling', 400)), [], 'a documented common error');
    one(rds.validate('DescribeDBInstances', err('DBInstanceNotFound', 400)), 'DescribeDBInstances', '(status)', /HTTP 400 for DBInstanceNotFound, the model says 404/);
    one(rds.validate('DescribeDBInstances', err('DBInstanceNotFoundFault', 404)), 'DescribeDBInstances', 'ErrorResponse.Error.Code', /"DBInstanceNotFoundFault" is not modelled for DescribeDBInstances/);
    one(rds.validate('StartDBInstance', err('InvalidDBInstanceState', 400, '')), 'StartDBInstance', 'ErrorResponse.Error.Type', /missing required element <Type>/);
    const ec2Err = (body: string): { status: number; headers: Record<string, string>; body: string } => ({ ...xml(body), status: 400 });
    assert.deepEqual(ec2.validate('AuthorizeSecurityGroupIngress', ec2Err('<Response><Errors><Error><Code>InvalidPermission.Duplicate</Code><Message>m</Message></Error></Errors><RequestID>r</RequestID></Response>')), []);
    one(
      ec2.validate('AuthorizeSecurityGroupIngress', ec2Err('<ErrorResponse><Error><Code>InvalidPermission.Duplicate</Code></Error></ErrorResponse>')),
      'AuthorizeSecurityGroupIngress',
      'ErrorResponse',
      /<Response><Errors><Error>/,
    );
  });

  it('identifies operations: Action= for query/ec2, method + requestUri template for rest-xml', function () {
    assert.equal(rds.operationFor('POST', '/', 'Action=DescribeDBInstances&Version=2014-10-31'), 'DescribeDBInstances');
    assert.equal(ec2.operationFor('POST', '/', 'Action=NoSuchAction'), undefined);
    assert.equal(route53.operationFor('GET', '/2013-04-01/hostedzone', ''), 'ListHostedZones');
    assert.equal(route53.operationFor('GET', '/2013-04-01/hostedzone/Z1', ''), 'GetHostedZone');
    assert.equal(route53.operationFor('GET', '/2013-04-01/hostedzone/Z1/rrset?name=a', ''), 'ListResourceRecordSets');
    assert.equal(route53.operationFor('POST', '/2013-04-01/hostedzone/Z1/rrset/', '<x/>'), 'ChangeResourceRecordSets');
    assert.equal(route53.operationFor('GET', '/2013-04-01/testdnsanswer?hostedzoneid=Z1', ''), 'TestDNSAnswer');
    assert.equal(route53.operationFor('GET', '/2013-04-01/nothing/here', ''), undefined);
  });

  it('reads flattened lists and maps (none in our three models, so on a small synthetic one)', function () {
    const model = new ServiceModel({
      metadata: { protocol: 'query', apiVersion: '2020-01-01', serviceId: 'Synthetic' },
      operations: { Get: { name: 'Get', http: { method: 'POST', requestUri: '/' }, output: { shape: 'Out', resultWrapper: 'GetResult' } } },
      shapes: {
        Out: { type: 'structure', members: { Names: { shape: 'Names' }, Attrs: { shape: 'Attrs', locationName: 'Attr' } } },
        Names: { type: 'list', member: { shape: 'Str', locationName: 'Name' }, flattened: true },
        Attrs: { type: 'map', key: { shape: 'Str', locationName: 'K' }, value: { shape: 'Int', locationName: 'V' }, flattened: true },
        Str: { type: 'string' },
        Int: { type: 'integer' },
      },
    } as ModelJson);
    const body = (inner: string): ReturnType<typeof xml> => xml(`<GetResponse><GetResult>${inner}</GetResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetResponse>`);
    assert.deepEqual(model.validate('Get', body('<Name>a</Name><Name>b</Name><Attr><K>x</K><V>1</V></Attr><Attr><K>y</K><V>2</V></Attr>')), []);
    one(model.validate('Get', body('<Name>a</Name><Attr><K>x</K><V>one</V></Attr>')), 'Get', 'GetResult.Attr[0].V', /not an integer/);
  });
});
