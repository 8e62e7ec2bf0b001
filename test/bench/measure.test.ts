/**
 * The bench's arithmetic on small inputs: Prometheus histograms and their quantiles, the RDS request rates,
 * the cost per workflow, what a history holds, the simulator's call log summed up.
 */
import assert from 'node:assert/strict';
import { CallLog, costPerWorkflow, countByStatus, durableSleeps, eventCounts, executionSpan, medianCounts, rdsRates, round } from '../../bench/measure';
import { histogramDelta, histogramQuantile, median, metricNames, quantile, readHistogram } from '../../bench/metrics';
import type { SimAdminClient } from '../../sim';
import { event, resources } from './fixtures';

const EXPOSITION = `# HELP temporal_workflow_task_execution_latency latency
# TYPE temporal_workflow_task_execution_latency histogram
temporal_workflow_task_execution_latency_bucket{task_queue="a",le="10"} 2
temporal_workflow_task_execution_latency_bucket{task_queue="a",le="100"} 6
temporal_workflow_task_execution_latency_bucket{task_queue="a",le="+Inf"} 8
temporal_workflow_task_execution_latency_sum{task_queue="a"} 900
temporal_workflow_task_execution_latency_count{task_queue="a"} 8
temporal_workflow_task_execution_latency_bucket{task_queue="b",le="10"} 100
temporal_workflow_task_execution_latency_bucket{task_queue="b",le="100"} 100
temporal_workflow_task_execution_latency_bucket{task_queue="b",le="+Inf"} 100
temporal_workflow_task_execution_latency_sum{task_queue="b"} 50
temporal_workflow_task_execution_latency_count{task_queue="b"} 100
# TYPE temporal_sticky_cache_size gauge
temporal_sticky_cache_size 3
`;

describe('bench: metrics', function () {
  it('reads a histogram of one task queue out of the exposition', function () {
    assert.deepEqual(readHistogram(EXPOSITION, 'temporal_workflow_task_execution_latency', { task_queue: 'a' }), { bounds: [10, 100, Infinity], cumulative: [2, 6, 8], sum: 900, count: 8 });
    // without a filter, the label sets are summed
    assert.deepEqual(readHistogram(EXPOSITION, 'temporal_workflow_task_execution_latency').cumulative, [102, 106, 108]);
  });

  it('subtracts the histogram before a scenario from the one after it', function () {
    const before = { bounds: [10, 100, Infinity], cumulative: [1, 2, 2], sum: 50, count: 2 };
    const after = { bounds: [10, 100, Infinity], cumulative: [2, 6, 8], sum: 900, count: 8 };
    assert.deepEqual(histogramDelta(after, before), { bounds: [10, 100, Infinity], cumulative: [1, 4, 6], sum: 850, count: 6 });
  });

  it('interpolates a quantile inside its bucket, as histogram_quantile does', function () {
    const h = { bounds: [10, 100, Infinity], cumulative: [2, 6, 8], sum: 0, count: 8 };
    assert.equal(histogramQuantile(h, 0.25), 10); // rank 2: the top of the first bucket
    assert.equal(histogramQuantile(h, 0.5), 10 + (90 * (4 - 2)) / 4); // rank 4, half way through (10, 100]
    assert.equal(histogramQuantile(h, 0.99), 100); // in +Inf: the highest finite bound
    assert.equal(histogramQuantile({ bounds: [], cumulative: [], sum: 0, count: 0 }, 0.5), undefined);
  });

  it('takes the nearest-rank quantile of samples', function () {
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2);
    assert.equal(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9), 9);
    assert.ok(Number.isNaN(median([])));
  });

  it('lists the metric families of an exposition with their types', function () {
    assert.deepEqual(metricNames(EXPOSITION), ['temporal_sticky_cache_size (gauge)', 'temporal_workflow_task_execution_latency (histogram)']);
  });
});

