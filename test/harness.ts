/**
 * Shared Temporal servers for the whole mocha run: one time-skipping test server and one local dev
 * server, each started lazily on first use (unit tests alone never pay for them) and torn down once
 * by the root hook in test/setup.ts. Both use the binaries resolved by src/temporal-binaries.ts.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ConnectionPlugin } from '@temporalio/client';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { temporalExecutable } from '../src/temporal-binaries';
import { ALL_SEARCH_ATTRIBUTES } from '../src/search-attributes';
import { SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

function indexedValueType(type: SearchAttributeType): temporal.api.enums.v1.IndexedValueType {
  const map: Record<string, temporal.api.enums.v1.IndexedValueType> = {
    KEYWORD: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    KEYWORD_LIST: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
    TEXT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  };
  return map[type];
}

/**
 * The client pings every 30 s even when idle; the Java test server (grpc-netty) allows one ping per 5
 * minutes and, after a few, answers GOAWAY too_many_pings, which broke calls in flight after the server
 * sat idle while other test files ran. Ping rarely, and only during calls.
 */
const javaServerKeepalive: ConnectionPlugin = {
  name: 'java-test-server-keepalive',
  configureConnection: (options) => ({
    ...options,
    channelArgs: { ...options.channelArgs, 'grpc.keepalive_permit_without_calls': 0, 'grpc.keepalive_time_ms': 300_000 },
  }),
};

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
  timeSkipping ??= (async () => {
    const env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: temporalExecutable('test-server') },
      plugins: [javaServerKeepalive],
    });
    // The dev server registers them from its options; the test server takes them through the operator API.
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes: Object.fromEntries(ALL_SEARCH_ATTRIBUTES.map((k) => [k.name, indexedValueType(k.type)])),
    });
    return env;
  })();
  return timeSkipping;
}

export function localEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  local ??= TestWorkflowEnvironment.createLocal({
    server: {
      executable: temporalExecutable('cli'),
      searchAttributes: ALL_SEARCH_ATTRIBUTES,
      log: { format: 'pretty', level: 'error' },
    },
  });
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
