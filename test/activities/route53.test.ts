import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  TestDNSAnswerCommand,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { createRoute53Activities } from '../../src/activities/route53';
import { FailureTypes, type WeightedCname } from '../../src/api';
import { awsError, expectFailure } from './helpers';

const ZONE = 'Z0123456789ABC';

describe('route53 activities', () => {
  const route53 = new Route53Client({ region: 'us-east-1' });
  const r53Mock = mockClient(route53);
  const acts = createRoute53Activities({ route53For: () => route53 });

  beforeEach(() => r53Mock.reset());

  const blue = {
    Name: 'db.example.com.',
    Type: 'CNAME' as const,
    SetIdentifier: 'blue',
    Weight: 100,
    TTL: 60,
    ResourceRecords: [{ Value: 'orders-db.abc.eu-west-2.rds.amazonaws.com' }],
  };
  const green = { ...blue, SetIdentifier: 'green', Weight: 0, ResourceRecords: [{ Value: 'orders-db-restore.abc.eu-west-2.rds.amazonaws.com' }] };

  describe('getWeightedCname', () => {
    it('lists from the record and matches name (trailing dot), type and set identifier', async () => {
      r53Mock.on(ListResourceRecordSetsCommand).resolves({
        ResourceRecordSets: [green, { ...blue, Name: 'db2.example.com.' }, { ...blue, Type: 'A' as const }],
        IsTruncated: false,
        MaxItems: 10,
      });
      const got = await acts.getWeightedCname({ hostedZoneId: ZONE, recordName: 'db.example.com', setIdentifier: 'green' });
      assert.deepEqual(r53Mock.commandCalls(ListResourceRecordSetsCommand)[0].args[0].input, {
        HostedZoneId: ZONE,
        StartRecordName: 'db.example.com',
        StartRecordType: 'CNAME',
        StartRecordIdentifier: 'green',
        MaxItems: 10,
      });
      assert.deepEqual(got, {
        hostedZoneId: ZONE,
        recordName: 'db.example.com',
        setIdentifier: 'green',
        weight: 0,
        ttlSeconds: 60,
        value: 'orders-db-restore.abc.eu-west-2.rds.amazonaws.com',
      });
    });

    it('returns undefined when only other records follow the start point', async () => {
      r53Mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [{ ...blue, Name: 'dbz.example.com.' }], IsTruncated: false, MaxItems: 10 });
      assert.equal(await acts.getWeightedCname({ hostedZoneId: ZONE, recordName: 'db.example.com.', setIdentifier: 'blue' }), undefined);
    });

    it('reports an unknown hosted zone as non-retryable InvalidInput', async () => {
      r53Mock.on(ListResourceRecordSetsCommand).rejects(awsError('NoSuchHostedZone', `No hosted zone found with ID: ${ZONE}`, 404));
      await expectFailure(acts.getWeightedCname({ hostedZoneId: ZONE, recordName: 'db.example.com', setIdentifier: 'blue' }), {
        type: FailureTypes.InvalidInput,
        nonRetryable: true,
        message: [new RegExp(ZONE)],
      });
    });
  });

  describe('upsertWeightedCname', () => {
    const wanted: WeightedCname = {
      hostedZoneId: ZONE,
      recordName: 'db.example.com',
      setIdentifier: 'green',
      weight: 100,
      ttlSeconds: 60,
      value: 'orders-db-restore.abc.eu-west-2.rds.amazonaws.com',
    };

    it('a record already as wanted (ignoring a trailing dot on the value): a first attempt sends nothing; a retry sends it again for a change id to wait on (its lost change may be PENDING)', async () => {
      r53Mock.on(ListResourceRecordSetsCommand).resolves({
        ResourceRecordSets: [{ ...green, Weight: 100, ResourceRecords: [{ Value: `${wanted.value}.` }] }],
        IsTruncated: false,
        MaxItems: 10,
      });
      r53Mock.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C3', Status: 'PENDING', SubmittedAt: new Date() } });
      const first = (await new MockActivityEnvironment({ attempt: 1 }).run(() => acts.upsertWeightedCname({ record: wanted }))) as Awaited<ReturnType<typeof acts.upsertWeightedCname>>;
      assert.deepEqual([first.changed, first.changeId, r53Mock.commandCalls(ChangeResourceRecordSetsCommand).length], [false, undefined, 0]);
      const retry = (await new MockActivityEnvironment({ attempt: 2 }).run(() => acts.upsertWeightedCname({ record: wanted }))) as Awaited<ReturnType<typeof acts.upsertWeightedCname>>;
      assert.deepEqual([retry.changed, retry.changeId, r53Mock.commandCalls(ChangeResourceRecordSetsCommand).length], [false, 'C3', 1]);
      assert.match(retry.detail, /already in place; sent again to wait until it is INSYNC/);
    });

    it('UPSERTs the weighted record and returns the bare change id', async () => {
      r53Mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [green], IsTruncated: false, MaxItems: 10 });
      r53Mock.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C2682N5HXP0BZ4', Status: 'PENDING', SubmittedAt: new Date() } });
      const r = await acts.upsertWeightedCname({ record: wanted });
      assert.equal(r.changed, true);
      assert.equal(r.changeId, 'C2682N5HXP0BZ4');
      const input = r53Mock.commandCalls(ChangeResourceRecordSetsCommand)[0].args[0].input;
      assert.equal(input.HostedZoneId, ZONE);
      assert.deepEqual(input.ChangeBatch?.Changes, [
        {
          Action: 'UPSERT',
          ResourceRecordSet: {
            Name: 'db.example.com',
            Type: 'CNAME',
            SetIdentifier: 'green',
            Weight: 100,
            TTL: 60,
            ResourceRecords: [{ Value: wanted.value }],
          },
        },
      ]);
    });

    it('creates the record when none exists', async () => {
      r53Mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [], IsTruncated: false, MaxItems: 10 });
      r53Mock.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: 'C1', Status: 'PENDING', SubmittedAt: new Date() } });
      assert.equal((await acts.upsertWeightedCname({ record: wanted })).changeId, 'C1');
      assert.equal(r53Mock.commandCalls(ChangeResourceRecordSetsCommand).length, 1);
    });

    it('maps InvalidChangeBatch to non-retryable InvalidInput with the AWS message', async () => {
      r53Mock.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [], IsTruncated: false, MaxItems: 10 });
      r53Mock
        .on(ChangeResourceRecordSetsCommand)
        .rejects(awsError('InvalidChangeBatch', 'RRSet of type CNAME with DNS name db.example.com. is not permitted as it conflicts with other records'));
      await expectFailure(acts.upsertWeightedCname({ record: wanted }), {
        type: FailureTypes.InvalidInput,
        nonRetryable: true,
        message: [/conflicts with other records/],
      });
    });
  });

  describe('waitForChangeInsync', () => {
    it('throws retryable NotReady while PENDING and returns once INSYNC', async () => {
      r53Mock
        .on(GetChangeCommand, { Id: 'C1' })
        .resolvesOnce({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: new Date() } })
        .resolves({ ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: new Date() } });
      await expectFailure(acts.waitForChangeInsync({ changeId: 'C1' }), { type: FailureTypes.NotReady, nonRetryable: false, message: [/C1 is PENDING/] });
      await acts.waitForChangeInsync({ changeId: 'C1' });
      assert.equal(r53Mock.commandCalls(GetChangeCommand).length, 2);
    });

    it('leaves throttling retryable, as AwsCallFailed naming the call', async () => {
      const err = awsError('Throttling', 'Rate exceeded');
      r53Mock.on(GetChangeCommand).rejects(err);
      await expectFailure(acts.waitForChangeInsync({ changeId: 'C1' }), { type: FailureTypes.AwsCallFailed, nonRetryable: false, message: [/GetChange C1 failed: AWS answered Throttling/] });
    });
  });

  describe('testDnsAnswer', () => {
    it('asks for the CNAME and returns the record data', async () => {
      r53Mock.on(TestDNSAnswerCommand).resolves({
        Nameserver: 'ns-1.awsdns-1.org',
        RecordName: 'db.example.com',
        RecordType: 'CNAME',
        RecordData: ['orders-db-restore.abc.eu-west-2.rds.amazonaws.com'],
        ResponseCode: 'NOERROR',
        Protocol: 'UDP',
      });
      const r = await acts.testDnsAnswer({ hostedZoneId: ZONE, recordName: 'db.example.com' });
      assert.deepEqual(r53Mock.commandCalls(TestDNSAnswerCommand)[0].args[0].input, { HostedZoneId: ZONE, RecordName: 'db.example.com', RecordType: 'CNAME' });
      assert.deepEqual(r, { recordData: ['orders-db-restore.abc.eu-west-2.rds.amazonaws.com'], responseCode: 'NOERROR' });
    });
  });
});