describe('bench: measure', function () {
  it('rounds figures and leaves what is not a number out', function () {
    assert.equal(round(1.26), 1.3);
    assert.equal(round(1234.5678, 2), 1234.57);
    assert.equal(round(undefined), undefined);
    assert.equal(round(NaN), undefined);
    assert.equal(round(-Infinity), undefined);
  });

  it('charges a workflow its share of worker and server CPU, less what the idle stack burns meanwhile', function () {
    const r = { resources: resources({ workerCpuSeconds: 3, serverCpuSeconds: 1, wallSeconds: 100 }) };
    assert.equal(costPerWorkflow(r, 4), 1);
    assert.equal(costPerWorkflow(r, 4, { cpuPerSecond: 0.02, measuredSeconds: 20 }), 0.5);
    // never below zero when the idle stack burned more than the run
    assert.equal(costPerWorkflow(r, 4, { cpuPerSecond: 1, measuredSeconds: 20 }), 0);
  });

  it('finds the RDS request rate of each account: mean, busiest second, busiest 10 s, throttled', function () {
    const t0 = Date.parse('2026-11-26T10:00:00.000Z');
    const calls = [
      ...Array.from({ length: 5 }, (_, i) => ({ atMs: t0 + i * 100, account: 'a' })), // 5 in the first second
      ...Array.from({ length: 15 }, (_, i) => ({ atMs: t0 + 10_000 + i * 1000, account: 'a', errorCode: i === 0 ? 'Throttling' : undefined })),
      { atMs: t0, account: 'b' },
    ];
    const rates = rdsRates(calls);
    assert.deepEqual(Object.keys(rates).sort(), ['a', 'b']);
    const a = rates.a;
    assert.equal(a.requests, 20);
    assert.equal(a.throttled, 1);
    assert.equal(a.spanSeconds, 24);
    assert.equal(a.meanPerSecond, round(20 / 24, 2));
    assert.equal(a.peakPerSecond, 5);
    assert.equal(a.peak10sPerSecond, 1); // the first 10 s hold 5 requests (0.5/s); seconds 10-24 one each
    assert.deepEqual(a.perTenSeconds, [5, 10, 5]);
    assert.equal(a.firstAt, '2026-11-26T10:00:00.000Z');
    // one request: a span of at least a second
    assert.deepEqual([rates.b.requests, rates.b.spanSeconds, rates.b.meanPerSecond, rates.b.peak10sPerSecond], [1, 1, 1, 1]);
  });

  it('reads what a history cost and when its workflow slept', function () {
    const t0 = 1_800_000_000_000;
    const events = [
      event.workflowTaskCompleted(t0),
      event.activityScheduled(t0 + 10),
      event.timerStarted(t0 + 20, '1'),
      event.timerFired(t0 + 2_020, '1'), // 2 s: a waiter's timer, not a sleep
      event.timerStarted(t0 + 3_000, '2'),
      event.workflowTaskCompleted(t0 + 3_000),
      event.timerFired(t0 + 63_000, '2'), // the window: a minute asleep
      event.activityScheduled(t0 + 63_100),
    ];
    assert.deepEqual(eventCounts(events), { activitiesScheduled: 2, timersStarted: 2, workflowTasks: 2 });
    assert.deepEqual(durableSleeps(events), [[t0 + 3_000, t0 + 63_000]]);
    assert.deepEqual(durableSleeps(events, 1000), [[t0 + 20, t0 + 2_020], [t0 + 3_000, t0 + 63_000]]);
    assert.deepEqual(
      medianCounts([
        { activitiesScheduled: 1, timersStarted: 9, workflowTasks: 3 },
        { activitiesScheduled: 5, timersStarted: 1, workflowTasks: 3 },
        { activitiesScheduled: 3, timersStarted: 2, workflowTasks: 7 },
      ]),
      { activitiesScheduled: 3, timersStarted: 2, workflowTasks: 3 },
    );
  });

  it('counts workflows by status and spans them from the first start to the last close', function () {
    const infos = [
      { status: { name: 'COMPLETED' }, startTime: new Date(1000), closeTime: new Date(61_000) },
      { status: { name: 'COMPLETED' }, startTime: new Date(2000), closeTime: new Date(91_000) },
      { status: { name: 'TERMINATED' }, startTime: new Date(500), closeTime: new Date(30_000) },
    ];
    assert.deepEqual(countByStatus(infos), { COMPLETED: 2, TERMINATED: 1 });
    assert.deepEqual(executionSpan(infos), { firstStartMs: 500, lastCloseMs: 91_000, seconds: 90.5 });
  });

  it('sums the simulator\'s call log: per instance, per action, and while each campaign slept', function () {
    const log = new CallLog({} as SimAdminClient, /(f-\d+)-(?:preview|staging|production)/);
    const t0 = 1_800_000_000_000;
    log.calls.push(
      [t0, 'DescribeDBInstances', false, 'rds', 'f-0', '111', ''],
      [t0 + 30_000, 'DescribeDBInstances', false, 'rds', 'f-0', '111', ''], // asleep
      [t0 + 30_000, 'DescribeDBInstances', false, 'rds', 'f-1', '111', ''], // f-1 is awake
      [t0 + 70_000, 'ModifyDBInstance', true, 'rds', 'f-0', '111', 'Throttling'],
      [t0 + 70_000, 'CreateIncident', true, 'statuspage', 'f-0', '', ''],
    );
    const s = log.summary(6, new Map([['f-0', [[t0 + 10_000, t0 + 60_000]]]]));
    assert.equal(s.awsCalls, 4);
    assert.equal(s.readsPerInstance, 0.5);
    assert.equal(s.mutationsPerInstance, 0.17);
    assert.equal(s.statuspageCalls, 1);
    assert.deepEqual(s.byAction, { 'rds:DescribeDBInstances': 3, 'rds:ModifyDBInstance': 1, 'statuspage:CreateIncident': 1 });
    assert.deepEqual(s.whileCampaignsSlept, { campaignSecondsAsleep: 50, awsCalls: 1, byAction: { DescribeDBInstances: 1 } });
    assert.equal(s.rdsByAccount['111'].throttled, 1);
  });
});
