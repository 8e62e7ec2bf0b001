/**
 * What the bench measures, around a scenario: CPU and memory (/proc), workflow-task and activity latencies
 * (the worker runtime's Prometheus exporter, parsed by ./metrics), the simulator's call log (AWS calls per
 * instance and while campaigns slept), the events of a history, and the idle stack's CPU to subtract.
 */
import os from 'node:os';
import { temporal } from '@temporalio/proto';
import type { SimAdminClient } from '../sim';
import type { CallRecord } from '../sim';
import { histogramDelta, histogramQuantile, machineCpu, median, readHistogram, readProcStat, type HistogramSnapshot } from './metrics';

export type History = temporal.api.history.v1.IHistory;

export const round = (x: number | undefined, d = 1) => (x === undefined || !Number.isFinite(x) ? undefined : Math.round(x * 10 ** d) / 10 ** d);
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

export function eventMs(e: temporal.api.history.v1.IHistoryEvent): number {
  const t = e.eventTime!;
  return Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
}

export const EventType = temporal.api.enums.v1.EventType;
export type HistoryEventType = temporal.api.enums.v1.EventType;

export function isEvent(e: temporal.api.history.v1.IHistoryEvent, type: HistoryEventType): boolean {
  return e.eventType === type;
}

/** How many events of `type` a history holds. */
export function countEvents(events: temporal.api.history.v1.IHistoryEvent[], type: HistoryEventType): number {
  return events.filter((e) => isEvent(e, type)).length;
}

/** What a workflow's history cost: its activities, its timers and its workflow tasks. */
export interface EventCounts {
  activitiesScheduled: number;
  timersStarted: number;
  workflowTasks: number;
}

