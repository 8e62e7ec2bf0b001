/**
 * The main job end to end, as CI runs it: `npm start -- --auto-approve` (compressed timings) on a real
 * dev server with the simulator, then the final state read back from the simulator with the AWS SDK.
 */
import assert from 'node:assert/strict';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { runDemo, type DemoResult } from '../../dev/demo';
import { SimAdminClient } from '../../sim/src/client';
import { DEMO_ACCOUNTS } from '../../sim/src/seed';

describe('demo: npm start -- --auto-approve', function () {
  this.timeout(15 * 60_000);
  let demo: DemoResult | undefined;
  const lines: string[] = [];

  after(async () => {
    await demo?.close();
  });

  it('upgrades the whole fleet, announces once, restores and cuts over, and deletes nothing', async function () {
    demo = await runDemo({
      autoApprove: true,
      scenario: 'all',
      fast: true,
      temporalPort: 0,
      uiPort: 0,
      simPort: 0,
      keepRunning: true,
      out: (l) => lines.push(l),
    });
    assert.equal(demo.campaign?.state, 'completed', lines.join('\n'));
    assert.equal(demo.restore?.state, 'completed', lines.join('\n'));
    assert.deepEqual(demo.campaign!.stages.map((s) => [s.name, s.fromVersion, s.status]), [
      ['preview', '15.5', 'completed'],
      ['staging', '15.5', 'completed'],
      ['production', '15.5', 'completed'],
    ]);
    // People are proven by SSH keys: the starts were signed by the requester, a forged approval (the approver's
    // name, another key) was refused each time, and the approvals name the approver's key.
    const approver = demo.team!.people.get('demo-approver')!;
    for (const run of [demo.campaign!, demo.restore!]) {
      assert.equal(run.identity.mode, 'verified');
      assert.equal(run.identity.requester?.fingerprint, demo.team!.people.get('demo-requester')!.fingerprint);
      assert.deepEqual(run.approvals.map((a) => [a.by, a.fingerprint]), [['demo-approver', approver.fingerprint]]);
    }
    assert.equal(demo.forgedApprovals.length, 2, lines.join('\n'));
    for (const refusal of demo.forgedApprovals) assert.match(refusal, /refused for demo-approver: the signing key SHA256:\S+ \(ssh-ed25519\) is not listed for "demo-approver"/);
    assert.ok(demo.campaign!.stages[1].probe!.requests > 0, 'the staging probe ran');
    assert.ok(demo.campaign!.stages[1].downtimeSeconds! > 0, 'and measured the upgrade downtime');

    // Each environment lives in its own account (the simulator serves a 12-digit access key from that account).
    const simUrl = demo.simUrl;
    const instancesOf = async (account: string) => {
      const rds = new RDSClient({ region: 'eu-west-2', endpoint: simUrl, credentials: { accessKeyId: account, secretAccessKey: 'x' } });
      return new Map(((await rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? []).map((i) => [i.DBInstanceIdentifier!, i]));
    };
    for (const env of ['preview', 'staging', 'production'] as const) {
      const id = `notifydb-${env}`;
      const mine = await instancesOf(DEMO_ACCOUNTS[env]);
      assert.equal(mine.get(id)?.EngineVersion, '15.8', `${id} at the target, in account ${DEMO_ACCOUNTS[env]}`);
      assert.equal(mine.get(id)?.AutoMinorVersionUpgrade, false, `${id} flag back off`);
    }
    const byId = await instancesOf(DEMO_ACCOUNTS.production);
    const restored = demo.restore!.target.instanceId;
    assert.equal(byId.get(restored)?.DBInstanceStatus, 'available');
    assert.equal(byId.get('notifydb-production')?.DBInstanceStatus, 'stopped', 'old instance stopped by the cutover');
    assert.equal(byId.size, 2, "production's account: its instance plus the restored one");

    const admin = new SimAdminClient(demo.simUrl);
    const state = (await admin.state()).state as { incidents: Record<string, { status: string; scheduled_for: string }> };
    const maintenances = Object.values(state.incidents);
    assert.equal(maintenances.length, 1, 'one status-page maintenance');
    assert.equal(maintenances[0].scheduled_for, demo.campaign!.stages[2].window!.start);

    const calls = await admin.calls();
    assert.deepEqual(calls.filter((c) => /^Delete/.test(c.action)), [], 'nothing deleted');
    assert.equal(calls.filter((c) => c.action === 'RestoreDBInstanceToPointInTime').length, 1, 'one restore');
    // The demo zone is private, as the runbook's: verified by INSYNC, the record and a real lookup through the
    // simulator's VPC resolver, never by TestDNSAnswer (which AWS refuses for private zones).
    assert.equal(demo.restore!.cutover?.zone, 'private');
    assert.match(demo.restore!.cutover!.verified!.join('\n'), new RegExp(`lookup through 127\\.0\\.0\\.1:\\d+: ${demo.restore!.target.endpoint!.replace(/\./g, '\\.')}`));
    assert.deepEqual(calls.filter((c) => c.action === 'TestDNSAnswer'), []);
    // The bastion's rule is on the restored instance's own group, not on the source's.
    const ownGroup = demo.restore!.target.securityGroupId!;
    assert.deepEqual(calls.filter((c) => c.action === 'AuthorizeSecurityGroupIngress').map((c) => c.params.GroupId), [ownGroup]);
    assert.ok(byId.get(restored)?.VpcSecurityGroups?.some((g) => g.VpcSecurityGroupId === ownGroup));
    assert.equal(calls.filter((c) => c.action === 'ApplyPendingMaintenanceAction' || (c.action === 'ModifyDBInstance' && c.params.EngineVersion)).length, 1, 'staging upgraded once');
    // Every change was made through the role of the account it changed, in a session naming the run and the step.
    for (const c of calls.filter((x) => x.isMutation && x.service !== 'statuspage')) {
      assert.match(String(c.principal), new RegExp(`^arn:aws:sts::${c.account}:assumed-role/rds-orchestrator/demo-`), `${c.action} in ${c.account} by ${c.principal}`);
    }
    const accountsChanged = new Set(calls.filter((x) => x.isMutation && x.service !== 'statuspage').map((x) => x.account));
    assert.deepEqual([...accountsChanged].sort(), [DEMO_ACCOUNTS.preview, DEMO_ACCOUNTS.staging, DEMO_ACCOUNTS.production].sort());
  });
});
