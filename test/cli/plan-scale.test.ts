/**
 * `campaign plan` at fleet scale (issue 26): a fleet stage over 40 places (20 accounts × 2 regions, 25 instances
 * each: 1000 instances) planned through the CLI, the real activities and the simulator, with RDS throttling each
 * account and region. Checks that every instance is in the file `--out` writes, that the places were read
 * together and never more than PLACES_AT_ONCE at a time (from the order of the simulator's call log, not from
 * timings), and that no place was throttled.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StageSpec } from '../../src/api';
import { runCli } from '../../src/cli';
import type { CampaignPlan } from '../../src/cli/plan';
import { PLACES_AT_ONCE } from '../../src/cli/plan-fleet';
import { loadConfig } from '../../src/config';
import { SimAdminClient, startSimulator, type CallRecord, type RunningSimulator, type SeedInstance, type SeedRole } from '../../sim';

const ACCOUNTS = 20;
const REGIONS = ['eu-west-1', 'eu-west-2'];
const PER_PLACE = 25;
/** The account of the CLI's own credentials in the simulator (its dummy keys): every role trusts it. */
const CALLER_ACCOUNT = '123456789012';
const accountOf = (n: number) => String(300000000000 + n);
const roleOf = (account: string) => `arn:aws:iam::${account}:role/rds-orchestrator`;

/**
 * The most places whose RDS calls are interleaved at one point of the call log. A place is "open" from its first
 * RDS call to its last: whenever a call is logged, every place open around it had a call before and one after, so it
 * was being read at that moment.
 */
function mostPlacesOpenAtOnce(calls: CallRecord[]): number {
  const spans = new Map<string, { first: number; last: number }>();
  for (const c of calls) {
    const key = `${c.account} ${c.region}`;
    const span = spans.get(key) ?? { first: c.seq, last: c.seq };
    span.first = Math.min(span.first, c.seq);
    span.last = Math.max(span.last, c.seq);
    spans.set(key, span);
  }
  let most = 0;
  for (const c of calls) most = Math.max(most, [...spans.values()].filter((s) => s.first <= c.seq && c.seq <= s.last).length);
  return most;
}

