/**
 * Each scenario's pure parts on small inputs: the schedules and fleets they lay out, and the figures they
 * make of what they measured. What needs a server (starting workflows, killing workers) is the bench's own.
 */
import assert from 'node:assert/strict';
import { MINUTE_MS } from '../../src/domain/duration';
import { resolveCampaignSpec } from '../../src/input';
import { SimAdminClient } from '../../sim';
import { baselineShape } from '../../bench/scenarios/baseline';
import { campaignsFor, fleetSchedule } from '../../bench/scenarios/fleet';
import { fleetCampaignSeed, fleetCampaignSpec, planFleetCampaign, startBursts } from '../../bench/scenarios/fleet-campaign';
import { idleRate, idleSeconds } from '../../bench/scenarios/idle';
import { replayFigures } from '../../bench/scenarios/replay';
import { summarizeResume, type ResumeKind } from '../../bench/scenarios/resume';
import { event, fleetResult } from './fixtures';

/** A whole minute, as the bench's windows are. */
const T = Date.parse('2026-11-26T10:00:00.000Z');

describe('bench scenario idle', function () {
  it('samples the idle stack 20 s, 10 s when quick, and charges worker and server per wall second', function () {
    assert.deepEqual([idleSeconds({ quick: false }), idleSeconds({ quick: true })], [20, 10]);
    const rate = idleRate({ workerCpuSeconds: 0.3, serverCpuSeconds: 0.5, wallSeconds: 20 });
    assert.ok(Math.abs(rate.cpuPerSecond - 0.04) < 1e-12, `cpuPerSecond ${rate.cpuPerSecond}`);
    assert.equal(rate.measuredSeconds, 20);
  });
});

describe('bench scenario fleet', function () {
  it('groups N instances in threes, one campaign each', function () {
    assert.deepEqual([campaignsFor(3), campaignsFor(30), campaignsFor(100), campaignsFor(1000)], [1, 10, 34, 334]);
  });

  it('opens the preview window on a whole minute after every campaign had time to arm, production 3-5 minutes later', function () {
    assert.deepEqual(fleetSchedule(1, T), { previewMs: T + MINUTE_MS, productionMs: T + 4 * MINUTE_MS });
    assert.deepEqual(fleetSchedule(100, T), { previewMs: T + MINUTE_MS, productionMs: T + 5 * MINUTE_MS });
    // 334 campaigns need 40 s + 67 s of lead: the window after next
    assert.deepEqual(fleetSchedule(334, T), { previewMs: T + 2 * MINUTE_MS, productionMs: T + 7 * MINUTE_MS });
    const off = fleetSchedule(1, T + 30_000);
    assert.equal(off.previewMs % MINUTE_MS, 0, 'a maintenance window starts on a whole minute');
    assert.ok(off.previewMs - (T + 30_000) >= 40_200);
  });
});

describe('bench scenario baseline', function () {
  it('runs as many workflows as the fleet had campaigns, with a campaign\'s activities and timers', function () {
    const fleet = fleetResult({ campaigns: 34, countsPerCampaign: { activitiesScheduled: 19, timersStarted: 3, workflowTasks: 40 } });
    assert.deepEqual(baselineShape(fleet), { workflows: 34, activities: 19, timers: 3, timerMs: 1000 });
  });
});

