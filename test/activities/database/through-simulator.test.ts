/**
 * The database activities as a worker runs them against the simulator's PostgreSQL-backed instances: the endpoint
 * name from DescribeDBInstances resolved through the simulator's DNS server (ORCHESTRATOR_DATABASE_RESOLVERS), the
 * password from the instance's RDS-managed secret (master-secret), and the SQL probe measuring the real restart of
 * an apply-now minor upgrade.
 */
import assert from 'node:assert/strict';
import { DefaultLogger } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Client } from 'pg';
import { postgresAddress, SimAdminClient, startSimulator, type RunningSimulator } from '../../../sim';
import { createActivities } from '../../../src/activities';
import type { Activities, DatabaseIdentity, DatabaseTarget, ProbeResult } from '../../../src/api';
import { loadConfig } from '../../../src/config';
import { needPostgres } from '../../postgres';

const REGION = 'eu-west-2';
const ID = 'notify-sql';
const PASSWORD = 'sim-master-Password-7';

describe('database activities through the simulator (endpoint names in its DNS, master-secret, a real restart)', function () {
  this.timeout(90_000);
  let sim: RunningSimulator;
  let acts: Activities;
  const target: DatabaseTarget = { where: REGION, instanceId: ID, access: { database: 'postgres', credentials: { kind: 'master-secret' }, tls: 'disable' } };
  const env = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

  before(async function () {
    needPostgres(this);
    // An upgrade keeps the server down for 3 s: long enough for a probe at 10/s to see it, short for the suite.
    sim = await startSimulator({ port: 0, dnsPort: 0, durations: { creating: 0.2, backingUp: 0.2, modifying: 0.2, upgrading: 3 } });
    await new SimAdminClient(sim.url).seed({
      instances: [{ region: REGION, id: ID, engineVersion: '15.5', postgres: true, masterUsername: 'master', masterUserPassword: PASSWORD, manageMasterUserPassword: true }],
    });
    acts = createActivities({ config: loadConfig({ ORCHESTRATOR_AWS_ENDPOINT: sim.url, ORCHESTRATOR_DATABASE_RESOLVERS: sim.dnsAddress! }), env: {} });
  });
  after(async function () {
    await sim?.close();
  });

  it('connects by the endpoint name RDS gives, resolved through the named DNS server, with the password of the RDS-managed secret', async function () {
    const info = await acts.describeInstance({ where: REGION, instanceId: ID });
    assert.match(info.endpoint!.address, /\.rds\.amazonaws\.com$/, 'a name, not an address: the worker resolves it');
    assert.ok(info.masterUserSecretArn, 'RDS names its secret');
    const identity = (await env().run(acts.describeDatabase, { target })) as DatabaseIdentity;
    const { host, port } = postgresAddress(sim.engine.rds.get('123456789012', REGION, ID));
    assert.equal(identity.address, `${host}:${port}`, 'the server the endpoint name leads to: the instance\'s own address');
    assert.match(identity.serverVersion, /^15\./);
  });

  it('the SQL probe measures the real restart of an apply-now upgrade and ends once RDS shows the target version', async function () {
    const probe = env().run(acts.runSqlAvailabilityProbe, {
      target,
      ratePerSecond: 10,
      requestTimeoutMs: 1000,
      stopWhen: { region: REGION, instanceId: ID, engineVersion: '15.8', settleSeconds: 1 },
      maxDurationSeconds: 60,
    }) as Promise<ProbeResult>;
    await new Promise((r) => setTimeout(r, 1500));
    await acts.applyUpgradeNow({ where: REGION, instanceId: ID, targetVersion: '15.8' });
    const result = await probe;
    // Printed, not asserted beyond its bounds: what the probe measured of a 3 s restart.
    console.log(`      SQL probe through an apply-now upgrade (server down ~3 s): ${result.requests} requests, ${result.failures} failed, longest outage ${result.longestOutageSeconds}s`);
    assert.equal(result.timedOut, false, 'ended on its stop condition');
    assert.ok(result.failures > 0, `requests failed while the server was down (${JSON.stringify(result)})`);
    // The server is down for the upgrade's 3 s (less what the tick granularity shaves off); the probe sees about that.
    assert.ok(result.longestOutageSeconds >= 1.5 && result.longestOutageSeconds <= 8, `longest outage ${result.longestOutageSeconds}s`);
    assert.ok(result.requests > result.failures, 'and succeeded before and after it');
    // The data survived the restart.
    const info = await acts.describeInstance({ where: REGION, instanceId: ID });
    assert.equal(info.engineVersion, '15.8');
    const c = new Client({ host: postgresAddress(sim.engine.rds.get('123456789012', REGION, ID)).host, port: info.endpoint!.port, user: 'master', password: PASSWORD, database: 'postgres' });
    await c.connect();
    await c.end();
  });
});
