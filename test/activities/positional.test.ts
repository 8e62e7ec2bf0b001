/**
 * Every activity takes one input object; histories scheduled before that shape hold positional arguments,
 * and an activity of theirs in flight at an upgrade reaches the new worker in the old shape. Both must work.
 */
import assert from 'node:assert/strict';
import { LEGACY_POSITIONAL, acceptingPositional, createActivities, inputOf } from '../../src/activities';
import type { Activities } from '../../src/api';
import { loadConfig } from '../../src/config';
import { SimAdminClient, demoFleet, startSimulator, type RunningSimulator } from '../../sim';

/** What each listed activity was called with before, in its old positional order: a realistic value per field. */
const SAMPLE: Record<string, unknown> = {
  where: { region: 'eu-west-2', roleArn: 'arn:aws:iam::111111111111:role/rds-orchestrator', sessionName: 'c-1-preview' },
  instanceId: 'notifydb-preview',
  engine: 'postgres',
  engineVersion: '15.5',
  query: { engine: 'postgres', tags: { environment: 'preview' } },
  enabled: true,
  targetVersion: '15.8',
  want: { status: 'available', engineVersion: '15.8' },
  poll: { intervalMs: 5000, attemptMs: 240_000 },
  securityGroupId: 'sg-0123456789abcdef0',
  sourceSecurityGroupId: 'sg-0fedcba9876543210',
  port: 5432,
  sourceAccount: '222222222222',
  groupId: 'sg-0123456789abcdef0',
  hostedZoneId: 'Z0123456789ABC',
  recordName: 'db.notify.internal',
  setIdentifier: 'notify',
  access: { roleArn: 'arn:aws:iam::333333333333:role/dns' },
  record: { hostedZoneId: 'Z0123456789ABC', recordName: 'db.notify.internal', setIdentifier: 'notify', weight: 100, ttlSeconds: 60, value: 'x.rds.amazonaws.com' },
  changeId: 'C0123456789',
  name: 'db.notify.internal',
  resolvers: ['10.0.0.2'],
  incidentId: 'p31zjtct2jer',
  reason: 'campaign aborted',
  url: 'http://127.0.0.1:8080/_status',
  timeoutMs: 2000,
};

/** Activities that record the one input each was given. */
function recording(): { activities: Activities; inputs: Map<string, unknown[]> } {
  const inputs = new Map<string, unknown[]>();
  const activities = new Proxy({} as Record<string, unknown>, {
    get: (_t, name: string) => async (...args: unknown[]) => {
      inputs.set(name, [...(inputs.get(name) ?? []), args]);
      return { name };
    },
    ownKeys: () => Object.keys(LEGACY_POSITIONAL),
    getOwnPropertyDescriptor: () => ({ enumerable: true, configurable: true }),
  });
  return { activities: activities as unknown as Activities, inputs };
}

describe('activities: one input object, and the positional arguments of older histories', function () {
  for (const [name, names] of Object.entries(LEGACY_POSITIONAL)) {
    it(`${name}(${names.join(', ')}) and ${name}({ ${names.join(', ')} }) reach the activity as the same object`, async function () {
      const { activities, inputs } = recording();
      const wrapped = acceptingPositional(activities) as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
      const input = Object.fromEntries(names.map((n) => [n, SAMPLE[n]]));
      assert.equal(Object.keys(input).length, names.length, `a sample for every field of ${name}`);
      await wrapped[name](...names.map((n) => SAMPLE[n]));
      await wrapped[name](input);
      assert.deepEqual(inputs.get(name), [[input], [input]]);
      // Optional trailing parameters the old call left out (or sent as null) are absent, not undefined.
      const required = names.slice(0, Math.max(1, names.length - 1));
      assert.deepEqual(inputOf(names, [...required.map((n) => SAMPLE[n]), null]), Object.fromEntries(required.map((n) => [n, SAMPLE[n]])));
    });
  }

  it('lists exactly the activities whose shape changed: every other one took one request object (or nothing) already', function () {
    const all = Object.keys(createActivities({ config: loadConfig({}), env: {} }));
    const unchanged = all.filter((n) => !(n in LEGACY_POSITIONAL)).sort();
    // The database, Blue/Green and fleet-place activities came after the change: one request object from the start.
    assert.deepEqual(unchanged, [
      'compareRows', 'createBlueGreenDeployment', 'createScheduledMaintenance', 'describeBlueGreenDeployment', 'describeDatabase', 'dumpDatabase', 'ensureSecurityGroup', 'notify', 'pageOnCall',
      'readAllowedSigners', 'readFleetPlace', 'restoreToPointInTime', 'runAvailabilityProbe', 'runSqlAvailabilityProbe', 'switchoverBlueGreenDeployment', 'waitForBlueGreenDeployment', 'writeRows',
    ]);
    for (const n of Object.keys(LEGACY_POSITIONAL)) assert.ok(all.includes(n), `${n} is an activity`);
  });

  describe('through the worker\'s activities, against the simulator', function () {
    let sim: RunningSimulator;
    before(async function () {
      sim = await startSimulator({ port: 0 });
      await new SimAdminClient(sim.url).seed(demoFleet(Date.now()));
    });
    after(async function () {
      await sim?.close();
    });

    it('a describeInstance scheduled by an older history (where, instanceId) reads the same instance as the new shape', async function () {
      const acts = createActivities({ config: loadConfig({ ORCHESTRATOR_AWS_ENDPOINT: sim.url }) });
      const legacy = acts.describeInstance as unknown as (where: string, instanceId: string) => ReturnType<Activities['describeInstance']>;
      const old = await legacy('eu-west-2', 'notifydb-preview');
      const now = await acts.describeInstance({ where: 'eu-west-2', instanceId: 'notifydb-preview' });
      assert.equal(old.instanceId, 'notifydb-preview');
      // The restorable window moves with the clock between the two reads; everything else is the same answer.
      const fixed = ({ earliestRestorableTime: _e, latestRestorableTime: _l, ...rest }: typeof old) => rest;
      assert.deepEqual(fixed(old), fixed(now));
    });
  });
});