describe('campaign plan over 40 places and 1000 instances (the CLI, the real activities, the simulator throttling RDS)', function () {
  this.timeout(60_000);
  let sim: RunningSimulator;
  let admin: SimAdminClient;
  let dir: string;

  before(async function () {
    sim = await startSimulator({ port: 0 });
    admin = new SimAdminClient(sim.url);
    const roles: SeedRole[] = [];
    const instances: SeedInstance[] = [];
    for (let a = 1; a <= ACCOUNTS; a++) {
      const account = accountOf(a);
      roles.push({ account, name: 'rds-orchestrator', trust: { accounts: [CALLER_ACCOUNT] } });
      for (const region of REGIONS) {
        for (let n = 1; n <= PER_PLACE; n++) {
          instances.push({
            account,
            region,
            id: `notify-${a}-${region}-${String(n).padStart(2, '0')}`,
            // The first of each place is already at the target: skipped, not upgraded.
            engineVersion: n === 1 ? '15.8' : '15.5',
            allocatedStorage: 20 + n,
            preferredMaintenanceWindow: 'sun:03:00-sun:03:30',
            autoMinorVersionUpgrade: false,
            tags: { environment: 'staging', team: 'notify' },
          });
        }
      }
    }
    await admin.seed({ reset: true, roles, instances });
    // Each account and region has a small RDS bucket (AWS's is 300 and 12/s): a place's three reads fit in it, and
    // the CLI's budget (below: 4/s, evenly spaced) keeps under its rate, so reading places together throttles none.
    await admin.throttle({ burst: 3, ratePerSecond: 5 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-plan-scale-'));
  });

  after(async function () {
    await sim?.close();
  });

  it('writes every instance to --out, read PLACES_AT_ONCE places at a time, none of them throttled', async function () {
    const from = REGIONS.flatMap((region) => Array.from({ length: ACCOUNTS }, (_, a) => ({ region, aws: { roleArn: roleOf(accountOf(a + 1)) } })));
    const stage: StageSpec = { name: 'staging', region: 'eu-west-2', select: { tags: { environment: 'staging', team: 'notify' }, from }, waves: { maxConcurrent: 50 }, method: 'maintenance-window' };
    const specFile = path.join(dir, 'spec.json');
    fs.writeFileSync(specFile, JSON.stringify({ campaignId: 'plan-scale', targetEngineVersion: '15.8', requester: 'alice', stages: [stage] }));
    const outFile = path.join(dir, 'plan.json');
    const since = (await admin.calls()).reduce((n, c) => Math.max(n, c.seq), 0);

    const out: string[] = [];
    const err: string[] = [];
    const config = loadConfig({ ORCHESTRATOR_AWS_ENDPOINT: sim.url, ORCHESTRATOR_RDS_REQUESTS_PER_SECOND: '4', ORCHESTRATOR_RDS_BURST: '1' });
    const code = await runCli(['campaign', 'plan', '--spec', specFile, '--out', outFile, '--progress'], { out: (l) => out.push(l), err: (l) => err.push(l), config });
    assert.equal(code, 0, [...err, ...out].join('\n'));

    // The summary, as for a small fleet; the file has everything.
    const text = out.join('\n');
    assert.match(text, /\[staging\] fleet: tags environment=staging, team=notify; postgres; in 40 places: 20 account\(s\) in eu-west-1, eu-west-2/);
    assert.match(text, /found: +1000 instance\(s\): 960 to upgrade, 40 already at 15\.8/);
    assert.match(text, /instances \(20 of 1000, blocked and flagged first; --all lists every one, --json has everything\)/);
    assert.ok(text.endsWith(`The whole plan (1 stage(s), 1000 instance(s) of 1 fleet stage(s)) is written to ${outFile}`), text.slice(-300));
    const plan = JSON.parse(fs.readFileSync(outFile, 'utf8')) as CampaignPlan;
    const f = plan.stages[0].fleet!;
    assert.deepEqual(plan.problems, []);
    assert.deepEqual(f.counts, { upgrade: 960, skip: 40, blocked: 0 });
    const expected = REGIONS.flatMap((region) => Array.from({ length: ACCOUNTS * PER_PLACE }, (_, i) => `${region}/notify-${Math.floor(i / PER_PLACE) + 1}-${region}-${String((i % PER_PLACE) + 1).padStart(2, '0')}`));
    assert.deepEqual(f.instances.map((i) => `${i.region}/${i.instanceId}`).sort(), expected.sort(), 'every instance, once');
    assert.equal(f.waves.length, Math.ceil(960 / 50));
    assert.deepEqual(
      f.locations.map((l) => `${l.account} ${l.region}`),
      from.map((l) => `${/::(\d{12}):/.exec(l.aws.roleArn)![1]} ${l.region}`),
      'the places in the order of the spec',
    );

    // One progress line per place as it is read, then the stage's.
    const places = err.filter((l) => /^\[staging\] read \d+\/40 places: \d{12} eu-west-\d: 25 instance\(s\), \d+\.\d s$/.test(l));
    assert.equal(places.length, 40, err.join('\n'));
    assert.match(err[err.length - 1], /^\[staging\] read 40 place\(s\) in \d+\.\d s, 8 at a time: 1000 instance\(s\); slowest \d{12} eu-west-\d, \d+\.\d s$/);

    // Each place read with its own account's role, page by page; the places read together, never more than eight.
    const rds = (await admin.calls({ service: 'rds', since })).filter((c) => c.seq > since);
    const byPlace = new Map<string, string[]>();
    for (const c of rds) byPlace.set(`${c.account} ${c.region}`, [...(byPlace.get(`${c.account} ${c.region}`) ?? []), c.action]);
    assert.equal(byPlace.size, 40);
    for (const [place, actions] of byPlace) {
      // One page of each listing (25 instances), then the catalogue of 15.5.
      assert.deepEqual(actions, ['DescribeDBInstances', 'DescribePendingMaintenanceActions', 'DescribeDBEngineVersions'], place);
    }
    const most = mostPlacesOpenAtOnce(rds);
    assert.ok(most > 1 && most <= PLACES_AT_ONCE, `${most} places read at once`);
    assert.deepEqual(rds.filter((c) => c.errorCode), [], 'no RDS call throttled or failed');
  });

  it('an instance of the same name in one region of two accounts is a problem naming both places, not one of them left out', async function () {
    const [a, b] = [accountOf(1), accountOf(2)];
    await admin.seed({ reset: false, instances: [a, b].map((account) => ({ account, region: 'eu-west-2', id: 'notify-db', engineVersion: '15.5', preferredMaintenanceWindow: 'sun:03:00-sun:03:30', tags: { environment: 'twins' } })) });
    const from = [a, b].map((account) => ({ region: 'eu-west-2', aws: { roleArn: roleOf(account) } }));
    const stage: StageSpec = { name: 'twins', region: 'eu-west-2', select: { tags: { environment: 'twins' }, from }, method: 'maintenance-window' };
    const specFile = path.join(dir, 'twins.json');
    fs.writeFileSync(specFile, JSON.stringify({ campaignId: 'plan-twins', targetEngineVersion: '15.8', requester: 'alice', stages: [stage] }));
    const out: string[] = [];
    const config = loadConfig({ ORCHESTRATOR_AWS_ENDPOINT: sim.url });
    const code = await runCli(['campaign', 'plan', '--spec', specFile, '--no-progress'], { out: (l) => out.push(l), err: (l) => out.push(l), config });
    assert.notEqual(code, 0);
    assert.match(out.join('\n'), new RegExp(`twins: eu-west-2/notify-db is in 2 of the stage's places \\(${roleOf(a).replace(/[/:]/g, '.')}, ${roleOf(b).replace(/[/:]/g, '.')}\\): a fleet stage cannot tell instances of one name in one region apart`));
  });
});