export function eventCounts(events: temporal.api.history.v1.IHistoryEvent[]): EventCounts {
  return {
    activitiesScheduled: countEvents(events, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
    timersStarted: countEvents(events, EventType.EVENT_TYPE_TIMER_STARTED),
    workflowTasks: countEvents(events, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
  };
}

/** The median of each count over many histories. */
export function medianCounts(counts: EventCounts[]): EventCounts {
  return {
    activitiesScheduled: median(counts.map((c) => c.activitiesScheduled)),
    timersStarted: median(counts.map((c) => c.timersStarted)),
    workflowTasks: median(counts.map((c) => c.workflowTasks)),
  };
}

/**
 * A workflow's durable sleeps: its timers of at least `minMs` (a window, a reminder; not a waiter's short
 * timer), as [started, fired] in ms, to tell which AWS calls came while it slept.
 */
export function durableSleeps(events: temporal.api.history.v1.IHistoryEvent[], minMs = 5000): [number, number][] {
  const started = new Map<string, number>();
  const out: [number, number][] = [];
  for (const e of events) {
    if (isEvent(e, EventType.EVENT_TYPE_TIMER_STARTED)) started.set(e.timerStartedEventAttributes!.timerId!, eventMs(e));
    if (isEvent(e, EventType.EVENT_TYPE_TIMER_FIRED)) {
      const from = started.get(e.timerFiredEventAttributes!.timerId!);
      if (from !== undefined && eventMs(e) - from >= minMs) out.push([from, eventMs(e)]);
    }
  }
  return out;
}

/** Per status name (COMPLETED, FAILED, TERMINATED, ...), how many workflows ended so. */
export function countByStatus(infos: { status: { name: string } }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const w of infos) out[w.status.name] = (out[w.status.name] ?? 0) + 1;
  return out;
}

/** From the first workflow's start to the last one's close (a workflow still open counts as closing at 0). */
export function executionSpan(infos: { startTime: Date; closeTime?: Date }[]): { firstStartMs: number; lastCloseMs: number; seconds: number } {
  const firstStartMs = Math.min(...infos.map((w) => w.startTime.getTime()));
  const lastCloseMs = Math.max(...infos.map((w) => w.closeTime?.getTime() ?? 0));
  return { firstStartMs, lastCloseMs, seconds: (lastCloseMs - firstStartMs) / 1000 };
}

/** CPU and memory of this process (worker + driver), the dev server and the simulator, and the machine. */
export class ResourceSampler {
  private timer?: NodeJS.Timeout;
  peakRss = 0;
  readonly startRss = process.memoryUsage().rss;
  peakServerRss = 0;
  peakSimRss = 0;
  private readonly start: { self: NodeJS.CpuUsage; server: number; sim: number; machine: { busySeconds: number; totalSeconds: number }; wall: number };

  constructor(
    private readonly serverPid: number | undefined,
    private readonly simPid: number | undefined,
  ) {
    this.start = {
      self: process.cpuUsage(),
      server: this.cpu(serverPid),
      sim: this.cpu(simPid),
      machine: machineCpu(),
      wall: Date.now(),
    };
    this.sample();
    this.timer = setInterval(() => this.sample(), 250);
  }

  private cpu(pid: number | undefined): number {
    return pid ? (readProcStat(pid)?.cpuSeconds ?? 0) : 0;
  }

  private sample(): void {
    this.peakRss = Math.max(this.peakRss, process.memoryUsage().rss);
    if (this.serverPid) this.peakServerRss = Math.max(this.peakServerRss, readProcStat(this.serverPid)?.rssBytes ?? 0);
    if (this.simPid) this.peakSimRss = Math.max(this.peakSimRss, readProcStat(this.simPid)?.rssBytes ?? 0);
  }

  stop() {
    clearInterval(this.timer);
    this.sample();
    const self = process.cpuUsage(this.start.self);
    const m = machineCpu();
    const wallSeconds = (Date.now() - this.start.wall) / 1000;
    const workerCpu = (self.user + self.system) / 1e6;
    const serverCpu = this.cpu(this.serverPid) - this.start.server;
    const simCpu = this.cpu(this.simPid) - this.start.sim;
    const machineBusy = m.busySeconds - this.start.machine.busySeconds;
    const cores = os.cpus().length;
    return {
      wallSeconds: round(wallSeconds, 1)!,
      workerCpuSeconds: round(workerCpu, 1)!,
      serverCpuSeconds: round(serverCpu, 1)!,
      simulatorCpuSeconds: round(simCpu, 1)!,
      /** CPU used on this machine by everything else (the other session's tests, the OS) in the same interval. */
      otherCpuSeconds: round(Math.max(0, machineBusy - workerCpu - serverCpu - simCpu), 1)!,
      machineBusyPercent: round((100 * machineBusy) / (wallSeconds * cores), 0)!,
      simulatorCpuPercentOfOneCore: round((100 * simCpu) / wallSeconds, 0)!,
      workerRssAtStartMb: mb(this.startRss),
      workerPeakRssMb: mb(this.peakRss),
      serverPeakRssMb: mb(this.peakServerRss),
      simulatorPeakRssMb: mb(this.peakSimRss),
    };
  }
}

const LATENCY_METRICS = {
  wftScheduleToStart: 'temporal_workflow_task_schedule_to_start_latency',
  wftExecution: 'temporal_workflow_task_execution_latency',
  activityScheduleToStart: 'temporal_activity_schedule_to_start_latency',
};

/** Finer latency buckets than core's defaults (100/500/1000 ms for schedule-to-start), for useful p50/p99. */
export function bucketOverrides(): Record<string, number[]> {
  const buckets = [1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10_000, 30_000, 60_000];
  const out: Record<string, number[]> = {};
  for (const name of Object.values(LATENCY_METRICS)) {
    out[name] = buckets;
    out[name.replace(/^temporal_/, '')] = buckets;
  }
  return out;
}

export class Metrics {
  constructor(readonly url: string) {}

  async scrape(): Promise<string> {
    const res = await fetch(this.url);
    return res.text();
  }

  static latencies(before: string, after: string, taskQueue: string) {
    const out: Record<string, { p50?: number; p99?: number; count: number }> = {};
    for (const [key, name] of Object.entries(LATENCY_METRICS)) {
      const h: HistogramSnapshot = histogramDelta(readHistogram(after, name, { task_queue: taskQueue }), readHistogram(before, name, { task_queue: taskQueue }));
      out[key] = { p50: round(histogramQuantile(h, 0.5), 1), p99: round(histogramQuantile(h, 0.99), 1), count: h.count };
    }
    return out;
  }
}

/** Follows the simulator's call log (it keeps only the last 20 000 calls, so it is read every second). */
export class CallLog {
  private lastSeq = 0;
  /** False until a call's seq was seen: the simulator's seq keeps counting across resets. */
  private seqKnown = false;
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  lost = 0;
  /** Compact: [atMs, action, isMutation, service, campaign key or '', account, errorCode or ''] */
  readonly calls: [number, string, boolean, string, string, string, string][] = [];

  /** `campaignOf` extracts the campaign an instance id belongs to (from any request parameter). */
  constructor(
    private readonly admin: SimAdminClient,
    private readonly campaignOf: RegExp,
  ) {}

  pollErrors = 0;

  async startFromNow(): Promise<void> {
    const all = await this.admin.calls({ since: this.lastSeq });
    if (all.length) {
      this.lastSeq = all[all.length - 1].seq;
      this.seqKnown = true;
    }
    this.timer = setInterval(() => {
      // A poll that fails (the simulator busy under the fleet's load) is retried on the next tick from the
      // same sequence number; only an overflow of the simulator's log loses calls, and `lost` counts those.
      this.polling ??= this.poll()
        .catch(() => {
          this.pollErrors += 1;
        })
        .finally(() => (this.polling = undefined));
    }, 1000);
  }

  private async poll(): Promise<void> {
    const batch: CallRecord[] = await this.admin.calls({ since: this.lastSeq });
    if (this.seqKnown && batch.length && batch[0].seq > this.lastSeq + 1) this.lost += batch[0].seq - this.lastSeq - 1;
    if (batch.length) this.seqKnown = true;
    for (const c of batch) {
      const m = this.campaignOf.exec(Object.values(c.params).join(' '));
      this.calls.push([Date.parse(c.at), c.action, c.isMutation, c.service, m ? m[1] : '', c.account, c.errorCode ?? '']);
    }
    if (batch.length) this.lastSeq = batch[batch.length - 1].seq;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
    await this.poll();
  }

  /** `sleeps`: per campaign key, its durable-timer intervals [started, fired] in ms. */
  summary(instances: number, sleeps: Map<string, [number, number][]>) {
    const aws = this.calls.filter((c) => c[3] !== 'statuspage');
    const reads = aws.filter((c) => !c[2]).length;
    const mutations = aws.length - reads;
    const byAction: Record<string, number> = {};
    for (const c of this.calls) byAction[`${c[3]}:${c[1]}`] = (byAction[`${c[3]}:${c[1]}`] ?? 0) + 1;
    const inSleep = aws.filter((c) => (sleeps.get(c[4]) ?? []).some(([a, b]) => c[0] > a && c[0] < b));
    const inSleepByAction: Record<string, number> = {};
    for (const c of inSleep) inSleepByAction[c[1]] = (inSleepByAction[c[1]] ?? 0) + 1;
    const sleptMs = [...sleeps.values()].flat().reduce((sum, [a, b]) => sum + (b - a), 0);
    return {
      /** RDS requests per account (all regions of the bench are one): rates as the simulator received them. */
      rdsByAccount: rdsRates(this.calls.filter((c) => c[3] === 'rds').map((c) => ({ atMs: c[0], account: c[5], errorCode: c[6] }))),
      awsCalls: aws.length,
      readsPerInstance: round(reads / instances, 2)!,
      mutationsPerInstance: round(mutations / instances, 2)!,
      statuspageCalls: this.calls.length - aws.length,
      byAction,
      lostFromLog: this.lost,
      /** AWS calls for a campaign's own instances while that campaign was in a durable timer of >= 5 s. */
      whileCampaignsSlept: {
        campaignSecondsAsleep: round(sleptMs / 1000, 0)!,
        awsCalls: inSleep.length,
        byAction: inSleepByAction,
      },
    };
  }
}

export interface RdsRate {
  /** Every request the simulator received (answered or throttled). */
  requests: number;
  /** Answered `Throttling` by the simulator's token bucket. */
  throttled: number;
  /** First to last request, seconds. */
  spanSeconds: number;
  /** requests / span. */
  meanPerSecond: number;
  /** The most requests in one wall-clock second (the simulator's receive time). */
  peakPerSecond: number;
  /** The highest mean over any 10 consecutive seconds. */
  peak10sPerSecond: number;
  /** When the first request came (ISO), and the requests of each 10 s from then: where the load falls. */
  firstAt: string;
  perTenSeconds: number[];
}

function tenSecondCounts(times: number[], first: number): number[] {
  const out: number[] = [];
  for (const t of times) {
    const i = Math.floor((t - first) / 10_000);
    while (out.length <= i) out.push(0);
    out[i] += 1;
  }
  return out;
}

/** Per account: the RDS request rate (mean, peak second, peak 10 s) and the throttled count. */
export function rdsRates(calls: { atMs: number; account: string; errorCode?: string }[]): Record<string, RdsRate> {
  const byAccount = new Map<string, { atMs: number; errorCode?: string }[]>();
  for (const c of calls) {
    const list = byAccount.get(c.account) ?? [];
    list.push(c);
    byAccount.set(c.account, list);
  }
  const out: Record<string, RdsRate> = {};
  for (const [account, list] of byAccount) {
    const seconds = new Map<number, number>();
    for (const c of list) seconds.set(Math.floor(c.atMs / 1000), (seconds.get(Math.floor(c.atMs / 1000)) ?? 0) + 1);
    const first = Math.min(...list.map((c) => c.atMs));
    const last = Math.max(...list.map((c) => c.atMs));
    const firstSecond = Math.floor(first / 1000);
    const lastSecond = Math.floor(last / 1000);
    let peak10 = 0;
    let window = 0;
    for (let sec = firstSecond; sec <= lastSecond; sec++) {
      window += seconds.get(sec) ?? 0;
      if (sec - 10 >= firstSecond) window -= seconds.get(sec - 10) ?? 0;
      if (sec - firstSecond + 1 >= 10) peak10 = Math.max(peak10, window / 10);
    }
    const span = Math.max(1, (last - first) / 1000);
    if (lastSecond - firstSecond + 1 < 10) peak10 = list.length / span;
    out[account] = {
      requests: list.length,
      throttled: list.filter((c) => c.errorCode === 'Throttling').length,
      spanSeconds: round(span, 1)!,
      meanPerSecond: round(list.length / span, 2)!,
      peakPerSecond: Math.max(...seconds.values()),
      peak10sPerSecond: round(peak10, 1)!,
      firstAt: new Date(first).toISOString(),
      perTenSeconds: tenSecondCounts(list.map((c) => c.atMs), first),
    };
  }
  return out;
}

export type Resources = ReturnType<ResourceSampler['stop']>;
export type Latencies = ReturnType<typeof Metrics.latencies>;
export type AwsCalls = ReturnType<CallLog['summary']>;

export interface IdleRate {
  /** worker process (driver idle loop included) + dev server CPU seconds per wall second with no workflows */
  cpuPerSecond: number;
  measuredSeconds: number;
}

/** Worker + dev server CPU seconds per workflow; `idle` given: minus what the idle stack burns in the same wall time. */
export function costPerWorkflow(r: { resources: { workerCpuSeconds: number; serverCpuSeconds: number; wallSeconds: number } }, workflows: number, idle?: IdleRate): number {
  const raw = r.resources.workerCpuSeconds + r.resources.serverCpuSeconds;
  return (idle ? Math.max(0, raw - idle.cpuPerSecond * r.resources.wallSeconds) : raw) / workflows;
}
