import assert from 'node:assert/strict';
import fs from 'node:fs';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { SSH_SIGNATURE_NAMESPACE } from '../../../src/domain/identity/ssh-signature';
import { timeSkippingEnv, uniqueTaskQueue } from '../../harness';
import { makeKey, sshSign, tempDir, type TestKey } from '../../fixtures/ssh-keys';
import { approvalsBySignature, approversQuery, signedApproveUpdate } from '../../fixtures/ssh-signature-workflow';

const workflowsPath = require.resolve('../../fixtures/ssh-signature-workflow');
const TEXT = 'rds-orchestrator approve\ncampaign: notify-15.8\nplan: production → 15.8 in wed:22:00-wed:22:30\n';

describe('SSH signature verification inside a workflow (the sandbox: no node:crypto, no Buffer, no I/O)', function () {
  this.timeout(120_000);
  let dir: string;
  let alice: TestKey, bob: TestKey, mallory: TestKey;

  before(function () {
    dir = tempDir();
    alice = makeKey(dir, 'alice', 'ecdsa', 521);
    bob = makeKey(dir, 'bob', 'rsa', 3072);
    mallory = makeKey(dir, 'mallory', 'ed25519');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('an update validator refuses a forged and an other-text signature and accepts real ones (P-521, RSA)', async function () {
    const env = await timeSkippingEnv();
    const taskQueue = uniqueTaskQueue('sshsig');
    const workflowBundle = await bundleWorkflowCode({ workflowsPath, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } });
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle });
    const allowed = `alice ${alice.publicKey}\nbob ${bob.publicKey}\n`;
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(approvalsBySignature, { args: [allowed, TEXT, 2], taskQueue, workflowId: `sshsig-${taskQueue}` });
      const rejectedWith = async (principal: string, signature: string, pattern: RegExp) =>
        assert.rejects(handle.executeUpdate(signedApproveUpdate, { args: [{ principal, signature }] }), (err: unknown) => {
          assert.ok(err instanceof WorkflowUpdateFailedError, String(err));
          assert.match(String((err.cause as Error).message), pattern);
          return true;
        });
      await rejectedWith('bob', sshSign(mallory, TEXT, SSH_SIGNATURE_NAMESPACE), /^key-not-listed: .*not listed for "bob"/);
      await rejectedWith('alice', sshSign(alice, TEXT.replace('wed', 'thu'), SSH_SIGNATURE_NAMESPACE), /^other-text: /);
      assert.deepEqual(await handle.query(approversQuery), [], 'refused updates leave no trace in the state');
      assert.equal(await handle.executeUpdate(signedApproveUpdate, { args: [{ principal: 'alice', signature: sshSign(alice, TEXT, SSH_SIGNATURE_NAMESPACE) }] }), `approved by alice with ${alice.fingerprint}`);
      assert.equal(await handle.executeUpdate(signedApproveUpdate, { args: [{ principal: 'bob', signature: sshSign(bob, TEXT, SSH_SIGNATURE_NAMESPACE) }] }), `approved by bob with ${bob.fingerprint}`);
      const result = await handle.result();
      assert.deepEqual(result.map((r) => [r.principal, r.keyType, r.fingerprint]), [
        ['alice', 'ecdsa-sha2-nistp521', alice.fingerprint],
        ['bob', 'ssh-rsa', bob.fingerprint],
      ]);
      // Only the two accepted updates reached the history.
      const history = await handle.fetchHistory();
      const accepted = (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
      assert.equal(accepted.length, 2);
      // And the history replays: the handler's verification gives the same answer again, with no validator.
      await Worker.runReplayHistory({ workflowBundle }, history);
    });
  });
});
