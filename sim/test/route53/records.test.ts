import assert from 'node:assert/strict';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  TestDNSAnswerCommand,
} from '@aws-sdk/client-route-53';
import type { Change } from '@aws-sdk/client-route-53';
import { rejectsWith, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';

const weighted = (action: 'CREATE' | 'UPSERT' | 'DELETE', setIdentifier: string, weight: number, value: string): Change => ({
  Action: action,
  ResourceRecordSet: { Name: 'db.example.internal', Type: 'CNAME', SetIdentifier: setIdentifier, Weight: weight, TTL: 60, ResourceRecords: [{ Value: value }] },
});

describe('sim: Route 53 through the real SDK', function () {
  let h: SimHarness;
  let zoneId: string;

  beforeEach(async function () {
    h = await startHarness({ routeDelaySeconds: 10 });
    const zone = await h.route53.send(new CreateHostedZoneCommand({ Name: 'example.internal', CallerReference: 'ref-1' }));
    zoneId = zone.HostedZone?.Id as string;
    assert.match(zoneId, /^\/hostedzone\/Z[A-Z0-9]+$/);
    assert.equal(zone.HostedZone?.Name, 'example.internal.');
    assert.equal(zone.ChangeInfo?.Status, 'PENDING');
    assert.equal(zone.DelegationSet?.NameServers?.length, 4);
  });
  afterEach(async function () {
    await h.close();
  });

  it('CreateHostedZone / ListHostedZones / GetHostedZone, with NoSuchHostedZone and duplicate caller references refused', async function () {
    const list = await h.route53.send(new ListHostedZonesCommand({}));
    assert.deepEqual(list.HostedZones?.map((z) => z.Name), ['example.internal.']);
    const got = await h.route53.send(new GetHostedZoneCommand({ Id: zoneId }));
    assert.equal(got.HostedZone?.ResourceRecordSetCount, 2, 'SOA and NS');
    const e = await rejectsWith(h.route53.send(new GetHostedZoneCommand({ Id: 'ZNOPE' })), 'NoSuchHostedZone', 'ZNOPE');
    assert.equal(e.$metadata?.httpStatusCode, 404);
    await rejectsWith(h.route53.send(new CreateHostedZoneCommand({ Name: 'other.internal', CallerReference: 'ref-1' })), 'HostedZoneAlreadyExists');
  });

  it('weighted CNAME: CREATE, UPSERT, list, DELETE; a change is PENDING then INSYNC after the delay', async function () {
    const created = await h.route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: [weighted('CREATE', 'blue', 100, 'blue.rds.amazonaws.com'), weighted('CREATE', 'green', 0, 'green.rds.amazonaws.com')] } }));
    const changeId = created.ChangeInfo?.Id as string;
    assert.match(changeId, /^\/change\/C[A-Z0-9]+$/);
    assert.equal(created.ChangeInfo?.Status, 'PENDING');
    h.advance(9);
    assert.equal((await h.route53.send(new GetChangeCommand({ Id: changeId }))).ChangeInfo?.Status, 'PENDING');
    h.advance(1);
    assert.equal((await h.route53.send(new GetChangeCommand({ Id: changeId }))).ChangeInfo?.Status, 'INSYNC');

    await h.route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: [weighted('UPSERT', 'blue', 0, 'blue.rds.amazonaws.com'), weighted('UPSERT', 'green', 100, 'green.rds.amazonaws.com')] } }));
    const listed = await h.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: 'db.example.internal', StartRecordType: 'CNAME' }));
    const cnames = listed.ResourceRecordSets?.filter((r) => r.Type === 'CNAME') ?? [];
    assert.deepEqual(
      cnames.map((r) => [r.SetIdentifier, r.Weight, r.TTL, r.ResourceRecords?.[0]?.Value]),
      [
        ['blue', 0, 60, 'blue.rds.amazonaws.com'],
        ['green', 100, 60, 'green.rds.amazonaws.com'],
      ],
    );
    await h.route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: [weighted('DELETE', 'blue', 0, 'blue.rds.amazonaws.com')] } }));
    const after = await h.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
    assert.deepEqual(after.ResourceRecordSets?.filter((r) => r.Type === 'CNAME').map((r) => r.SetIdentifier), ['green']);
  });

  it('weighted records of one name and type share one TTL: the TTL last given becomes every record\'s', async function () {
    const withTtl = (c: Change, ttl: number): Change => ({ ...c, ResourceRecordSet: { ...c.ResourceRecordSet!, TTL: ttl } });
    await h.route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: [weighted('CREATE', 'blue', 100, 'blue.rds.amazonaws.com'), weighted('CREATE', 'green', 0, 'green.rds.amazonaws.com')] } }));
    await h.route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: [withTtl(weighted('UPSERT', 'blue', 100, 'blue.rds.amazonaws.com'), 5)] } }));
    const ttls = async () =>
      ((await h.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }))).ResourceRecordSets ?? []).filter((r) => r.Type === 'CNAME').map((r) => [r.SetIdentifier, r.TTL]);
    assert.deepEqual(await ttls(), [['blue', 5], ['green', 5]]);
    await h.route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: [withTtl(weighted('UPSERT', 'green', 0, 'green.rds.amazonaws.com'), 300)] } }));
    assert.deepEqual(await ttls(), [['blue', 300], ['green', 300]]);
  });

  it('TestDNSAnswer answers what is published: the old value until the change is INSYNC', async function () {
    await h.route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: [weighted('CREATE', 'blue', 100, 'blue.rds.amazonaws.com')] } }));
    const before = await h.route53.send(new TestDNSAnswerCommand({ HostedZoneId: zoneId, RecordName: 'db.example.internal', RecordType: 'CNAME' }));
    assert.equal(before.ResponseCode, 'NXDOMAIN');
    h.advance(10);
    const live = await h.route53.send(new TestDNSAnswerCommand({ HostedZoneId: zoneId, RecordName: 'db.example.internal', RecordType: 'CNAME' }));
    assert.deepEqual(live.RecordData, ['blue.rds.amazonaws.com']);
    assert.equal(live.ResponseCode, 'NOERROR');
    await h.route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: [weighted('UPSERT', 'blue', 0, 'blue.rds.amazonaws.com'), weighted('CREATE', 'green', 100, 'green.rds.amazonaws.com')] } }));
    const stale = await h.route53.send(new TestDNSAnswerCommand({ HostedZoneId: zoneId, RecordName: 'db.example.internal', RecordType: 'CNAME' }));
    assert.deepEqual(stale.RecordData, ['blue.rds.amazonaws.com']);
    h.advance(10);
    const cut = await h.route53.send(new TestDNSAnswerCommand({ HostedZoneId: zoneId, RecordName: 'db.example.internal', RecordType: 'CNAME' }));
    assert.deepEqual(cut.RecordData, ['green.rds.amazonaws.com']);
  });

  it('InvalidChangeBatch for duplicates, missing deletes and conflicts (the whole batch is refused); NoSuchChange', async function () {
    await h.route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: [weighted('CREATE', 'blue', 100, 'a.example')] } }));
    await rejectsWith(
      h.route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: [weighted('CREATE', 'green', 1, 'b.example'), weighted('CREATE', 'blue', 100, 'a.example')] } })),
      'InvalidChangeBatch',
      'but it already exists',
    );
    const list = await h.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
    assert.equal(list.ResourceRecordSets?.filter((r) => r.Type === 'CNAME').length, 1, 'atomic: green was not created');
    await rejectsWith(h.route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: [weighted('DELETE', 'nope', 1, 'a.example')] } })), 'InvalidChangeBatch', 'not found');
    await rejectsWith(h.route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: [weighted('DELETE', 'blue', 50, 'a.example')] } })), 'InvalidChangeBatch', 'do not match');
    await rejectsWith(
      h.route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: { Name: 'db.example.internal', Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: 'plain.example' }] } }] },
        }),
      ),
      'InvalidChangeBatch',
      'conflicting',
    );
    await rejectsWith(
      h.route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: { Name: 'db.elsewhere.com', Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: 'x' }] } }] },
        }),
      ),
      'InvalidChangeBatch',
      'not permitted in zone',
    );
    await rejectsWith(h.route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: '/hostedzone/ZNOPE', ChangeBatch: { Changes: [weighted('CREATE', 'x', 1, 'x')] } })), 'NoSuchHostedZone');
    await rejectsWith(h.route53.send(new GetChangeCommand({ Id: '/change/CNOPE' })), 'NoSuchChange');
  });
});
