/**
 * The local stack in one call: the AWS simulator, a Temporal dev server with our search attributes (or
 * one the caller already runs), and the product's worker on a task queue, all in this process, with the
 * product configured for the simulator. `close()` stops everything it started, in reverse order.
 * Pieces for other shapes: ./temporal-server, ./simulator, ./worker, ./processes, ./closers, ./ports.
 */
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { Config } from '../src/config';
import type { SimAdminClient } from '../sim';
import type { RunningSimulator, SimulatorOptions } from '../sim';
import { Closers } from './closers';
import { simulatorConfig, startLocalSimulator } from './simulator';
import type { CreateWorkerOptions } from '../src/worker';
import { startDevServer, startPersistentDevServer, type DevServerOptions } from './temporal-server';
import { startInProcessWorker } from './worker';

export interface LocalStackOptions {
  taskQueue: string;
  /** A dev server the caller runs (e.g. test/harness's shared one); left running by close(). Default: a new one. */
  env?: TestWorkflowEnvironment;
  server?: DevServerOptions;
  simulator?: SimulatorOptions;
  /** Environment the product's Config is read from besides the simulator's settings (e.g. process.env for a webhook). */
  configEnv?: NodeJS.ProcessEnv;
  /** Where notifications go when no webhook is configured. */
  notifyLog?: (line: string) => void;
  /** Worker options for the in-process worker (e.g. a short shutdown grace). */
  workerOverrides?: CreateWorkerOptions['overrides'];
}

export interface LocalStack {
  env: TestWorkflowEnvironment;
  client: Client;
  /** host:port of the dev server. */
  temporalAddress: string;
  sim: RunningSimulator;
  admin: SimAdminClient;
  config: Config;
  taskQueue: string;
  worker: Worker;
  /** Registers more teardown, run before what the stack started. */
  closers: Closers;
  close(): Promise<void>;
}

export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const closers = new Closers();
  try {
    const { sim, admin } = await startLocalSimulator(closers, opts.simulator);
    let env = opts.env;
    if (!env) {
      const own = opts.server?.dbFile ? await startPersistentDevServer({ ...opts.server, dbFile: opts.server.dbFile }) : await startDevServer(opts.server);
      closers.add(() => own.teardown());
      env = own;
    }
    const temporalAddress = env.connection.options.address;
    const config = simulatorConfig(sim.url, { ...opts.configEnv, TEMPORAL_ADDRESS: temporalAddress, ORCHESTRATOR_TASK_QUEUE: opts.taskQueue }, sim.dnsAddress);
    const worker = await startInProcessWorker(closers, { connection: env.nativeConnection, namespace: 'default', taskQueue: opts.taskQueue, config, notifyLog: opts.notifyLog, overrides: opts.workerOverrides });
    return { env, client: env.client, temporalAddress, sim, admin, config, taskQueue: opts.taskQueue, worker, closers, close: () => closers.close() };
  } catch (err) {
    await closers.close();
    throw err;
  }
}
