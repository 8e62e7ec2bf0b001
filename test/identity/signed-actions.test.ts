/**
 * Approvals people can trust (issue #13), end to end on the time-skipping server: the workers hold the
 * team's allowed signers, people act through the CLI with real SSH keys (ssh-keygen -Y sign), and the
 * workflow accepts only what the right key signed over the exact text of what is agreed to.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { approveUpdate, campaignStatusQuery, pauseUpdate, restoreStatusQuery, type CampaignStatus, type ResolvedCampaignSpec } from '../../src/api';
import { runCli } from '../../src/cli';
import { signStart } from '../../src/cli/act';
import type { ChangeRecord } from '../../src/cli/record';
import { campaignHandle, restoreHandle, startCampaign, startRestore } from '../../src/client';
import { loadConfig } from '../../src/config';
import { actionText } from '../../src/domain/identity/signed-actions';
import { SSH_SIGNATURE_NAMESPACE } from '../../src/domain/identity/ssh-signature';
import { resolveCampaignSpec, resolveRestoreSpec } from '../../src/input';
import { loadSpecFile } from '../../src/input/file';
import { FakeAws } from '../fixtures/fake-aws';
import { makeKey, sshSign, tempDir, type TestKey } from '../fixtures/ssh-keys';
import { timeSkippingEnv } from '../harness';
import { advanceUntil, failureOf, fleet, rejected, runbookSpec, withWorker } from '../workflows/helpers';

const DAY = 86_400_000;
const quiet = { out: () => undefined, err: () => undefined };

interface People {
  alice: TestKey;
  aliceLaptop: TestKey;
  bob: TestKey;
  mallory: TestKey;
  /** The workers' list: alice (two keys, one also listed as "alice-laptop"), bob. Mallory is not in it. */
  allowed: string;
}

let people: People;

before(function () {
  const dir = tempDir();
  const alice = makeKey(dir, 'alice', 'ed25519');
  const aliceLaptop = makeKey(dir, 'alice-laptop', 'ecdsa');
  const bob = makeKey(dir, 'bob', 'ed25519');
  const mallory = makeKey(dir, 'mallory', 'ed25519');
  const allowed = [
    `alice ${alice.publicKey}`,
    `alice,alice-laptop ${aliceLaptop.publicKey}`,
    `bob namespaces="${SSH_SIGNATURE_NAMESPACE}" ${bob.publicKey}`,
  ].join('\n');
  people = { alice, aliceLaptop, bob, mallory, allowed };
});

function verifiedWorld(): FakeAws {
  const fake = new FakeAws();
  fleet(fake);
  fake.allowedSigners = { source: '/etc/rds-orchestrator/allowed_signers', text: people.allowed };
  return fake;
}

/** The CLI as a person types it, against the test server. */
async function cli(env: TestWorkflowEnvironment, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l), config: loadConfig({}), client: env.client });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** What `campaign start --key` sends, signed at the server's (skipped) time. */
async function signedCampaign(env: TestWorkflowEnvironment, spec: ResolvedCampaignSpec, key: TestKey): Promise<ResolvedCampaignSpec> {
  return signStart(quiet, 'campaign', spec.campaignId, spec, { key: key.file }, {}, await env.currentTimeMs());
}

const productionOnly = (id: string) => resolveCampaignSpec(runbookSpec({ campaignId: id, stages: [runbookSpec().stages[2]] }));
const waitingForApproval = (s: CampaignStatus) => s.waitingFor?.kind === 'approval';

