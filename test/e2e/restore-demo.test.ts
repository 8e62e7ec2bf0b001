/**
 * The demo's restores end to end, as `npm start -- --auto-approve --scenario restore` runs them (beside the campaign's
 * demo, test/e2e/demo.test.ts, in a group of its own): the data-loss scene on production's real PostgreSQL (rows
 * lost, restored to just before, dumped, the difference approved by another person and written back once), then the
 * restore and cutover, verified through the CNAME; the final state read back from the simulator with the AWS SDK.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { runDemo, type DemoResult } from '../../dev/demo';
import { DEMO_FLEET_SIZE, fleetInstanceIds } from '../../dev/fixtures';
import { DEMO_ACCOUNTS, SimAdminClient, findPostgresBinDir } from '../../sim';

describe('demo: npm start -- --auto-approve --scenario restore', function () {
  this.timeout(10 * 60_000);
  let demo: DemoResult | undefined;
  const lines: string[] = [];

  after(async () => {
    await demo?.close();
  });

  it('puts back the rows a DELETE lost (extract), then restores and cuts over, verified on the data path; deletes nothing', async function () {
    demo = await runDemo({ autoApprove: true, scenario: 'restore', fast: true, temporalPort: 0, uiPort: 0, simPort: 0, keepRunning: true, out: (l) => lines.push(l) });
    assert.equal(demo.restore?.state, 'completed', lines.join('\n'));
    // Without PostgreSQL here the demo skips its data-loss scene (and says so); CI installs it, so there it runs.
    const withDatabase = findPostgresBinDir() !== undefined || Boolean(process.env.CI);
    if (withDatabase) {
      assert.equal(demo.extract?.state, 'completed', lines.join('\n'));
      const lost = demo.lostRows!;
      const x = demo.extract!.extract!;
      assert.ok(lost.lostIds.length > 0);
      assert.deepEqual(x.repair!.tables.map((t) => [t.table, t.missing, t.changed]), [['public.notifications', lost.lostIds.length, 0]]);
      assert.deepEqual(x.repair!.written, [{ table: 'public.notifications', inserted: lost.lostIds.length, updated: 0, skipped: 0 }]);
      assert.equal(lost.productionRowsAfter, lost.written, 'production has every row again');
      assert.equal(fs.statSync(x.dump!.path).size, x.dump!.sizeBytes, 'the dump is on disk, as big as the status says');
      assert.ok(demo.extract!.followUps.some((f) => /still running and costs money.*delete-db-instance/.test(f)));
      assert.match(lines.join('\n'), new RegExp(`${lost.lostIds.length} written back in one transaction; production has ${lost.written} rows again`));
    }
    // People are proven by SSH keys: signed starts, a forged approval refused each time, the approver's key recorded.
    const approver = demo.team!.people.get('demo-approver')!;
    const runs = [demo.restore!, ...(demo.extract ? [demo.extract] : [])];
    for (const run of runs) {
      assert.equal(run.identity.mode, 'verified');
      assert.equal(run.identity.requester?.fingerprint, demo.team!.people.get('demo-requester')!.fingerprint);
      assert.deepEqual(run.approvals.map((a) => [a.by, a.fingerprint]), [['demo-approver', approver.fingerprint]]);
    }
    assert.equal(demo.forgedApprovals.length, runs.length, 'a forged approval refused for each run');

    const rds = new RDSClient({ region: 'eu-west-2', endpoint: demo.simUrl, credentials: { accessKeyId: DEMO_ACCOUNTS.production, secretAccessKey: 'x' } });
    const byId = new Map(((await rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? []).map((i) => [i.DBInstanceIdentifier!, i]));
    const restored = demo.restore!.target.instanceId;
    assert.equal(byId.get(restored)?.DBInstanceStatus, 'available');
    assert.equal(byId.get('notifydb-production')?.DBInstanceStatus, 'stopped', 'old instance stopped by the cutover');
    for (const id of fleetInstanceIds('production').slice(1)) assert.equal(byId.get(id)?.DBInstanceStatus, 'available', `${id} untouched by the restores`);
    if (withDatabase) assert.equal(byId.get(demo.extract!.target.instanceId)?.DBInstanceStatus, 'available', 'the extract\'s restored instance is kept');
    assert.equal(byId.size, DEMO_FLEET_SIZE + runs.length, "production's account: its databases plus one restored per run");

    const calls = await new SimAdminClient(demo.simUrl).calls();
    assert.deepEqual(calls.filter((c) => /^Delete/.test(c.action)), [], 'nothing deleted');
    assert.equal(calls.filter((c) => c.action === 'RestoreDBInstanceToPointInTime').length, runs.length, 'one restore per run');
    // The demo zone is private, as the runbook's: verified by INSYNC, the record and a real lookup through the
    // simulator's VPC resolver, never by TestDNSAnswer (which AWS refuses for private zones).
    const verified = demo.restore!.cutover!.verified!.join('\n');
    assert.equal(demo.restore!.cutover?.zone, 'private');
    assert.match(verified, new RegExp(`lookup through 127\\.0\\.0\\.1:\\d+: ${demo.restore!.target.endpoint!.replace(/\./g, '\\.')}`));
    assert.deepEqual(calls.filter((c) => c.action === 'TestDNSAnswer'), []);
    // On a real database the verification also connected through the CNAME and reached the restored instance's server
    // (each simulated server answers on a loopback address of its own).
    if (withDatabase) {
      assert.match(verified, new RegExp(`connected through db\\.production\\.notify\\.internal: database postgres of ${restored} answers \\(server 127\\.0\\.0\\.\\d+:${byId.get(restored)?.Endpoint?.Port}`));
    }
    // Each restore lets the bastion in on a security group of its own, never on the source's.
    const ownGroups = runs.map((r) => r.target.securityGroupId!).reverse();
    assert.deepEqual(calls.filter((c) => c.action === 'AuthorizeSecurityGroupIngress').map((c) => c.params.GroupId), ownGroups);
    assert.ok(byId.get(restored)?.VpcSecurityGroups?.some((g) => g.VpcSecurityGroupId === demo!.restore!.target.securityGroupId));
    // Every change was made in production's account, through its role, in a session naming the run.
    for (const c of calls.filter((x) => x.isMutation && x.service !== 'statuspage' && x.service !== 'pagerduty')) {
      assert.match(String(c.principal), new RegExp(`^arn:aws:sts::${DEMO_ACCOUNTS.production}:assumed-role/rds-orchestrator/demo-`), `${c.action} by ${c.principal}`);
    }
  });
});
