/**
 * The product's lookupCname activity end to end against the simulator's DNS server (the VPC's Route 53
 * Resolver, see sim/README.md) and the demo fleet's private zone. The server itself is tested in
 * sim/test/dns/dns.test.ts.
 */
import assert from 'node:assert/strict';
import { createDnsActivities } from '../../src/activities/dns';
import { SimAdminClient } from '../../sim';
import { ManualClock } from '../../sim';
import { demoFleet } from '../../sim';
import { startSimulator, type RunningSimulator } from '../../sim';

describe('activities: lookupCname against the simulator DNS server', function () {
  let sim: RunningSimulator | undefined;
  afterEach(async function () {
    await sim?.close();
    sim = undefined;
  });

  it("answers the demo fleet's private zone: the CNAME of an instance, NXDOMAIN for a name it lacks", async function () {
    const clock = new ManualClock(Date.UTC(2025, 0, 6, 12, 0, 0));
    sim = await startSimulator({ port: 0, clock, routeDelaySeconds: 10, dnsPort: 0 });
    const seeded = await new SimAdminClient(sim.url).seed(demoFleet(sim.engine.now()));
    const production = seeded.instances.find((i) => i.id === 'notifydb-production');
    const { lookupCname } = createDnsActivities({ timeoutMs: 1000, tries: 1 });
    const answer = await lookupCname({ name: 'db.production.notify.internal', resolvers: [sim.dnsAddress as string] });
    assert.deepEqual(answer.cnames, [production?.address]);
    assert.equal(answer.responseCode, 'NOERROR');
    assert.equal((await lookupCname({ name: 'db.nowhere.notify.internal', resolvers: [sim.dnsAddress as string] })).responseCode, 'NXDOMAIN');
  });
});
