/**
 * Issue 25, part 2 (fuzzed inputs): update payloads sent straight to running workflows, bypassing the CLI,
 * on the time-skipping server. A campaign waiting for a team decision (identities unverified: names typed
 * with --as) and a restore waiting for its cutover approval, then for a decision (identities verified by SSH
 * signatures) each get random payloads, every one wrong in at least one way: wrong types, missing fields, the
 * whole request not an object, huge strings, other plans and answers, forged, altered, misplaced and foreign
 * signatures. Each is refused by the update's validator (WorkflowUpdateFailedError); afterwards the history
 * holds no failed workflow task and no accepted update for any of them, the run has recorded no human action,
 * and a right request is still taken.
 *
 * Needs the time-skipping server: scripts/test.ts should list `test/fuzz/workflows/**` with the workflow group.
 */
import assert from 'node:assert/strict';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import fc from 'fast-check';
import { approveUpdate, campaignStatusQuery, decideUpdate, restoreStatusQuery, type CampaignStatus, type ResolvedRestoreSpec, type RestoreStatus } from '../../../src/api';
import { signStart } from '../../../src/cli/act';
import { startCampaign, startRestore } from '../../../src/client';
import { actionText, type RunRef, type SignedAction } from '../../../src/domain/identity/signed-actions';
import { SSH_SIGNATURE_NAMESPACE } from '../../../src/domain/identity/ssh-signature';
import { resolveCampaignSpec, resolveRestoreSpec } from '../../../src/input';
import { FakeAws } from '../../fixtures/fake-aws';
import { makeKey, sshSign, tempDir, type TestKey } from '../../fixtures/ssh-keys';
import { timeSkippingEnv } from '../../harness';
import { advanceUntil, runbookSpec, withWorker } from '../../workflows/helpers';
import { SEED, anyNumber, hugeText, trickyText } from '../junk';

const EventType = temporal.api.enums.v1.EventType;
const REGION = 'eu-west-2';
const ZONE = 'Z0123456789ABCDEFGHIJ';
const RECORD = 'db.notify.example.com';
const SET = 'notify';
const OLD = 'notify-production.abc.eu-west-2.rds.amazonaws.com';

/** One fuzzed request: the update it is sent as, its payload, and what is wrong with it (for the failure message). */
interface Fuzzed {
  update: 'approve' | 'decide' | 'pause' | 'resume' | 'abort';
  payload: unknown;
  wrong: string;
}

/** A value of the wrong type for a text field (never undefined: a missing field is a defect of its own). */
const notText = fc.oneof(anyNumber, fc.boolean(), fc.constant(null), fc.constantFrom<unknown>([], {}, ['bob'], { toString: 1 }, { valueOf: 1, toString: 1 }, { by: 'bob' }, [[]]));
/** Whole requests that are not a request object at all. */
const notARequest = fc.oneof(fc.constantFrom<unknown>(null, undefined, 0, '', 'bob', true, [], ['bob'], [{ by: 'bob' }]), anyNumber, trickyText, hugeText);

/** `base` with one field changed to `value` (or removed, for undefined). */
function withField(base: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const copy = { ...base };
  if (value === undefined) delete copy[key];
  else copy[key] = value;
  return copy;
}

const describeValue = (v: unknown) => (typeof v === 'string' ? (v.length > 40 ? `a ${v.length}-character text` : JSON.stringify(v)) : v === undefined ? 'missing' : typeof v === 'object' ? JSON.stringify(v)?.slice(0, 40) ?? String(v) : String(v));

const UNANSWERED_MS = 15_000;

