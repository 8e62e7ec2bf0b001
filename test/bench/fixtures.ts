/**
 * Small, hand-made results of the bench's scenarios (the figures of a 3-instance fleet), for the tests of
 * the report and the driver's bookkeeping: no Temporal server, no simulator.
 */
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import type { Latencies, Resources } from '../../bench/measure';
import type { BaselineResult } from '../../bench/scenarios/baseline';
import type { FleetResult } from '../../bench/scenarios/fleet';
import type { FleetCampaignResult } from '../../bench/scenarios/fleet-campaign';
import type { ReplayResult } from '../../bench/scenarios/replay';
import type { ResumeResult } from '../../bench/scenarios/resume';

export function resources(over: Partial<Resources> = {}): Resources {
  return {
    wallSeconds: 100,
    workerCpuSeconds: 3,
    serverCpuSeconds: 1,
    simulatorCpuSeconds: 0.5,
    otherCpuSeconds: 2,
    machineBusyPercent: 3,
    simulatorCpuPercentOfOneCore: 1,
    workerRssAtStartMb: 200,
    workerPeakRssMb: 300,
    serverPeakRssMb: 100,
    simulatorPeakRssMb: 80,
    ...over,
  };
}

export function latencies(p50: number, p99: number): Latencies {
  return {
    wftScheduleToStart: { p50, p99, count: 10 },
    wftExecution: { p50, p99, count: 10 },
    activityScheduleToStart: { p50, p99, count: 20 },
  };
}

export function fleetResult(over: Partial<FleetResult> = {}): FleetResult {
  return {
    instances: 3,
    campaigns: 1,
    completed: 1,
    failedOrOther: {},
    armedBeforeWindow: 1,
    wallSeconds: 100,
    workflowsPerSecond: 0.01,
    schedule: { leadSeconds: 60, previewWindowAt: '2026-11-26T10:01:00.000Z', productionWindowAt: '2026-11-26T10:04:00.000Z', drainAfterProductionWindowSeconds: 12 },
    perCampaignSeconds: { p50: 100, max: 100 },
    historyEvents: { min: 157, p50: 157, max: 157 },
    countsPerCampaign: { activitiesScheduled: 19, timersStarted: 3, workflowTasks: 40 },
    latencyMs: latencies(20, 400),
    resources: resources(),
    aws: {
      rdsByAccount: {
        '111111111111': { requests: 24, throttled: 0, spanSeconds: 10, meanPerSecond: 2.4, peakPerSecond: 5, peak10sPerSecond: 2.4, firstAt: '2026-11-26T10:00:00.000Z', perTenSeconds: [24] },
      },
      awsCalls: 24,
      readsPerInstance: 6,
      mutationsPerInstance: 2,
      statuspageCalls: 1,
      byAction: { 'rds:DescribeDBInstances': 18 },
      lostFromLog: 0,
      whileCampaignsSlept: { campaignSecondsAsleep: 60, awsCalls: 0, byAction: {} },
    },
    notes: [],
    ...over,
  };
}

export function baselineResult(over: Partial<BaselineResult> = {}): BaselineResult {
  return {
    workflows: 1,
    activitiesPerWorkflow: 19,
    timersPerWorkflow: 3,
    timerMs: 1000,
    completed: 1,
    wallSeconds: 10,
    workflowsPerSecond: 0.1,
    historyEvents: 134,
    latencyMs: latencies(10, 100),
    resources: resources({ workerCpuSeconds: 1, serverCpuSeconds: 1, wallSeconds: 10 }),
    ...over,
  };
}

export function replayResult(p50: number): ReplayResult {
  return { historyEvents: 157, runs: 10, runReplayHistoryMs: { p50, p90: p50 + 5, min: p50 - 5 }, perHistoryInOneReplayWorkerMs: { p50: p50 / 2, p90: p50 } };
}

export function resumeResult(): ResumeResult {
  return {
    campaigns: 3,
    workerProcessStartToPollingSeconds: 5.3,
    startToNextStepSeconds: { p50: 6.2, max: 9.5 },
    kinds: [{ kind: 'timer', campaigns: 3, startToNextStepSeconds: { p50: 6.2, max: 9.5 }, how: 'test' }],
    how: 'test',
  };
}

export function fleetCampaignResult(over: Partial<FleetCampaignResult> = {}): FleetCampaignResult {
  return {
    instances: 3,
    perStage: { preview: 1, staging: 1, production: 1 },
    campaignState: 'completed',
    campaignWorkflowStatus: 'COMPLETED',
    instanceStates: { completed: 3 },
    failedInstances: 0,
    childWorkflows: { total: 3, byStatus: { COMPLETED: 3 } },
    wallSeconds: 300,
    schedule: {
      leadSeconds: 60,
      previewWindowsAt: ['2026-11-26T10:01:00.000Z'],
      productionWindowAt: '2026-11-26T10:09:00.000Z',
      precheckBeforeSeconds: 30,
      noticeSeconds: 50,
      stagingConcurrency: 50,
      stages: { preview: { seconds: 100, waves: 1 }, staging: { seconds: 20, waves: 1 }, production: { seconds: 150, waves: 1 } },
    },
    perInstanceSeconds: { p50: 90, max: 150 },
    cpu: { workerPlusServerSeconds: 1.2, perInstanceMs: 400, perInstanceMinusIdleMs: 300 },
    history: {
      maxWorkflowEvents: 49,
      batches: 0,
      parentEvents: 40,
      parentBytes: 20_480,
      childEvents: { children: 3, total: 147, min: 36, p50: 49, max: 49, byStage: {} },
      childHistoriesFetched: 3,
      childCounts: { activitiesScheduled: 5, timersStarted: 1, workflowTasks: 8 },
      parentCounts: { activitiesScheduled: 7, timersStarted: 2, workflowTasks: 20, childrenStarted: 3 },
      childStartBursts: { preview: [{ children: 1, seconds: 0, msPerChild: 0 }] },
      totalEvents: 187,
      totalEventsPerInstance: 62.3,
    },
    statusBytes: { final: 4096, max: 5120, queries: 10, queryMsP50: 40, queryMsMax: 90 },
    latencyMs: latencies(40, 1000),
    resources: resources(),
    aws: fleetResult().aws,
    notes: [],
    ...over,
  };
}

const EventType = temporal.api.enums.v1.EventType;
type Event = temporal.api.history.v1.IHistoryEvent;

/** History events at `ms` (epoch milliseconds). */
export const event = {
  timerStarted: (ms: number, timerId: string): Event => ({ eventType: EventType.EVENT_TYPE_TIMER_STARTED, eventTime: msToTs(ms), timerStartedEventAttributes: { timerId } }),
  timerFired: (ms: number, timerId: string): Event => ({ eventType: EventType.EVENT_TYPE_TIMER_FIRED, eventTime: msToTs(ms), timerFiredEventAttributes: { timerId } }),
  activityScheduled: (ms: number): Event => ({ eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, eventTime: msToTs(ms) }),
  workflowTaskCompleted: (ms: number): Event => ({ eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, eventTime: msToTs(ms) }),
  childStarted: (ms: number, workflowId: string): Event => ({
    eventType: EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED,
    eventTime: msToTs(ms),
    childWorkflowExecutionStartedEventAttributes: { workflowExecution: { workflowId } },
  }),
};
