/**
 * The CLI against a real dev server, a real worker with the real activities, and the AWS simulator:
 * exactly what an operator's terminal does, with exit codes a script relies on.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli';
import { campaignHandle } from '../../src/client';
import { fleetAtRest } from '../../dev/fixtures';
import { startLocalStack, type LocalStack } from '../../dev/stack';
import { localEnv, uniqueTaskQueue } from '../harness';

describe('rds-orchestrator CLI (dev server + simulator)', function () {
  this.timeout(120_000);
  let stack: LocalStack;
  let dir: string;

  before(async function () {
    stack = await startLocalStack({ env: await localEnv(), taskQueue: uniqueTaskQueue('cli'), notifyLog: () => undefined });
    // Windows an hour and more away: nothing happens on its own during the test.
    await stack.admin.seed(fleetAtRest());
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-cli-'));
  });

  after(async function () {
    await stack?.close();
  });

  async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l), config: stack.config, client: stack.client });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  function specFile(name: string, spec: unknown): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, JSON.stringify(spec, null, 2));
    return file;
  }

  const campaign = (id: string) => ({
    campaignId: id,
    targetEngineVersion: '15.8',
    requester: 'alice',
    stages: [
      { name: 'preview', region: 'eu-west-2', instanceId: 'notifydb-preview', method: 'maintenance-window' },
      { name: 'production', region: 'eu-west-2', instanceId: 'notifydb-production', method: 'maintenance-window' },
    ],
  });

  it('rejects an invalid spec with exit code 2, naming the fields, and starts nothing', async function () {
    const file = specFile('bad.json', { targetEngineVersion: 15.8, requester: 'alice', stages: [{ name: 'preview', region: 'mars', instanceId: 'x_y', method: 'now' }] });
    const r = await cli('campaign', 'start', '--spec', file);
    assert.equal(r.code, 2);
    assert.match(r.err, /targetEngineVersion/);
    assert.match(r.err, /stages\[0\]\.region/);
    assert.match(r.err, /stages\[0\]\.method/);
    const missing = await cli('campaign', 'start', '--spec', path.join(dir, 'nope.yaml'));
    assert.equal(missing.code, 2);
    assert.match(missing.err, /nope\.yaml/);
  });

  it('plan prints every date without changing anything', async function () {
    const before = (await stack.admin.calls({ mutationsOnly: true })).length;
    const r = await cli('campaign', 'plan', '--spec', specFile('plan.json', campaign('plan-me')));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /\[preview\] eu-west-2\/notifydb-preview 15\.5 → 15\.8/);
    assert.match(r.out, /\[production\][\s\S]*window: +\d{4}-\d\d-\d\dT[\s\S]*pre-check: +\d{4}/);
    assert.match(r.out, /Preflight would pass\. Nothing was changed\./);
    assert.equal((await stack.admin.calls({ mutationsOnly: true })).length, before, 'plan sent no mutation');

    const bad = await cli('campaign', 'plan', '--spec', specFile('plan-bad.json', { ...campaign('plan-bad'), targetEngineVersion: '16.4' }));
    assert.equal(bad.code, 2);
    assert.match(bad.out, /major version upgrade/);
  });

  it('start, status, rejected approval, abort with compensation, list', async function () {
    const file = specFile('c1.json', campaign('cli-one'));
    const started = await cli('campaign', 'start', '--spec', file);
    assert.equal(started.code, 0, started.err);
    assert.match(started.out, /started campaign cli-one/);
    const again = await cli('campaign', 'start', '--spec', file);
    assert.equal(again.code, 3);
    assert.match(again.err, /already running/);

    // preview arms its flag and sleeps towards a window an hour away
    let status: { state: string; waitingFor?: { kind: string } } | undefined;
    for (let i = 0; i < 50; i++) {
      const r = await cli('campaign', 'status', 'cli-one', '--json');
      status = JSON.parse(r.out);
      if (status?.waitingFor?.kind === 'window') break;
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.equal(status?.state, 'waiting-for-window');
    const readable = await cli('campaign', 'status', 'cli-one');
    assert.match(readable.out, /WAITING FOR window: preview: maintenance window/);
    assert.match(readable.out, /preview +eu-west-2\/notifydb-preview +15\.5 +15\.8 +running/);

    const noApproval = await cli('campaign', 'approve', 'cli-one', '--as', 'bob');
    assert.equal(noApproval.code, 3);
    assert.match(noApproval.err, /not waiting for an approval/);
    const noDecision = await cli('campaign', 'decide', 'cli-one', '--continue', '--as', 'bob');
    assert.equal(noDecision.code, 3);
    assert.match(noDecision.err, /no decision is being asked/);
    const both = await cli('campaign', 'decide', 'cli-one', '--continue', '--abort', '--as', 'bob');
    assert.equal(both.code, 2);
    const noName = await cli('campaign', 'abort', 'cli-one');
    assert.equal(noName.code, 2, 'missing --as is a usage error');

    const abort = await cli('campaign', 'abort', 'cli-one', '--as', 'alice', '--reason', 'test');
    assert.equal(abort.code, 0, abort.err);
    const handle = campaignHandle(stack.client, 'cli-one');
    assert.equal((await handle.result()).state, 'aborted');
    const modifies = (await stack.admin.calls({ action: 'ModifyDBInstance' })).map((c) => c.params.AutoMinorVersionUpgrade);
    assert.deepEqual(modifies, ['true', 'false'], 'flag turned on, then back off by the abort');

    const notFound = await cli('campaign', 'status', 'no-such-campaign');
    assert.equal(notFound.code, 4);
    // Search attributes make it findable by instance and state (visibility is eventually consistent).
    let listed = { code: -1, out: '', err: '' };
    for (let i = 0; i < 25 && !/cli-one +aborted/.test(listed.out); i++) {
      if (i > 0) await new Promise((res) => setTimeout(res, 200));
      listed = await cli('campaign', 'list', '--query', "RdsInstances = 'eu-west-2/notifydb-preview'");
    }
    assert.equal(listed.code, 0, listed.err);
    assert.match(listed.out, /cli-one +aborted/);
    const none = await cli('campaign', 'list', '--query', "RdsInstances = 'eu-west-2/some-other-db'");
    assert.doesNotMatch(none.out, /cli-one/);
  });
});