describe('bench scenario fleet-campaign', function () {
  it('plans 1000 instances as the README describes: thirds, 4 preview waves, 7 staging waves, pre-check 187 s', function () {
    const p = planFleetCampaign('fc', 1000, 50, T);
    assert.deepEqual(p.counts, { preview: 334, staging: 333, production: 333 });
    assert.equal(p.previewWaves, 4);
    assert.deepEqual(p.previewWindowsMs, [2, 4, 6, 8].map((m) => T + m * MINUTE_MS), 'a window every 2 minutes for waves of 84');
    assert.equal(p.stagingWaves, 7);
    assert.equal(p.precheckBeforeSeconds, 187);
    assert.equal(p.noticeSeconds, 207, 'the notice must exceed the pre-check');
    assert.equal(p.productionWindowMs, T + 20 * MINUTE_MS);
  });

  it('plans a small fleet with one wave each and the 30 s floor of the pre-check', function () {
    const p = planFleetCampaign('fc', 30, 50, T);
    assert.deepEqual([p.counts.preview, p.counts.staging, p.counts.production, p.previewWaves, p.stagingWaves], [10, 10, 10, 1, 1]);
    assert.deepEqual(p.previewWindowsMs, [T + MINUTE_MS]);
    assert.deepEqual([p.precheckBeforeSeconds, p.noticeSeconds], [30, 50]);
    // 4 instances: preview takes the remainder first
    assert.deepEqual(planFleetCampaign('fc', 4, 50, T).counts, { preview: 2, staging: 1, production: 1 });
  });

  it('seeds every instance on the old minor, tagged by stage (and wave in preview), with its stage\'s window', function () {
    const p = planFleetCampaign('fc', 303, 50, T); // 101 preview instances: 2 waves (at most 100 each)
    const seed = fleetCampaignSeed(p);
    assert.equal(seed.length, 303);
    assert.equal(new Set(seed.map((s) => s.id)).size, 303);
    const preview = seed.filter((s) => s.tags?.environment === 'preview');
    assert.equal(preview.length, 101);
    assert.deepEqual([...new Set(preview.map((s) => s.tags?.wave))], ['1', '2']);
    assert.ok(seed.every((s) => s.engineVersion === '15.5' && s.autoMinorVersionUpgrade === false && s.tags?.bench === 'fc'));
    assert.equal(seed.find((s) => s.id === 'fc-production-0')?.tags?.environment, 'production');
  });

  it('writes a campaign spec the product accepts, each instance probed at its own status endpoint', function () {
    const p = planFleetCampaign('fc', 30, 10, T);
    const spec = fleetCampaignSpec(p, new SimAdminClient('http://127.0.0.1:9'), '2s');
    const resolved = resolveCampaignSpec(spec);
    assert.deepEqual(resolved.stages.map((s) => s.name), ['preview', 'staging', 'production']);
    const staging = spec.stages[1];
    assert.match(staging.probe?.url ?? '', /\/_sim\/app\/eu-west-2\/\{instanceId\}\/status$/);
    assert.equal(staging.waves?.maxConcurrent, 10);
    assert.equal(spec.stages[2].precheckBefore, '30s');
  });

  it('splits child starts into bursts per stage, where 5 s pass without one', function () {
    const events = [
      event.childStarted(T, 'c/preview/a'),
      event.childStarted(T + 1000, 'c/preview/b'),
      event.childStarted(T + 2000, 'c/preview/c'),
      event.workflowTaskCompleted(T + 2500),
      event.childStarted(T + 10_000, 'c/preview/d'),
      event.childStarted(T + 11_000, 'c/staging/a'),
      event.childStarted(T + 11_500, 'c/staging/b'),
    ];
    assert.deepEqual(startBursts(events), {
      preview: [
        { children: 3, seconds: 2, msPerChild: 1000 },
        { children: 1, seconds: 0, msPerChild: 0 },
      ],
      staging: [{ children: 2, seconds: 0.5, msPerChild: 500 }],
    });
  });
});

describe('bench scenario replay', function () {
  it('takes p50, p90 and min of the replays, and leaves the replay worker\'s start-up out of the per-history figure', function () {
    assert.deepEqual(replayFigures(157, [40, 10, 30, 20], [900, 6, 5, 7]), {
      historyEvents: 157,
      runs: 4,
      runReplayHistoryMs: { p50: 20, p90: 40, min: 10 },
      perHistoryInOneReplayWorkerMs: { p50: 6, p90: 7 },
    });
  });
});

describe('bench scenario resume', function () {
  const kind = (name: string, p50: number, max: number, polling?: number): ResumeKind => ({ kind: name, campaigns: 3, workerProcessStartToPollingSeconds: polling, startToNextStepSeconds: { p50, max }, how: name });

  it('lets the worst kind decide the max, and lists a kind that failed', function () {
    const s = summarizeResume([kind('timer', 6.2, 9.5, 5.3), kind('aws-call', 8, 12.04)], [{ kind: 'staging', error: 'no campaign reached the step' }]);
    assert.equal(s.campaigns, 6);
    assert.equal(s.workerProcessStartToPollingSeconds, 5.3);
    assert.deepEqual(s.startToNextStepSeconds, { p50: 6.2, max: 12 });
    assert.deepEqual(s.failed, [{ kind: 'staging', error: 'no campaign reached the step' }]);
  });

  it('has no failed list when every kind was measured', function () {
    const s = summarizeResume([kind('timer', 6, 7)], []);
    assert.ok(!('failed' in s));
    assert.equal(s.workerProcessStartToPollingSeconds, undefined);
  });
});
