/**
 * `campaign plan` and the campaign take their decisions from the same functions (src/domain/plan.ts):
 * for several specs, the dates the plan prints are the dates the workflow then uses (the window a stage
 * watches, the production window it asks approval for, the windows it skips for blackouts, the pre-check
 * instant). The plan is made at the instant the campaign starts; production is approved at once, as the
 * plan assumes.
 *
 * Activity = plan = run, for the readings of AWS's answers both make: the pending-maintenance rule (is this
 * pending action the upgrade to the target?) and the target rules (a valid minor target, a major one, RDS's
 * automatic one, and the automatic one moved). The RDS activity runs through the real SDK against the simulator;
 * `campaign plan` reads the same simulator through the same activity; the run is the domain function the
 * workflow calls on what that activity returned (src/domain/pending-maintenance.ts, src/domain/upgrade-targets.ts,
 * src/domain/preflight.ts). All three must give the case's expected answer.
 */
import assert from 'node:assert/strict';
import { RDSClient } from '@aws-sdk/client-rds';
import { createRdsActivities } from '../../src/activities/rds';
import { approveUpdate, campaignStatusQuery, type CampaignSpec, type CampaignStatus, type RdsActivities, type StageSpec } from '../../src/api';
import { planCampaign, type PlanReaders } from '../../src/cli/plan';
import { pendingUpgradeContaining, pendingUpgradeTo } from '../../src/domain/pending-maintenance';
import { assessStage } from '../../src/domain/preflight';
import { automaticMinorTarget, movedAutomaticTarget, readTarget, type TargetReading } from '../../src/domain/upgrade-targets';
import { resolveCampaignSpec } from '../../src/input';
import { upgradeCampaign } from '../../src/workflows';
import { FakeAws } from '../fixtures/fake-aws';
import { timeSkippingEnv } from '../harness';
import { ManualClock, SimAdminClient, defaultCatalogue, startSimulator, type RunningSimulator, type SeedInstance } from '../../sim';
import { advanceUntil, fleet, runbookSpec, withWorker } from '../workflows/helpers';

const DAY = 86_400_000;
const preview = runbookSpec().stages[0];
const production = runbookSpec().stages[2];

interface Case {
  name: string;
  spec: (nowMs: number) => CampaignSpec;
  /** The status at which the stage has taken its decisions. */
  decided: (s: CampaignStatus) => boolean;
  /** How far server time moves per look (default 1 s); a green copy takes the fake two hours. */
  stepMs?: number;
}

const productionOnly = (nowMs: number, stage: Partial<StageSpec> = {}, extra: Partial<CampaignSpec> = {}): CampaignSpec =>
  runbookSpec({ stages: [{ ...production, ...stage }], ...extra, approval: { reminderInterval: '30d' } });

const cases: Case[] = [
  { name: 'preview: the window open now or the next one', spec: () => runbookSpec({ stages: [preview] }), decided: (s) => s.state === 'waiting-for-window' },
  { name: 'production: the first window at least 14 days ahead', spec: (now) => productionOnly(now), decided: (s) => s.currentStep === 'waiting-for-precheck' },
  {
    name: 'production: windows in a blackout are skipped',
    spec: (now) => productionOnly(now, {}, { blackouts: [{ from: new Date(now + 13 * DAY).toISOString(), to: new Date(now + 29 * DAY).toISOString(), reason: 'change freeze' }] }),
    decided: (s) => s.currentStep === 'waiting-for-precheck',
  },
  {
    name: 'production: a shortened notice and an earlier pre-check',
    spec: (now) => productionOnly(now, { notice: { minimum: '3d', overrideReason: 'security fix' }, precheckBefore: '1d' }),
    decided: (s) => s.currentStep === 'waiting-for-precheck',
  },
  {
    name: 'production by Blue/Green: the same window, once the green copy is available, and the deployment the plan names',
    spec: (now) => productionOnly(now, { method: 'blue-green' }),
    decided: (s) => s.currentStep === 'waiting-for-precheck',
    stepMs: 60_000,
  },
];

