/**
 * The restore-then-cutover workflow end to end against moto's server: the production workflow bundle on
 * the time-skipping test server, the product's real activities (createActivities with the SDK clients
 * pointed at moto by ORCHESTRATOR_AWS_ENDPOINT), and moto as the AWS nobody here wrote. moto changes state
 * instantly, so the waits are single polls; durable timers (TTL wait, retry pauses) are skipped.
 *
 * The worker signs with an IAM user of moto's holding exactly the permissions README.md documents, and
 * moto enforces IAM while the workflow runs: the happy path proves those permissions are enough (as moto
 * evaluates them), and a permission taken away is refused the way AWS refuses it.
 *
 * moto lacks one call the restore makes: Route 53 TestDNSAnswer (its server answers 404 with an HTML
 * page). A private zone never needs it; a public zone's verification fails on it, after the switch. (The
 * campaign's DescribeDBEngineVersions, DescribePendingMaintenanceActions and ApplyPendingMaintenanceAction
 * are missing as well, answered with HTTP 500; the restore does not use them.)
 */
import assert from 'node:assert/strict';
import { resolveRestoreSpec } from '../../src/input';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { approveUpdate, decideUpdate, restoreStatusQuery, type RestoreSpec, type RestoreStatus } from '../../src/api';
import { loadConfig } from '../../src/config';
import { restoreAndCutover } from '../../src/workflows';
import { RESTORE_OWNER_TAG_KEY, restoreSecurityGroupName } from '../../src/workflows/restore';
import { timeSkippingEnv } from '../harness';
import { withWorker } from '../workflows/helpers';
import { MotoClients, REGION, documentedWorkerPermissions, seedRestoreWorld, startMoto, type Credentials, type Moto, type MotoRequest, type RestoreWorld } from './moto';

const TARGET = 'notify-restored';
const CREDENTIAL_VARS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'] as const;

