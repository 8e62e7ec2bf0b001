/**
 * Shared Temporal servers for the whole mocha run: one time-skipping test server and one local dev
 * server, each started lazily on first use (unit tests alone never pay for them) and torn down once
 * by the root hook in test/setup.ts. Both come from dev/temporal-server.ts (binaries resolved by
 * dev/temporal-binaries.ts, our search attributes registered).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { startDevServer, startTimeSkippingServer } from '../dev/temporal-server';

let timeSkipping: Promise<TestWorkflowEnvironment> | undefined;
let local: Promise<TestWorkflowEnvironment> | undefined;
let runtimeInstalled = false;

function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  // Worker logs at WARN keep mocha's output readable; set TEST_LOG_LEVEL=INFO to see them.
  const level = (process.env.TEST_LOG_LEVEL as 'WARN' | 'INFO' | 'DEBUG' | undefined) ?? 'WARN';
  Runtime.install({ logger: new DefaultLogger(level) });
}

export function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  timeSkipping ??= startTimeSkippingServer();
  return timeSkipping;
}

export function localEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
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