describe('plan equals run: the dates `campaign plan` prints are the dates the campaign uses', function () {
  this.timeout(120_000);

  for (const c of cases) {
    it(c.name, async function () {
      const env = await timeSkippingEnv();
      const fake = new FakeAws();
      fleet(fake);
      await withWorker(env, fake.activities(), async (taskQueue) => {
        const nowMs = await env.currentTimeMs();
        const spec = resolveCampaignSpec(c.spec(nowMs));
        const plan = await planCampaign(spec, fake.activities(), nowMs);
        assert.deepEqual(plan.problems, []);
        const planned = plan.stages[0];

        const handle = await env.client.workflow.start(upgradeCampaign, { args: [spec], taskQueue, workflowId: `plan-run-${taskQueue}` });
        const asking = await advanceUntil(env, handle, (s) => s.state === 'waiting-for-approval' || c.decided(s), { stepMs: c.stepMs ?? 1000 });
        if (asking.state === 'waiting-for-approval') {
          // A Blue/Green approval also names the deployment (created by then, under the name the plan gave).
          const deployment = planned.blueGreen ? [...fake.deployments.values()].find((d) => d.name === planned.blueGreen!.deploymentName) : undefined;
          if (planned.blueGreen) assert.ok(deployment, `a deployment named ${planned.blueGreen.deploymentName}`);
          const suffix = deployment ? `|blue-green ${deployment.id}` : '';
          assert.equal(asking.waitingFor!.plan, `${planned.name}|${spec.targetEngineVersion}|${planned.window!.start}${suffix}`, 'the plan asked for names the planned window');
          await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: asking.waitingFor!.plan }] });
        }
        const run = await advanceUntil(env, handle, c.decided, { stepMs: 1000 });
        const stage = run.stages[0];
        assert.deepEqual(stage.window, planned.window, 'the same window');
        const skipped = run.timeline.filter((t) => t.step === 'window-skipped').map((t) => t.detail!.replace(': ', ' ('));
        assert.deepEqual(skipped.map((x) => `${x})`), planned.skippedWindows, 'the same windows skipped');
        if (planned.precheckAt) {
          assert.equal(run.timeline.find((t) => t.step === 'waiting-for-precheck')?.detail, planned.precheckAt, 'the same pre-check instant');
          assert.equal(run.waitingFor?.until, planned.precheckAt);
        }
        if (planned.name === 'production') assert.equal((await handle.query(campaignStatusQuery)).noticeOverride, plan.noticeOverride);
      });
    });
  }
});

