import assert from 'node:assert/strict';
import { resolveCampaignSpec } from '../../src/input';
import { ApplicationFailure } from '@temporalio/common';
import { toActivityError } from '../../src/activities/aws-errors';
import { awsError } from '../activities/helpers';
import {
  abortUpdate,
  approveUpdate,
  campaignStatusQuery,
  decideUpdate,
  pauseUpdate,
  resumeUpdate,
  type CampaignSpec,
  type CampaignStatus,
  type ResolvedCampaignSpec,
} from '../../src/api';
import { upgradeCampaign } from '../../src/workflows';
import { UPSERT_ONLY_CHANGES_PATCH } from '../../src/workflows/campaign';
import { NOTIFY_LOCALLY_PATCH } from '../../src/workflows/shared/people';
import { RDS_INSTANCES, RDS_STATE } from '../../src/api/search-attributes';
import { nextWindowStartingAfter } from '../../src/domain/maintenance-window';
import { FakeAws } from '../fixtures/fake-aws';
import { timeSkippingEnv } from '../harness';
import { advanceUntil, failureOf, fleet, patchIds, rejected, runbookSpec, withWorker } from './helpers';
import { COVERED_BY_ONE_MARKER, EVERY_PATCH_OF_2026_12_07 } from '../../src/workflows/shared/patches';

const DAY = 86_400_000;


/** What an activity throws when the endpoint answers with something that is not AWS (src/activities/aws-errors.ts). */
function notAwsAnswer(op: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'AwsCallFailed',
    message: `${op} against http://127.0.0.1:4599 failed: HTTP 500 with a response that is not an AWS answer (text/html)`,
    details: [{ operation: op, endpoint: 'http://127.0.0.1:4599', kind: 'not-aws', httpStatus: 500, error: 'HTTP 500 with a response that is not an AWS answer (text/html)' }],
  });
}

function waitingFor(kind: string) {
  return (s: CampaignStatus) => s.waitingFor?.kind === kind;
}


