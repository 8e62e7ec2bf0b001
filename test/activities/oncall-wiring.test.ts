/** The worker's wiring of CloudTrail and PagerDuty: the configured endpoints, the instance's region, and CloudTrail's pace. */
import assert from 'node:assert/strict';
import { createActivities } from '../../src/activities';
import { CLOUDTRAIL_LOOKUPS_PER_SECOND } from '../../src/activities/clients';
import { loadConfig } from '../../src/config';
import { startServer, type RecordedRequest, type TestServer } from './helpers';

const KEY = 'e93facc04764012d7bfb002500d5d1a6';

/** CloudTrail's JSON protocol (two pages of ModifyDBInstance) and PagerDuty's /v2/enqueue, on one local server. */
function fakeServices(req: RecordedRequest) {
  if (req.url === '/v2/enqueue') return { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: 'k1' } };
  const input = JSON.parse(req.body) as { NextToken?: string };
  const record = { eventTime: '2025-06-12T11:00:00Z', eventID: 'e1', userIdentity: { arn: 'arn:aws:iam::111111111111:user/alice' }, requestParameters: { dBInstanceIdentifier: 'orders-db', autoMinorVersionUpgrade: false } };
  const events = input.NextToken ? [{ EventId: 'e1', EventName: 'ModifyDBInstance', EventTime: Date.parse(record.eventTime) / 1000, Username: 'alice', CloudTrailEvent: JSON.stringify(record) }] : [];
  return { status: 200, headers: { 'Content-Type': 'application/x-amz-json-1.1' }, body: { Events: events, ...(input.NextToken ? {} : { NextToken: 'page-2' }) } };
}

describe('createActivities: CloudTrail and PagerDuty', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('exposes findInstanceChanges, pageOnCall and describeSecurityGroup', () => {
    const acts = createActivities({ config: loadConfig({}), env: {} }) as unknown as Record<string, unknown>;
    for (const name of ['findInstanceChanges', 'pageOnCall', 'describeSecurityGroup']) assert.equal(typeof acts[name], 'function', name);
  });

  it('looks CloudTrail up at the configured endpoint, in the given region, one page a second', async () => {
    const arrivals: number[] = [];
    server = await startServer((req) => (arrivals.push(Date.now()), fakeServices(req)));
    const acts = createActivities({ config: loadConfig({ AWS_ENDPOINT_URL: server.url }), env: {} });
    const started = Date.now();
    const found = await acts.findInstanceChanges({ where: 'eu-west-1', query: { instanceId: 'orders-db', since: new Date(Date.now() - 3600_000).toISOString(), eventName: 'ModifyDBInstance' } });
    assert.deepEqual(found.changes.map((c) => [c.eventId, c.principal, c.at]), [['e1', 'arn:aws:iam::111111111111:user/alice', '2025-06-12T11:00:00.000Z']]);
    const [first, second] = server.requests;
    assert.equal(first.headers['x-amz-target'], 'CloudTrail_20131101.LookupEvents');
    assert.match(String(first.headers.authorization), /\/eu-west-1\/cloudtrail\/aws4_request/);
    assert.equal((JSON.parse(second.body) as { NextToken: string }).NextToken, 'page-2');
    // Half of CloudTrail's two lookups per second per account and region, so a second page waits its turn. The pacer
    // spaces the sends; an arrival can trail its send by at most what the first one took from the call's start (a new
    // connection, signing; more on a loaded machine), so that is what the gap may fall short of the interval. Without
    // the pacer the second page follows the first answer within milliseconds.
    const firstTook = arrivals[0] - started;
    assert.ok(arrivals[1] - arrivals[0] >= 1000 / CLOUDTRAIL_LOOKUPS_PER_SECOND - firstTook - 10, `pages ${arrivals[1] - arrivals[0]} ms apart (the first arrived ${firstTook} ms after the call)`);
  });

  it("reports CloudTrail's AccessDeniedException answer as unavailable, naming the permission, and throws nothing", async () => {
    server = await startServer(() => ({
      status: 400,
      headers: { 'Content-Type': 'application/x-amz-json-1.1' },
      body: { __type: 'AccessDeniedException', message: 'User: arn:aws:iam::111111111111:user/worker is not authorized to perform: cloudtrail:LookupEvents' },
    }));
    const acts = createActivities({ config: loadConfig({ AWS_ENDPOINT_URL: server.url }), env: {} });
    const found = await acts.findInstanceChanges({ where: 'eu-west-1', query: { instanceId: 'orders-db', since: new Date().toISOString(), eventName: 'ModifyDBInstance' } });
    assert.deepEqual(found.changes, []);
    assert.match(found.unavailable ?? '', /refused \(AccessDeniedException\).*Give the worker's AWS credentials the IAM permission cloudtrail:LookupEvents/);
  });

  it('pages at the configured events URL with the configured routing key', async () => {
    server = await startServer(fakeServices);
    const config = loadConfig({ ORCHESTRATOR_PAGERDUTY_EVENTS_URL: `${server.url}/v2/enqueue`, ORCHESTRATOR_PAGERDUTY_ROUTING_KEY: KEY });
    const acts = createActivities({ config, env: {} });
    const r = await acts.pageOnCall({ action: 'trigger', dedupKey: 'k1', summary: 'orders-db flag off', severity: 'warning', source: 'eu-west-1/orders-db' });
    assert.equal(r.sent, true);
    assert.equal((JSON.parse(server.requests[0].body) as { routing_key: string }).routing_key, KEY);
  });
});