describe('plan equals run for a fleet stage: the approval it names, each instance\'s window and wave', function () {
  this.timeout(120_000);

  it('production across three instances in two window groups, each moved past a change freeze', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fake.addInstance({ instanceId: 'prod-a', preferredMaintenanceWindow: 'wed:22:00-wed:22:30', tags: { environment: 'production' } });
    fake.addInstance({ instanceId: 'prod-b', preferredMaintenanceWindow: 'wed:22:00-wed:22:30', tags: { environment: 'production' } });
    fake.addInstance({ instanceId: 'prod-c', preferredMaintenanceWindow: 'sat:04:00-sat:04:30', tags: { environment: 'production' } });
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const nowMs = await env.currentTimeMs();
      const blackouts = [{ from: new Date(nowMs + 13 * DAY).toISOString(), to: new Date(nowMs + 21.5 * DAY).toISOString(), reason: 'change freeze' }];
      const spec = resolveCampaignSpec(
        runbookSpec({ stages: [{ name: 'production', region: 'eu-west-2', select: { tags: { environment: 'production' } }, method: 'maintenance-window' }], blackouts, approval: { reminderInterval: '30d' } }),
      );
      const plan = await planCampaign(spec, fake.activities(), nowMs);
      assert.deepEqual(plan.problems, []);
      const planned = plan.stages[0].fleet!;

      const handle = await env.client.workflow.start(upgradeCampaign, { args: [spec], taskQueue, workflowId: `plan-run-fleet-${taskQueue}` });
      const asking = await advanceUntil(env, handle, (s) => s.state === 'waiting-for-approval', { stepMs: 1000 });
      assert.equal(asking.waitingFor!.plan, planned.approvalPlan, 'the approval asked for is the one the plan printed');
      const run = asking.stages[0].fleet!;
      const byId = (id: string) => run.instances.find((i) => i.instanceId === id)!;
      for (const p of planned.instances) {
        assert.deepEqual(byId(p.instanceId).window, p.window, `${p.instanceId}: the same window`);
        assert.equal(byId(p.instanceId).wave, p.wave, `${p.instanceId}: the same wave`);
        assert.deepEqual(byId(p.instanceId).flags ?? [], p.flags, `${p.instanceId}: the same flags`);
      }
      assert.ok(planned.instances.every((p) => p.flags.some((f) => /skipped: overlaps blackout "change freeze"/.test(f))), 'every first window falls in the freeze: each instance is flagged');
      assert.deepEqual(run.windowGroups!.map((g) => [g.start, g.instances]), planned.waves.map((w) => [w.window!.start, w.instances]));
    });
  });
});

