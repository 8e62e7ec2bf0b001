/**
 * Ctrl-C and `npm start` again, as a person does it: the demo (`npm start`) runs as a process group of its own,
 * like a terminal's foreground job, and gets SIGINT as a terminal's Ctrl-C sends it (to the whole group: npm and
 * the demo alike) while its preview wave runs. It must stop within about two seconds with one line saying where the
 * campaign stands; started again on the same state folder, it must find the campaign on the dev server's database
 * and follow it to its end without seeding or starting anything, each AWS change made once across both runs (the
 * simulator's call log of each session, kept by the demo beside its state).
 *
 * The campaign is the demo's first two stages (preview in its maintenance window, staging upgraded now under the
 * probe) with --fast timings: production's window would add two minutes and nothing this test looks at.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mutationSummary, repeatedMutations } from '../../dev/call-log';
import { DemoState } from '../../dev/demo-state';
import { fleetInstanceIds } from '../../dev/fixtures';
import { spawnProcess, type ChildProcessHandle } from '../../dev/processes';

const MINUTE = 60_000;
/** Ctrl-C must return within about two seconds; this allows a loaded machine (2 cores, every group at once). */
const EXIT_WITHIN_MS = 3500;

describe('demo: Ctrl-C mid-wave, then npm start again', function () {
  this.timeout(5 * MINUTE);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-demo-resume-'));
  const args = ['start', '--', '--auto-approve', '--fast', '--scenario', 'campaign', '--stages', 'preview,staging', '--temporal-port', '0', '--ui-port', '0', '--sim-port', '0', '--state-dir', dir];
  const started: ChildProcessHandle[] = [];
  const npmStart = (name: string) => {
    const child = spawnProcess(name, 'npm', args, { env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
    started.push(child);
    return child;
  };

  after(async function () {
    this.timeout(30_000);
    // A demo still running (a failed assertion) is interrupted the way the test does, so that it stops its dev server.
    for (const child of started.filter((c) => c.running)) {
      child.killNow('SIGINT');
      await Promise.race([child.exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      await child.kill();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stops within about two seconds saying where the campaign stands, then follows it to its end with each AWS change made once', async function () {
    const first = npmStart('demo (first start)');
    const [, campaignId] = await first.waitForMatch(/^Campaign (demo-\d+): /, 2 * MINUTE);
    await first.waitForLine(/🌊 preview: wave 1\/1\b.*running/, 2 * MINUTE);
    const linesBefore = first.output.length;
    const interruptedAt = Date.now();
    first.killNow('SIGINT');
    const exit = await first.exited;
    const tookMs = Date.now() - interruptedAt;
    console.log(`      Ctrl-C to exit: ${tookMs} ms`);
    const after = first.output.slice(linesBefore);
    assert.ok(tookMs < EXIT_WITHIN_MS, `the demo took ${tookMs} ms to stop after Ctrl-C\n${first.tail()}`);
    // The demo exits 130; npm, which got the SIGINT too, ends by it.
    assert.ok(exit.code === 130 || exit.signal === 'SIGINT', `exit ${exit.code ?? exit.signal}\n${first.tail()}`);
    // One line, and no error (the follower's query racing the shutdown printed "demo failed: Failed to query Workflow").
    assert.deepEqual(after.length, 1, `one line after Ctrl-C:\n${after.join('\n')}`);
    assert.match(after[0], new RegExp(`^Interrupted: campaign ${campaignId} is in preview, wave 1/1 \\(.*running.*\\)\\. Run npm start to continue, npm start -- --fresh to start over\\.$`));

    const second = npmStart('demo (second start)');
    await second.waitForLine(new RegExp(`resumed: following campaign ${campaignId} from where it is`), 2 * MINUTE);
    await second.waitForLine(new RegExp(`^Campaign ${campaignId} COMPLETED in`), 4 * MINUTE);
    const exit2 = await second.exited;
    assert.equal(exit2.code, 0, second.tail());
    const printed = second.output.join('\n');
    assert.match(printed, /^Resuming the demo started at /m, 'the second start resumes');
    assert.doesNotMatch(printed, /^Starting the AWS simulator/m, 'and starts nothing new');
    for (const id of [...fleetInstanceIds('preview'), ...fleetInstanceIds('staging')]) assert.match(printed, new RegExp(`\\b${id}\\s+\\d.*15\\.5\\s+15\\.8\\s+completed`), `${id} at 15.8`);

    // Each AWS change once across both starts (status page and PagerDuty are not AWS: one page per instance).
    const calls = new DemoState(dir).readCalls().filter((c) => c.isMutation && c.service !== 'statuspage' && c.service !== 'pagerduty');
    const mutations = mutationSummary(calls);
    assert.deepEqual(repeatedMutations(mutations), [], mutations.join('\n'));
    const flagOn = calls.filter((c) => c.action === 'ModifyDBInstance' && c.params.AutoMinorVersionUpgrade === 'true').map((c) => c.params.DBInstanceIdentifier).sort();
    assert.deepEqual(flagOn, [...fleetInstanceIds('preview')].sort(), 'each preview database armed for its window once');
    const upgradedNow = calls
      .filter((c) => c.action === 'ApplyPendingMaintenanceAction' || (c.action === 'ModifyDBInstance' && c.params.EngineVersion))
      .map((c) => c.params.DBInstanceIdentifier ?? c.params.ResourceIdentifier.split(':db:')[1])
      .sort();
    assert.deepEqual(upgradedNow, [...fleetInstanceIds('staging')].sort(), 'each staging database upgraded once');
  });
});
