/**
 * Shared Temporal servers for the whole mocha run: one time-skipping test server and one local dev
 * server, each started lazily on first use (unit tests alone never pay for them) and torn down once
 * by the root hook in test/setup.ts. Both come from dev/temporal-server.ts (binaries resolved by
 * dev/temporal-binaries.ts, our search attributes registered). `npm test` runs several mocha processes
 * side by side (scripts/test.ts): each has its own.
 */
import { inspect } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, DefaultLogger, type LogEntry, type LogLevel } from '@temporalio/worker';
import { startDevServer, startTimeSkippingServer } from '../dev/temporal-server';

let timeSkipping: Promise<TestWorkflowEnvironment> | undefined;
let local: Promise<TestWorkflowEnvironment> | undefined;

const LEVELS: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];
/** Entries kept for the test running now, and printed under it if it fails: what led to the failure, not the whole run. */
const KEPT_PER_TEST = 40;

function liveLevel(): LogLevel | undefined {
  const level = process.env.TEST_LOG_LEVEL?.toUpperCase();
  if (!level) return undefined;
  if (!(LEVELS as readonly string[]).includes(level)) throw new Error(`TEST_LOG_LEVEL=${process.env.TEST_LOG_LEVEL}: use one of ${LEVELS.join(', ')}`);
  return level as LogLevel;
}

const time = (e: LogEntry) => new Date(Number(e.timestampNanos / 1_000_000n)).toISOString();

/** As the SDK's DefaultLogger prints it: the metadata in full, errors with their stacks. */
const format = (e: LogEntry): string => `${time(e)} [${e.level}] ${e.message}${e.meta === undefined ? '' : ` ${inspect(e.meta, { depth: 4, breakLength: 160 })}`}`;

/** One line per entry: an error as its first line (the test's own failure carries the stack that matters). */
function formatShort(e: LogEntry): string {
  const meta = Object.entries(e.meta ?? {})
    .filter(([k]) => !['sdkComponent', 'namespace', 'taskToken', 'workflowRunId', 'runId', 'isLocal'].includes(k))
    .map(([k, v]) => `${k}=${v instanceof Error ? `${v.name}: ${v.message.split('\n')[0]}` : inspect(v, { depth: 1, breakLength: Infinity })}`);
  return `${time(e)} [${e.level}] ${e.message}${meta.length ? ` ${meta.join(' ')}` : ''}`;
}

/**
 * The worker and SDK logs of this process (workers in the tests, core's own lines). The tests make
 * activities and workflows fail on purpose, and the SDK logs every such failure at WARN with its stack:
 * printed as they came, they buried mocha's list of tests (a CI log of 26,000 lines). So nothing is printed
 * while a test runs; the entries since the previous test ended are kept, and printed under a test, one line each, only if
 * it fails (test/setup.ts). TEST_LOG_LEVEL=INFO (or TRACE, DEBUG, WARN, ERROR) prints them live instead, as
 * they come.
 */
export const testLogs = {
  kept: [] as LogEntry[],
  dropped: 0,
  live: undefined as LogLevel | undefined,

  receive(entry: LogEntry): void {
    if (this.live) {
      process.stderr.write(`${format(entry)}\n`);
      return;
    }
    this.kept.push(entry);
    if (this.kept.length > KEPT_PER_TEST) {
      this.kept.shift();
      this.dropped += 1;
    }
  },

  /** The kept entries, one line each (the earlier ones counted), and forgets them. */
  take(): string[] {
    const lines = this.kept.map(formatShort);
    if (this.dropped) lines.unshift(`(${this.dropped} earlier entries not kept)`);
    this.kept = [];
    this.dropped = 0;
    return lines;
  },
};

let runtimeInstalled = false;
/** Installs the SDK runtime of the test process, with its logs going to testLogs. Once, before any worker or connection. */
export function installTestRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  testLogs.live = liveLevel();
  const live = testLogs.live;
  // Core's own lines go straight to stderr (forwarded, they would reach the logger up to 100 ms late, after the
  // test they belong to has ended): its errors always, its warnings (e.g. the time-skipping server's age) only
  // when asked for, as the SDK's default does.
  const core: LogLevel = live === 'TRACE' || live === 'DEBUG' ? live : live === 'INFO' || live === 'WARN' ? 'WARN' : 'ERROR';
  Runtime.install({
    logger: new DefaultLogger(live ?? 'INFO', (entry) => testLogs.receive(entry)),
    telemetryOptions: { logging: { console: {}, filter: { core, other: 'ERROR' } } },
  });
}

export function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  timeSkipping ??= startTimeSkippingServer();
  return timeSkipping;
}

export function localEnv(): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  local ??= startDevServer();
  return local;
}

export async function teardownAll(): Promise<void> {
  const envs = [timeSkipping, local];
  timeSkipping = local = undefined;
  await Promise.all(envs.map(async (env) => env && (await env).teardown()));
}

let counter = 0;
/** A task queue unique to one test, so workers of different tests never steal each other's tasks. */
export function uniqueTaskQueue(prefix = 'test'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}
