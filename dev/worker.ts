/**
 * The product's worker in the local stack: in this process (demo, CLI tests), or as a separate OS
 * process exactly as an operator or `npm run worker` starts it (durability tests, the bench's resume).
 */
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { createWorker, type CreateWorkerOptions } from '../src/worker';
import type { Closers } from './closers';
import { spawnProcess, spawnTypeScript, type ChildProcessHandle } from './processes';
import { simulatorEnv } from './simulator';
import { PROJECT_ROOT } from './temporal-binaries';

/** Creates the worker and runs it until `closers` shut it down (after the workflow tasks in hand). */
export async function startInProcessWorker(closers: Closers, opts: CreateWorkerOptions): Promise<Worker> {
  const worker = await createWorker(opts);
  const running = worker.run();
  closers.add(async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  });
  return worker;
}

export interface WorkerProcessEnv {
  temporalAddress: string;
  taskQueue: string;
  simUrl: string;
  /** The simulator's DNS server, where database endpoint names resolve. */
  simDnsAddress?: string;
  /** More ORCHESTRATOR_* settings (metrics and health ports, log format, shutdown grace). */
  extra?: Record<string, string>;
}

/** What the worker's process is given: only these variables, so nothing of the caller's environment leaks in. */
function workerEnvironment(env: WorkerProcessEnv): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: env.temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    ORCHESTRATOR_TASK_QUEUE: env.taskQueue,
    ...simulatorEnv(env.simUrl, env.simDnsAddress),
    AWS_REGION: 'eu-west-2',
    NODE_NO_WARNINGS: '1',
    ...env.extra,
  };
}

/** The line the worker prints once it polls its task queue. */
export const WORKER_POLLING = /^worker polling /;

/** The compiled worker production runs (`npm run build` writes it). */
export const COMPILED_WORKER = path.join(PROJECT_ROOT, 'dist', 'worker.js');

/**
 * The product's worker as a separate OS process: `bin/rds-orchestrator worker` (what an operator runs),
 * `src/worker.ts` under ts-node (what `npm run worker` runs), or the compiled `dist/worker.js` (production).
 */
export function spawnWorkerProcess(name: string, env: WorkerProcessEnv, entry: 'cli' | 'npm-run-worker' | 'compiled' = 'cli'): ChildProcessHandle {
  if (entry === 'npm-run-worker') return spawnTypeScript(name, 'src/worker.ts', [], workerEnvironment(env));
  if (entry === 'compiled') return spawnProcess(name, process.execPath, [COMPILED_WORKER], { env: workerEnvironment(env) });
  return spawnProcess(name, process.execPath, [path.join(PROJECT_ROOT, 'bin', 'rds-orchestrator'), 'worker'], { env: workerEnvironment(env) });
}
