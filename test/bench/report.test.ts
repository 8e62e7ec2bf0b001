/**
 * The bench's report from small, hand-made results: the printed tables of both shapes, the verdicts against
 * the targets, and the JSON documents (their names and their fields), assembled from the scenarios' results.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from '../../bench/options';
import {
  budgetVerdict,
  campaignsRun,
  currentShapeRow,
  describeRdsApi,
  fleetCampaignDocument,
  fleetCampaignExitCode,
  fleetCampaignRun,
  render,
  resultsDocument,
  writeFleetCampaignResults,
  writeResults,
  type SizeReport,
} from '../../bench/report';
import { ScenarioResults } from '../../bench/scenario';
import { scenario as baseline } from '../../bench/scenarios/baseline';
import { scenario as fleet } from '../../bench/scenarios/fleet';
import { renderFleetCampaign, scenario as fleetCampaign } from '../../bench/scenarios/fleet-campaign';
import { scenario as idle } from '../../bench/scenarios/idle';
import { scenario as replay } from '../../bench/scenarios/replay';
import { scenario as resume } from '../../bench/scenarios/resume';
import { baselineResult, fleetCampaignResult, fleetResult, replayResult, resumeResult } from './fixtures';

const IDLE = { cpuPerSecond: 0.01, measuredSeconds: 20 };
const STARTED = new Date('2026-11-26T10:00:00.000Z');
const row = (table: string, label: string) => table.split('\n').find((l) => l.startsWith(label)) ?? assert.fail(`no row ${label} in\n${table}`);
const cells = (line: string) => line.trim().split(/\s{2,}/);

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'bench-report-'));
}

describe('bench report: the campaigns shape', function () {
  const size: SizeReport = { n: 3, fleet: fleetResult({ notes: ['1 approval update(s) were refused (visibility lag) and retried'] }), baseline: baselineResult() };

  it('sets each size\'s campaign beside its baseline with the ratio, CPU per workflow raw and minus the idle stack', function () {
    const table = render([size], IDLE, undefined, undefined, undefined);
    assert.deepEqual(cells(table.split('\n')[0]), ['N=3 campaign', 'baseline', 'ratio']);
    // fleet (3 + 1 s) / 1 campaign; baseline (1 + 1 s) / 1 workflow
    assert.deepEqual(cells(row(table, 'worker+server CPU ms / workflow')).slice(-3), ['4000', '2000', '2.00x']);
    // minus 0.01 CPU-s per wall second: 100 s of the fleet, 10 s of the baseline
    assert.deepEqual(cells(row(table, '  same, minus idle stack CPU')).slice(-3), ['3000', '1900', '1.58x']);
    assert.deepEqual(cells(row(table, 'WFT sched-to-start p99 ms')).slice(-3), ['400', '100', '4.00x']);
    assert.deepEqual(cells(row(table, 'failed campaigns')).slice(-3), ['0', '-', '-']);
    assert.deepEqual(cells(row(table, 'RDS req/s acct 111111111111 mean/peak')).slice(-3), ['2.4 / 5', '-', '-']);
    const tableLines = table.split('\n').filter((l) => !l.startsWith('note'));
    assert.equal(new Set(tableLines.map((l) => l.length)).size, 1, 'the columns line up');
    assert.ok(table.endsWith('note N=3: 1 approval update(s) were refused (visibility lag) and retried'));
  });

  it('closes the table with the RDS settings, the replays and the resume', function () {
    const opts = parseArgs(['--rds-throttle', 'aws']);
    const lines = render([size], IDLE, replayResult(120), replayResult(60), resumeResult(), opts).split('\n');
    const tail = lines.slice(lines.findIndex((l) => l.startsWith('RDS API: ')));
    assert.deepEqual(tail, [
      `RDS API: ${describeRdsApi(opts)}`,
      'note N=3: 1 approval update(s) were refused (visibility lag) and retried',
      '',
      'Replay of a full campaign history (157 events, 10 runs): Worker.runReplayHistory p50 120 ms (p90 125, min 115); per history inside one replay worker p50 60 ms',
      'Replay of a baseline history (157 events, same count of activities and timers): Worker.runReplayHistory p50 60 ms (min 55); per history inside one replay worker p50 30 ms',
      'Resume (3 campaigns): new worker process polling after 5.3 s; next step after p50 6.2 s, max 9.5 s from its spawn',
    ]);
  });

  it('shows no baseline or ratio for a size measured without one', function () {
    const table = render([{ n: 3, fleet: fleetResult() }], IDLE, undefined, undefined, undefined);
    assert.deepEqual(cells(row(table, 'worker+server CPU ms / workflow')).slice(-3), ['4000', '-', '-']);
  });

  it('describes the RDS API settings', function () {
    assert.equal(describeRdsApi({}), 'simulator does not throttle RDS (--rds-throttle off); no worker budget');
    assert.equal(
      describeRdsApi(parseArgs(['--rds-throttle', '300/12'])),
      'simulator throttles RDS with a token bucket of 300 burst + 12/s per account and region; worker budget 12 requests/s per account and region, evenly spaced (burst 1)',
    );
  });

  it('meets the RDS budget only with every account under it, in mean and busiest second, and no failed campaign', function () {
    assert.equal(budgetVerdict(size, 5).met, true);
    assert.equal(budgetVerdict(size, 4).met, false, 'the busiest second had 5 requests');
    assert.equal(budgetVerdict(size, undefined).met, false);
    const failed = { ...size, fleet: fleetResult({ completed: 0 }) };
    assert.deepEqual([budgetVerdict(failed, 5).met, budgetVerdict(failed, 5).failedCampaigns], [false, 1]);
  });

  it('judges the targets: every campaign of 1000 instances, CPU against the baseline, replay, resume', function () {
    const big: SizeReport = { n: 1000, fleet: fleetResult({ campaigns: 334, completed: 333 }), baseline: baselineResult({ workflows: 334 }) };
    const doc = resultsDocument({
      opts: parseArgs([]),
      startedAt: STARTED,
      loadBefore: [0.1, 0.2, 0.3],
      loadAfter: [1, 1, 1],
      bundleSeconds: 2.34,
      sizes: [size, big],
      idle: IDLE,
      replay: replayResult(45),
      resume: resumeResult(),
      metricNames: [],
      table: 'the table',
    });
    assert.deepEqual(doc.targets.thousandInstances, { met: false, detail: 'every campaign of the 1000-instance fleet completed' });
    assert.deepEqual(doc.targets.costAtMost1_5xBaseline[0], { n: 3, cpuRatio: 2, cpuRatioIdleAdjusted: 1.58, wftExecutionP99Ratio: 4, wftScheduleToStartP99Ratio: 4 });
    assert.deepEqual(doc.targets.replayUnder50ms, { met: true, p50: 45 });
    assert.deepEqual(doc.targets.resumeWithin15s, { met: true, max: 9.5 });
    assert.equal(doc.targets.rdsApiBudget.detail, 'the simulator did not throttle in this run (--rds-throttle off)');
    assert.equal(doc.settings.workflowBundleSeconds, 2.3);
    assert.equal(doc.table, 'the table');
  });

  it('assembles the run from the scenarios\' results: each size with its baseline, the replays, the resume', function () {
    const results = new ScenarioResults();
    results.record(idle, undefined, IDLE);
    results.record(fleet, 3, { result: size.fleet, sampleHistory: {} });
    results.record(baseline, 3, { result: size.baseline!, sampleHistory: {} });
    results.record(fleet, 6, { result: fleetResult({ campaigns: 2 }), sampleHistory: {} });
    results.record(replay, undefined, { campaign: replayResult(120), baseline: replayResult(60) });
    results.record(resume, undefined, resumeResult());
    const opts = parseArgs(['--sizes', '3,6']);
    const run = campaignsRun(results, { opts, startedAt: STARTED, loadBefore: [], loadAfter: [], bundleSeconds: 2, metricNames: ['m (counter)'] });
    assert.deepEqual(run.sizes.map((s) => [s.n, s.fleet.campaigns, s.baseline?.workflows]), [[3, 1, 1], [6, 2, undefined]]);
    assert.ok(!('baseline' in run.sizes[1]), 'a size without a baseline has no baseline key in the JSON');
    assert.deepEqual([run.replay?.runReplayHistoryMs.p50, run.replayBaseline?.runReplayHistoryMs.p50, run.resume?.campaigns], [120, 60, 3]);
    assert.equal(run.table, render(run.sizes, IDLE, run.replay, run.replayBaseline, run.resume, opts));
  });

  it('writes <date>-[quick-]<sizes>.json into --out', function () {
    const dir = tempDir();
    try {
      const opts = parseArgs(['--quick', '--sizes', '30,60', '--out', dir]);
      const file = writeResults({ opts, startedAt: STARTED, loadBefore: [], loadAfter: [], bundleSeconds: 2, sizes: [size], idle: IDLE, metricNames: [], table: 't' });
      assert.equal(file, path.join(dir, '2026-11-26-quick-30-60.json'));
      const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as ReturnType<typeof resultsDocument>;
      assert.deepEqual(Object.keys(doc), ['startedAt', 'endedAt', 'machine', 'interpretation', 'settings', 'sizes', 'targets', 'idleStack', 'metricNames', 'table']);
      assert.equal(doc.sizes[0].fleet.campaigns, 1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bench report: the fleet-campaign shape', function () {
  it('renders one column per size, with the notes below', function () {
    const table = renderFleetCampaign([fleetCampaignResult({ notes: ['1 decision(s) answered'] })]);
    assert.deepEqual(cells(table.split('\n')[0]), ['N=3 one campaign']);
    assert.deepEqual(cells(row(table, 'instances preview/staging/production')).slice(-1), ['1/1/1']);
    assert.deepEqual(cells(row(table, 'instances completed / failed')).slice(-1), ['3 / 0']);
    assert.deepEqual(cells(row(table, '  waves preview / staging / production')).slice(-1), ['1 / 1 / 1']);
    assert.deepEqual(cells(row(table, 'parent history events (KB)')).slice(-1), ['40 (20)']);
    assert.deepEqual(cells(row(table, 'child starts ms / child (per burst)')).slice(-1), ['p:0']);
    assert.deepEqual(cells(row(table, '  RDS requests / throttled')).slice(-1), ['24 / 0']);
    assert.ok(table.endsWith('note N=3: 1 decision(s) answered'));
  });

  it('compares with the current shape at the same size per instance (a campaign is three instances)', function () {
    const cmp = currentShapeRow(3, fleetResult(), IDLE);
    assert.deepEqual(cmp, { n: 3, cpuPerCampaignMs: 4000, cpuPerCampaignMinusIdleMs: 3000, wallSeconds: 100, historyP50: 157, source: 'this run' });
    const table = renderFleetCampaign([fleetCampaignResult()], [cmp]);
    assert.deepEqual(cells(row(table, '  current shape N=3: per campaign / 3')).slice(-1), ['1333 (1000 minus idle; this run)']);
  });

  it('with --shape both, follows its table with the current shape\'s, from the same run', function () {
    const results = new ScenarioResults();
    results.record(idle, undefined, IDLE);
    results.record(fleet, 3, { result: fleetResult(), sampleHistory: {} });
    results.record(fleetCampaign, 3, { result: fleetCampaignResult(), parentHistory: {} });
    const opts = parseArgs(['--shape', 'both', '--sizes', '3']);
    const run = fleetCampaignRun(results, { opts, startedAt: STARTED, loadBefore: [], loadAfter: [] });
    const current = [{ n: 3, fleet: fleetResult() }];
    assert.equal(
      run.table,
      `${renderFleetCampaign(run.sizes, [currentShapeRow(3, fleetResult(), IDLE)])}\n\nCurrent shape (ceil(N/3) campaigns), same run:\n${render(current, IDLE, undefined, undefined, undefined, opts)}`,
    );
    assert.deepEqual(fleetCampaignDocument(run).currentShape, current);
  });

  it('writes <date>-fleet-campaign-<sizes>.json, without the current shape when it did not run', function () {
    const results = new ScenarioResults();
    results.record(idle, undefined, IDLE);
    results.record(fleetCampaign, 30, { result: fleetCampaignResult({ instances: 30 }), parentHistory: {} });
    const dir = tempDir();
    try {
      const opts = parseArgs(['--shape', 'fleet-campaign', '--sizes', '30', '--out', dir]);
      const run = fleetCampaignRun(results, { opts, startedAt: STARTED, loadBefore: [], loadAfter: [] });
      assert.equal(run.table, renderFleetCampaign(run.sizes, []));
      const file = writeFleetCampaignResults(run);
      assert.equal(file, path.join(dir, '2026-11-26-fleet-campaign-30.json'));
      const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
      assert.deepEqual(Object.keys(doc), ['startedAt', 'endedAt', 'machine', 'shape', 'interpretation', 'settings', 'idleStack', 'sizes', 'table']);
      assert.equal(doc.shape, 'fleet-campaign');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 0 only when every campaign completed without a failed instance', function () {
    assert.equal(fleetCampaignExitCode([fleetCampaignResult()]), 0);
    assert.equal(fleetCampaignExitCode([fleetCampaignResult(), fleetCampaignResult({ failedInstances: 1 })]), 1);
    assert.equal(fleetCampaignExitCode([fleetCampaignResult({ campaignState: 'aborted' })]), 1);
  });
});