describe('restore then cutover on moto (real activities, real workflow bundle)', function () {
  this.timeout(120_000);
  let moto: Moto;
  let env: TestWorkflowEnvironment;
  let admin: MotoClients | undefined;

  before(async function () {
    this.timeout(90_000);
    [moto, env] = await Promise.all([startMoto(), timeSkippingEnv()]);
  });

  after(async function () {
    await moto?.stop();
  });

  afterEach(async function () {
    admin?.destroy();
    admin = undefined;
    await moto?.enforceIam(false);
  });

  /** A fresh moto holding the source world, the test's own admin user, and the worker's IAM user. */
  async function world(zone: 'private' | 'public', workerActions: string[]): Promise<{ world: RestoreWorld; worker: Credentials }> {
    await moto.enforceIam(false);
    await moto.reset();
    admin = new MotoClients(moto.url, await moto.createUser('test-admin', ['*']));
    const w = await seedRestoreWorld(admin, { zone });
    const worker = await moto.createUser('rds-orchestrator-worker', workerActions);
    return { world: w, worker };
  }

  function spec(w: RestoreWorld, overrides: Partial<RestoreSpec> = {}): RestoreSpec {
    return {
      requester: 'alice',
      source: { region: REGION, instanceId: w.sourceId },
      targetInstanceId: TARGET,
      restoreTime: 'latest',
      bastion: { securityGroupId: w.bastionGroupId },
      cutover: { hostedZoneId: w.zoneId, recordName: w.recordName, setIdentifier: w.setIdentifier },
      pollInterval: '5s',
      ...overrides,
    };
  }

  /**
   * Runs `fn` with a worker of the product's real activities signing as `worker` (through the SDK's
   * default chain: AWS_ACCESS_KEY_ID in the environment wins over the simulator's dummy keys, as in
   * production) while moto enforces IAM.
   */
  async function onMoto<T>(worker: Credentials, notifications: string[], fn: (taskQueue: string) => Promise<T>): Promise<T> {
    const saved = Object.fromEntries(CREDENTIAL_VARS.map((k) => [k, process.env[k]]));
    for (const k of CREDENTIAL_VARS) delete process.env[k];
    process.env.AWS_ACCESS_KEY_ID = worker.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = worker.secretAccessKey;
    try {
      const config = loadConfig({ ORCHESTRATOR_AWS_ENDPOINT: moto.url, AWS_REGION: REGION });
      const activities = createActivities({ config, notifyLog: (line) => notifications.push(line) });
      await moto.enforceIam(true);
      return await withWorker(env, activities, fn);
    } finally {
      await moto.enforceIam(false);
      for (const k of CREDENTIAL_VARS) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  }

  /**
   * Queries until `pred` holds. Without `advanceMs` it waits in real time (moto answers at once); with it,
   * it moves server time on in steps that small so no activity attempt (45 s) can time out meanwhile.
   */
  async function until(handle: WorkflowHandle, pred: (s: RestoreStatus) => boolean, advanceMs?: number): Promise<RestoreStatus> {
    let last: RestoreStatus | undefined;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      last = await handle.query(restoreStatusQuery);
      if (pred(last)) return last;
      if (advanceMs) await env.sleep(advanceMs);
      else await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`restore never reached the expected state; last status: ${JSON.stringify(last, null, 2)}`);
  }

  const waitingForApproval = (s: RestoreStatus) => s.state === 'waiting-for-approval';
  const since = (mark: number) => moto.requests().slice(mark);
  const rrsetChanges = (reqs: MotoRequest[], zoneId: string) => reqs.filter((r) => r.method === 'POST' && r.path.endsWith(`/hostedzone/${zoneId}/rrset`));
  const testDnsAnswers = (reqs: MotoRequest[]) => reqs.filter((r) => r.path.startsWith('/2013-04-01/testdnsanswer'));

  it('private zone: restore, approval and cutover complete; the restore has its own bastion group; TestDNSAnswer is never called', async function () {
    const { world: w, worker } = await world('private', documentedWorkerPermissions());
    const dbGroupBefore = await admin!.securityGroup(w.dbGroupId);
    const mark = moto.requests().length;
    const notifications: string[] = [];

    const result = await onMoto(worker, notifications, async (taskQueue) => {
      const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(spec(w))], taskQueue, workflowId: `moto-private-${taskQueue}` });
      const asking = await until(handle, waitingForApproval);
      const restored = await admin!.instance(TARGET);
      assert.ok(restored?.Endpoint?.Address, 'moto holds the restored instance, with an endpoint');
      assert.equal(asking.target.endpoint, restored.Endpoint.Address);
      assert.equal(asking.cutover?.zone, 'private');
      assert.equal(asking.waitingFor?.plan, `cutover|${w.recordName}|${w.sourceEndpoint}->${restored.Endpoint.Address}`);
      // Nothing of the cutover happens before the approval.
      assert.equal((await admin!.instance(w.sourceId))?.DBInstanceStatus, 'available');
      assert.equal((await admin!.weightedCnames(w.zoneId, w.recordName))[w.setIdentifier].ResourceRecords?.[0]?.Value, w.sourceEndpoint);
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: asking.waitingFor!.plan }] });
      return handle.result();
    });

    assert.equal(result.state, 'completed', `failure: ${result.failure}; rollback: ${JSON.stringify(result.rollback)}`);
    const source = (await admin!.instance(w.sourceId))!;
    const restored = (await admin!.instance(TARGET))!;

    // The restored instance: the source's settings, the owner tag, deletion protection.
    assert.equal(restored.DBInstanceStatus, 'available');
    assert.equal(result.target.endpoint, restored.Endpoint?.Address);
    assert.equal(result.source.endpoint, w.sourceEndpoint);
    const settings = (db: typeof source) => ({
      engine: `${db.Engine} ${db.EngineVersion}`,
      instanceClass: db.DBInstanceClass,
      storage: `${db.AllocatedStorage} ${db.StorageType}`,
      multiAZ: db.MultiAZ,
      subnetGroup: db.DBSubnetGroup?.DBSubnetGroupName,
      vpc: db.DBSubnetGroup?.VpcId,
      parameterGroup: db.DBParameterGroups?.[0]?.DBParameterGroupName,
    });
    assert.deepEqual(settings(restored), settings(source));
    assert.equal(restored.DBSubnetGroup?.VpcId, w.vpcId);
    const tags = Object.fromEntries((restored.TagList ?? []).map((t) => [t.Key, t.Value]));
    assert.deepEqual(tags, { environment: 'production', team: 'notify', [RESTORE_OWNER_TAG_KEY]: TARGET }, "the source's tags and the owner tag (restoreId)");
    assert.equal(restored.DeletionProtection, true);

    // Least access: a group of the restored instance's own, in the source's VPC, lets the bastion in;
    // the source's group is exactly as it was.
    const [own] = await admin!.securityGroups({ 'vpc-id': w.vpcId, 'group-name': restoreSecurityGroupName(TARGET) });
    assert.ok(own, `moto holds the security group ${restoreSecurityGroupName(TARGET)} in ${w.vpcId}`);
    assert.equal(result.target.securityGroupId, own.GroupId);
    assert.equal(own.Tags?.find((t) => t.Key === RESTORE_OWNER_TAG_KEY)?.Value, TARGET);
    assert.deepEqual(
      (own.IpPermissions ?? []).map((p) => ({ proto: p.IpProtocol, from: p.FromPort, to: p.ToPort, groups: (p.UserIdGroupPairs ?? []).map((g) => g.GroupId) })),
      [{ proto: 'tcp', from: 5432, to: 5432, groups: [w.bastionGroupId] }],
    );
    assert.deepEqual((restored.VpcSecurityGroups ?? []).map((g) => g.VpcSecurityGroupId).sort(), [w.dbGroupId, own.GroupId].sort(), "the source's group plus its own");
    assert.deepEqual((await admin!.securityGroup(w.dbGroupId)).IpPermissions, dbGroupBefore.IpPermissions, "the source's group got no new rule");

    // The cutover: old instance stopped, the applications' set on the restored endpoint, the other set untouched.
    assert.equal(source.DBInstanceStatus, 'stopped');
    const sets = await admin!.weightedCnames(w.zoneId, w.recordName);
    assert.deepEqual(
      { value: sets[w.setIdentifier].ResourceRecords?.map((r) => r.Value), weight: sets[w.setIdentifier].Weight, ttl: sets[w.setIdentifier].TTL },
      { value: [restored.Endpoint?.Address], weight: 100, ttl: 300 },
    );
    assert.deepEqual(sets[w.standbySetIdentifier].ResourceRecords?.map((r) => r.Value), [w.standbyValue]);

    // A private zone is verified by INSYNC and the listed record, never by TestDNSAnswer (moto lacks it anyway).
    assert.equal(result.cutover?.zone, 'private');
    const verified = result.cutover!.verified!.join('\n');
    assert.match(verified, /change INSYNC at/);
    assert.match(verified, new RegExp(`Route 53 lists ${w.recordName.replace(/\./g, '\\.')} \\[blue\\] → ${TARGET}\\.`));
    assert.match(verified, /no DNS lookup \(private zone notify\.internal/);
    assert.doesNotMatch(verified, /TestDNSAnswer/);
    const reqs = since(mark);
    assert.deepEqual(testDnsAnswers(reqs), [], 'moto never saw a TestDNSAnswer request');
    assert.deepEqual(reqs.filter((r) => r.status === 403), [], 'moto refused nothing the documented permissions allow');
    assert.equal(rrsetChanges(reqs, w.zoneId).length, 1, 'one ChangeResourceRecordSets: the switch');
    assert.equal(result.rollback, undefined);
    assert.ok(notifications.some((n) => /cutover done/.test(n)));
  });

  describe('a failure before the CNAME switch rolls back on its own', function () {
    const permissionsWithout = (action: string) => documentedWorkerPermissions().filter((a) => a !== action);

    async function approvedRun(w: RestoreWorld, worker: Credentials, notifications: string[]): Promise<RestoreStatus> {
      return onMoto(worker, notifications, async (taskQueue) => {
        const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(spec(w))], taskQueue, workflowId: `moto-rollback-${taskQueue}` });
        await until(handle, waitingForApproval);
        await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] });
        return handle.result();
      });
    }

    async function assertRolledBackUntouched(w: RestoreWorld, result: RestoreStatus): Promise<void> {
      assert.equal(result.state, 'rolled-back', `state ${result.state}; failure: ${result.failure}`);
      assert.equal(result.rollback?.stranded, undefined, 'no write can have reached the restored instance');
      assert.ok(result.rollback!.steps.some((s) => s.startsWith(`start ${w.sourceId} again`)), `steps: ${result.rollback!.steps.join('; ')}`);
      assert.ok(!result.rollback!.steps.some((s) => s.startsWith('FAILED')), `steps: ${result.rollback!.steps.join('; ')}`);
      assert.ok(!result.humanActions.some((h) => h.action === 'decide'), 'nobody was asked');
      assert.ok(result.followUps.some((f) => f.includes(`${w.sourceId} serves again`)));
      assert.equal((await admin!.instance(w.sourceId))?.DBInstanceStatus, 'available', 'the old instance serves again');
      assert.equal((await admin!.instance(TARGET))?.DBInstanceStatus, 'available', 'the restored instance is kept');
      const sets = await admin!.weightedCnames(w.zoneId, w.recordName);
      assert.deepEqual(sets[w.setIdentifier].ResourceRecords?.map((r) => r.Value), [w.sourceEndpoint], 'the CNAME is on the old endpoint');
      assert.equal(sets[w.setIdentifier].TTL, 300);
    }

    it('the worker may not stop the old instance (rds:StopDBInstance refused by IAM): nothing switched, rolled back', async function () {
      const { world: w, worker } = await world('private', permissionsWithout('rds:StopDBInstance'));
      const mark = moto.requests().length;
      const notifications: string[] = [];
      const result = await approvedRun(w, worker, notifications);

      await assertRolledBackUntouched(w, result);
      assert.match(result.rollback!.reason, /StopDBInstance in region eu-west-2 was refused \(AccessDenied\): .*not authorized to perform: rds:StopDBInstance/);
      assert.ok(!result.timeline.some((t) => t.step === 'cname-upserted'));
      assert.deepEqual(rrsetChanges(since(mark), w.zoneId), [], 'no ChangeResourceRecordSets reached moto');
      assert.ok(notifications.some((n) => /cutover failed and was rolled back/.test(n)));
    });

    it('the worker may not change the record (route53:ChangeResourceRecordSets refused): the record still names the old instance, so it rolls back without asking', async function () {
      const { world: w, worker } = await world('private', permissionsWithout('route53:ChangeResourceRecordSets'));
      const mark = moto.requests().length;
      const result = await approvedRun(w, worker, []);

      await assertRolledBackUntouched(w, result);
      // AWS answers AccessDenied here (non-retryable: rolled back at once). moto's IAM layer answers 403 with
      // <ErrorResponse><Errors><Error>, a shape Route 53's protocol does not have, so the SDK reads no error
      // code and the product retries the call for its bounded cutover rounds first. Either way the reason
      // names the call, the endpoint and the 403.
      assert.match(result.rollback!.reason, new RegExp(`UPSERT CNAME ${w.recordName.replace(/\./g, '\\.')} \\[blue\\] .* against ${moto.url.replace(/\./g, '\\.')} .*HTTP 403`));
      assert.match(result.rollback!.reason, /switch-cname/);
      const steps = result.timeline.map((t) => t.step);
      assert.ok(steps.indexOf('old-instance-stopped') < steps.indexOf('switch-not-applied'), 'the old instance had been stopped; the record was read back before rolling back');
      const changes = rrsetChanges(since(mark), w.zoneId);
      assert.ok(changes.length > 0 && changes.every((r) => r.status === 403), `every ChangeResourceRecordSets was refused: ${JSON.stringify(changes)}`);
    });
  });

  it('public zone: moto lacks TestDNSAnswer; the verification failure names the call and the endpoint, the team is asked (CNAME already switched), "roll-back" restores the old state', async function () {
    const { world: w, worker } = await world('public', documentedWorkerPermissions());
    // An explicit restore time inside the window (the source was just created), rather than "latest".
    const restoreTime = (await admin!.instance(w.sourceId))!.InstanceCreateTime!.toISOString();
    const mark = moto.requests().length;
    const notifications: string[] = [];

    const { asking, result } = await onMoto(worker, notifications, async (taskQueue) => {
      const handle = await env.client.workflow.start(restoreAndCutover, { args: [resolveRestoreSpec(spec(w, { restoreTime }))], taskQueue, workflowId: `moto-public-${taskQueue}` });
      const approval = await until(handle, waitingForApproval);
      assert.equal(approval.cutover?.zone, 'public');
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] });
      // The TTL wait and the pauses between the verification's retry rounds are durable timers: skip them.
      const asking = await until(handle, (s) => s.state === 'waiting-for-decision', 10_000);

      // Nothing was rolled back silently: the applications may already be writing to the restored instance.
      const restored = (await admin!.instance(TARGET))!;
      assert.deepEqual((await admin!.weightedCnames(w.zoneId, w.recordName))[w.setIdentifier].ResourceRecords?.map((r) => r.Value), [restored.Endpoint?.Address]);
      assert.equal((await admin!.instance(w.sourceId))?.DBInstanceStatus, 'stopped');
      await handle.executeUpdate(decideUpdate, { args: [{ by: 'carol', decision: 'roll-back', comment: 'cannot verify DNS' }] });
      return { asking, result: await handle.result() };
    });

    // The question names the call moto lacks, the endpoint, and what came back.
    assert.equal(asking.waitingFor?.kind, 'decision');
    const question = asking.waitingFor!.question!;
    assert.match(question, new RegExp(`TestDNSAnswer ${w.recordName.replace(/\./g, '\\.')} in zone ${w.zoneId} against ${moto.url.replace(/\./g, '\\.')} failing since`));
    assert.match(question, /verify-dns/);
    assert.match(question, /HTTP 404 with a response that is not an AWS answer \(text\/html/);
    assert.match(question, new RegExp(`may have written to ${TARGET} since`));
    assert.ok(asking.cutover?.switchedAt, 'the switch time is shown');
    assert.ok(asking.timeline.some((t) => t.step === 'aws-gave-up' && /TestDNSAnswer/.test(t.detail ?? '')));
    assert.ok(notifications.some((n) => /decision-needed|restore decide/.test(n)), 'the team was notified to decide');
    const asked = testDnsAnswers(since(mark));
    assert.ok(asked.length >= 3 && asked.every((r) => r.status === 404), `TestDNSAnswer reached moto and got 404: ${JSON.stringify(asked)}`);

    // "roll-back": CNAME back, old instance started, restored instance kept, the stranded writes named.
    assert.equal(result.state, 'rolled-back', `state ${result.state}; failure: ${result.failure}`);
    assert.equal(result.target.restoreTime, restoreTime);
    assert.equal(result.rollback?.stranded?.instanceId, TARGET);
    assert.equal(result.rollback?.stranded?.from, asking.cutover?.switchedAt);
    assert.ok(result.humanActions.some((h) => h.by === 'carol' && h.action === 'decide' && h.detail === 'roll-back'));
    assert.equal((await admin!.instance(w.sourceId))?.DBInstanceStatus, 'available');
    assert.equal((await admin!.instance(TARGET))?.DBInstanceStatus, 'available', 'the restored instance is kept');
    assert.deepEqual((await admin!.weightedCnames(w.zoneId, w.recordName))[w.setIdentifier].ResourceRecords?.map((r) => r.Value), [w.sourceEndpoint]);
    assert.ok(result.followUps.some((f) => f.includes(`writes the applications made to ${TARGET} between`)));
  });
});
