/**
 * Public and private hosted zones, as the Route 53 API reference documents them:
 * - CreateHostedZone: https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHostedZone.html
 * - GetHostedZone: https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHostedZone.html
 * - ListHostedZones: https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListHostedZones.html
 * - TestDNSAnswer ("This call only supports querying public hosted zones"):
 *   https://docs.aws.amazon.com/Route53/latest/APIReference/API_TestDNSAnswer.html
 */
import assert from 'node:assert/strict';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, GetHostedZoneCommand, ListHostedZonesCommand, TestDNSAnswerCommand } from '@aws-sdk/client-route-53';
import { REGION, rejectsWith, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';

const VPC = 'vpc-0c0000000000000c1';

describe('sim: Route 53 public and private hosted zones', function () {
  let h: SimHarness;
  beforeEach(async function () {
    h = await startHarness({ routeDelaySeconds: 0 });
    await h.admin.seed({ vpcs: [{ region: REGION, id: VPC }] });
  });
  afterEach(async function () {
    await h.close();
  });

  it('CreateHostedZone with a VPC makes a private zone associated with it; GetHostedZone returns Config.PrivateZone and VPCs', async function () {
    const created = await h.route53.send(
      new CreateHostedZoneCommand({ Name: 'internal.example', CallerReference: 'p1', VPC: { VPCRegion: REGION, VPCId: VPC }, HostedZoneConfig: { Comment: 'private', PrivateZone: true } }),
    );
    assert.equal(created.HostedZone?.Config?.PrivateZone, true);
    assert.deepEqual(created.VPC, { VPCRegion: REGION, VPCId: VPC });
    const got = await h.route53.send(new GetHostedZoneCommand({ Id: created.HostedZone?.Id }));
    assert.equal(got.HostedZone?.Config?.PrivateZone, true);
    assert.deepEqual(got.VPCs, [{ VPCRegion: REGION, VPCId: VPC }]);

    const pub = await h.route53.send(new CreateHostedZoneCommand({ Name: 'public.example', CallerReference: 'p2' }));
    const gotPublic = await h.route53.send(new GetHostedZoneCommand({ Id: pub.HostedZone?.Id }));
    assert.equal(gotPublic.HostedZone?.Config?.PrivateZone, false);
    assert.equal(gotPublic.VPCs, undefined);
    assert.equal(pub.VPC, undefined);
  });

  it('CreateHostedZone refusals: unknown VPC (InvalidVPCId), PrivateZone without a VPC (InvalidInput), same name already on that VPC (ConflictingDomainExists), a TLD (InvalidDomainName)', async function () {
    const e = await rejectsWith(h.route53.send(new CreateHostedZoneCommand({ Name: 'a.example', CallerReference: 'x1', VPC: { VPCRegion: REGION, VPCId: 'vpc-0ffffffffffffffff' } })), 'InvalidVPCId');
    assert.equal(e.$metadata?.httpStatusCode, 400);
    await rejectsWith(h.route53.send(new CreateHostedZoneCommand({ Name: 'a.example', CallerReference: 'x2', HostedZoneConfig: { PrivateZone: true } })), 'InvalidInput', 'needs a VPC');
    await h.route53.send(new CreateHostedZoneCommand({ Name: 'a.example', CallerReference: 'x3', VPC: { VPCRegion: REGION, VPCId: VPC } }));
    await rejectsWith(h.route53.send(new CreateHostedZoneCommand({ Name: 'a.example', CallerReference: 'x4', VPC: { VPCRegion: REGION, VPCId: VPC } })), 'ConflictingDomainExists');
    // A public zone of the same name is another matter.
    await h.route53.send(new CreateHostedZoneCommand({ Name: 'a.example', CallerReference: 'x5' }));
    // "You can't create a hosted zone for a top-level domain (TLD) such as .com."
    await rejectsWith(h.route53.send(new CreateHostedZoneCommand({ Name: 'com.', CallerReference: 'x6' })), 'InvalidDomainName', 'top-level');
  });

  it('TestDNSAnswer refuses a private zone with InvalidInput naming it; public zones keep answering', async function () {
    const priv = await h.route53.send(new CreateHostedZoneCommand({ Name: 'internal.example', CallerReference: 'p1', VPC: { VPCRegion: REGION, VPCId: VPC } }));
    const pub = await h.route53.send(new CreateHostedZoneCommand({ Name: 'public.example', CallerReference: 'p2' }));
    for (const zone of [priv, pub]) {
      const name = zone.HostedZone?.Name as string;
      await h.route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zone.HostedZone?.Id,
          ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: { Name: `db.${name}`, Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: 'target.example' }] } }] },
        }),
      );
    }
    const e = await rejectsWith(
      h.route53.send(new TestDNSAnswerCommand({ HostedZoneId: priv.HostedZone?.Id, RecordName: 'db.internal.example', RecordType: 'CNAME' })),
      'InvalidInput',
      `${priv.HostedZone?.Id?.replace('/hostedzone/', '')} (internal.example.) is a private hosted zone`,
    );
    assert.equal(e.$metadata?.httpStatusCode, 400);
    const answer = await h.route53.send(new TestDNSAnswerCommand({ HostedZoneId: pub.HostedZone?.Id, RecordName: 'db.public.example', RecordType: 'CNAME' }));
    assert.deepEqual(answer.RecordData, ['target.example']);
    assert.equal(answer.ResponseCode, 'NOERROR');
  });

  // ListHostedZones: Marker, IsTruncated and MaxItems are required in the answer; NextMarker "is present only if IsTruncated is true".
  it('ListHostedZones always answers Marker (the request’s, empty when none), IsTruncated and MaxItems; NextMarker only when truncated', async function () {
    for (const n of [1, 2, 3]) await h.route53.send(new CreateHostedZoneCommand({ Name: `z${n}.example`, CallerReference: `z${n}` }));
    await h.route53.send(new CreateHostedZoneCommand({ Name: 'z4.example', CallerReference: 'z4', VPC: { VPCRegion: REGION, VPCId: VPC } }));
    const all = await h.route53.send(new ListHostedZonesCommand({}));
    assert.equal(all.Marker, '');
    assert.equal(all.IsTruncated, false);
    assert.equal(all.MaxItems, 100);
    assert.equal(all.NextMarker, undefined);
    assert.equal(all.HostedZones?.length, 4);

    const first = await h.route53.send(new ListHostedZonesCommand({ MaxItems: 3 }));
    assert.equal(first.Marker, '');
    assert.equal(first.IsTruncated, true);
    assert.equal(first.MaxItems, 3);
    assert.ok(first.NextMarker);
    const second = await h.route53.send(new ListHostedZonesCommand({ MaxItems: 3, Marker: first.NextMarker }));
    assert.equal(second.Marker, first.NextMarker);
    assert.equal(second.IsTruncated, false);
    assert.equal(second.NextMarker, undefined);
    assert.deepEqual([...(first.HostedZones ?? []), ...(second.HostedZones ?? [])].map((z) => z.Name).sort(), ['z1.example.', 'z2.example.', 'z3.example.', 'z4.example.']);

    const privateOnly = await h.route53.send(new ListHostedZonesCommand({ HostedZoneType: 'PrivateHostedZone' }));
    assert.deepEqual(privateOnly.HostedZones?.map((z) => z.Name), ['z4.example.']);
  });
});
