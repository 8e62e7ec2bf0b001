/**
 * Replays the histories recorded from real runs (test/histories/*.json, made by
 * scripts/record-histories.ts with older workflow code) against the current workflow code. A change
 * to a workflow's steps that is not guarded by `patched()` makes a running workflow's replay diverge
 * and fails here with a non-determinism error, before it can fail in production.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from './histories/history-json';
import { timeSkippingEnv } from './harness';

const DIR = path.join(__dirname, 'histories');
/** Far below Temporal's limits (warning at 10,240 events, hard limit 51,200): a campaign must not creep up. */
const FULL_CAMPAIGN_EVENT_BUDGET = 400;

function load(file: string) {
  return historyFromJSON(JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8')));
}

describe('replay of recorded histories', function () {
  this.timeout(120_000);
  const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

  before(async function () {
    // The harness installs the quiet Runtime; it must come before the replay worker creates the default one.
    await timeSkippingEnv();
  });

  it('has the recorded runs: old code (campaigns, restore with cutover, with rollback) and the current cutover paths', function () {
    assert.deepEqual(files, [
      'campaign-aborted.json',
      'campaign-full.json',
      'restore-cutover.json',
      'restore-decide-roll-back.json',
      'restore-private-zone-cutover.json',
      'restore-rollback.json',
    ]);
  });

  it('every history replays against the current workflow code without non-determinism', async function () {
    const failures: string[] = [];
    let replayed = 0;
    const histories = files.map((f) => ({ workflowId: f.replace(/\.json$/, ''), history: load(f) }));
    for await (const r of Worker.runReplayHistories({ workflowsPath: require.resolve('../src/workflows'), replayName: 'recorded-histories' }, histories)) {
      replayed++;
      if (r.error) failures.push(`${r.workflowId}: ${r.error.name}: ${r.error.message}`);
    }
    assert.equal(replayed, files.length);
    assert.deepEqual(failures, []);
  });

  it('a full campaign stays small in history events', function () {
    const events = load('campaign-full.json').events ?? [];
    console.log(`      full campaign (3 stages, approval, pause/resume, status page): ${events.length} history events`);
    assert.ok(events.length < FULL_CAMPAIGN_EVENT_BUDGET, `${events.length} events, budget ${FULL_CAMPAIGN_EVENT_BUDGET}`);
  });
});