describe('activity = plan = run: the readings of AWS\'s answers, against the simulator', function () {
  const REGION = 'eu-west-2';
  let sim: RunningSimulator;
  let admin: SimAdminClient;
  let client: RDSClient;
  let acts: RdsActivities;
  let readers: PlanReaders;
  let nowMs: number;

  const seeded = (id: string, engineVersion: string, extra: Partial<SeedInstance> = {}): SeedInstance => ({
    region: REGION,
    id,
    engineVersion,
    instanceClass: 'db.r6g.large',
    allocatedStorage: 100,
    preferredMaintenanceWindow: 'sun:03:00-sun:03:30',
    autoMinorVersionUpgrade: false,
    ...extra,
  });
  /** One stage on one instance: apply-now (any valid minor, exactly) or maintenance-window (RDS's automatic minor only). */
  const specFor = (instanceId: string, target: string, method: 'apply-now' | 'maintenance-window') =>
    resolveCampaignSpec({
      campaignId: `activity-plan-run-${instanceId}`,
      targetEngineVersion: target,
      requester: 'alice',
      stages: [method === 'apply-now' ? { name: 'staging', region: REGION, instanceId, method, probe: { url: 'https://status.example/_status' } } : { name: 'preview', region: REGION, instanceId, method }],
    });

  before(async function () {
    nowMs = Date.UTC(2025, 0, 6, 12, 0, 0);
    sim = await startSimulator({ port: 0, clock: new ManualClock(nowMs) });
    admin = new SimAdminClient(sim.url);
    client = new RDSClient({ endpoint: sim.url, region: REGION, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    acts = createRdsActivities({ rdsClientFor: () => client });
    readers = { ...acts, whoAmI: async () => assert.fail('no stage here names an account') };
    // 15.0, 15.1 and 15.12 side by side: the target 15.1 is a prefix of a version AWS may name in a description.
    const catalogue = defaultCatalogue().map((m) => (m.major === '15' ? { ...m, versions: ['15.0', '15.1', ...m.versions, '15.12'] } : m));
    await admin.seed({
      reset: true,
      catalogue,
      instances: [
        seeded('pm-exact', '15.5'),
        seeded('pm-prefix', '15.0', { pendingMaintenance: { targetVersion: '15.12' } }),
        seeded('pm-no-version', '15.5', { pendingMaintenance: { description: 'Minor version upgrade' } }),
        seeded('pm-none', '15.8'),
        seeded('tg-automatic', '15.5'),
        seeded('tg-not-automatic', '15.5'),
        seeded('tg-major', '15.5'),
        seeded('tg-not-valid', '15.5'),
        seeded('tg-moved', '14.10'),
      ],
    });
  });

  after(async function () {
    client?.destroy();
    await sim?.close();
  });

  interface PendingCase {
    name: string;
    instanceId: string;
    target: string;
    /** Whether AWS lists the upgrade to the target: then apply-now applies that action, else sets EngineVersion. */
    pending: boolean;
    /** What the rule of runs started before the exact-version rule said (replay only). */
    replayRule: boolean;
  }
  const pendingCases: PendingCase[] = [
    { name: 'the db-upgrade "Upgrade to PostgreSQL 15.8" is the upgrade to 15.8', instanceId: 'pm-exact', target: '15.8', pending: true, replayRule: true },
    { name: 'the db-upgrade "Upgrade to PostgreSQL 15.12" is not the upgrade to 15.1', instanceId: 'pm-prefix', target: '15.1', pending: false, replayRule: true },
    { name: 'a db-upgrade whose description names no version is not the upgrade to 15.8', instanceId: 'pm-no-version', target: '15.8', pending: false, replayRule: false },
    { name: 'no pending db-upgrade at all (at RDS\'s automatic target already): nothing to apply for 15.10', instanceId: 'pm-none', target: '15.10', pending: false, replayRule: false },
  ];

  for (const c of pendingCases) {
    it(`pending-maintenance rule (pendingUpgradeTo, upgradeNowBy): ${c.name}`, async function () {
      // Plan: `campaign plan` for an apply-now stage says how the upgrade would start.
      const plan = await planCampaign(specFor(c.instanceId, c.target, 'apply-now'), readers, nowMs);
      assert.deepEqual(plan.problems, []);
      const planSays = plan.stages[0].what[0];
      assert.equal(planSays, `${c.target} exactly: ${c.pending ? 'the pending db-upgrade applied now' : 'ModifyDBInstance EngineVersion with ApplyImmediately'}`, 'plan');

      // Run: the workflow's pre-check and preview warning call pendingUpgradeTo on what listPendingMaintenance returned.
      const pending = await acts.listPendingMaintenance({ where: REGION, instanceId: c.instanceId });
      assert.equal(pendingUpgradeTo(pending, c.target) !== undefined, c.pending, `run (AWS lists: ${JSON.stringify(pending)})`);
      assert.equal(pendingUpgradeContaining(pending, c.target) !== undefined, c.replayRule, 'the replay-only rule of older runs');

      // Activity: apply-now against the simulator; which call it sent is its answer.
      const since = Math.max(0, ...(await admin.calls()).map((x) => x.seq));
      const result = await acts.applyUpgradeNow({ where: REGION, instanceId: c.instanceId, targetVersion: c.target });
      assert.equal(result.changed, true);
      const sent = async (action: string) => (await admin.calls({ service: 'rds', action, since })).length;
      assert.equal(await sent('ApplyPendingMaintenanceAction'), c.pending ? 1 : 0, `activity (${result.detail})`);
      assert.equal(await sent('ModifyDBInstance'), c.pending ? 0 : 1, `activity (${result.detail})`);
    });
  }

  interface TargetCase {
    name: string;
    instanceId: string;
    target: string;
    method: 'apply-now' | 'maintenance-window';
    /** What RDS does before the readings (it moves its automatic target). */
    before?: () => Promise<unknown>;
    /** The activity's answer, read: what the target list says about the target, and RDS's automatic minor. */
    reading: TargetReading;
    automatic: string | undefined;
    /** The plan's and the preflight's verdict: ready, or the problem they both name. */
    verdict: 'ready' | RegExp;
    /** What the estate guard decides before the flag goes on (movedAutomaticTarget). */
    moved: { now: string | undefined } | undefined;
  }
  const targetCases: TargetCase[] = [
    {
      name: 'RDS\'s automatic minor (AutoUpgrade=true) comes through a maintenance window',
      instanceId: 'tg-automatic', target: '15.8', method: 'maintenance-window',
      reading: { kind: 'minor', automatic: true }, automatic: '15.8', verdict: 'ready', moved: undefined,
    },
    {
      name: 'a minor RDS does not apply by itself (AutoUpgrade=false) cannot come through a maintenance window',
      instanceId: 'tg-not-automatic', target: '15.10', method: 'maintenance-window',
      reading: { kind: 'minor', automatic: false }, automatic: '15.8', verdict: /cannot come through a maintenance window.*RDS's preferred minor for 15\.5, 15\.8/, moved: { now: '15.8' },
    },
    {
      name: 'a major target (IsMajorVersionUpgrade=true) is refused, even to apply now',
      instanceId: 'tg-major', target: '16.4', method: 'apply-now',
      reading: { kind: 'major' }, automatic: '15.8', verdict: /15\.5 → 16\.4 is a major version upgrade/, moved: { now: '15.8' },
    },
    {
      name: 'a version the list does not name is no valid target',
      instanceId: 'tg-not-valid', target: '15.9', method: 'apply-now',
      reading: { kind: 'not-valid' }, automatic: '15.8', verdict: /15\.9 is not a valid upgrade target.*valid minor targets: 15\.6, 15\.7, 15\.8, 15\.10, 15\.12/, moved: { now: '15.8' },
    },
    {
      name: 'RDS moved its automatic target (14.13 → 14.15): the campaign\'s target no longer comes through the window',
      instanceId: 'tg-moved', target: '14.13', method: 'maintenance-window',
      before: () => admin.autoUpgradeTarget({ engine: 'postgres', majorVersion: '14', target: '14.15' }),
      reading: { kind: 'minor', automatic: false }, automatic: '14.15', verdict: /cannot come through a maintenance window/, moved: { now: '14.15' },
    },
  ];

  for (const c of targetCases) {
    it(`target rules (readTarget, automaticMinorTarget, movedAutomaticTarget): ${c.name}`, async function () {
      await c.before?.();
      const spec = specFor(c.instanceId, c.target, c.method);

      // Activity: DescribeDBEngineVersions through the activity, as the preflight (listUpgradeTargets) and the
      // estate guard (inspectInstance) read it.
      const info = await acts.describeInstance({ where: REGION, instanceId: c.instanceId });
      const targets = await acts.listUpgradeTargets({ where: REGION, engine: info.engine, engineVersion: info.engineVersion });
      assert.deepEqual((await acts.inspectInstance({ where: REGION, instanceId: c.instanceId })).targets, targets, 'one answer for both activities');
      assert.deepEqual(readTarget(targets, c.target), c.reading, 'activity');
      assert.equal(automaticMinorTarget(targets), c.automatic, 'activity: RDS\'s automatic minor');

      // Plan.
      const plan = await planCampaign(spec, readers, nowMs);
      if (c.verdict === 'ready') {
        assert.deepEqual(plan.problems, [], 'plan');
        assert.equal(plan.stages[0].action, 'upgrade', 'plan');
      } else {
        assert.equal(plan.stages[0].action, 'blocked', 'plan');
        assert.equal(plan.problems.length, 1, `plan: ${plan.problems.join('; ')}`);
        assert.match(plan.problems[0], c.verdict, 'plan');
      }

      // Run: the workflow's preflight (assessStage) and its estate guard (movedAutomaticTarget) on the activity's answer.
      const readiness = assessStage(spec.stages[0], info, c.target, targets);
      if (c.verdict === 'ready') assert.deepEqual(readiness, { kind: 'ready', fromVersion: info.engineVersion }, 'run: preflight');
      else assert.deepEqual(readiness, { kind: 'problem', problems: plan.problems }, 'run: preflight names the plan\'s problem');
      assert.deepEqual(movedAutomaticTarget(targets, c.target), c.moved, 'run: estate guard');
    });
  }
});