/** Sends each request, expects the validator's refusal; returns the update ids used. */
async function sendAll(handle: WorkflowHandle, requests: Fuzzed[], prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, r] of requests.entries()) {
    const updateId = `${prefix}-${i}`;
    ids.push(updateId);
    let timer: NodeJS.Timeout | undefined;
    // A handler that throws fails the workflow task, and the update then gets no answer at all.
    const unanswered = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${r.update} with ${r.wrong} got no answer in ${UNANSWERED_MS / 1000} s: is its workflow task failing?`)), UNANSWERED_MS);
    });
    const outcome = await Promise.race([
      handle.executeUpdate(r.update, { args: [r.payload], updateId }).then(
        (answer) => ({ accepted: true as const, answer }),
        (error: unknown) => ({ accepted: false as const, error }),
      ),
      unanswered,
    ]).finally(() => clearTimeout(timer));
    assert.ok(!outcome.accepted, `${r.update} with ${r.wrong} was taken: ${outcome.accepted ? outcome.answer : ''}`);
    assert.ok(outcome.error instanceof WorkflowUpdateFailedError, `${r.update} with ${r.wrong}: expected the validator's refusal, got ${String(outcome.error)}`);
  }
  return ids;
}

/** The history has no failed workflow task and no accepted update among `refused`. */
async function assertHistoryClean(handle: WorkflowHandle, refused: string[]): Promise<void> {
  const { events } = await handle.fetchHistory();
  const failedTasks = (events ?? []).filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
  assert.deepEqual(failedTasks.map((e) => e.workflowTaskFailedEventAttributes?.failure?.message), [], 'no workflow task failed');
  const accepted = (events ?? []).flatMap((e) => (e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED ? [e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.meta?.updateId ?? '?'] : []));
  assert.deepEqual(accepted.filter((id) => refused.includes(id)), [], 'no refused update is in the history');
}

