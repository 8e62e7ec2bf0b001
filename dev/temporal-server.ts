/**
 * Temporal servers for the local stack, each with the search attributes the workflows write
 * (src/api/search-attributes.ts) registered: the dev server in this process (demo, bench, history
 * recorder, tests), the same dev server as a separate process (durability tests kill it), and the
 * time-skipping test server (workflow tests). Binaries from ./temporal-binaries.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ConnectionPlugin } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { ALL_SEARCH_ATTRIBUTES } from '../src/api/search-attributes';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { freePort } from './ports';
import { spawnProcess, type ChildProcessHandle } from './processes';
import { sleep } from './time';
import { findTemporalBinary, temporalExecutable } from './temporal-binaries';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;

/** How each search attribute type is named by `temporal server start-dev --search-attribute` and by the operator API. */
const SEARCH_ATTRIBUTE_TYPES: Partial<Record<SearchAttributeType, { cli: string; indexed: temporal.api.enums.v1.IndexedValueType }>> = {
  [SearchAttributeType.KEYWORD]: { cli: 'Keyword', indexed: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD },
  [SearchAttributeType.KEYWORD_LIST]: { cli: 'KeywordList', indexed: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST },
  [SearchAttributeType.TEXT]: { cli: 'Text', indexed: IndexedValueType.INDEXED_VALUE_TYPE_TEXT },
};

/** How `type` is named by the Temporal CLI and by the operator API (also used by scripts/cluster). */
export function typeNames(type: SearchAttributeType) {
  const names = SEARCH_ATTRIBUTE_TYPES[type];
  if (!names) throw new Error(`search attribute type ${type} has no dev-server name: add it to SEARCH_ATTRIBUTE_TYPES`);
  return names;
}

export interface DevServerOptions {
  /** Default: a free port. */
  port?: number;
  /** Serve the Web UI on this port (default: no UI). */
  uiPort?: number;
  /** Keep the server's state in this SQLite file, the server a process group of its own (startPersistentDevServer). Default: in memory. */
  dbFile?: string;
}

/** `temporal server start-dev` (in-memory SQLite) as a child of this process, through @temporalio/testing. */
export function startDevServer(opts: DevServerOptions = {}): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: temporalExecutable('cli'),
      ip: '127.0.0.1',
      ...(opts.port ? { port: opts.port } : {}),
      ...(opts.uiPort ? { ui: true, uiPort: opts.uiPort } : {}),
      searchAttributes: ALL_SEARCH_ATTRIBUTES,
      log: { format: 'pretty', level: 'error' },
      // Without its banner (version, address, metrics URL) on this process's stdout: the caller knows the address.
      extraArgs: ['--output', 'none'],
    },
  });
}

/**
 * A dev server on a database file as a process of its own (its own process group: a Ctrl-C on the terminal does
 * not reach it): its workflows survive killing it and starting it again on the file. With `uiPort`, its Web UI.
 */
export function spawnDevServer(name: string, opts: { dbFile: string; port: number; uiPort?: number }): ChildProcessHandle {
  const cli = findTemporalBinary('cli');
  if (!cli) throw new Error('no Temporal CLI found (TEMPORAL_CLI_PATH, .tools/venv/bin/temporal or PATH); run npm install');
  const ui = opts.uiPort ? ['--ui-ip', '127.0.0.1', '--ui-port', String(opts.uiPort)] : ['--headless'];
  const args = ['server', 'start-dev', '--db-filename', opts.dbFile, '--ip', '127.0.0.1', '--port', String(opts.port), ...ui, '--log-level', 'error'];
  for (const sa of ALL_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${sa.name}=${typeNames(sa.type).cli}`);
  return spawnProcess(name, cli.path, args);
}

/** Resolves once the Temporal frontend at `address` answers; rejects when `server` exits first or `timeoutMs` passes. */
export async function waitForTemporal(address: string, timeoutMs: number, server?: ChildProcessHandle): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server && !server.running) throw new Error(`the Temporal dev server exited before it answered on ${address}\n${server.tail()}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`Temporal at ${address} did not come up within ${timeoutMs} ms: ${err}${server ? `\n${server.tail()}` : ''}`);
      await sleep(200);
    }
  }
}

/**
 * A dev server keeping its state in `dbFile` (the demo's: `npm start` again finds its workflows), run as a process
 * group of its own so that the caller decides when it stops: teardown() closes the connections, then SIGTERM
 * (the server writes its database and exits). Port 0 = a free one.
 */
export async function startPersistentDevServer(opts: DevServerOptions & { dbFile: string }): Promise<TestWorkflowEnvironment> {
  const port = opts.port || (await freePort());
  const address = `127.0.0.1:${port}`;
  fs.mkdirSync(path.dirname(opts.dbFile), { recursive: true });
  const server = spawnDevServer('Temporal dev server', { dbFile: opts.dbFile, port, uiPort: opts.uiPort });
  try {
    await waitForTemporal(address, 60_000, server);
    const env = await TestWorkflowEnvironment.createFromExistingServer({ address });
    const teardown = env.teardown.bind(env);
    env.teardown = async () => {
      try {
        await teardown();
      } finally {
        await server.stop();
      }
    };
    return env;
  } catch (err) {
    await server.kill();
    throw err;
  }
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

/** The time-skipping test server (weeks of workflow time in seconds). */
export async function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: temporalExecutable('test-server') },
    plugins: [javaServerKeepalive],
  });
  // The dev server registers them from its options; the test server takes them through the operator API.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(ALL_SEARCH_ATTRIBUTES.map((k) => [k.name, typeNames(k.type).indexed])),
  });
  return env;
}
