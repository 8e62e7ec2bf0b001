import assert from 'node:assert/strict';
import { CloudTrailClient, LookupEventsCommand, type Event } from '@aws-sdk/client-cloudtrail';
import { mockClient } from 'aws-sdk-client-mock';
import { MAX_PAGES, cloudTrailParameterName, createCloudTrailActivities } from '../../src/activities/cloudtrail';
import { RdsRequestBudgetExceeded } from '../../src/activities/clients';
import type { AwsWhere, InstanceChangeQuery } from '../../src/api';
import { awsError } from './helpers';

const ROLE = 'arn:aws:iam::222222222222:role/orchestrator';
const PROD: AwsWhere = { region: 'eu-west-2', roleArn: ROLE };
const NOW = Date.parse('2025-06-12T12:00:00Z');

/** A LookupEvents event as CloudTrail returns it: the summary fields and the record as a JSON string. */
function trailEvent(o: { id: string; at: string; params: Record<string, unknown>; arn?: string; username?: string; errorCode?: string; invokedBy?: string }): Event {
  const userIdentity = o.invokedBy ? { type: 'AWSService', invokedBy: o.invokedBy } : { type: 'AssumedRole', arn: o.arn ?? 'arn:aws:sts::222222222222:assumed-role/terraform/ci-4411' };
  return {
    EventId: o.id,
    EventName: 'ModifyDBInstance',
    EventTime: new Date(o.at),
    EventSource: 'rds.amazonaws.com',
    Username: o.username ?? 'ci-4411',
    CloudTrailEvent: JSON.stringify({
      eventVersion: '1.08',
      userIdentity,
      eventTime: o.at,
      eventSource: 'rds.amazonaws.com',
      eventName: 'ModifyDBInstance',
      awsRegion: 'eu-west-2',
      sourceIPAddress: '203.0.113.7',
      userAgent: 'APN/1.0 HashiCorp/1.0 Terraform/1.8.5',
      requestParameters: o.params,
      ...(o.errorCode ? { errorCode: o.errorCode, errorMessage: 'refused' } : {}),
      eventID: o.id,
    }),
  };
}

const flagOff: InstanceChangeQuery = {
  instanceId: 'orders-db',
  since: '2025-06-12T09:00:00Z',
  eventName: 'ModifyDBInstance',
  parameter: { name: 'AutoMinorVersionUpgrade', value: false },
};

