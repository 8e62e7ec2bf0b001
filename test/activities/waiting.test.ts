import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { FailureTypes } from '../../src/api';
import { pollUntil, withKeepAlive } from '../../src/activities/waiting';

describe('waiting: polls inside an attempt, heartbeats while running', () => {
  it('polls every interval inside one attempt, heartbeating, until done', async () => {
    const env = new MockActivityEnvironment();
    let heartbeats = 0;
    env.on('heartbeat', () => heartbeats++);
    let checks = 0;
    const value = await env.run(() =>
      pollUntil({ intervalMs: 50, attemptMs: 10_000 }, async () => (++checks < 4 ? { done: false, waitingFor: `check ${checks}` } : { done: true, value: 'ready' })),
    );
    assert.equal(value, 'ready');
    assert.equal(checks, 4);
    assert.ok(heartbeats >= 3, `a heartbeat per sleep, got ${heartbeats}`);
  });

  it('ends the attempt with NotReady, next retry one interval later, when the attempt is used up', async () => {
    const env = new MockActivityEnvironment();
    let checks = 0;
    await assert.rejects(
      env.run(() => pollUntil({ intervalMs: 40, attemptMs: 100 }, async () => ({ done: false, waitingFor: `still modifying (${++checks})` }))),
      (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.type, FailureTypes.NotReady);
        assert.equal(err.nonRetryable, false);
        assert.equal(err.nextRetryDelay, 40);
        assert.match(err.message, /still modifying/);
        return true;
      },
    );
    assert.ok(checks >= 2 && checks <= 4, `polled inside the attempt: ${checks}`);
  });

  it('checks once and throws NotReady for a caller that gave no polling (recorded before it existed)', async () => {
    let checks = 0;
    const env = new MockActivityEnvironment();
    await assert.rejects(env.run(() => pollUntil(undefined, async () => ({ done: false, waitingFor: `x${++checks}` }))), (err: unknown) => err instanceof ApplicationFailure && err.type === FailureTypes.NotReady && err.nextRetryDelay === undefined);
    assert.equal(checks, 1);
  });

  it('stops polling when the activity is cancelled', async () => {
    const env = new MockActivityEnvironment();
    const running = env.run(() => pollUntil({ intervalMs: 60_000, attemptMs: 600_000 }, async () => ({ done: false, waitingFor: 'never' })));
    setTimeout(() => env.cancel(), 50);
    await assert.rejects(running, /cancel/i);
  });

  it('keep-alive heartbeats a slow activity and nothing for a quick one; a plain call outside an activity works', async function () {
    this.timeout(15_000);
    const env = new MockActivityEnvironment();
    let heartbeats = 0;
    env.on('heartbeat', () => heartbeats++);
    const quick = withKeepAlive(async (x: number) => x + 1);
    assert.equal(await env.run(quick, 1), 2);
    assert.equal(heartbeats, 0);
    const slow = withKeepAlive(() => new Promise<string>((resolve) => setTimeout(() => resolve('done'), 2300)));
    assert.equal(await env.run(slow), 'done');
    assert.equal(heartbeats, 1);
    assert.equal(await quick(41), 42);
    // A local activity cannot heartbeat: nothing is sent.
    const local = new MockActivityEnvironment({ isLocal: true });
    let localHeartbeats = 0;
    local.on('heartbeat', () => localHeartbeats++);
    assert.equal(await local.run(slow), 'done');
    assert.equal(localHeartbeats, 0);
  });
});
