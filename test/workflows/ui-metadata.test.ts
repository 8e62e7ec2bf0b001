/**
 * What the Temporal UI shows of a campaign: a summary on every timer, activity and child workflow of its
 * history (user metadata on the events, read through the client), the run's own summary and details from the
 * client's start, and current details (the status line) through the `__temporal_workflow_metadata` query.
 */
import assert from 'node:assert/strict';
import type { temporal } from '@temporalio/proto';
import { defaultPayloadConverter } from '@temporalio/common';
import { approveUpdate, type CampaignSpec, type StageSpec } from '../../src/api';
import { startCampaign } from '../../src/client';
import { resolveCampaignSpec } from '../../src/input';
import { FakeAws } from '../fixtures/fake-aws';
import { timeSkippingEnv } from '../harness';
import { advanceUntil, withWorker } from './helpers';

type Event = temporal.api.history.v1.IHistoryEvent;

const text = (p: temporal.api.common.v1.IPayload | null | undefined): string | undefined => (p ? defaultPayloadConverter.fromPayload<string>(p) : undefined);

/** Each timer, activity and child start of a history, with the summary it carries (undefined when none). */
function commandsOf(events: Event[]): { kind: string; name: string; summary?: string }[] {
  return events.flatMap((e) => {
    const summary = text(e.userMetadata?.summary);
    if (e.timerStartedEventAttributes) return [{ kind: 'timer', name: e.timerStartedEventAttributes.timerId ?? '', summary }];
    if (e.activityTaskScheduledEventAttributes) return [{ kind: 'activity', name: e.activityTaskScheduledEventAttributes.activityType?.name ?? '', summary }];
    if (e.startChildWorkflowExecutionInitiatedEventAttributes) return [{ kind: 'child', name: e.startChildWorkflowExecutionInitiatedEventAttributes.workflowId ?? '', summary }];
    return [];
  });
}

describe('the Temporal UI tells the runbook (time-skipping)', function () {
  this.timeout(120_000);

  it('every timer, activity and child of a campaign carries a summary; the run has its own; current details are the status line', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fake.addInstance({ instanceId: 'notify-preview', preferredMaintenanceWindow: 'mon:03:00-mon:03:30' });
    for (const id of ['stg-a', 'stg-b']) fake.addInstance({ instanceId: id, preferredMaintenanceWindow: 'tue:03:00-tue:03:30' });
    fake.addInstance({ instanceId: 'prod-a', preferredMaintenanceWindow: 'wed:22:00-wed:22:30' });
    fake.addInstance({ instanceId: 'prod-b', preferredMaintenanceWindow: 'wed:22:00-wed:23:15' });
    const stages: StageSpec[] = [
      { name: 'preview', region: 'eu-west-2', instanceId: 'notify-preview', method: 'maintenance-window' },
      { name: 'staging', region: 'eu-west-2', instances: ['stg-a', 'stg-b'], waves: { maxConcurrent: 2 }, method: 'apply-now', probe: { url: 'http://status.example/{instanceId}/_status' } },
      { name: 'production', region: 'eu-west-2', instances: ['prod-a', 'prod-b'], method: 'maintenance-window' },
    ];
    const spec: CampaignSpec = { targetEngineVersion: '15.8', requester: 'alice', approval: { approvers: ['bob', 'carol'] }, stages, pollInterval: '5m' };
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const handle = await startCampaign(env.client, resolveCampaignSpec(spec), { taskQueue, workflowId: `ui-metadata-${taskQueue}` });
      const asking = await advanceUntil(env, handle, (s) => s.waitingFor?.kind === 'approval', { stepMs: 3600_000 });

      const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      assert.match(meta.currentDetails ?? '', /\*\*WAITING-FOR-APPROVAL\*\* at production/);
      assert.ok(meta.currentDetails!.includes(asking.waitingFor!.description), meta.currentDetails);

      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: asking.waitingFor!.plan! }] });
      assert.equal((await handle.result()).state, 'completed');
      const done = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      assert.match(done.currentDetails ?? '', /\*\*COMPLETED\*\*/);

      const events = (await handle.fetchHistory()).events ?? [];
      const started = events[0];
      assert.match(text(started.userMetadata?.summary) ?? '', /campaign pg-minor-15-8: PostgreSQL minor upgrade to 15\.8, requested by alice/);
      assert.match(text(started.userMetadata?.details) ?? '', /\*\*production\*\*: fleet/);

      const commands = commandsOf(events);
      // A child's summary is on its own started event; the time-skipping server does not copy it onto the
      // parent's initiated event (the dev server does), so read it there when the parent's event has none.
      for (const c of commands.filter((x) => x.kind === 'child' && !x.summary)) {
        const first = ((await env.client.workflow.getHandle(c.name).fetchHistory()).events ?? [])[0];
        c.summary = text(first?.userMetadata?.summary);
      }
      const without = commands.filter((c) => !c.summary);
      assert.deepEqual(without, [], 'every timer, activity and child has a summary');
      const summaries = commands.map((c) => `${c.kind}: ${c.summary}`);
      const has = (re: RegExp) => assert.ok(summaries.some((s) => re.test(s)), `${re} in:\n${summaries.join('\n')}`);
      for (const kind of ['timer', 'activity', 'child']) has(new RegExp(`^${kind}: `));
      has(/^timer: preview window Mon \S+ 03:00–03:30 UTC \(notify-preview\)/);
      has(/^timer: approval of production by one of bob, carol/);
      has(/^timer: pre-check of wave 1, 3d before window group \w{3} \S+ 22:00–22:30 UTC \(prod-a\)/);
      has(/^activity: read eu-west-2\/notify-preview/);
      has(/^activity: turn AutoMinorVersionUpgrade on for eu-west-2\/notify-preview/);
      // The campaign's children are its waves' batches; each batch's children are its instances.
      has(/^child: staging wave 1: 2 instance\(s\) → 15\.8/);
      has(/^child: production wave 2: 1 instance\(s\) → 15\.8/);
      const instanceSummaries: string[] = [];

      // The children's own histories (batches, then their instances): each timer, activity and child says what it does.
      const children = events.flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? []);
      for (const child of children) {
        const childEvents = (await env.client.workflow.getHandle(child).fetchHistory()).events ?? [];
        const childCommands = commandsOf(childEvents);
        for (const c of childCommands.filter((x) => x.kind === 'child' && !x.summary)) {
          c.summary = text((((await env.client.workflow.getHandle(c.name).fetchHistory()).events ?? [])[0])?.userMetadata?.summary);
        }
        assert.deepEqual(childCommands.filter((c) => !c.summary), [], `${child}: every timer, activity and child has a summary`);
        assert.ok(text(childEvents[0].userMetadata?.summary), `${child}: a summary of its own`);
        instanceSummaries.push(...childCommands.filter((c) => c.kind === 'child').map((c) => c.summary!));
        children.push(...childEvents.flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? []));
      }
      for (const re of [/^eu-west-2\/stg-a → 15\.8: staging wave 1/, /^eu-west-2\/prod-b → 15\.8: production wave 2/]) {
        assert.ok(instanceSummaries.some((x) => re.test(x)), `${re} in:\n${instanceSummaries.join('\n')}`);
      }
    });
  });
});