describe('fuzzed update payloads sent straight to running workflows (issue 25, time-skipping)', function () {
  this.timeout(120_000);

  it('a campaign waiting for a decision (unverified names) refuses every wrong approve, decide, pause, resume and abort', async function () {
    const env = await timeSkippingEnv();
    const fake = new FakeAws();
    fake.addInstance({ instanceId: 'notify-staging', preferredMaintenanceWindow: 'tue:03:00-tue:03:30' });
    // Over the 60 s threshold: the staging stage asks the team whether to go on.
    fake.probeResult = { requests: 240, failures: 120, longestOutageSeconds: 120, timedOut: false };
    await withWorker(env, fake.activities(), async (taskQueue) => {
      const spec = resolveCampaignSpec(runbookSpec({ campaignId: `fuzz-updates-${process.pid}`, stages: [runbookSpec().stages[1]] }));
      const handle = await startCampaign(env.client, spec, { taskQueue });
      const asking = await advanceUntil(env, handle, (s: CampaignStatus) => s.waitingFor?.kind === 'decision', { stepMs: 5 * 60_000 });

      const decide = { by: 'bob', decision: 'continue' as const, comment: 'ok' };
      const counted = { by: 'bob', reason: 'because' };
      const requests: fc.Arbitrary<Fuzzed> = fc.oneof(
        // approve: nothing is waiting for one; whatever it says.
        fc.oneof(fc.constant({ by: 'bob', plan: 'staging|15.8|x' }), notARequest).map((payload) => ({ update: 'approve' as const, payload, wrong: 'no approval is asked' })),
        // decide: an answer it does not take, a name that is no name, a comment that is not text, no request.
        fc.oneof(notText, trickyText, hugeText, fc.constantFrom(undefined, 'Continue', 'continue ', 'keep', 'approve', 'apply-in-window', 'retarget')).map((decision) => ({ update: 'decide' as const, payload: withField(decide, 'decision', decision), wrong: `decision ${describeValue(decision)}` })),
        fc.oneof(notText, fc.constantFrom(undefined, '', '   ', '\n')).map((by) => ({ update: 'decide' as const, payload: withField(decide, 'by', by), wrong: `by ${describeValue(by)}` })),
        notText.filter((c) => c !== null).map((comment) => ({ update: 'decide' as const, payload: withField(decide, 'comment', comment), wrong: `comment ${describeValue(comment)}` })),
        notARequest.map((payload) => ({ update: 'decide' as const, payload, wrong: `the request ${describeValue(payload)}` })),
        // pause and abort: no name, a reason that is not text, no request; resume: the campaign is not paused.
        fc.tuple(fc.constantFrom('pause' as const, 'abort' as const), fc.oneof(fc.record({ key: fc.constant('by'), value: fc.oneof(notText, fc.constantFrom(undefined, '', ' ')) }), fc.record({ key: fc.constant('reason'), value: notText.filter((r) => r !== null) }))).map(([update, { key, value }]) => ({ update, payload: withField(counted, key, value), wrong: `${key} ${describeValue(value)}` })),
        fc.tuple(fc.constantFrom('pause' as const, 'abort' as const), notARequest).map(([update, payload]) => ({ update, payload, wrong: `the request ${describeValue(payload)}` })),
        fc.oneof(fc.constant<unknown>(counted), notARequest).map((payload) => ({ update: 'resume' as const, payload, wrong: 'the campaign is not paused' })),
      );
      // Regressions: a note that is not text passed the validators; recorded, `{ toString: 1 }` made the handler throw.
      const regressions: Fuzzed[] = [
        { update: 'decide', payload: { ...decide, comment: { toString: 1 } }, wrong: 'comment { toString: 1 }' },
        { update: 'decide', payload: { ...decide, comment: {} }, wrong: 'comment {}' },
        { update: 'pause', payload: { ...counted, reason: 42 }, wrong: 'reason 42' },
      ];
      const refused = await sendAll(handle, [...regressions, ...fc.sample(requests, { seed: SEED, numRuns: 24 })], `campaign-${taskQueue}`);

      const after = await handle.query(campaignStatusQuery);
      assert.equal(after.state, 'waiting-for-decision');
      assert.deepEqual(after.humanActions, [], 'no refused request left a human action');
      assert.equal(after.waitingFor?.question, asking.waitingFor?.question);
      await assertHistoryClean(handle, refused);

      // A right answer is still taken.
      assert.match(await handle.executeUpdate(decideUpdate, { args: [decide], updateId: 'right-decision' }), /continue/);
      await assertHistoryClean(handle, refused);
    });
  });

  describe('a restore whose identities are verified by SSH signatures', function () {
    let keys: { alice: TestKey; bob: TestKey; mallory: TestKey };
    before(function () {
      const dir = tempDir('fuzz-updates-');
      keys = { alice: makeKey(dir, 'alice', 'ed25519'), bob: makeKey(dir, 'bob', 'ed25519'), mallory: makeKey(dir, 'mallory', 'ed25519') };
    });

    function world(): FakeAws {
      const fake = new FakeAws();
      fake.allowedSigners = { source: '/etc/rds-orchestrator/allowed_signers', text: `alice ${keys.alice.publicKey}\nbob ${keys.bob.publicKey}\n` };
      fake.addInstance({ instanceId: 'notify-production' });
      fake.addInstance({ instanceId: 'notify-other', endpoint: { address: 'notify-other.abc.eu-west-2.rds.amazonaws.com', port: 5432 } });
      // The CNAME leads elsewhere after the switch: the restore asks the team to keep or roll back.
      fake.dataPathLeadsTo = 'notify-other.abc.eu-west-2.rds.amazonaws.com';
      fake.records.set(`${ZONE}/${RECORD}/${SET}`, { hostedZoneId: ZONE, recordName: RECORD, setIdentifier: SET, weight: 100, ttlSeconds: 300, value: OLD });
      fake.zones.set(ZONE, { hostedZoneId: ZONE, name: 'notify.example.com', privateZone: false, vpcs: [] });
      return fake;
    }

    it('refuses every wrong, unsigned or wrongly signed approve, decide, abort, and the updates it has no handler for', async function () {
      const env = await timeSkippingEnv();
      const fake = world();
      await withWorker(env, fake.activities(), async (taskQueue) => {
        const raw = { requester: 'alice', source: { region: REGION, instanceId: 'notify-production' }, targetInstanceId: 'notify-restored', restoreTime: 'latest', restoreId: `fuzz-updates-${process.pid}`, cutover: { hostedZoneId: ZONE, recordName: RECORD, setIdentifier: SET, database: { name: 'notify', password: 'master-secret' } }, pollInterval: '5m' };
        const spec: ResolvedRestoreSpec = await signStart({ out: () => undefined, err: () => undefined }, 'restore', `fuzz-updates-${process.pid}`, resolveRestoreSpec(raw), { key: keys.alice.file }, {}, await env.currentTimeMs());
        const handle = await startRestore(env.client, spec, { taskQueue });
        const untilState = async (state: string): Promise<RestoreStatus> => {
          for (let i = 0; i < 200; i++) {
            const s = await handle.query(restoreStatusQuery);
            if (s.state === state) return s;
            await env.sleep(30 * 60_000);
          }
          assert.fail(`the restore never reached ${state}`);
        };
        const asking = await untilState('waiting-for-approval');
        assert.equal(asking.identity.mode, 'verified');
        const run: RunRef = { kind: 'restore', id: spec.restoreId, runId: asking.identity.runId };
        const sign = (key: TestKey, action: SignedAction, note?: string, namespace = SSH_SIGNATURE_NAMESPACE) => sshSign(key, actionText(run, action, note), namespace);
        const plan = asking.waitingFor!.plan!;
        const approval = { action: 'approve' as const, plan, askedAt: asking.waitingFor!.askedAt! };
        const abortNow: SignedAction = { action: 'abort', after: asking.humanActions.length };

        const good = sign(keys.bob, approval, 'lgtm');
        const signatures = {
          good,
          'signed by mallory (not listed)': sign(keys.mallory, approval, 'lgtm'),
          "signed by alice (the requester's key)": sign(keys.alice, approval, 'lgtm'),
          'signed over another plan': sign(keys.bob, { ...approval, plan: `${plan}x` }, 'lgtm'),
          'signed without the comment': sign(keys.bob, approval),
          'signed in another namespace': sign(keys.bob, approval, 'lgtm', 'git'),
          'signed for an abort': sign(keys.bob, abortNow, 'lgtm'),
          truncated: good.slice(0, Math.floor(good.length / 2)),
          'one character changed': good.replace(/(-----\n[A-Za-z0-9+/]{20})([A-Za-z0-9+/])/, (_m, a: string, c: string) => `${a}${c === 'A' ? 'B' : 'A'}`),
        };
        const approve = { by: 'bob', plan, comment: 'lgtm', signature: good };
        const abortSig = sign(keys.bob, abortNow, 'stop');
        const abort = { by: 'bob', reason: 'stop', signature: abortSig };
        const badSignature = fc.oneof(
          fc.constantFrom(...Object.entries(signatures).filter(([k]) => k !== 'good')).map(([what, s]) => ({ value: s as unknown, what })),
          fc.oneof(notText, trickyText, hugeText, fc.constant(undefined)).map((s) => ({ value: s, what: `signature ${describeValue(s)}` })),
          fc.uint8Array({ minLength: 1, maxLength: 120 }).map((b) => ({ value: `-----BEGIN SSH SIGNATURE-----\n${Buffer.from(b).toString('base64')}\n-----END SSH SIGNATURE-----\n`, what: 'an armored block of random bytes' })),
        );
        const approvals: fc.Arbitrary<Fuzzed> = fc.oneof(
          badSignature.map(({ value, what }) => ({ update: 'approve' as const, payload: withField(approve, 'signature', value), wrong: what })),
          fc.oneof(fc.constantFrom(undefined, 'BOB', 'mallory', 'alice', ' bob', 'bob,alice', '*'), notText).map((by) => ({ update: 'approve' as const, payload: withField(approve, 'by', by), wrong: `by ${describeValue(by)}` })),
          fc.oneof(fc.constantFrom(`${plan} `, plan.toUpperCase(), 'cutover|x|y->z', ''), notText.filter((p) => p !== null), hugeText).map((p) => ({ update: 'approve' as const, payload: withField(approve, 'plan', p), wrong: `plan ${describeValue(p)}` })),
          fc.oneof(fc.constantFrom('LGTM', 'lgtm ', 'ok'), notText.filter((c) => c !== null), hugeText).map((c) => ({ update: 'approve' as const, payload: withField(approve, 'comment', c), wrong: `comment ${describeValue(c)} (the signature covers "lgtm")` })),
          notARequest.map((payload) => ({ update: 'approve' as const, payload, wrong: `the request ${describeValue(payload)}` })),
          fc.oneof(fc.constantFrom(abort, { ...abort, signature: signatures['signed for an abort'] }), badSignature.map(({ value }) => withField(abort, 'signature', value)), notARequest).map((payload) => ({ update: 'abort' as const, payload, wrong: 'an abort not signed over its own text, or no request' })),
          fc.constantFrom('pause' as const, 'resume' as const).map((update) => ({ update, payload: { by: 'bob' }, wrong: 'a restore takes no pause or resume' })),
          fc.constant({ update: 'decide' as const, payload: { by: 'bob', decision: 'keep', signature: good }, wrong: 'no question is asked yet' }),
        );
        // The abort with bob's right signature is a valid request: it is sent only with one more defect (filtered here).
        const refusedApprovals = await sendAll(handle, fc.sample(approvals.filter((r) => r.payload !== abort), { seed: SEED, numRuns: 16 }), `approve-${taskQueue}`);
        const stillAsking = await handle.query(restoreStatusQuery);
        assert.equal(stillAsking.state, 'waiting-for-approval');
        assert.deepEqual(stillAsking.humanActions, []);
        assert.deepEqual(stillAsking.approvals, []);
        await assertHistoryClean(handle, refusedApprovals);

        // The right approval is taken; then the restore asks whether to keep the restored instance or roll back.
        assert.match(await handle.executeUpdate(approveUpdate, { args: [approve], updateId: 'right-approval' }), /approval by bob \(key SHA256:/);
        const deciding = await untilState('waiting-for-decision');
        const question: SignedAction = { action: 'decide', question: deciding.waitingFor!.question!, askedAt: deciding.waitingFor!.askedAt!, decision: 'keep' };
        const keep = { by: 'bob', decision: 'keep' as const, comment: 'ours', signature: sign(keys.bob, question, 'ours') };
        const rollBackSignedAsKeep = { ...keep, decision: 'roll-back' };
        const decisions: fc.Arbitrary<Fuzzed> = fc.oneof(
          fc.constant({ update: 'decide' as const, payload: rollBackSignedAsKeep, wrong: 'roll-back signed as keep' }),
          fc.oneof(fc.constantFrom(undefined, 'continue', 'abort', 'KEEP', 'keep '), notText, hugeText).map((d) => ({ update: 'decide' as const, payload: withField(keep, 'decision', d), wrong: `decision ${describeValue(d)}` })),
          badSignature.map(({ value, what }) => ({ update: 'decide' as const, payload: withField(keep, 'signature', value), wrong: what })),
          fc.oneof(fc.constantFrom(undefined, 'mallory', 'alice'), notText).map((by) => ({ update: 'decide' as const, payload: withField(keep, 'by', by), wrong: `by ${describeValue(by)}` })),
          notARequest.map((payload) => ({ update: 'decide' as const, payload, wrong: `the request ${describeValue(payload)}` })),
          fc.constant({ update: 'approve' as const, payload: approve, wrong: 'the approval again, once it was given' }),
        );
        const refusedDecisions = await sendAll(handle, fc.sample(decisions, { seed: SEED, numRuns: 14 }), `decide-${taskQueue}`);
        const stillDeciding = await handle.query(restoreStatusQuery);
        assert.equal(stillDeciding.state, 'waiting-for-decision');
        assert.deepEqual(stillDeciding.humanActions.map((h) => h.action), ['approve'], 'only the right approval was recorded');
        await assertHistoryClean(handle, [...refusedApprovals, ...refusedDecisions]);

        assert.match(await handle.executeUpdate(decideUpdate, { args: [keep], updateId: 'right-decision' }), /keep/);
        assert.equal((await handle.result()).state, 'completed');
        await assertHistoryClean(handle, [...refusedApprovals, ...refusedDecisions]);
      });
    });
  });
});