describe('identities verified by SSH signatures (time-skipping)', function () {
  this.timeout(180_000);

  it('refuses an unsigned start, and a start signed by a key the list does not give the requester, before any change', async function () {
    const env = await timeSkippingEnv();
    const fake = verifiedWorld();
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const unsigned = await startCampaign(env.client, productionOnly(`unsigned-${taskQueue}`), { taskQueue });
      const failure = await failureOf(unsigned.result());
      assert.equal(failure.type, 'Unsigned');
      assert.match(failure.message, /accepts only signed starts \(allowed signers: \/etc\/rds-orchestrator\/allowed_signers\).*--key/);

      const forged = await signedCampaign(env, productionOnly(`forged-start-${taskQueue}`), people.mallory);
      const refused = await failureOf((await startCampaign(env.client, forged, { taskQueue })).result());
      assert.equal(refused.type, 'Unsigned');
      assert.match(refused.message, /start refused: refused for alice/);

      // A signature over one spec does not start another: the digest covers every field.
      const signed = await signedCampaign(env, productionOnly(`tampered-${taskQueue}`), people.alice);
      const tampered = { ...signed, targetEngineVersion: '15.6' };
      const tamperedFailure = await failureOf((await startCampaign(env.client, tampered, { taskQueue })).result());
      assert.match(tamperedFailure.message, /start refused/);
      assert.deepEqual(fake.mutations(), [], 'nothing was changed');
    });
  });

  it('production approval: forged, requester-owned, unsigned, other-plan and other-campaign signatures are refused; the right key approves and the record proves it', async function () {
    const env = await timeSkippingEnv();
    const fake = verifiedWorld();
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const id = `signed-${taskQueue}`;
      const spec = await signedCampaign(env, productionOnly(id), people.alice);
      const handle = await startCampaign(env.client, spec, { taskQueue });
      const asked = await advanceUntil(env, handle, waitingForApproval);
      assert.equal(asked.identity.mode, 'verified');
      assert.equal(asked.identity.requester?.principal, 'alice');
      assert.equal(asked.identity.requester?.fingerprint, people.alice.fingerprint);
      assert.deepEqual(asked.identity.allowedSigners?.principals, ['alice', 'alice-laptop', 'bob']);
      assert.equal(asked.identity.note, undefined, 'no "unverified" note when verified');

      // Mallory claims to be bob, signing with her own key.
      const forged = await cli(env, 'campaign', 'approve', id, '--as', 'bob', '--key', people.mallory.file);
      assert.notEqual(forged.code, 0);
      assert.match(forged.err, /refused for bob: .*(not|no).*(allowed|listed|key)/i);
      // Alice approving her own change with her second key, under its second principal.
      const own = await cli(env, 'campaign', 'approve', id, '--as', 'alice-laptop', '--key', people.aliceLaptop.file);
      assert.notEqual(own.code, 0);
      assert.match(own.err, /requester/);
      // Bob's name without a signature.
      await rejected(handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: asked.waitingFor!.plan }] }), /accepts only signed requests/);
      // Bob's real key, but over another plan, or over the same plan of another campaign.
      const run = { kind: 'campaign' as const, id, runId: asked.identity.runId };
      const otherPlan = actionText(run, { action: 'approve', plan: 'production|15.8|2031-01-01T00:00:00.000Z', askedAt: asked.waitingFor!.askedAt! });
      await rejected(
        handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: asked.waitingFor!.plan, signature: sshSign(people.bob, otherPlan, SSH_SIGNATURE_NAMESPACE) }] }),
        /refused for bob/,
      );
      const otherCampaign = actionText({ ...run, id: 'another-campaign' }, { action: 'approve', plan: asked.waitingFor!.plan!, askedAt: asked.waitingFor!.askedAt! });
      await rejected(
        handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: asked.waitingFor!.plan, signature: sshSign(people.bob, otherCampaign, SSH_SIGNATURE_NAMESPACE) }] }),
        /refused for bob/,
      );
      assert.deepEqual((await handle.query(campaignStatusQuery)).approvals, [], 'nothing refused was recorded as an approval');

      const ok = await cli(env, 'campaign', 'approve', id, '--as', 'bob', '--key', people.bob.file, '--comment', 'window agreed with the on-call');
      assert.equal(ok.code, 0, ok.err);
      assert.match(ok.out, /signing \(ssh-keygen -Y sign -n rds-orchestrator\):[\s\S]*rds-orchestrator approve\n\s+campaign: signed-/);
      assert.equal((await handle.result()).state, 'completed');
      const done = await handle.query(campaignStatusQuery);
      assert.deepEqual(done.approvals.map((a) => [a.by, a.fingerprint]), [['bob', people.bob.fingerprint]]);

      const rec = await cli(env, 'campaign', 'record', id, '--json');
      assert.equal(rec.code, 0, rec.err);
      const record = JSON.parse(rec.out) as ChangeRecord;
      assert.equal(record.identity.mode, 'verified');
      assert.deepEqual({ principal: record.requester.principal, fingerprint: record.requester.fingerprint }, { principal: 'alice', fingerprint: people.alice.fingerprint });
      const approval = record.humanActions.find((h) => h.action === 'approve')!;
      assert.equal(approval.fingerprint, people.bob.fingerprint);
      assert.match(String(approval.signed), /plan: production\|15\.8\|/);
      assert.match(String(approval.signed), /comment: window agreed with the on-call/);
      // Every change made is in the record once, with what it changed and the request id its answer carried.
      assert.deepEqual(record.changes.map((c) => c.action).sort(), ['rds:ModifyDBInstance', 'rds:ModifyDBInstance', 'statuspage:create-scheduled-maintenance']);
      assert.ok(record.changes.every((c) => /^fake-request-\d+$/.test(String(c.requestId)) && c.resource !== ''), JSON.stringify(record.changes));
      assert.equal(new Set(record.changes.map((c) => c.requestId)).size, record.changes.length);
      const md = await cli(env, 'campaign', 'record', id);
      assert.match(md.out, /\| Identities \| verified: SSH signatures/);
      assert.match(md.out, new RegExp(people.bob.fingerprint.replace(/[+/]/g, '\\$&')));
    });
  });

  it('an approval signed for a window that then moved is refused: the plan and the time it was asked are signed', async function () {
    const env = await timeSkippingEnv();
    const fake = verifiedWorld();
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const id = `moved-signed-${taskQueue}`;
      const spec = await signedCampaign(env, resolveCampaignSpec(runbookSpec({ campaignId: id, stages: [runbookSpec().stages[2]], approval: { reminderInterval: '1d' } })), people.alice);
      const handle = await startCampaign(env.client, spec, { taskQueue });
      const first = await advanceUntil(env, handle, waitingForApproval);
      const run = { kind: 'campaign' as const, id, runId: first.identity.runId };
      const signedFirst = sshSign(people.bob, actionText(run, { action: 'approve', plan: first.waitingFor!.plan!, askedAt: first.waitingFor!.askedAt! }), SSH_SIGNATURE_NAMESPACE);
      // Bob signs after 8 days: by then the window is under 14 days ahead, so the campaign plans again.
      await env.sleep(8 * DAY);
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: first.waitingFor!.plan, signature: signedFirst }] });
      const second = await advanceUntil(env, handle, (s) => waitingForApproval(s) && s.waitingFor!.plan !== first.waitingFor!.plan, { stepMs: 60_000 });
      assert.equal(second.approvals[0].valid, false);
      // His signature, sent again for the new plan, is refused: it names the old plan and when it was asked.
      await rejected(handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: second.waitingFor!.plan, signature: signedFirst }] }), /refused for bob/);
      await rejected(handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: first.waitingFor!.plan, signature: signedFirst }] }), /plan changed/);
      assert.equal((await cli(env, 'campaign', 'approve', id, '--as', 'bob', '--key', people.bob.file)).code, 0);
      assert.equal((await handle.result()).state, 'completed');
    });
  });

  it('pause, resume and abort are signed; a pause signature cannot be sent again', async function () {
    const env = await timeSkippingEnv();
    const fake = verifiedWorld();
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const id = `pause-signed-${taskQueue}`;
      const spec = await signedCampaign(env, resolveCampaignSpec(runbookSpec({ campaignId: id, stages: runbookSpec().stages.slice(0, 2) })), people.alice);
      const handle = await startCampaign(env.client, spec, { taskQueue });
      const waiting = await advanceUntil(env, handle, (s) => s.waitingFor?.kind === 'window', { stepMs: 1000 });
      // The CLI will not send an unsigned request to a run that verifies identities; the workflow refuses one.
      // (Without --key it signs with ~/.ssh/id_*: none here, or one the list does not give alice.)
      const noKey = await cli(env, 'campaign', 'pause', id, '--as', 'alice');
      assert.notEqual(noKey.code, 0);
      assert.match(noKey.err, /no SSH key to sign with|refused for alice/);
      await rejected(handle.executeUpdate(pauseUpdate, { args: [{ by: 'alice', reason: 'busy' }] }), /accepts only signed requests/);

      const run = { kind: 'campaign' as const, id, runId: waiting.identity.runId };
      const pauseText = actionText(run, { action: 'pause', after: 0 }, 'on-call busy');
      const pauseSig = sshSign(people.alice, pauseText, SSH_SIGNATURE_NAMESPACE);
      await handle.executeUpdate(pauseUpdate, { args: [{ by: 'alice', reason: 'on-call busy', signature: pauseSig }] });
      assert.equal((await cli(env, 'campaign', 'resume', id, '--as', 'bob', '--key', people.bob.file)).code, 0);
      // The same signed pause, replayed after the resume, names a count of human actions that has passed.
      await rejected(handle.executeUpdate(pauseUpdate, { args: [{ by: 'alice', reason: 'on-call busy', signature: pauseSig }] }), /refused for alice/);

      const abort = await cli(env, 'campaign', 'abort', id, '--as', 'bob', '--key', people.bob.file, '--reason', 'postponed');
      assert.equal(abort.code, 0, abort.err);
      assert.equal((await handle.result()).state, 'aborted');
      assert.deepEqual(
        (await handle.query(campaignStatusQuery)).humanActions.map((h) => [h.action, h.by, h.fingerprint]),
        [
          ['pause', 'alice', people.alice.fingerprint],
          ['resume', 'bob', people.bob.fingerprint],
          ['abort', 'bob', people.bob.fingerprint],
        ],
      );
    });
  });

  it('restore: the cutover approval and a decision are signed; the requester cannot approve with any key of hers', async function () {
    const env = await timeSkippingEnv();
    const fake = verifiedWorld();
    const ZONE = 'Z0123456789ABCDEFGHIJ';
    const RECORD = 'db.notify.example.com';
    fake.records.set(`${ZONE}/${RECORD}/notify`, { hostedZoneId: ZONE, recordName: RECORD, setIdentifier: 'notify', weight: 100, ttlSeconds: 300, value: 'notify-production.abc.eu-west-2.rds.amazonaws.com' });
    fake.zones.set(ZONE, { hostedZoneId: ZONE, name: 'notify.example.com', privateZone: false, vpcs: [] });
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const id = `restore-signed-${taskQueue}`;
      const resolved = resolveRestoreSpec({
        restoreId: id,
        requester: 'alice',
        source: { region: 'eu-west-2', instanceId: 'notify-production' },
        targetInstanceId: 'notify-restored',
        restoreTime: 'latest',
        cutover: { hostedZoneId: ZONE, recordName: RECORD, setIdentifier: 'notify' },
        pollInterval: '5m',
      });
      const spec = await signStart(quiet, 'restore', id, resolved, { key: people.alice.file }, {}, await env.currentTimeMs());
      const handle = await startRestore(env.client, spec, { taskQueue });
      for (let i = 0; i < 200 && (await handle.query(restoreStatusQuery)).state !== 'waiting-for-approval'; i++) await env.sleep(30 * 60_000);
      const asked = await handle.query(restoreStatusQuery);
      assert.equal(asked.state, 'waiting-for-approval');
      assert.match(asked.waitingFor!.plan!, /notify-production.*notify-restored/);

      const own = await cli(env, 'restore', 'approve', id, '--as', 'alice-laptop', '--key', people.aliceLaptop.file);
      assert.notEqual(own.code, 0);
      assert.match(own.err, /requester/);
      const forged = await cli(env, 'restore', 'approve', id, '--as', 'bob', '--key', people.mallory.file);
      assert.notEqual(forged.code, 0);
      assert.match(forged.err, /refused for bob/);
      assert.equal(fake.callsOf('stopInstance').length, 0, 'nothing cut over');

      const ok = await cli(env, 'restore', 'approve', id, '--as', 'bob', '--key', people.bob.file);
      assert.equal(ok.code, 0, ok.err);
      const result = await handle.result();
      assert.equal(result.state, 'completed');
      assert.equal(result.approvals[0].fingerprint, people.bob.fingerprint);
      const record = JSON.parse((await cli(env, 'restore', 'record', id, '--json')).out) as ChangeRecord;
      assert.ok(record.changes.some((c) => c.action === 'route53:ChangeResourceRecordSets'), 'the CNAME change is in the record');
      assert.ok(record.changes.some((c) => c.action === 'rds:StopDBInstance'));
      assert.equal(restoreHandle(env.client, id).workflowId, handle.workflowId);
    });
  });

  it("a spec's own list verifies alone (and says who chose it), and narrows the team's list when both exist", async function () {
    const env = await timeSkippingEnv();
    const dir = tempDir();
    const erin = makeKey(dir, 'erin', 'ed25519');
    // Only the spec's list: verified, and status says the spec's author chose the signers.
    const specOnly = new FakeAws();
    fleet(specOnly);
    await withWorker(env, specOnly.activities(), async (taskQueue) => {
      const id = `spec-list-${taskQueue}`;
      const raw = runbookSpec({ campaignId: id, stages: [runbookSpec().stages[2]], allowedSigners: `alice ${people.alice.publicKey}\nbob ${people.bob.publicKey}\n` });
      const handle = await startCampaign(env.client, await signedCampaign(env, resolveCampaignSpec(raw), people.alice), { taskQueue });
      const asked = await advanceUntil(env, handle, waitingForApproval);
      assert.equal(asked.identity.mode, 'verified');
      assert.match(String(asked.identity.note), /allowed signers come from the run's own spec/);
      assert.equal(asked.identity.allowedSigners?.source, 'the spec (inline)');
      assert.match((await cli(env, 'campaign', 'approve', id, '--as', 'bob', '--key', people.mallory.file)).err, /refused for bob/);
      assert.equal((await cli(env, 'campaign', 'approve', id, '--as', 'bob', '--key', people.bob.file)).code, 0);
      assert.equal((await handle.result()).state, 'completed');
    });
    // Both: a key must be in the team's list and in the run's own.
    const both = verifiedWorld();
    await withWorker(env, both.activities(), async (taskQueue) => {
      const id = `narrowed-${taskQueue}`;
      const raw = runbookSpec({ campaignId: id, stages: [runbookSpec().stages[2]], allowedSigners: `alice ${people.alice.publicKey}\nerin ${erin.publicKey}\n` });
      const handle = await startCampaign(env.client, await signedCampaign(env, resolveCampaignSpec(raw), people.alice), { taskQueue });
      const asked = await advanceUntil(env, handle, waitingForApproval);
      assert.equal(asked.identity.note, undefined);
      assert.match(String(asked.identity.allowedSigners?.source), /allowed_signers, narrowed by the spec \(inline\)/);
      const bob = await cli(env, 'campaign', 'approve', id, '--as', 'bob', '--key', people.bob.file);
      assert.match(bob.err, /refused for bob: the team's list accepts this key, but this run's own list \(the spec \(inline\)\) does not/);
      const erinApproves = await cli(env, 'campaign', 'approve', id, '--as', 'erin', '--key', erin.file);
      assert.match(erinApproves.err, /refused for erin/, "erin is not in the team's list");
      assert.equal((await cli(env, 'campaign', 'abort', id, '--as', 'alice', '--key', people.alice.file, '--reason', 'no approver in both lists')).code, 0);
      assert.equal((await handle.result()).state, 'aborted');
    });
  });

  it('without an allowed-signers list, identities are names and every status and record says so', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fleet(fake);
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const id = `unverified-${taskQueue}`;
      const handle = await startCampaign(env.client, productionOnly(id), { taskQueue });
      const asked = await advanceUntil(env, handle, waitingForApproval);
      assert.equal(asked.identity.mode, 'unverified');
      assert.match(String(asked.identity.note), /identities are unverified/);
      const status = await cli(env, 'campaign', 'status', id);
      assert.match(status.out, /identities are unverified/);
      // A key given anyway is not used, and the person is told.
      const approve = await cli(env, 'campaign', 'approve', id, '--as', 'bob', '--key', people.bob.file);
      assert.equal(approve.code, 0, approve.err);
      assert.match(approve.out, /does not verify identities/);
      assert.equal((await handle.result()).state, 'completed');
      const md = await cli(env, 'campaign', 'record', id);
      assert.match(md.out, /identities are unverified/);
      assert.equal(campaignHandle(env.client, id).workflowId, handle.workflowId);
    });
  });
});

