/**
 * `campaign plan` when the endpoint misbehaves: every problem of every stage is reported (not only the
 * first), and a failing read names the call, the endpoint and what came back instead of an SDK parse error.
 */
import assert from 'node:assert/strict';
import { createActivities } from '../../src/activities';
import { formatPlan, planCampaign } from '../../src/cli/plan';
import { loadConfig } from '../../src/config';
import type { ResolvedCampaignSpec } from '../../src/api';
import { resolveCampaignSpec } from '../../src/input';
import { SimAdminClient } from '../../sim';
import { demoFleet, demoRoleArn } from '../../sim';
import { fleetAtRest } from '../../dev/fixtures';
import { startSimulator, type RunningSimulator } from '../../sim';
import { startServer, type TestServer } from '../activities/helpers';

const spec = (target: string, stagingId = 'notifydb-staging'): ResolvedCampaignSpec => resolveCampaignSpec({
  targetEngineVersion: target,
  requester: 'alice',
  stages: [
    { name: 'preview', region: 'eu-west-2', instanceId: 'notifydb-preview', method: 'maintenance-window' },
    { name: 'staging', region: 'eu-west-2', instanceId: stagingId, method: 'apply-now', probe: { url: 'http://127.0.0.1:1/_status' } },
    { name: 'production', region: 'eu-west-2', instanceId: 'notifydb-production', method: 'maintenance-window' },
  ],
});
const through = (endpoint: string) => createActivities({ config: loadConfig({ ORCHESTRATOR_AWS_ENDPOINT: endpoint }) });

describe('campaign plan against a misbehaving endpoint', function () {
  this.timeout(60_000);
  let sim: RunningSimulator;
  let proxy: TestServer;
  let breakEngineVersions = true;

  before(async function () {
    sim = await startSimulator({ port: 0 });
    await new SimAdminClient(sim.url).seed(demoFleet(Date.now()));
    // In front of the simulator: DescribeDBEngineVersions gets a proxy's HTML error page, the rest passes through.
    proxy = await startServer(async (req) => {
      if (breakEngineVersions && new URLSearchParams(req.body).get('Action') === 'DescribeDBEngineVersions') {
        return { status: 502, headers: { 'Content-Type': 'text/html' }, body: '<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>' };
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
      const res = await fetch(`${sim.url}${req.url}`, { method: req.method, headers, body: req.method === 'GET' ? undefined : req.body });
      return { status: res.status, headers: { 'Content-Type': res.headers.get('content-type') ?? 'text/xml' }, body: await res.text() };
    });
  });

  after(async function () {
    await proxy?.close();
    await sim?.close();
  });

  it('reports every stage problem, naming the failing call, the endpoint and the HTML answer', async function () {
    breakEngineVersions = true;
    const plan = await planCampaign(spec('15.8', 'notifydb-stagign'), through(proxy.url));
    assert.equal(plan.problems.length, 3, plan.problems.join('\n'));
    const [preview, staging, production] = plan.problems;
    const failing = new RegExp(`DescribeDBEngineVersions postgres 15\\.5 against ${proxy.url.replace(/\./g, '\\.')} \\(eu-west-2\\) failed: HTTP 502 with a response that is not an AWS answer \\(text/html\\), page title "502 Bad Gateway"`);
    assert.match(preview, /^preview: /);
    assert.match(preview, failing);
    assert.match(staging, /^staging: RDS instance 'notifydb-stagign' not found in region eu-west-2/);
    assert.match(production, /^production: /);
    assert.match(production, failing);
    assert.deepEqual(plan.stages.map((s) => s.action), ['blocked', 'blocked', 'blocked']);
    assert.match(formatPlan(plan), /PROBLEMS \(the campaign would fail before changing anything\)/);
  });

  it('says which mechanism brings the version, and refuses a window stage for a version the flag would not bring', async function () {
    breakEngineVersions = false;
    const ok = await planCampaign(spec('15.8'), through(proxy.url));
    assert.deepEqual(ok.problems, []);
    assert.ok(ok.stages[0].what.some((w) => /15\.8 comes through AutoMinorVersionUpgrade: it is RDS's preferred minor for 15\.5/.test(w)), ok.stages[0].what.join('\n'));
    assert.ok(ok.stages[1].what.some((w) => /15\.8 exactly/.test(w)));

    const other = await planCampaign(spec('15.6'), through(proxy.url));
    assert.equal(other.problems.length, 2, other.problems.join('\n'));
    for (const p of other.problems) assert.match(p, /15\.6 cannot come through a maintenance window: .*preferred minor for 15\.5, 15\.8/);
    assert.deepEqual(other.stages.map((s) => s.action), ['blocked', 'upgrade', 'blocked']);
  });
});

describe('campaign plan in a three-account estate', function () {
  this.timeout(60_000);
  let sim: RunningSimulator;

  before(async function () {
    sim = await startSimulator({ port: 0 });
    await new SimAdminClient(sim.url).seed(fleetAtRest(Date.now(), true));
  });

  after(async function () {
    await sim?.close();
  });

  it("shows each stage's account and role, and names a role that cannot be assumed with its account", async function () {
    const withRoles = (staging = demoRoleArn('staging')) =>
      resolveCampaignSpec({
        targetEngineVersion: '15.8',
        requester: 'alice',
        stages: [
          { name: 'preview', region: 'eu-west-2', instanceId: 'notifydb-preview', method: 'maintenance-window', aws: { roleArn: demoRoleArn('preview') } },
          { name: 'staging', region: 'eu-west-2', instanceId: 'notifydb-staging', method: 'apply-now', probe: { url: 'http://127.0.0.1:1/_status' }, aws: { roleArn: staging } },
        ],
      });
    const plan = await planCampaign(withRoles(), through(sim.url));
    assert.deepEqual(plan.problems, []);
    assert.deepEqual(plan.stages.map((s) => [s.name, s.account, s.access]), [
      ['preview', '222222222222', `role ${demoRoleArn('preview')} (account 222222222222)`],
      ['staging', '333333333333', `role ${demoRoleArn('staging')} (account 333333333333)`],
    ]);
    assert.match(formatPlan(plan), /account: {4}222222222222 through role arn:aws:iam::222222222222:role\/rds-orchestrator/);

    const refused = await planCampaign(withRoles('arn:aws:iam::333333333333:role/not-there'), through(sim.url));
    assert.equal(refused.problems.length, 1);
    assert.match(refused.problems[0], /^staging: AssumeRole and GetCallerIdentity .* as role arn:aws:iam::333333333333:role\/not-there \(account 333333333333\) was refused \(AccessDenied\)/);
  });
});
