/**
 * A campaign in an estate that moves (time-skipping): other actors change the instances while it sleeps for
 * weeks. Terraform turns the flag back off, RDS moves its automatic target, a person upgrades an instance
 * past the target, read replicas must go first, and the person on call is paged for production's window.
 */
import assert from 'node:assert/strict';
import { campaignStatusQuery, approveUpdate, decideUpdate, type CampaignStatus } from '../../src/api';
import { nextWindowStartingAfter } from '../../src/domain/maintenance-window';
import { resolveCampaignSpec } from '../../src/input';
import { upgradeCampaign } from '../../src/workflows';
import { FakeAws } from '../fixtures/fake-aws';
import { timeSkippingEnv } from '../harness';
import { advanceUntil, fleet, rejected, runbookSpec, withWorker } from './helpers';

const MINUTE = 60_000;
const PREVIEW_WINDOW = 'mon:03:00-mon:03:30';
const TERRAFORM = 'arn:aws:sts::123456789012:assumed-role/terraform-deploy/pipeline-4711';

const waitingFor = (kind: string) => (s: CampaignStatus) => s.waitingFor?.kind === kind;
const steps = (s: CampaignStatus, step: string) => s.timeline.filter((t) => t.step === step);
const previewOnly = (overrides: Record<string, unknown> = {}) => runbookSpec({ stages: [{ ...runbookSpec().stages[0], ...overrides }] });
const productionOnly = (overrides: Record<string, unknown> = {}) => runbookSpec({ stages: [{ ...runbookSpec().stages[2], ...overrides }] });
const flagCalls = (fake: FakeAws, id: string) => fake.callsOf('setAutoMinorVersionUpgrade').filter((c) => c.input.instanceId === id).map((c) => c.input.enabled);

