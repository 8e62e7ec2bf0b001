/**
 * The worker: builds activities from config, registers the workflows, polls the task queue.
 * `npm run worker` (or `rds-orchestrator worker`) runs it against TEMPORAL_ADDRESS.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { loadConfig, type Config } from './config';
import { connectWorker } from './temporal-connection';

export const WORKFLOWS_PATH = require.resolve('./workflows');

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  config: Config;
  /** Extra worker options (tests: identity, shutdown grace, ...). */
  overrides?: Partial<WorkerOptions>;
  /** Where notifications go when no webhook is configured (default console.log). */
  notifyLog?: (line: string) => void;
}

export async function createWorker(opts: CreateWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace ?? opts.config.temporal.namespace,
    taskQueue: opts.taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: createActivities({ config: opts.config, notifyLog: opts.notifyLog }),
    ...opts.overrides,
  });
}

export async function runWorker(config: Config = loadConfig()): Promise<void> {
  const connection = await connectWorker(config.temporal);
  const worker = await createWorker({ connection, taskQueue: config.temporal.taskQueue, config });
  console.log(`worker polling ${config.temporal.address} namespace=${config.temporal.namespace} taskQueue=${config.temporal.taskQueue}` +
    (config.aws.endpoint ? ` aws=${config.aws.endpoint}` : ''));
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  runWorker().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
