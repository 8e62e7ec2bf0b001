/**
 * A fleet stage over many places (accounts × regions), on the time-skipping server: its preflight reads each place
 * in one activity (readFleetPlace), PLACES_AT_ONCE places at a time, and takes what each found in the order of the
 * places, as `campaign plan` does. Three activities per place, one place after another, made a campaign over 50
 * accounts × 2 regions schedule 900 activities before its first change (bench/campaign-scale).
 */
import assert from 'node:assert/strict';
import type { temporal } from '@temporalio/proto';
import { campaignStatusQuery, type CampaignSpec, type StageSpec } from '../../src/api';
import { PLACES_AT_ONCE } from '../../src/domain/fleet';
import { resolveCampaignSpec } from '../../src/input';
import { upgradeCampaign } from '../../src/workflows';
import { FakeAws } from '../fixtures/fake-aws';
import { timeSkippingEnv } from '../harness';
import { withWorker } from './helpers';

const ACCOUNTS = 6;
const REGIONS = ['eu-west-1', 'eu-west-2'];
const accountOf = (n: number) => String(400000000000 + n);

/** The most activities of `type` scheduled and not yet closed at any point of the history. */
function mostInFlight(events: temporal.api.history.v1.IHistoryEvent[], type: string): number {
  const open = new Set<string>();
  let most = 0;
  for (const e of events) {
    if (e.activityTaskScheduledEventAttributes?.activityType?.name === type) open.add(String(e.eventId));
    const closed = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
    if (closed) open.delete(String(closed.scheduledEventId));
    most = Math.max(most, open.size);
  }
  return most;
}

describe('a fleet stage over many places (time-skipping)', function () {
  this.timeout(120_000);

  it('reads each of 12 places in one activity, several at once, and selects what each account holds, in the order of the places', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    for (let a = 1; a <= ACCOUNTS; a++) {
      for (const region of REGIONS) {
        for (const n of [1, 2]) {
          const id = `notify-${a}-${region}-${n}`;
          // The second of each place is already at the target: skipped.
          fake.addInstance({ instanceId: id, region, account: accountOf(a), engineVersion: n === 2 ? '15.8' : '15.5', tags: { environment: 'staging' }, endpoint: { address: `${id}.abc.${region}.rds.amazonaws.com`, port: 5432 } });
        }
      }
    }
    const from = REGIONS.flatMap((region) => Array.from({ length: ACCOUNTS }, (_, a) => ({ region, aws: { roleArn: `arn:aws:iam::${accountOf(a + 1)}:role/rds-orchestrator` } })));
    const staging: StageSpec = { name: 'staging', region: 'eu-west-2', select: { tags: { environment: 'staging' }, from }, method: 'apply-now', waves: { maxConcurrent: 12 }, probe: { url: 'http://status.example/{instanceId}/_status' } };
    const spec: CampaignSpec = { targetEngineVersion: '15.8', requester: 'alice', stages: [staging], pollInterval: '5m' };
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const workflowId = `fleet-places-${taskQueue}`;
      const handle = await env.client.workflow.start(upgradeCampaign, { args: [resolveCampaignSpec(spec)], taskQueue, workflowId });
      assert.equal((await handle.result()).state, 'completed');

      const f = (await handle.query(campaignStatusQuery)).stages[0].fleet!;
      assert.deepEqual(f.counts, { pending: 0, running: 0, completed: 12, failed: 0, skipped: 12, aborted: 0 });
      // In the order of the places (each region's accounts in turn), each account's own instances only.
      const expected = REGIONS.flatMap((region) => Array.from({ length: ACCOUNTS }, (_, a) => [`${region}/notify-${a + 1}-${region}-1`, `${region}/notify-${a + 1}-${region}-2`]).flat());
      assert.deepEqual(f.instances.map((i) => `${i.region}/${i.instanceId}`), expected);
      assert.equal(f.instances.find((i) => i.instanceId === 'notify-3-eu-west-1-2')!.state, 'skipped');
      assert.equal(fake.callsOf('applyUpgradeNow').length, 12);

      // The campaign's own history: one activity per place, several at once; the three reads ran inside them.
      const events = (await handle.fetchHistory()).events ?? [];
      const scheduled = events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType!.name!] : []));
      assert.equal(scheduled.filter((n) => n === 'readFleetPlace').length, 12);
      assert.deepEqual(scheduled.filter((n) => ['whoAmI', 'findFleet', 'listUpgradeTargets'].includes(n)), []);
      const most = mostInFlight(events, 'readFleetPlace');
      assert.ok(most > 1 && most <= PLACES_AT_ONCE, `${most} places read at once`);
      assert.equal(fake.callsOf('whoAmI').length, 12, 'each place checked in its own account');
      assert.equal(fake.callsOf('listUpgradeTargets').length, 12, 'the catalogue of 15.5 once per place');
    });
  });
});