describe('upgradeCampaign (time-skipping)', function () {
  this.timeout(180_000);

  it('runs the runbook end to end: preview window, staging apply-now, approved and announced production window', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(runbookSpec())], taskQueue, workflowId: `happy-${taskQueue}` });
      const startMs = await env.currentTimeMs();

      const asking = await advanceUntil(env, handle, waitingFor('approval'));
      assert.equal(asking.state, 'waiting-for-approval');
      assert.equal(asking.currentStage, 'production');
      // preview and staging are done by now, production has not been touched.
      assert.deepEqual(asking.stages.map((s) => s.status), ['completed', 'completed', 'running']);
      assert.equal(fake.instances.get('eu-west-2/notify-preview')!.engineVersion, '15.8');
      assert.equal(fake.instances.get('eu-west-2/notify-preview')!.autoMinorVersionUpgrade, false);
      assert.equal(asking.stages[1].downtimeSeconds, 10);
      assert.equal(fake.incidents.size, 0, 'no announcement before approval');
      assert.ok(!fake.mutations().some((c) => c.input.instanceId === 'notify-production'), 'production untouched before approval');

      const plan = asking.waitingFor!.plan!;
      await rejected(handle.executeUpdate(approveUpdate, { args: [{ by: 'alice' }] }), /requested this change and cannot approve/);
      await rejected(handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: 'production|15.8|2020-01-01T00:00:00.000Z' }] }), /plan changed/);
      const approvedAtMs = await env.currentTimeMs();
      assert.match(await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan, comment: 'lgtm' }] }), /recorded/);

      const result = await handle.result();
      assert.equal(result.state, 'completed');
      const status = await handle.query(campaignStatusQuery);
      assert.equal(status.state, 'completed');

      // Production window: the first Wednesday 22:00 UTC at least 14 days after the approval.
      const prod = status.stages[2];
      const windowStart = Date.parse(prod.window!.start);
      assert.equal(new Date(windowStart).getUTCDay(), 3);
      assert.equal(new Date(windowStart).getUTCHours(), 22);
      assert.ok(windowStart >= approvedAtMs + 14 * DAY, 'window at least 14 days after approval');
      assert.ok(windowStart < approvedAtMs + 21 * DAY, 'and the first such window');
      assert.equal(Date.parse(prod.window!.end) - windowStart, 30 * 60_000);

      // One status-page maintenance covering exactly that window, never cancelled.
      assert.equal(fake.incidents.size, 1);
      const incident = [...fake.incidents.values()][0];
      assert.equal(incident.scheduledFor, prod.window!.start);
      assert.equal(incident.scheduledUntil, prod.window!.end);
      assert.equal(incident.status, 'scheduled');
      assert.equal(prod.statusPageIncidentId, incident.id);

      // The pre-check ran 3 days before the window, then the flag went on, then off after the upgrade.
      const prodCalls = fake.calls.filter((c) => c.input.instanceId === 'notify-production');
      const precheck = prodCalls.filter((c) => c.name === 'listPendingMaintenance').pop()!;
      assert.ok(Math.abs(precheck.atMs - (windowStart - 3 * DAY)) < 60_000, 'pre-check 3 days before the window');
      const flags = prodCalls.filter((c) => c.name === 'setAutoMinorVersionUpgrade').map((c) => [c.input.enabled, c.atMs >= windowStart]);
      assert.deepEqual(flags, [[true, false], [false, true]]);

      for (const inst of fake.instances.values()) {
        assert.equal(inst.engineVersion, '15.8', `${inst.instanceId} upgraded`);
        assert.equal(inst.autoMinorVersionUpgrade, false, `${inst.instanceId} flag back off`);
      }
      assert.equal(fake.callsOf('applyUpgradeNow').length, 1, 'staging upgraded exactly once');
      assert.equal(status.followUps.length, 3);
      assert.match(status.followUps[0], /engine_version = "15.8".*notify-preview/);
      assert.deepEqual(status.approvals.map((a) => [a.by, a.valid]), [['bob', true]]);
      assert.ok(status.humanActions.some((h) => h.by === 'bob' && h.action === 'approve' && h.comment === 'lgtm'));
      const events = new Set(fake.notifications.map((n) => n.event));
      for (const e of ['stage-started', 'stage-completed', 'approval-needed', 'completed']) assert.ok(events.has(e as never), `notified ${e}`);
      assert.ok((await env.currentTimeMs()) - startMs > 14 * DAY, 'weeks of campaign ran on the skipped clock');
    });
  });

  it('preview: a missed window is recorded and the next window upgrades it', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    fake.instances.get('eu-west-2/notify-preview')!.windowsToMiss = 1;
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const spec = runbookSpec({ stages: [runbookSpec().stages[0]] });
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec)], taskQueue, workflowId: `missed-${taskQueue}` });
      const result = await handle.result();
      assert.equal(result.state, 'completed');
      assert.equal(result.stages[0].missedWindows, 1);
      const status = await handle.query(campaignStatusQuery);
      assert.ok(status.timeline.some((t) => t.step === 'window-missed'));
      assert.equal(fake.instances.get('eu-west-2/notify-preview')!.autoMinorVersionUpgrade, false);
    });
  });

  it('preview: after maxMissedWindows misses it escalates and waits for a decision', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    fake.instances.get('eu-west-2/notify-preview')!.windowsToMiss = 2;
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const spec = runbookSpec({ stages: [runbookSpec().stages[0]] });
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec)], taskQueue, workflowId: `escalate-${taskQueue}` });
      const s = await advanceUntil(env, handle, waitingFor('decision'));
      assert.equal(s.stages[0].missedWindows, 2);
      assert.ok(fake.notifications.some((n) => n.event === 'escalation'));
      await rejected(handle.executeUpdate(decideUpdate, { args: [{ by: 'carol', decision: 'maybe' as never }] }), /continue" or "abort/);
      await handle.executeUpdate(decideUpdate, { args: [{ by: 'carol', decision: 'continue', comment: 'AWS support says next week' }] });
      const result = await handle.result();
      assert.equal(result.state, 'completed');
      assert.equal(result.stages[0].missedWindows, 2);
    });
  });

  for (const decision of ['continue', 'abort'] as const) {
    it(`staging: downtime over the threshold waits for a team decision (${decision})`, async function () {
      const env = await timeSkippingEnv();
      const fake = new FakeAws();
      fleet(fake);
      fake.probeResult = { requests: 300, failures: 150, longestOutageSeconds: 75, timedOut: false };
      await withWorker(env, fake.activities(), async (taskQueue) => {
        const stages = runbookSpec().stages.slice(0, 2);
        const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(runbookSpec({ stages }))], taskQueue, workflowId: `downtime-${decision}-${taskQueue}` });
        const s = await advanceUntil(env, handle, waitingFor('decision'));
        assert.equal(s.currentStage, 'staging');
        assert.match(s.waitingFor!.question!, /75s exceeds the 1m threshold/);
        assert.equal(s.stages[1].downtimeSeconds, 75);
        await handle.executeUpdate(decideUpdate, { args: [{ by: 'dave', decision }] });
        const result = await handle.result();
        assert.equal(result.state, decision === 'continue' ? 'completed' : 'aborted');
        assert.equal(result.stages[1].status, decision === 'continue' ? 'completed' : 'aborted');
        const status = await handle.query(campaignStatusQuery);
        assert.ok(status.humanActions.some((h) => h.by === 'dave' && h.action === 'decide' && h.detail === decision));
      });
    });
  }

  /** A campaign of one runbook stage whose upgrade RDS leaves `incompatible-parameters`, run to its failure. */
  async function failedOnStuckUpgrade(stage: number, check: (r: { fake: FakeAws; failure: ApplicationFailure; s: CampaignStatus }) => void): Promise<void> {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    fake.upgradeEndsIn = 'incompatible-parameters';
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const spec = runbookSpec({ stages: [runbookSpec().stages[stage]] });
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec)], taskQueue, workflowId: `stuck-${stage}-${taskQueue}` });
      const failure = await failureOf(handle.result());
      check({ fake, failure, s: await handle.query(campaignStatusQuery) });
    });
  }

  for (const status of ['upgrading', 'rebooting'] as const) {
    it(`preview: an upgrade RDS still runs after the window and its grace (${status}) is watched on (RDS lets maintenance overrun), not counted as missed`, async function () {
      const env = await timeSkippingEnv();
      const fake = new FakeAws();
      fleet(fake);
      // A 30-minute window, an hour of grace: the upgrade started as the window opened runs two hours.
      fake.windowUpgradeDurationMs = 2 * 3_600_000;
      fake.windowUpgradeStatus = status;
      await withWorker(env, fake.activities(), async (taskQueue) => {
        const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(runbookSpec({ stages: [runbookSpec().stages[0]] }))], taskQueue, workflowId: `overrun-${status}-${taskQueue}` });
        const result = await handle.result();
        const s = await handle.query(campaignStatusQuery);
        assert.equal(result.state, 'completed');
        assert.deepEqual([s.stages[0].status, s.stages[0].missedWindows, fake.instances.get('eu-west-2/notify-preview')!.engineVersion], ['completed', 0, '15.8']);
        const overruns = s.timeline.filter((t) => t.step === 'window-overrun');
        assert.ok(overruns.length >= 1 && new RegExp(`notify-preview is still ${status} after its window .* watching on until`).test(overruns[0].detail ?? ''), JSON.stringify(overruns));
        assert.ok(!s.timeline.some((t) => t.step === 'window-missed'));
        assert.ok(!fake.notifications.some((n) => n.event === 'escalation'), 'nobody is told of a missed window');
      });
    });
  }

  it('staging: an upgrade RDS ends in incompatible-parameters fails the campaign at its next poll, saying what to fix', async function () {
    await failedOnStuckUpgrade(1, ({ fake, failure, s }) => {
      assert.equal(failure.type, 'CampaignFailed');
      assert.match(failure.message, /^campaign pg-minor-15-8 failed at staging: notify-staging in eu-west-2 is incompatible-parameters, which RDS does not leave by itself, so it will not become available at 15\.8: its DB parameter group is not compatible with it; revert or fix the parameters, then reboot it/);
      assert.deepEqual([s.state, s.stages[0].status], ['failed', 'failed']);
      assert.ok(fake.notifications.some((n) => n.event === 'failed' && /campaign failed at staging: notify-staging in eu-west-2 is incompatible-parameters/.test(n.text)), 'the notification names the stage');
      assert.ok(fake.callsOf('waitForInstance').length < 20, 'not polled until the probe\'s deadline');
    });
  });

  it('preview: an upgrade its window leaves in incompatible-parameters ends the watch at once; the campaign fails with the flag turned back off', async function () {
    await failedOnStuckUpgrade(0, ({ fake, failure, s }) => {
      assert.match(failure.message, /^campaign pg-minor-15-8 failed at preview: notify-preview in eu-west-2 is incompatible-parameters, which RDS does not leave by itself, so it will not become available at 15\.8: its DB parameter group is not compatible with it/);
      assert.deepEqual([s.state, s.stages[0].status, s.stages[0].missedWindows], ['failed', 'failed', 0], 'not counted as a missed window, never planned again');
      const preview = fake.instances.get('eu-west-2/notify-preview')!;
      assert.deepEqual([preview.status, preview.autoMinorVersionUpgrade], ['incompatible-parameters', false], 'the flag is as it was before');
      assert.ok(s.timeline.some((t) => t.step === 'compensated' && /AutoMinorVersionUpgrade/.test(t.detail ?? '')));
    });
  });

  it('production: only a listed approver counts, and the minimum number of approvals is required', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const spec = runbookSpec({ stages: [runbookSpec().stages[2]], approval: { approvers: ['bob', 'erin'], minApprovals: 2 } });
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec)], taskQueue, workflowId: `approvers-${taskQueue}` });
      await advanceUntil(env, handle, waitingFor('approval'));
      await rejected(handle.executeUpdate(approveUpdate, { args: [{ by: 'mallory' }] }), /not on the approver list/);
      await rejected(handle.executeUpdate(approveUpdate, { args: [{ by: '' }] }), /--as NAME/);
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] });
      await rejected(handle.executeUpdate(approveUpdate, { args: [{ by: 'Bob' }] }), /already approved/);
      const still = await handle.query(campaignStatusQuery);
      assert.equal(still.state, 'waiting-for-approval', 'one approval of two is not enough');
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'erin' }] });
      const result = await handle.result();
      assert.equal(result.state, 'completed');
    });
  });

  it('production: an approval for a window that moved no longer counts and is asked for again', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const spec = runbookSpec({ stages: [runbookSpec().stages[2]], approval: { reminderInterval: '1d' } });
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec)], taskQueue, workflowId: `moved-${taskQueue}` });
      const first = await advanceUntil(env, handle, waitingFor('approval'));
      // Nobody answers for 8 days: the proposed window is now under 14 days ahead.
      await env.sleep(8 * DAY);
      const reminders = fake.notifications.filter((n) => n.event === 'reminder').length;
      assert.ok(reminders >= 7, `reminders repeat daily while waiting (got ${reminders})`);
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: first.waitingFor!.plan }] });
      const second = await advanceUntil(env, handle, (s) => s.waitingFor?.kind === 'approval' && s.waitingFor.plan !== first.waitingFor!.plan, { stepMs: 60_000 });
      assert.ok(second.timeline.some((t) => t.step === 'plan-changed'));
      assert.equal(second.approvals[0].valid, false);
      await rejected(handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: first.waitingFor!.plan }] }), /plan changed/);
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: second.waitingFor!.plan }] });
      assert.equal((await handle.result()).state, 'completed');
      assert.equal(fake.incidents.size, 1, 'announced once, for the approved window');
      assert.equal([...fake.incidents.values()][0].scheduledFor, second.waitingFor!.plan!.split('|')[2]);
    });
  });

  it('production: AWS not listing the expected pending maintenance escalates; abort then compensates', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const spec = runbookSpec({ stages: [runbookSpec().stages[2]] });
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec)], taskQueue, workflowId: `precheck-${taskQueue}` });
      await advanceUntil(env, handle, waitingFor('approval'));
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] });
      await advanceUntil(env, handle, waitingFor('precheck'), { stepMs: 60_000 });
      fake.instances.get('eu-west-2/notify-production')!.pending = [{ action: 'system-update', description: 'OS patch' }];
      const s = await advanceUntil(env, handle, waitingFor('decision'));
      assert.match(s.waitingFor!.question!, /AWS lists system-update \(OS patch\) instead of a pending db-upgrade to 15.8/);
      assert.ok(fake.notifications.some((n) => n.event === 'escalation'));
      await handle.executeUpdate(decideUpdate, { args: [{ by: 'bob', decision: 'abort', comment: 'AWS changed its plan' }] });
      const result = await handle.result();
      assert.equal(result.state, 'aborted');
      const inc = [...fake.incidents.values()][0];
      assert.equal(inc.status, 'completed', 'announcement cancelled');
      assert.match(inc.cancelReason!, /stopped/);
      assert.equal(fake.instances.get('eu-west-2/notify-production')!.autoMinorVersionUpgrade, false);
    });
  });

  for (const kind of ['auto-applied-after', 'opted-in'] as const) {
    const what = kind === 'auto-applied-after' ? 'an AutoAppliedAfterDate counts from its first window after it' : "a colleague's next-maintenance opt-in, dated only by CurrentApplyDate";
    it(`production: AWS applying the upgrade before the chosen window escalates (${what})`, async function () {
      const env = await timeSkippingEnv();
      const fake = new FakeAws();
      fleet(fake);
      const prod = fake.instances.get('eu-west-2/notify-production')!;
      const soon = (await env.currentTimeMs()) + 5 * DAY;
      // "applied to the resource during its first maintenance window after this date"
      const awsWindow = nextWindowStartingAfter(prod.preferredMaintenanceWindow, soon - 1).startMs;
      const dates = kind === 'auto-applied-after' ? { autoAppliedAfterDate: new Date(soon).toISOString() } : { optInStatus: 'next-maintenance', currentApplyDate: new Date(awsWindow).toISOString() };
      prod.pending = [{ action: 'db-upgrade', description: 'Upgrade to PostgreSQL 15.8', ...dates }];
      await withWorker(env, fake.activities(), async (taskQueue) => {
        const spec = runbookSpec({ stages: [runbookSpec().stages[2]] });
        const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec)], taskQueue, workflowId: `awsdate-${kind}-${taskQueue}` });
        const s = await advanceUntil(env, handle, waitingFor('decision'));
        assert.match(s.waitingFor!.question!, new RegExp(`AWS will apply its pending db-upgrade \\(Upgrade to PostgreSQL 15\\.8\\) to notify-production on ${new Date(awsWindow).toISOString()}`));
        await handle.executeUpdate(abortUpdate, { args: [{ by: 'bob', reason: 'will schedule with AWS' }] });
        assert.equal((await handle.result()).state, 'aborted');
        assert.equal(fake.mutations().length, 0, 'nothing was changed');
      });
    });
  }

  it('production: an AutoAppliedAfterDate a day before the chosen window is no conflict (AWS would use that same window): no question, the approval is asked', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    const prod = fake.instances.get('eu-west-2/notify-production')!;
    const spec = resolveCampaignSpec(runbookSpec({ stages: [runbookSpec().stages[2]] }));
    await withWorker(env, fake.activities(), async (taskQueue) => {
      // The window the campaign chooses, from a run without pending maintenance.
      const first = await env.client.workflow.start(upgradeCampaign, { args: [spec], taskQueue, workflowId: `awsdate-window-${taskQueue}` });
      const chosen = (await advanceUntil(env, first, waitingFor('approval'))).stages[0].window!.start;
      await first.terminate('window read');
      prod.pending = [{ action: 'db-upgrade', description: 'Upgrade to PostgreSQL 15.8', autoAppliedAfterDate: new Date(Date.parse(chosen) - DAY).toISOString() }];
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [spec], taskQueue, workflowId: `awsdate-same-${taskQueue}` });
      const s = await advanceUntil(env, handle, waitingFor('approval'));
      assert.equal(s.stages[0].window?.start, chosen);
      assert.ok(!fake.notifications.some((n) => n.event === 'escalation'), 'nobody was asked about AWS applying it first');
      await handle.terminate('enough');
    });
  });

  it('abort while waiting for the preview window turns the flag back off', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(runbookSpec())], taskQueue, workflowId: `abort-window-${taskQueue}` });
      await advanceUntil(env, handle, waitingFor('window'), { stepMs: 1000 });
      assert.equal(fake.instances.get('eu-west-2/notify-preview')!.autoMinorVersionUpgrade, true);
      assert.match(await handle.executeUpdate(abortUpdate, { args: [{ by: 'alice', reason: 'freeze' }] }), /compensating/);
      const result = await handle.result();
      assert.equal(result.state, 'aborted');
      assert.equal(result.stages[0].status, 'aborted');
      assert.equal(fake.instances.get('eu-west-2/notify-preview')!.autoMinorVersionUpgrade, false);
      assert.equal(fake.instances.get('eu-west-2/notify-preview')!.engineVersion, '15.5');
      // A closed campaign takes no more updates.
      await assert.rejects(handle.executeUpdate(abortUpdate, { args: [{ by: 'alice' }] }));
    });
  });

  it('abort while waiting for approval changes nothing in production', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const spec = runbookSpec({ stages: [runbookSpec().stages[2]] });
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec)], taskQueue, workflowId: `abort-approval-${taskQueue}` });
      await advanceUntil(env, handle, waitingFor('approval'));
      await handle.executeUpdate(abortUpdate, { args: [{ by: 'alice', reason: 'postponed' }] });
      assert.equal((await handle.result()).state, 'aborted');
      assert.equal(fake.mutations().length, 0);
      assert.ok(fake.notifications.some((n) => n.event === 'aborted'));
    });
  });

  it('abort after the announcement cancels it and reverts the production flag', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const spec = runbookSpec({ stages: [runbookSpec().stages[2]] });
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec)], taskQueue, workflowId: `abort-prod-${taskQueue}` });
      await advanceUntil(env, handle, waitingFor('approval'));
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] });
      // The flag is on once the pre-check passed; now waiting for the window itself.
      // The pre-check is up to 18 days ahead (14 days' notice to a weekly window, 3 days before it).
      await advanceUntil(env, handle, (s) => s.state === 'waiting-for-window' && s.waitingFor?.kind === 'window', { stepMs: 2 * 3600_000 });
      assert.equal(fake.instances.get('eu-west-2/notify-production')!.autoMinorVersionUpgrade, true);
      await handle.executeUpdate(abortUpdate, { args: [{ by: 'alice', reason: 'incident in progress' }] });
      assert.equal((await handle.result()).state, 'aborted');
      assert.equal(fake.instances.get('eu-west-2/notify-production')!.autoMinorVersionUpgrade, false);
      assert.equal([...fake.incidents.values()][0].status, 'completed');
      const status = await handle.query(campaignStatusQuery);
      assert.deepEqual(status.timeline.filter((t) => t.step === 'compensated').map((t) => t.detail!.split(' ')[0]), ['AutoMinorVersionUpgrade', 'cancel']);
    });
  });

  it('pause holds the campaign before its next change; resume continues', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const stages = runbookSpec().stages.slice(0, 2);
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(runbookSpec({ stages }))], taskQueue, workflowId: `pause-${taskQueue}` });
      await advanceUntil(env, handle, waitingFor('window'), { stepMs: 1000 });
      await handle.executeUpdate(pauseUpdate, { args: [{ by: 'alice', reason: 'on-call busy' }] });
      await rejected(handle.executeUpdate(pauseUpdate, { args: [{ by: 'alice' }] }), /already paused/);
      const paused = await advanceUntil(env, handle, (s) => s.state === 'paused');
      assert.equal(paused.currentStage, 'preview');
      // Held for two weeks: staging never started.
      await env.sleep(14 * DAY);
      assert.equal((await handle.query(campaignStatusQuery)).stages[1].status, 'pending');
      assert.equal(fake.callsOf('applyUpgradeNow').length, 0);
      await handle.executeUpdate(resumeUpdate, { args: [{ by: 'bob' }] });
      await rejected(handle.executeUpdate(resumeUpdate, { args: [{ by: 'bob' }] }), /not paused/);
      assert.equal((await handle.result()).state, 'completed');
      const actions = (await handle.query(campaignStatusQuery)).humanActions.map((h) => `${h.action}:${h.by}`);
      assert.deepEqual(actions, ['pause:alice', 'resume:bob']);
    });
  });

  it('a change that keeps failing shows in status and in the list memo, is notified, and clears once AWS answers', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    fake.failNext('setAutoMinorVersionUpgrade', notAwsAnswer('ModifyDBInstance AutoMinorVersionUpgrade'), 7);
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const stages = runbookSpec().stages.slice(0, 1);
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(runbookSpec({ stages }))], taskQueue, workflowId: `trouble-${taskQueue}` });
      const troubled = await advanceUntil(env, handle, (s) => s.trouble !== undefined, { stepMs: 10_000 });
      assert.deepEqual(
        { step: troubled.trouble!.step, op: troubled.trouble!.operation, endpoint: troubled.trouble!.endpoint, kind: troubled.trouble!.kind },
        { step: 'preview/auto-minor-upgrade-on', op: 'ModifyDBInstance AutoMinorVersionUpgrade', endpoint: 'http://127.0.0.1:4599', kind: 'not-aws' },
      );
      assert.match(String((await handle.describe()).memo?.awsTrouble), /preview\/auto-minor-upgrade-on: ModifyDBInstance AutoMinorVersionUpgrade against http:\/\/127\.0\.0\.1:4599 failing since/);
      const result = await handle.result();
      assert.equal(result.state, 'completed');
      const s = await handle.query(campaignStatusQuery);
      assert.equal(s.trouble, undefined);
      assert.equal((await handle.describe()).memo?.awsTrouble, undefined, 'memo cleared');
      assert.ok(s.timeline.some((t) => t.step === 'aws-call-recovered'));
      assert.ok(fake.notifications.some((n) => n.event === 'escalation' && /ModifyDBInstance AutoMinorVersionUpgrade .*failing since/.test(n.text)));
      assert.equal(fake.callsOf('setAutoMinorVersionUpgrade').filter((c) => c.input.enabled === true).length, 8);
    });
  });

  it('AccessDenied on a change mid-campaign: fails naming stage, role and account; runs the compensations that can run, says how to do the others by hand', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    const role = 'arn:aws:iam::444444444444:role/rds-orchestrator';
    const refused = toActivityError(awsError('AccessDenied', 'User: arn:aws:sts::444444444444:assumed-role/rds-orchestrator/x is not authorized to perform: rds:ModifyDBInstance', 403), {
      operation: 'ModifyDBInstance AutoMinorVersionUpgrade',
      where: { region: 'eu-west-2', roleArn: role },
      instanceId: 'notify-production',
    }) as ApplicationFailure;
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const spec = runbookSpec({ stages: [{ ...runbookSpec().stages[2], aws: { roleArn: role } }] });
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec)], taskQueue, workflowId: `denied-${taskQueue}` });
      const asking = await advanceUntil(env, handle, waitingFor('approval'));
      assert.deepEqual([asking.stages[0].account, asking.stages[0].role], ['444444444444', role], 'preflight found the account');
      fake.failNext('setAutoMinorVersionUpgrade', refused, 2); // the change, and its compensation
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] });
      const failure = await failureOf(handle.result());
      assert.equal(failure.type, 'Unauthorized');
      assert.match(failure.message, /^production: ModifyDBInstance AutoMinorVersionUpgrade in region eu-west-2 as role arn:aws:iam::444444444444:role\/rds-orchestrator \(account 444444444444\) was refused \(AccessDenied\)/);
      const s = await handle.query(campaignStatusQuery);
      assert.equal([...fake.incidents.values()][0].status, 'completed', 'the announcement, which can still be cancelled, is');
      assert.ok(s.timeline.some((t) => t.step === 'compensated' && /status-page/.test(t.detail ?? '')));
      assert.ok(
        s.followUps.some((f) => /Compensation failed, do it by hand: AutoMinorVersionUpgrade off .*`aws rds modify-db-instance --region eu-west-2 --db-instance-identifier notify-production --no-auto-minor-version-upgrade` with credentials of arn:aws:iam::444444444444:role\/rds-orchestrator/.test(f)),
        s.followUps.join('\n'),
      );
    });
  });

  it('keeps search attributes current while upserting only what changed (patched)', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const spec = runbookSpec({ stages: runbookSpec().stages.slice(0, 2) });
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec)], taskQueue, workflowId: `sa-${taskQueue}` });
      assert.equal((await handle.result()).state, 'completed');
      const sa = (await handle.describe()).typedSearchAttributes;
      assert.equal(sa.get(RDS_STATE), 'completed');
      assert.deepEqual(sa.get(RDS_INSTANCES), ['eu-west-2/notify-preview', 'eu-west-2/notify-staging']);
      const events = (await handle.fetchHistory()).events ?? [];
      // Ours (the SDK upserts TemporalChangeVersion itself for the run's patches).
      const upserts = events.filter((e) => Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}).some((k) => k.startsWith('Rds'))).length;
      const changes = (await handle.query(campaignStatusQuery)).timeline.length;
      // A new run takes every patch of its code with one marker (shared/patches.ts), the upsert and notify patches among them.
      assert.deepEqual(patchIds({ events }), [EVERY_PATCH_OF_2026_12_07], 'one patch marker');
      assert.ok(COVERED_BY_ONE_MARKER.includes(UPSERT_ONLY_CHANGES_PATCH) && COVERED_BY_ONE_MARKER.includes(NOTIFY_LOCALLY_PATCH));
      const changeVersions = events.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.TemporalChangeVersion).length;
      assert.equal(changeVersions, 1, 'one TemporalChangeVersion upsert');
      assert.ok(upserts > 0 && upserts < 12, `upserts ${upserts} for ${changes} steps`);
      // Notifications are local activities (the patch taken): markers, no activity tasks.
      const scheduled = events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name] : []));
      assert.ok(!scheduled.includes('notify'), `no notify activity task: ${scheduled.join(', ')}`);
      assert.ok(events.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity'), 'notifications recorded as local activity markers');
    });
  });

  describe('validation before the first change', function () {
    async function failsWith(spec: CampaignSpec | ResolvedCampaignSpec, fake: FakeAws, type: string, pattern: RegExp): Promise<void> {
      const env = await timeSkippingEnv();
      await withWorker(env, fake.activities(), async (taskQueue) => {
        const handle = await env.client.workflow.start(upgradeCampaign, { args: [spec], taskQueue, workflowId: `invalid-${taskQueue}` });
        const failure = await failureOf(handle.result());
        assert.equal(failure.type, type);
        assert.equal(failure.nonRetryable, true);
        assert.match(failure.message, pattern);
      });
      assert.equal(fake.mutations().length, 0, 'nothing in AWS was touched');
    }

    it('rejects a malformed spec naming each wrong field', async function () {
      const fake = new FakeAws();
      fleet(fake);
      const spec = { ...runbookSpec(), targetEngineVersion: 'fifteen', requester: '' } as CampaignSpec;
      await failsWith(spec, fake, 'InvalidSpec', /targetEngineVersion[\s\S]*requester/);
    });

    it('fails when an instance does not exist', async function () {
      const fake = new FakeAws();
      fleet(fake);
      fake.instances.delete('eu-west-2/notify-staging');
      await failsWith(resolveCampaignSpec(runbookSpec()), fake, 'PreflightFailed', /staging: DB instance notify-staging not found in eu-west-2/);
    });

    it('fails on a major-version or invalid target, listing the valid minor targets', async function () {
      const fake = new FakeAws();
      fleet(fake);
      await failsWith(resolveCampaignSpec(runbookSpec({ targetEngineVersion: '16.4' })), fake, 'PreflightFailed', /major version upgrade.*15\.6, 15\.8/);
      const fake2 = new FakeAws();
      fleet(fake2);
      await failsWith(resolveCampaignSpec(runbookSpec({ targetEngineVersion: '15.9' })), fake2, 'PreflightFailed', /15\.9 is not a valid upgrade target .* valid minor targets: 15\.6, 15\.8/);
    });

    it('refuses, in a maintenance-window stage, a target AutoMinorVersionUpgrade would never bring (ValidUpgradeTarget.AutoUpgrade)', async function () {
      const fake = new FakeAws();
      fleet(fake);
      // 15.6 is a valid minor target of 15.5, but RDS's preferred (AutoUpgrade) minor is 15.8: the flag would bring 15.8.
      await failsWith(
        resolveCampaignSpec(runbookSpec({ targetEngineVersion: '15.6' })),
        fake,
        'PreflightFailed',
        /preview: 15\.6 cannot come through a maintenance window: .*only RDS's preferred minor for 15\.5, 15\.8 .*Use targetEngineVersion 15\.8, or method apply-now for preview[\s\S]*production: 15\.6 cannot come/,
      );
      // staging upgrades with EngineVersion exactly, so it alone may take 15.6.
      const env = await timeSkippingEnv();
      const fake2 = new FakeAws();
      fleet(fake2);
      await withWorker(env, fake2.activities(), async (taskQueue) => {
        const stages = runbookSpec().stages.filter((st) => st.name === 'staging');
        const result = await env.client.workflow.execute(upgradeCampaign, { args: [resolveCampaignSpec(runbookSpec({ targetEngineVersion: '15.6', stages }))], taskQueue, workflowId: `exact-${taskQueue}` });
        assert.equal(result.stages[0].status, 'completed');
      });
    });

    it('a read that keeps failing fails preflight naming the call and the endpoint, alongside every other problem', async function () {
      const fake = new FakeAws();
      fleet(fake);
      fake.instances.delete('eu-west-2/notify-staging');
      fake.failNext('listUpgradeTargets', notAwsAnswer('DescribeDBEngineVersions postgres 15.5'), 1000);
      await failsWith(
        resolveCampaignSpec(runbookSpec()),
        fake,
        'PreflightFailed',
        /preview: DescribeDBEngineVersions postgres 15\.5 against http:\/\/127\.0\.0\.1:4599 failing since .*HTTP 500.*gave up after \d+m \d+s \(step preview\/preflight\)[\s\S]*staging: DB instance notify-staging not found[\s\S]*production: DescribeDBEngineVersions/,
      );
      assert.equal(fake.callsOf('listUpgradeTargets').length, 18, 'three rounds of three attempts for each of two instances');
    });

    it('fails on an instance that is not PostgreSQL or has an unparsable window', async function () {
      const fake = new FakeAws();
      fleet(fake);
      fake.instances.get('eu-west-2/notify-preview')!.engine = 'mysql';
      fake.instances.get('eu-west-2/notify-production')!.preferredMaintenanceWindow = 'someday';
      await failsWith(resolveCampaignSpec(runbookSpec()), fake, 'PreflightFailed', /preview: .*runs mysql, not postgres[\s\S]*production: .*someday/);
    });

    it('skips a stage already at the target and says so', async function () {
      const env = await timeSkippingEnv();
      const fake = new FakeAws();
      fleet(fake);
      fake.instances.get('eu-west-2/notify-preview')!.engineVersion = '15.8';
      await withWorker(env, fake.activities(), async (taskQueue) => {
        const stages = runbookSpec().stages.slice(0, 2);
        const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(runbookSpec({ stages }))], taskQueue, workflowId: `skip-${taskQueue}` });
        const result = await handle.result();
        assert.equal(result.stages[0].status, 'skipped');
        assert.equal(result.stages[0].note, 'already at 15.8');
        assert.equal(fake.callsOf('setAutoMinorVersionUpgrade').length, 0);
        assert.equal(result.stages[1].status, 'completed');
      });
    });
  });
});
