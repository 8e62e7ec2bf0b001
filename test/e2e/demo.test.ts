/**
 * The main job end to end, as CI runs it: `npm start -- --auto-approve` (compressed timings) on a real
 * dev server with the simulator, then the final state read back from the simulator with the AWS SDK, and
 * each fleet instance's own workflow read back from Temporal.
 */
import assert from 'node:assert/strict';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { Client, Connection } from '@temporalio/client';
import { RDS_CAMPAIGN_ID, RDS_OPERATION, campaignStatusQuery, type CampaignStatus, type FleetInstanceReport } from '../../src/api';
import { runDemo, type DemoResult } from '../../dev/demo';
import { DEMO_FLEET_SIZE, fleetInstanceIds } from '../../dev/fixtures';
import { SimAdminClient } from '../../sim';
import { DEMO_ACCOUNTS, DEMO_ENVIRONMENTS } from '../../sim';

const sorted = (xs: string[]) => [...xs].sort();
const wavesOf = (instances: FleetInstanceReport[]) => Object.fromEntries(instances.map((i) => [i.instanceId, i.wave]));

describe('demo: npm start -- --auto-approve', function () {
  this.timeout(15 * 60_000);
  let demo: DemoResult | undefined;
  let connection: Connection | undefined;
  const lines: string[] = [];

  after(async () => {
    await connection?.close();
    await demo?.close();
  });

  it('upgrades every database of every environment in waves, announces once per window group, and deletes nothing', async function () {
    // The restore scenarios run beside it, in a demo of their own (test/e2e/restore-demo.test.ts): the same code, half the wall time.
    demo = await runDemo({
      autoApprove: true,
      scenario: 'campaign',
      fast: true,
      temporalPort: 0,
      uiPort: 0,
      simPort: 0,
      keepRunning: true,
      out: (l) => lines.push(l),
    });
    assert.equal(demo.campaign?.state, 'completed', lines.join('\n'));
    const campaign = demo.campaign!;
    assert.deepEqual(campaign.stages.map((s) => [s.name, s.status]), [
      ['preview', 'completed'],
      ['staging', 'completed'],
      ['production', 'completed'],
    ]);
    // Every stage is a fleet stage: each of its environment's databases upgraded from 15.5 by a workflow of its own.
    for (const [n, env] of DEMO_ENVIRONMENTS.entries()) {
      const f = campaign.stages[n].fleet!;
      assert.ok(f, `${env} is a fleet stage`);
      assert.deepEqual(sorted(f.instances.map((i) => i.instanceId)), sorted(fleetInstanceIds(env)), `${env} selected its ${DEMO_FLEET_SIZE} databases`);
      for (const i of f.instances) assert.deepEqual([i.instanceId, i.fromVersion, i.state], [i.instanceId, '15.5', 'completed']);
      assert.deepEqual(f.counts, { pending: 0, running: 0, completed: DEMO_FLEET_SIZE, failed: 0, skipped: 0, aborted: 0 });
      assert.equal(f.currentWave, f.waves, `${env} ran its last wave`);
    }
    const [preview, staging, production] = campaign.stages.map((s) => s.fleet!);
    // preview: listed, one wave (they share the window); staging: two at a time, smallest allocated storage first.
    assert.equal(preview.waves, 1);
    assert.deepEqual(wavesOf(preview.instances), { 'notifydb-preview': 1, 'notifydb-preview-2': 1, 'notifydb-preview-3': 1 });
    assert.ok(preview.instances.every((i) => i.window), 'each watched its window');
    assert.equal(new Set(preview.instances.map((i) => i.window!.start)).size, 1, 'one shared window');
    assert.equal(staging.waves, 2);
    assert.equal(staging.maxConcurrent, 2);
    assert.deepEqual(wavesOf(staging.instances), { 'notifydb-staging-2': 1, 'notifydb-staging': 1, 'notifydb-staging-3': 2 });
    // production: a wave per window group, each instance in its group's window.
    const groups = production.windowGroups!;
    assert.deepEqual(groups.map((g) => g.instances), [2, 1]);
    // Two windows opening at the same minute, of 30 and 45 minutes: two groups, each announced.
    assert.equal(groups[1].start, groups[0].start);
    assert.deepEqual(groups.map((g) => (Date.parse(g.end) - Date.parse(g.start)) / 60_000), [30, 45]);
    assert.deepEqual(wavesOf(production.instances), { 'notifydb-production': 1, 'notifydb-production-2': 1, 'notifydb-production-3': 2 });
    for (const i of production.instances) assert.equal(i.window?.start, groups[i.wave - 1].start, `${i.instanceId} in its group's window`);
    assert.equal(production.waves, 2);
    // People are proven by SSH keys: the starts were signed by the requester, a forged approval (the approver's
    // name, another key) was refused each time, and the approvals name the approver's key.
    const approver = demo.team!.people.get('demo-approver')!;
    for (const run of [demo.campaign!]) {
      assert.equal(run.identity.mode, 'verified');
      assert.equal(run.identity.requester?.fingerprint, demo.team!.people.get('demo-requester')!.fingerprint);
      assert.deepEqual(run.approvals.map((a) => [a.by, a.fingerprint]), [['demo-approver', approver.fingerprint]]);
    }
    // One approval covers every production database and its window.
    assert.match(campaign.approvals[0].plan, /^production\|15\.8\|3 instances in 2 windows \S+\.\.\S+\|sha256:[0-9a-f]{16}$/);
    assert.equal(demo.forgedApprovals.length, 1, 'a forged approval refused');
    for (const refusal of demo.forgedApprovals) assert.match(refusal, /refused for demo-approver: the signing key SHA256:\S+ \(ssh-ed25519\) is not listed for "demo-approver"/);
    // Each database has its own workflow, a child of the campaign's, findable by search attributes; each
    // staging database was probed on its own status endpoint and its downtime measured.
    connection = await Connection.connect({ address: demo.temporalAddress });
    const client = new Client({ connection });
    for (const [n, st] of campaign.stages.entries()) {
      for (const i of st.fleet!.instances) {
        assert.equal(i.workflowId, `campaign-${campaign.campaignId}/${st.name}/eu-west-2/${i.instanceId}`);
        const handle = client.workflow.getHandle(i.workflowId);
        const child = await handle.query<CampaignStatus>(campaignStatusQuery);
        assert.equal(child.state, 'completed', `${i.workflowId}: ${child.failure}`);
        assert.deepEqual([child.stages[0].instanceId, child.stages[0].status], [i.instanceId, 'completed']);
        const attrs = (await handle.describe()).typedSearchAttributes;
        assert.equal(attrs.get(RDS_OPERATION), 'campaign-instance');
        assert.equal(attrs.get(RDS_CAMPAIGN_ID), campaign.campaignId);
        if (n !== 1) continue;
        assert.ok(child.stages[0].probe!.requests > 0, `the probe of ${i.instanceId} ran`);
        assert.match(child.timeline.find((t) => t.step === 'probe-started')!.detail!, new RegExp(`/${i.instanceId}/status`), 'on its own status endpoint');
        assert.ok(i.downtimeSeconds! > 0, `and measured the upgrade downtime of ${i.instanceId}`);
      }
    }

    // Each environment lives in its own account (the simulator serves a 12-digit access key from that account).
    const simUrl = demo.simUrl;
    const instancesOf = async (account: string) => {
      const rds = new RDSClient({ region: 'eu-west-2', endpoint: simUrl, credentials: { accessKeyId: account, secretAccessKey: 'x' } });
      return new Map(((await rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? []).map((i) => [i.DBInstanceIdentifier!, i]));
    };
    for (const env of DEMO_ENVIRONMENTS) {
      const mine = await instancesOf(DEMO_ACCOUNTS[env]);
      for (const id of fleetInstanceIds(env)) {
        assert.equal(mine.get(id)?.EngineVersion, '15.8', `${id} at the target, in account ${DEMO_ACCOUNTS[env]}`);
        assert.equal(mine.get(id)?.AutoMinorVersionUpgrade, false, `${id} flag back off`);
      }
    }
    const byId = await instancesOf(DEMO_ACCOUNTS.production);
    assert.deepEqual(sorted([...byId.keys()]), sorted(fleetInstanceIds('production')), "production's account: its databases, nothing restored by the campaign");
    for (const id of fleetInstanceIds('production')) assert.equal(byId.get(id)?.DBInstanceStatus, 'available', `${id} running after its window`);

    const admin = new SimAdminClient(demo.simUrl);
    const state = (await admin.state()).state as { incidents: Record<string, { id: string; status: string; scheduled_for: string }> };
    const maintenances = Object.values(state.incidents);
    assert.equal(maintenances.length, groups.length, 'one status-page maintenance per window group');
    assert.deepEqual(sorted(maintenances.map((m) => m.scheduled_for)), groups.map((g) => g.start));
    assert.deepEqual(sorted(maintenances.map((m) => m.id)), sorted(groups.map((g) => g.statusPageIncidentId!)), "each group's maintenance named in its status");

    const calls = await admin.calls();
    assert.deepEqual(calls.filter((c) => /^Delete/.test(c.action)), [], 'nothing deleted');
    assert.deepEqual(calls.filter((c) => c.action === 'RestoreDBInstanceToPointInTime' || c.action === 'AuthorizeSecurityGroupIngress'), [], 'a campaign restores nothing and opens no access');
    // Each mutation once: every staging database upgraded once, every preview and production database's flag
    // turned on once and back off once, nothing else upgraded by hand.
    const upgradedNow = calls
      .filter((c) => c.action === 'ApplyPendingMaintenanceAction' || (c.action === 'ModifyDBInstance' && c.params.EngineVersion))
      .map((c) => c.params.DBInstanceIdentifier ?? c.params.ResourceIdentifier.split(':db:')[1]);
    assert.deepEqual(sorted(upgradedNow), sorted(fleetInstanceIds('staging')), 'each staging database upgraded once');
    const inWindows = sorted([...fleetInstanceIds('preview'), ...fleetInstanceIds('production')]);
    for (const flag of ['true', 'false']) {
      const set = calls.filter((c) => c.action === 'ModifyDBInstance' && c.params.AutoMinorVersionUpgrade === flag).map((c) => c.params.DBInstanceIdentifier);
      assert.deepEqual(sorted(set), inWindows, `AutoMinorVersionUpgrade=${flag} once for each database upgraded in its window`);
    }
    // Every change was made through the role of the account it changed, in a session naming the run and the step.
    const aws = (x: (typeof calls)[number]) => x.service !== 'statuspage' && x.service !== 'pagerduty';
    for (const c of calls.filter((x) => x.isMutation && aws(x))) {
      assert.match(String(c.principal), new RegExp(`^arn:aws:sts::${c.account}:assumed-role/rds-orchestrator/demo-`), `${c.action} in ${c.account} by ${c.principal}`);
    }
    const accountsChanged = new Set(calls.filter((x) => x.isMutation && aws(x)).map((x) => x.account));
    assert.deepEqual([...accountsChanged].sort(), [DEMO_ACCOUNTS.preview, DEMO_ACCOUNTS.staging, DEMO_ACCOUNTS.production].sort());
    // The person on call was paged as each production database's window opened, and the page resolved once it was at the target.
    const pages = calls.filter((c) => c.service === 'pagerduty' && c.httpStatus === 202);
    for (const id of fleetInstanceIds('production')) {
      const mine = pages.filter((c) => c.params['payload.source'] === `eu-west-2/${id}` || (c.params.dedup_key ?? '').includes(`/${id}/`));
      assert.deepEqual(mine.map((c) => c.action), ['trigger', 'resolve'], `${id} paged and resolved`);
      assert.equal(new Set(mine.map((c) => c.params.dedup_key)).size, 1, `${id}: one dedup key for its window`);
    }

    // The printed progress shows the waves: each fleet stage's wave and counts as they change, and the summary a row per database.
    const printed = lines.join('\n');
    for (const progress of [
      /🌊 preview: wave 1\/1, 3 running$/m,
      /🌊 preview: wave 1\/1, 3 completed$/m,
      /🌊 staging: wave 1\/2, 1 pending, 2 running$/m,
      /🌊 staging: wave 2\/2, 1 running, 2 completed$/m,
      /🌊 staging: wave 2\/2, 3 completed$/m,
      // Two window groups opening at the same minute, told apart by their ends (30 and 45 minutes) and instances.
      // A window that ends after midnight names its end's day too ("Sun … 23:21–Mon 2026-12-07 00:06 UTC").
      /🌊 production: 3 instance\(s\) in 2 window group\(s\): \w{3} [\d-]{10} (\d\d:\d\d)–(?:\w{3} [\d-]{10} )?\d\d:\d\d UTC \((notifydb-production, notifydb-production-2|2 instances)\); \w{3} [\d-]{10} \1–(?:\w{3} [\d-]{10} )?\d\d:\d\d UTC \((notifydb-production-3|1 instance)\), 3 pending$/m,
      // Both window groups open at the same minute: the second wave starts as the first does, so which line shows is timing.
      /🌊 production: wave [12]\/2 \(window group \w{3} [\d-]{10} \d\d:\d\d–(?:\w{3} [\d-]{10} )?\d\d:\d\d UTC \([^)]*\)\), (\d pending, )?[1-3] running/m,
      /🌊 production: wave 2\/2 \(window group \w{3} [\d-]{10} \d\d:\d\d–(?:\w{3} [\d-]{10} )?\d\d:\d\d UTC \(notifydb-production-3\)\), 3 completed$/m,
    ]) {
      assert.match(printed, progress);
    }
    for (const env of DEMO_ENVIRONMENTS) for (const id of fleetInstanceIds(env)) assert.match(printed, new RegExp(`^\\s*(${env}\\s+)?${id}\\s+\\d`, 'm'), `${id} in the summary`);
  });
});