describe('a campaign in an estate that moves (time-skipping)', function () {
  this.timeout(180_000);

  it('Terraform turns the flag off before the window: re-armed, upgraded in that same window, people told who did it', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const windowStart = nextWindowStartingAfter(PREVIEW_WINDOW, await env.currentTimeMs()).startMs;
      fake.changeAt(windowStart - 7 * MINUTE, 'notify-preview', { autoMinorVersionUpgrade: false }, TERRAFORM);
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(previewOnly())], taskQueue, workflowId: `revert-${taskQueue}` });
      const result = await handle.result();
      assert.equal(result.state, 'completed');
      const s = await handle.query(campaignStatusQuery);
      assert.equal(s.stages[0].missedWindows, 0, 'upgraded in the window that was about to be lost');
      assert.equal(s.stages[0].flagReverts, 1);
      const reverted = steps(s, 'flag-reverted');
      assert.equal(reverted.length, 1);
      assert.match(reverted[0].detail!, /terraform-deploy\/pipeline-4711/, 'who turned it off, as CloudTrail says');
      assert.equal(steps(s, 'flag-rearmed').length, 1);
      assert.ok(fake.instances.get('eu-west-2/notify-preview')!.windowsSeen.includes(windowStart), 'the upgrade came in that window');
      assert.deepEqual(flagCalls(fake, 'notify-preview'), [true, true, false], 'armed, re-armed, back off after the window');
      const told = fake.notifications.filter((n) => n.event === 'flag-reverted');
      assert.equal(told.length, 1, 'notified at once, not after two missed windows');
      assert.match(told[0].text, /AutoMinorVersionUpgrade on eu-west-2\/notify-preview was turned off .*terraform-deploy.*turned it on again/);
    });
  });

  it('turned off again: escalates, naming the Terraform fix (the attribute, or ignore_changes)', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const windowStart = nextWindowStartingAfter(PREVIEW_WINDOW, await env.currentTimeMs()).startMs;
      fake.changeAt(windowStart - 40 * MINUTE, 'notify-preview', { autoMinorVersionUpgrade: false }, TERRAFORM);
      fake.changeAt(windowStart - 7 * MINUTE, 'notify-preview', { autoMinorVersionUpgrade: false }, TERRAFORM);
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(previewOnly())], taskQueue, workflowId: `revert2-${taskQueue}` });
      assert.equal((await handle.result()).state, 'completed');
      const s = await handle.query(campaignStatusQuery);
      assert.equal(s.stages[0].flagReverts, 2);
      assert.equal(s.stages[0].missedWindows, 0);
      const escalations = fake.notifications.filter((n) => n.event === 'escalation');
      assert.equal(escalations.length, 1);
      assert.match(escalations[0].text, /2 time\(s\).*auto_minor_version_upgrade = true for notify-preview.*lifecycle \{ ignore_changes = \[auto_minor_version_upgrade\] \}/);
    });
  });

  it('a stage whose flag Terraform owns: asks for the exact change, waits for AWS to show it, asks for it back with engine_version', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(previewOnly({ changes: 'terraform' }))], taskQueue, workflowId: `terraform-${taskQueue}` });
      const asked = await advanceUntil(env, handle, waitingFor('infra-change'), { stepMs: 10 * MINUTE });
      assert.equal(asked.state, 'waiting-for-infra-change');
      assert.match(asked.waitingFor!.description, /in Terraform, set auto_minor_version_upgrade = true on the aws_db_instance of notify-preview, and apply it/);
      fake.changeAt(await env.currentTimeMs(), 'notify-preview', { autoMinorVersionUpgrade: true }, TERRAFORM);
      const back = await advanceUntil(env, handle, (s) => s.waitingFor?.kind === 'infra-change' && /= false/.test(s.waitingFor.description), { stepMs: 30 * MINUTE });
      assert.match(back.waitingFor!.description, /auto_minor_version_upgrade = false, engine_version = "15\.8" on the aws_db_instance of notify-preview/);
      assert.equal(fake.instances.get('eu-west-2/notify-preview')!.engineVersion, '15.8', 'upgraded in its window with the flag Terraform set');
      fake.changeAt(await env.currentTimeMs(), 'notify-preview', { autoMinorVersionUpgrade: false }, TERRAFORM);
      assert.equal((await handle.result()).state, 'completed');
      assert.equal(fake.callsOf('setAutoMinorVersionUpgrade').length, 0, 'the campaign changed nothing itself');
      assert.deepEqual(fake.notifications.filter((n) => n.event === 'infra-change-needed').map((n) => /= (true|false)/.exec(n.text)?.[1]), ['true', 'false']);
    });
  });

  it('a Terraform-owned fleet stage asks once per wave for every instance; each instance goes on when AWS shows its flag', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    const tags = { environment: 'preview' };
    for (const id of ['pv-a', 'pv-b']) fake.addInstance({ instanceId: id, tags, preferredMaintenanceWindow: PREVIEW_WINDOW });
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const spec = runbookSpec({ changes: 'terraform', stages: [{ name: 'preview', region: 'eu-west-2', select: { tags }, method: 'maintenance-window', waves: { maxConcurrent: 2 } }] });
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec)], taskQueue, workflowId: `terraform-fleet-${taskQueue}` });
      await advanceUntil(env, handle, (s) => s.timeline.some((t) => t.step === 'infra-change-requested'), { stepMs: 10 * MINUTE });
      const asked = fake.notifications.filter((n) => n.event === 'infra-change-needed');
      assert.equal(asked.length, 1, 'one message for the wave, not one per instance');
      assert.match(asked[0].text, /auto_minor_version_upgrade = true on the aws_db_instance of pv-a, pv-b.*after their window.*auto_minor_version_upgrade = false, engine_version = "15\.8" on the aws_db_instance of pv-a, pv-b/);
      const now = await env.currentTimeMs();
      for (const id of ['pv-a', 'pv-b']) fake.changeAt(now, id, { autoMinorVersionUpgrade: true }, TERRAFORM);
      await advanceUntil(env, handle, () => ['pv-a', 'pv-b'].every((id) => fake.instances.get(`eu-west-2/${id}`)!.engineVersion === '15.8'), { stepMs: 30 * MINUTE });
      const later = await env.currentTimeMs();
      for (const id of ['pv-a', 'pv-b']) fake.changeAt(later, id, { autoMinorVersionUpgrade: false }, TERRAFORM);
      assert.equal((await handle.result()).state, 'completed');
      assert.equal(fake.callsOf('setAutoMinorVersionUpgrade').length, 0, 'the campaign changed no flag itself');
    });
  });

  it("RDS moves its automatic target before production's flag: the flag is not turned on; the team chooses to apply the target in the window", async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(productionOnly())], taskQueue, workflowId: `moved-${taskQueue}` });
      await advanceUntil(env, handle, waitingFor('approval'));
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] });
      fake.moveAutomaticTarget('15.5', '15.10');
      const asked = await advanceUntil(env, handle, waitingFor('decision'));
      assert.match(asked.waitingFor!.question!, /RDS now upgrades it to 15\.10 automatically, not 15\.8.*"apply-in-window".*"retarget".*"abort"/);
      assert.deepEqual(asked.waitingFor!.options, ['apply-in-window', 'retarget', 'abort']);
      await rejected(handle.executeUpdate(decideUpdate, { args: [{ by: 'bob', decision: 'continue' }] }), /decision must be "apply-in-window", "retarget" or "abort"/);
      await handle.executeUpdate(decideUpdate, { args: [{ by: 'bob', decision: 'apply-in-window' }] });
      assert.equal((await handle.result()).state, 'completed');
      const s = await handle.query(campaignStatusQuery);
      const prod = s.stages[0];
      assert.equal(prod.mechanism, 'apply-in-window');
      assert.deepEqual(flagCalls(fake, 'notify-production'), [], 'the flag was never turned on (it would have brought 15.10)');
      const applied = fake.callsOf('applyUpgradeNow');
      assert.equal(applied.length, 1);
      assert.equal(applied[0].input.targetVersion, '15.8', 'the approved version exactly');
      assert.ok(applied[0].atMs >= Date.parse(prod.window!.start) && applied[0].atMs < Date.parse(prod.window!.end), 'inside the approved, announced window');
      assert.equal(fake.instances.get('eu-west-2/notify-production')!.engineVersion, '15.8');
    });
  });

  it('"retarget" ends the campaign, undoing its changes, and says how to start one for the new target', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(productionOnly())], taskQueue, workflowId: `retarget-${taskQueue}` });
      await advanceUntil(env, handle, waitingFor('approval'));
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] });
      fake.moveAutomaticTarget('15.5', '15.10');
      await advanceUntil(env, handle, waitingFor('decision'));
      await handle.executeUpdate(decideUpdate, { args: [{ by: 'bob', decision: 'retarget' }] });
      const result = await handle.result();
      assert.equal(result.state, 'aborted');
      assert.ok(result.followUps.some((f) => /start a new campaign with targetEngineVersion "15\.10"/.test(f)), result.followUps.join('\n'));
      assert.equal([...fake.incidents.values()][0].status, 'completed', 'the announcement is cancelled');
      assert.deepEqual(flagCalls(fake, 'notify-production'), []);
    });
  });

  it('an instance upgraded past the target outside the campaign is recorded, never watched for the target; the follow-up names its version', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const windowStart = nextWindowStartingAfter(PREVIEW_WINDOW, await env.currentTimeMs()).startMs;
      fake.changeAt(windowStart - 60 * MINUTE, 'notify-preview', { engineVersion: '15.10' }, 'arn:aws:iam::123456789012:user/dave');
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(previewOnly())], taskQueue, workflowId: `past-${taskQueue}` });
      const result = await handle.result();
      assert.equal(result.state, 'completed');
      const s = await handle.query(campaignStatusQuery);
      assert.equal(s.stages[0].engineVersionNow, '15.10');
      assert.equal(steps(s, 'past-target').length, 1);
      assert.equal(steps(s, 'watching-window').length, 0, 'never watched for 15.8');
      assert.equal(steps(s, 'window-missed').length, 0);
      assert.match(result.followUps[0], /notify-preview runs 15\.10, not the target 15\.8.*engine_version = "15\.10"/);
      assert.deepEqual(flagCalls(fake, 'notify-preview'), [true, false], 'the flag as it was before');
    });
  });

  it('someone moves the maintenance window: the campaign says so and uses the new window, nothing missed', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const windowStart = nextWindowStartingAfter(PREVIEW_WINDOW, await env.currentTimeMs()).startMs;
      fake.changeAt(windowStart - 60 * MINUTE, 'notify-preview', { preferredMaintenanceWindow: 'tue:03:00-tue:03:30' }, 'arn:aws:iam::123456789012:user/dave');
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(previewOnly())], taskQueue, workflowId: `moved-window-${taskQueue}` });
      assert.equal((await handle.result()).state, 'completed');
      const s = await handle.query(campaignStatusQuery);
      assert.match(steps(s, 'window-moved')[0].detail!, /window is now tue:03:00-tue:03:30 \(was mon:03:00-mon:03:30\)/);
      assert.equal(s.stages[0].missedWindows, 0);
      assert.equal(new Date(s.stages[0].window!.start).getUTCDay(), 2, 'watched on Tuesday, its new window');
      assert.ok(fake.notifications.some((n) => n.event === 'escalation' && /maintenance window is now tue/.test(n.text)));
    });
  });

  it("production's window moved to an earlier day after the approval: the flag is not turned on for a window that no longer comes; the team agrees to the new one first", async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(productionOnly())], taskQueue, workflowId: `moved-after-approval-${taskQueue}` });
      const asking = await advanceUntil(env, handle, waitingFor('approval'));
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: asking.waitingFor!.plan }] });
      const approved = Date.parse((await handle.query(campaignStatusQuery)).stages[0].window!.start);
      // Wednesday's window becomes Monday's, five days before it: after the pre-check (3 days before), before the window.
      fake.changeAt(approved - 5 * 86_400_000, 'notify-production', { preferredMaintenanceWindow: 'mon:22:00-mon:22:30' }, 'arn:aws:iam::123456789012:user/dave');
      const asked = await advanceUntil(env, handle, waitingFor('decision'));
      assert.match(asked.waitingFor!.question!, /notify-production's maintenance window changed: the approved and announced window \S+ no longer comes\. Continue with its next window \S+ – \S+ \(not announced\), or abort\?/);
      assert.deepEqual(flagCalls(fake, 'notify-production'), [], 'the flag was not turned on for the window that no longer comes');
      assert.match(steps(asked, 'window-moved')[0].detail!, /window is now mon:22:00-mon:22:30 \(was wed:22:00-wed:22:30\)/);
      await handle.executeUpdate(decideUpdate, { args: [{ by: 'bob', decision: 'continue' }] });
      assert.equal((await handle.result()).state, 'completed');
      const s = await handle.query(campaignStatusQuery);
      assert.equal(new Date(s.stages[0].window!.start).getUTCDay(), 1, 'upgraded in its new Monday window');
      assert.equal(fake.instances.get('eu-west-2/notify-production')!.engineVersion, '15.8');
      assert.deepEqual(flagCalls(fake, 'notify-production'), [true, false]);
      assert.match(steps(s, 'announcement-cancelled')[0]?.detail ?? '', /is cancelled: its window moved to mon:22:00-mon:22:30 after the approval; the team agreed to /);
    });
  });

  it('the flag turned off again and again in one window: re-armed at most three times, then the window is given up and said so', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    fake.instances.get('eu-west-2/notify-preview')!.windowsToMiss = 1; // this window would not upgrade it anyway
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const windowStart = nextWindowStartingAfter(PREVIEW_WINDOW, await env.currentTimeMs()).startMs;
      for (let m = 2; m < 30; m += 5) fake.changeAt(windowStart + m * MINUTE, 'notify-preview', { autoMinorVersionUpgrade: false }, TERRAFORM);
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(previewOnly())], taskQueue, workflowId: `flapping-${taskQueue}` });
      assert.equal((await handle.result()).state, 'completed', 'upgraded in the next window');
      const s = await handle.query(campaignStatusQuery);
      assert.equal(steps(s, 'flag-rearmed').length, 3);
      assert.equal(s.stages[0].missedWindows, 1);
      assert.ok(fake.notifications.some((n) => n.event === 'escalation' && /stopped turning it on for this window after 3 times/.test(n.text)));
    });
  });

  it('RDS brings another version through the campaign\'s flag in the window: the team is told and asked before the campaign goes on', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const windowStart = nextWindowStartingAfter(PREVIEW_WINDOW, await env.currentTimeMs()).startMs;
      fake.instances.get('eu-west-2/notify-preview')!.windowsToMiss = 1;
      fake.changeAt(windowStart + 2 * MINUTE, 'notify-preview', { engineVersion: '15.10' }, 'rds.amazonaws.com');
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(previewOnly())], taskQueue, workflowId: `rds-other-${taskQueue}` });
      const asked = await advanceUntil(env, handle, waitingFor('decision'));
      assert.match(asked.waitingFor!.question!, /notify-preview reached 15\.10, not the approved 15\.8, while the campaign's AutoMinorVersionUpgrade was on/);
      await handle.executeUpdate(decideUpdate, { args: [{ by: 'bob', decision: 'continue' }] });
      assert.equal((await handle.result()).state, 'completed');
      assert.equal((await handle.query(campaignStatusQuery)).stages[0].engineVersionNow, '15.10');
    });
  });

  it('read replicas first: apply-now upgrades the replica, waits for it, then the instance under the probe', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    fake.instances.get('eu-west-2/notify-staging')!.readReplicaIds = ['notify-staging-ro', 'arn:aws:rds:eu-west-1:123456789012:db:notify-staging-dr'];
    fake.addInstance({ instanceId: 'notify-staging-ro', replicaSourceId: 'notify-staging' });
    fake.addInstance({ instanceId: 'notify-staging-dr', region: 'eu-west-1', replicaSourceId: 'arn:aws:rds:eu-west-2:123456789012:db:notify-staging' });
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const spec = runbookSpec({ stages: [runbookSpec().stages[1]] });
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec)], taskQueue, workflowId: `replicas-now-${taskQueue}` });
      assert.equal((await handle.result()).state, 'completed');
      const order = fake.callsOf('applyUpgradeNow').map((c) => `${(c.input.where as { region: string }).region ?? c.input.where}/${c.input.instanceId}`);
      assert.deepEqual(order, ['eu-west-2/notify-staging-ro', 'eu-west-1/notify-staging-dr', 'eu-west-2/notify-staging'], 'replicas (in-region and cross-region) before their source');
      const s = await handle.query(campaignStatusQuery);
      assert.deepEqual(s.stages[0].replicas!.map((r) => [r.region, r.instanceId, r.state]), [['eu-west-2', 'notify-staging-ro', 'upgraded'], ['eu-west-1', 'notify-staging-dr', 'upgraded']]);
      for (const id of ['eu-west-2/notify-staging-ro', 'eu-west-1/notify-staging-dr', 'eu-west-2/notify-staging']) assert.equal(fake.instances.get(id)!.engineVersion, '15.8', id);
    });
  });

  it("read replicas first in a window stage: the replica's flag, its own window, then the instance's", async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    fake.instances.get('eu-west-2/notify-preview')!.readReplicaIds = ['notify-preview-ro'];
    fake.addInstance({ instanceId: 'notify-preview-ro', replicaSourceId: 'notify-preview', preferredMaintenanceWindow: 'sat:03:00-sat:03:30' });
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(previewOnly())], taskQueue, workflowId: `replicas-window-${taskQueue}` });
      assert.equal((await handle.result()).state, 'completed');
      const flags = fake.callsOf('setAutoMinorVersionUpgrade').map((c) => `${c.input.instanceId}=${c.input.enabled}`);
      assert.deepEqual(flags, ['notify-preview-ro=true', 'notify-preview-ro=false', 'notify-preview=true', 'notify-preview=false']);
      const replica = fake.instances.get('eu-west-2/notify-preview-ro')!;
      const source = fake.instances.get('eu-west-2/notify-preview')!;
      assert.equal(replica.engineVersion, '15.8');
      assert.equal(source.engineVersion, '15.8');
      assert.ok(replica.windowsSeen[0] < source.windowsSeen[source.windowsSeen.length - 1], 'the replica was upgraded in its window, before the source in its own');
    });
  });

  it("production's read replica is upgraded in its last window before the approved one, its flag on only shortly before", async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    fake.instances.get('eu-west-2/notify-production')!.readReplicaIds = ['notify-production-ro'];
    fake.addInstance({ instanceId: 'notify-production-ro', replicaSourceId: 'notify-production', preferredMaintenanceWindow: 'sat:03:00-sat:03:30' });
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(productionOnly())], taskQueue, workflowId: `prod-replica-${taskQueue}` });
      await advanceUntil(env, handle, waitingFor('approval'));
      const approvedAt = await env.currentTimeMs();
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] });
      assert.equal((await handle.result()).state, 'completed');
      const s = await handle.query(campaignStatusQuery);
      const windowStart = Date.parse(s.stages[0].window!.start);
      const replicaOn = fake.callsOf('setAutoMinorVersionUpgrade').find((c) => c.input.instanceId === 'notify-production-ro' && c.input.enabled === true)!;
      const replicaWindow = fake.instances.get('eu-west-2/notify-production-ro')!.windowsSeen[0];
      assert.equal(new Date(replicaWindow).getUTCDay(), 6);
      assert.ok(replicaWindow < windowStart && replicaWindow > windowStart - 7 * 86_400_000, 'the last Saturday before the approved Wednesday');
      assert.ok(replicaOn.atMs > approvedAt + 7 * 86_400_000 && replicaOn.atMs < replicaWindow, "the replica's flag went on shortly before its window, not at the approval");
      const order = fake.callsOf('setAutoMinorVersionUpgrade').map((c) => `${c.input.instanceId}=${c.input.enabled}`);
      assert.deepEqual(order, ['notify-production-ro=true', 'notify-production-ro=false', 'notify-production=true', 'notify-production=false']);
    });
  });

  it("production's window pages the person on call; the page is resolved when the instance is available at the target", async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(productionOnly())], taskQueue, workflowId: `paged-${taskQueue}` });
      await advanceUntil(env, handle, waitingFor('approval'));
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] });
      assert.equal((await handle.result()).state, 'completed');
      const s = await handle.query(campaignStatusQuery);
      const window = s.stages[0].window!;
      assert.deepEqual(fake.pages.map((p) => [p.action, p.severity]), [['trigger', 'warning'], ['resolve', 'info']]);
      assert.equal(new Set(fake.pages.map((p) => p.dedupKey)).size, 1, 'one dedup key for the instance and its window');
      assert.match(fake.pages[0].dedupKey, new RegExp(`notify-production/${window.start.replace(/\./g, '\\.')}$`));
      assert.match(fake.pages[0].summary, /notify-production is being upgraded to 15\.8 in its maintenance window .*make sure it recovers/);
      const triggeredAt = fake.callsOf('pageOnCall')[0].atMs;
      assert.ok(triggeredAt >= Date.parse(window.start) && triggeredAt < Date.parse(window.end), 'paged when the window opens');
      assert.equal(s.stages[0].onCall?.state, 'resolved');
    });
  });

  it('a production window that passes without the upgrade is a critical event on an alert of its own (an acknowledged one would not page)', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    fake.instances.get('eu-west-2/notify-production')!.windowsToMiss = 1;
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(productionOnly())], taskQueue, workflowId: `paged-missed-${taskQueue}` });
      await advanceUntil(env, handle, waitingFor('approval'));
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] });
      assert.equal((await handle.result()).state, 'completed');
      const [first, second] = [fake.pages.slice(0, 2), fake.pages.slice(2)];
      assert.deepEqual(first.map((p) => [p.action, p.severity]), [['trigger', 'warning'], ['trigger', 'critical']]);
      assert.equal(first[1].dedupKey, `${first[0].dedupKey}/escalation`);
      assert.match(first[1].summary, /was not upgraded to 15\.8 in its window/);
      assert.deepEqual(second.map((p) => p.action), ['trigger', 'resolve', 'resolve'], "the next week's window is paged on its own key; once upgraded both windows' alerts are resolved");
      assert.notEqual(second[0].dedupKey, first[0].dedupKey);
      assert.deepEqual(new Set(second.slice(1).map((p) => p.dedupKey)), new Set([first[0].dedupKey, second[0].dedupKey]));
      const withEscalation = second.find((p) => p.dedupKey === first[0].dedupKey)!;
      assert.deepEqual(withEscalation.alsoDedupKeys, [first[1].dedupKey], 'the escalation alert is resolved with its window\'s, in the same call');
    });
  });

  it('a trigger whose answer was lost is resolved later all the same; a resolve that fails leaves its alert listed as open', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    fake.pagesFailing = 1;
    fake.resolvesFailing = 1;
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(productionOnly())], taskQueue, workflowId: `paged-lost-${taskQueue}` });
      await advanceUntil(env, handle, waitingFor('approval'));
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] });
      assert.equal((await handle.result()).state, 'completed');
      assert.deepEqual(fake.pages.map((p) => p.action), ['trigger', 'resolve'], 'the trigger may have landed: it is resolved once the instance is available');
      assert.equal(fake.pages[1].dedupKey, fake.pages[0].dedupKey);
      const onCall = (await handle.query(campaignStatusQuery)).stages[0].onCall;
      assert.deepEqual([onCall?.state, onCall?.open], ['resolved', [fake.pages[0].dedupKey]], 'the alert still open in PagerDuty is listed');
    });
  });
});
