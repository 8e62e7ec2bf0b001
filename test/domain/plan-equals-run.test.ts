/**
 * `campaign plan` and the campaign take their decisions from the same functions (src/domain/plan.ts):
 * for several specs, the dates the plan prints are the dates the workflow then uses (the window a stage
 * watches, the production window it asks approval for, the windows it skips for blackouts, the pre-check
 * instant). The plan is made at the instant the campaign starts; production is approved at once, as the
 * plan assumes.
 */
import assert from 'node:assert/strict';
import { approveUpdate, campaignStatusQuery, type CampaignSpec, type CampaignStatus, type StageSpec } from '../../src/api';
import { planCampaign } from '../../src/cli/plan';
import { resolveCampaignSpec } from '../../src/input';
import { upgradeCampaign } from '../../src/workflows';
import { FakeAws } from '../fixtures/fake-aws';
import { timeSkippingEnv } from '../harness';
import { advanceUntil, fleet, runbookSpec, withWorker } from '../workflows/helpers';

const DAY = 86_400_000;
const preview = runbookSpec().stages[0];
const production = runbookSpec().stages[2];

interface Case {
  name: string;
  spec: (nowMs: number) => CampaignSpec;
  /** The status at which the stage has taken its decisions. */
  decided: (s: CampaignStatus) => boolean;
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
        const asking = await advanceUntil(env, handle, (s) => s.state === 'waiting-for-approval' || c.decided(s), { stepMs: 1000 });
        if (asking.state === 'waiting-for-approval') {
          assert.equal(asking.waitingFor!.plan, `${planned.name}|${spec.targetEngineVersion}|${planned.window!.start}`, 'the plan asked for names the planned window');
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
