/**
 * Measurement helpers for the bench: Prometheus text parsing (the worker runtime's exporter), histogram
 * deltas and quantiles, and /proc sampling of CPU time and memory for this process and its children.
 */
import fs from 'node:fs';

export interface HistogramSnapshot {
  /** Upper bounds in ascending order (the last is +Inf). */
  bounds: number[];
  /** Cumulative counts per bound, summed over the selected label sets. */
  cumulative: number[];
  sum: number;
  count: number;
}

/** Every metric family name in a Prometheus text exposition. */
export function metricNames(text: string): string[] {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^# TYPE (\S+) (\S+)/.exec(line);
    if (m) names.add(`${m[1]} (${m[2]})`);
  }
  return [...names].sort();
}

function parseLabels(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!s) return out;
  for (const m of s.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) out[m[1]] = m[2];
  return out;
}

/** Sums a histogram over the label sets that match `where` (e.g. { task_queue: 'bench' }). */
export function readHistogram(text: string, name: string, where: Record<string, string> = {}): HistogramSnapshot {
  const buckets = new Map<number, number>();
  let sum = 0;
  let count = 0;
  const matches = (labels: Record<string, string>) => Object.entries(where).every(([k, v]) => labels[k] === v);
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^(\S+?)(?:\{(.*)\})? ([^ ]+)/.exec(line);
    if (!m) continue;
    const [, metric, labelText, valueText] = m;
    const labels = parseLabels(labelText);
    if (!matches(labels)) continue;
    const value = Number(valueText);
    if (metric === `${name}_bucket`) {
      const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
      buckets.set(le, (buckets.get(le) ?? 0) + value);
    } else if (metric === `${name}_sum`) sum += value;
    else if (metric === `${name}_count`) count += value;
  }
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  return { bounds, cumulative: bounds.map((b) => buckets.get(b)!), sum, count };
}

export function histogramDelta(after: HistogramSnapshot, before: HistogramSnapshot): HistogramSnapshot {
  const prev = new Map(before.bounds.map((b, i) => [b, before.cumulative[i]]));
  return {
    bounds: after.bounds,
    cumulative: after.bounds.map((b, i) => after.cumulative[i] - (prev.get(b) ?? 0)),
    sum: after.sum - before.sum,
    count: after.count - before.count,
  };
}

/** Quantile by linear interpolation inside the bucket (as Prometheus' histogram_quantile does). */
export function histogramQuantile(h: HistogramSnapshot, q: number): number | undefined {
  const total = h.cumulative[h.cumulative.length - 1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (let i = 0; i < h.bounds.length; i++) {
    const bound = h.bounds[i];
    const c = h.cumulative[i];
    if (c >= rank) {
      if (bound === Infinity) return prevBound;
      const inBucket = c - prevCount;
      return inBucket > 0 ? prevBound + ((bound - prevBound) * (rank - prevCount)) / inBucket : bound;
    }
    prevBound = bound;
    prevCount = c;
  }
  return prevBound;
}

export function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i];
}

// ---------------------------------------------------------------------------------------------- /proc

const CLOCK_TICKS = 100; // USER_HZ on Linux

export interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** user + system CPU seconds */
  cpuSeconds: number;
  rssBytes: number;
}

export function readProcStat(pid: number): ProcStat | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const f = text.slice(close + 2).split(' ');
    // fields after comm: state(0) ppid(1) ... utime(11) stime(12) ... rss(21) in pages
    return {
      pid,
      ppid: Number(f[1]),
      comm,
      cpuSeconds: (Number(f[11]) + Number(f[12])) / CLOCK_TICKS,
      rssBytes: Number(f[21]) * 4096,
    };
  } catch {
    return undefined;
  }
}

/** Direct children of `pid` (the Temporal dev server and the simulator are children of the bench). */
export function childProcesses(pid: number): ProcStat[] {
  const out: ProcStat[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = readProcStat(Number(d));
    if (s && s.ppid === pid) out.push(s);
  }
  return out;
}

/** Busy and total CPU seconds of the whole machine (all cores), from /proc/stat. */
export function machineCpu(): { busySeconds: number; totalSeconds: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + (v[4] ?? 0);
  const total = v.reduce((a, b) => a + b, 0);
  return { busySeconds: (total - idle) / CLOCK_TICKS, totalSeconds: total / CLOCK_TICKS };
}

export function loadAverage(): number[] {
  return fs.readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/).slice(0, 3).map(Number);
}