describe('cloudtrail activities', () => {
  const client = new CloudTrailClient({ region: 'eu-west-2' });
  const trail = mockClient(client);
  const asked: AwsWhere[] = [];
  const acts = createCloudTrailActivities({ cloudTrailClientFor: (where) => (asked.push(where), client), now: () => NOW });

  beforeEach(() => {
    trail.reset();
    asked.length = 0;
  });

  it('looks up ModifyDBInstance by event name since the moment, in the instance\'s region and account', async () => {
    trail.on(LookupEventsCommand).resolves({ Events: [] });
    const found = await acts.findInstanceChanges({ where: PROD, query: flagOff });
    assert.deepEqual(found, { changes: [] });
    assert.deepEqual(asked, [PROD]);
    const inputs = trail.commandCalls(LookupEventsCommand).map((c) => c.args[0].input);
    assert.deepEqual(inputs, [
      { LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'ModifyDBInstance' }], StartTime: new Date('2025-06-12T09:00:00Z'), MaxResults: 50 },
    ]);
  });

  it('returns who set the parameter on this instance, newest first, from each event\'s request parameters', async () => {
    trail.on(LookupEventsCommand).resolves({
      Events: [
        trailEvent({ id: 'e-newest', at: '2025-06-12T11:00:00Z', params: { dBInstanceIdentifier: 'orders-db', autoMinorVersionUpgrade: false, applyImmediately: true } }),
        // another instance, the same change
        trailEvent({ id: 'e-other-db', at: '2025-06-12T10:50:00Z', params: { dBInstanceIdentifier: 'billing-db', autoMinorVersionUpgrade: false } }),
        // this instance, another parameter
        trailEvent({ id: 'e-class', at: '2025-06-12T10:40:00Z', params: { dBInstanceIdentifier: 'orders-db', dBInstanceClass: 'db.r6g.large' } }),
        // this instance, the flag turned on (the campaign itself)
        trailEvent({ id: 'e-on', at: '2025-06-12T10:30:00Z', params: { dBInstanceIdentifier: 'orders-db', autoMinorVersionUpgrade: true } }),
        // refused: it changed nothing
        trailEvent({ id: 'e-refused', at: '2025-06-12T10:20:00Z', params: { dBInstanceIdentifier: 'orders-db', autoMinorVersionUpgrade: false }, errorCode: 'AccessDenied' }),
        // named by its ARN, in capitals: RDS takes both
        trailEvent({
          id: 'e-arn',
          at: '2025-06-12T10:10:00Z',
          params: { dBInstanceIdentifier: 'arn:aws:rds:eu-west-2:222222222222:db:Orders-DB', autoMinorVersionUpgrade: false },
          arn: 'arn:aws:iam::222222222222:user/alice',
          username: 'alice',
        }),
      ],
    });
    const found = await acts.findInstanceChanges({ where: PROD, query: flagOff });
    assert.equal(found.unavailable, undefined);
    assert.deepEqual(found.changes, [
      {
        at: '2025-06-12T11:00:00.000Z',
        eventName: 'ModifyDBInstance',
        principal: 'arn:aws:sts::222222222222:assumed-role/terraform/ci-4411',
        username: 'ci-4411',
        sourceIp: '203.0.113.7',
        userAgent: 'APN/1.0 HashiCorp/1.0 Terraform/1.8.5',
        eventId: 'e-newest',
      },
      {
        at: '2025-06-12T10:10:00.000Z',
        eventName: 'ModifyDBInstance',
        principal: 'arn:aws:iam::222222222222:user/alice',
        username: 'alice',
        sourceIp: '203.0.113.7',
        userAgent: 'APN/1.0 HashiCorp/1.0 Terraform/1.8.5',
        eventId: 'e-arn',
      },
    ]);
  });

  it('names the AWS service when AWS made the change itself', async () => {
    trail.on(LookupEventsCommand).resolves({ Events: [trailEvent({ id: 'e-svc', at: '2025-06-12T11:00:00Z', params: { dBInstanceIdentifier: 'orders-db' }, invokedBy: 'rds.amazonaws.com' })] });
    const found = await acts.findInstanceChanges({ where: PROD, query: { ...flagOff, parameter: undefined } });
    assert.equal(found.changes[0].principal, 'rds.amazonaws.com');
  });

  it('maps API names to CloudTrail\'s casing', () => {
    assert.equal(cloudTrailParameterName('AutoMinorVersionUpgrade'), 'autoMinorVersionUpgrade');
    assert.equal(cloudTrailParameterName('DBInstanceIdentifier'), 'dBInstanceIdentifier');
    assert.equal(cloudTrailParameterName('EngineVersion'), 'engineVersion');
  });

  it('follows NextToken with the same query, and stops after a bounded number of pages, saying so', async () => {
    let page = 0;
    trail.on(LookupEventsCommand).callsFake(() => {
      page += 1;
      return { Events: [trailEvent({ id: `e${page}`, at: '2025-06-12T10:00:00Z', params: { dBInstanceIdentifier: 'billing-db', autoMinorVersionUpgrade: false } })], NextToken: `t${page}` };
    });
    const found = await acts.findInstanceChanges({ where: PROD, query: flagOff });
    const inputs = trail.commandCalls(LookupEventsCommand).map((c) => c.args[0].input);
    assert.equal(inputs.length, MAX_PAGES);
    assert.deepEqual(inputs.map((i) => i.NextToken), Array.from({ length: MAX_PAGES }, (_, n) => (n === 0 ? undefined : `t${n}`)));
    for (const i of inputs) assert.deepEqual(i.LookupAttributes, [{ AttributeKey: 'EventName', AttributeValue: 'ModifyDBInstance' }]);
    assert.deepEqual(found.changes, []);
    assert.match(found.unavailable ?? '', new RegExp(`newest ${MAX_PAGES} ModifyDBInstance events of region eu-west-2 .* none was about orders-db; older ones were not read`));
  });

  it('never asks for more than CloudTrail\'s 90 days of history, nor for the future', async () => {
    trail.on(LookupEventsCommand).resolves({ Events: [] });
    await acts.findInstanceChanges({ where: PROD, query: { ...flagOff, since: '2024-01-01T00:00:00Z' } });
    await acts.findInstanceChanges({ where: PROD, query: { ...flagOff, since: '2025-06-13T00:00:00Z' } });
    const [old, future] = trail.commandCalls(LookupEventsCommand).map((c) => c.args[0].input.StartTime as Date);
    assert.ok(NOW - old.getTime() < 90 * 24 * 3600_000, `StartTime ${old.toISOString()} is within 90 days`);
    assert.equal(future.getTime(), NOW);
  });

  describe('when CloudTrail cannot be read, the run goes on', () => {
    it('AccessDenied: says which permission the role lacks, and throws nothing', async () => {
      trail.on(LookupEventsCommand).rejects(awsError('AccessDeniedException', 'User: arn:aws:sts::222222222222:assumed-role/orchestrator/c1 is not authorized to perform: cloudtrail:LookupEvents', 403));
      const found = await acts.findInstanceChanges({ where: PROD, query: flagOff });
      assert.deepEqual(found.changes, []);
      assert.match(found.unavailable ?? '', /refused \(AccessDeniedException\)/);
      assert.match(found.unavailable ?? '', /cloudtrail:LookupEvents/);
      assert.match(found.unavailable ?? '', new RegExp(`as role ${ROLE} \\(account 222222222222\\)`));
      assert.match(found.unavailable ?? '', /eu-west-2/);
    });

    it('throttling that outlasts the retries', async () => {
      trail.on(LookupEventsCommand).rejects(awsError('ThrottlingException', 'Rate exceeded', 400));
      const found = await acts.findInstanceChanges({ where: 'eu-west-2', query: flagOff });
      assert.deepEqual(found.changes, []);
      assert.match(found.unavailable ?? '', /ThrottlingException.*still throttled/);
    });

    it("the worker's own pacing: a queue too long is not sent", async () => {
      trail.on(LookupEventsCommand).rejects(new RdsRequestBudgetExceeded(12_000, 1, 'account 222222222222 in eu-west-2'));
      const found = await acts.findInstanceChanges({ where: PROD, query: flagOff });
      assert.match(found.unavailable ?? '', /not sent: this worker's CloudTrail lookups for account 222222222222 in eu-west-2 are booked 12 s ahead/);
    });

    it('an unreachable endpoint', async () => {
      trail.on(LookupEventsCommand).rejects(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4599'), { code: 'ECONNREFUSED' }));
      const found = await acts.findInstanceChanges({ where: PROD, query: flagOff });
      assert.deepEqual(found.changes, []);
      assert.match(found.unavailable ?? '', /CloudTrail LookupEvents ModifyDBInstance for orders-db .*connection refused/);
    });

    it('a failure on a later page keeps what the earlier pages found', async () => {
      trail
        .on(LookupEventsCommand)
        .resolvesOnce({ Events: [trailEvent({ id: 'e1', at: '2025-06-12T11:00:00Z', params: { dBInstanceIdentifier: 'orders-db', autoMinorVersionUpgrade: false } })], NextToken: 't1' })
        .rejectsOnce(awsError('InternalFailure', 'internal error', 500));
      const found = await acts.findInstanceChanges({ where: PROD, query: flagOff });
      assert.deepEqual(found.changes.map((c) => c.eventId), ['e1']);
      assert.match(found.unavailable ?? '', /InternalFailure \(HTTP 500\)/);
    });
  });
});