describe("a spec's allowedSigners field", function () {
  it('is read from a file next to the spec, every bad line is named, and the requester must be in it', function () {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'signers'), `alice ${people.alice.publicKey}\nbob ${people.bob.publicKey}\n`);
    fs.writeFileSync(path.join(dir, 'spec.json'), JSON.stringify({ ...runbookSpec(), allowedSigners: { file: 'signers' } }));
    const resolved = resolveCampaignSpec(loadSpecFile(path.join(dir, 'spec.json')));
    assert.deepEqual(resolved.allowedSigners, { source: path.join(dir, 'signers'), text: fs.readFileSync(path.join(dir, 'signers'), 'utf8') });

    fs.writeFileSync(path.join(dir, 'missing.json'), JSON.stringify({ ...runbookSpec(), allowedSigners: { file: 'nope' } }));
    assert.throws(() => loadSpecFile(path.join(dir, 'missing.json')), /allowedSigners\.file .*nope cannot be read \(ENOENT\)/);
    assert.throws(() => resolveCampaignSpec({ ...runbookSpec(), allowedSigners: `alice ${people.alice.publicKey}\nbob ssh-ed25519 not-base64!` }), /allowedSigners: the spec \(inline\) line 2: the key is not valid base64/);
    assert.throws(() => resolveCampaignSpec({ ...runbookSpec(), allowedSigners: `bob ${people.bob.publicKey}\n` }), /allowedSigners: the spec \(inline\) gives the requester "alice" no key/);
    assert.throws(() => resolveCampaignSpec({ ...runbookSpec(), allowedSigners: { file: 'signers' } }), /read by the CLI/);
  });
});
