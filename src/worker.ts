/**
 * The worker: builds activities from config, registers the workflows, polls the task queue.
 * Production runs the compiled JavaScript: `npm run build && node dist/worker.js` (the Docker image does);
 * `npm run worker` (or `rds-orchestrator worker`) runs the same code through ts-node.
 * Neither bundles the workflows at its start: the compiled worker runs the bundle `npm run build` wrote,
 * the worker from source a bundle cached on disk (src/workflow-bundle.ts); the log says which.
 *
 * As a process of its own (`runWorker`) it is what an operator runs: the SDK runtime's Prometheus metrics
 * (ORCHESTRATOR_METRICS_PORT), a health endpoint (ORCHESTRATOR_HEALTH_PORT: /healthz, /readyz), a graceful
 * drain on SIGTERM/SIGINT (in-flight activities get ORCHESTRATOR_SHUTDOWN_GRACE_SECONDS to finish), and JSON
 * logs when ORCHESTRATOR_LOG_FORMAT=json. See README "Running it for real".
 */
import http from 'node:http';
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogEntry, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { loadConfig, type Config, type WorkerProcessConfig } from './config';
import { connectWorker } from './temporal-connection';
import { describeWorkflowBundle, resolveWorkflowBundle, type ResolvedWorkflowBundle } from './workflow-bundle';

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
  /** The workflow bundle (default: workflowBundleOnce's). */
  workflowBundle?: ResolvedWorkflowBundle;
}

const bundles = new Map<string, Promise<ResolvedWorkflowBundle>>();

/**
 * The workflow bundle of this process, found (or built) once: a process's workers all run the workflow
 * code of its start, as they run the activity code loaded then.
 */
export function workflowBundleOnce(config: Config): Promise<ResolvedWorkflowBundle> {
  const forcedPath = config.worker.workflowBundlePath;
  let bundle = bundles.get(forcedPath ?? '');
  if (!bundle) {
    bundle = resolveWorkflowBundle({ forcedPath });
    bundles.set(forcedPath ?? '', bundle);
    bundle.catch(() => bundles.delete(forcedPath ?? ''));
  }
  return bundle;
}

/** How often at most the SDK tells the server of an activity's heartbeat (see createWorker). */
export const MAX_HEARTBEAT_THROTTLE = '2 seconds';

export async function createWorker(opts: CreateWorkerOptions): Promise<Worker> {
  // A caller that brings its own workflows (workflowsPath or workflowBundle in overrides) gets them.
  const ownWorkflows = opts.overrides?.workflowsPath !== undefined || opts.overrides?.workflowBundle !== undefined;
  const bundle = ownWorkflows ? undefined : (opts.workflowBundle ?? (await workflowBundleOnce(opts.config)));
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace ?? opts.config.temporal.namespace,
    taskQueue: opts.taskQueue,
    ...(bundle ? { workflowBundle: bundle.option } : {}),
    activities: createActivities({ config: opts.config, notifyLog: opts.notifyLog }),
    // The SDK sends an activity's heartbeats to the server at most every heartbeat timeout × 0.8 (6.4 s of our 8 s),
    // which left 1.6 s for an RPC that stalls before the attempt timed out and another worker ran it beside the
    // first. The activities heartbeat every 2 s (src/activities/waiting.ts): the server hears of each.
    maxHeartbeatThrottleInterval: MAX_HEARTBEAT_THROTTLE,
    ...opts.overrides,
  });
}

// ------------------------------------------------------------------------------------------------
// The worker as a process: logs, metrics, health, drain
// ------------------------------------------------------------------------------------------------

type Fields = Record<string, unknown>;

/** The process's own lines, in the format the operator asked for (the SDK's lines go the same way). */
export interface ProcessLog {
  info(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
}

function jsonLine(level: string, message: string, fields: Fields | undefined, at = new Date()): string {
  return JSON.stringify({ time: at.toISOString(), level, message, ...fields }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

export function processLog(format: WorkerProcessConfig['logFormat']): ProcessLog {
  if (format === 'json') {
    return {
      info: (message, fields) => process.stdout.write(`${jsonLine('INFO', message, fields)}\n`),
      error: (message, fields) => process.stdout.write(`${jsonLine('ERROR', message, fields)}\n`),
    };
  }
  const text = (message: string, fields?: Fields) => (fields && Object.keys(fields).length ? `${message} ${JSON.stringify(fields)}` : message);
  return { info: (m, f) => console.log(text(m, f)), error: (m, f) => console.error(text(m, f)) };
}

/**
 * Installs the SDK runtime once per process, before any connection: its logger (JSON lines on stdout, the
 * native core's lines forwarded to it, when asked), its Prometheus endpoint, and no signal handling of
 * its own (drainOnSignals does it, so readiness turns false first and the process says what it does).
 */
export function installRuntime(cfg: WorkerProcessConfig): void {
  const json = cfg.logFormat === 'json';
  const logger = json
    ? new DefaultLogger(cfg.logLevel, (e: LogEntry) =>
        process.stdout.write(`${jsonLine(e.level, e.message, e.meta, new Date(Number(e.timestampNanos / 1_000_000n)))}\n`),
      )
    : new DefaultLogger(cfg.logLevel);
  Runtime.install({
    logger,
    shutdownSignals: [],
    telemetryOptions: {
      logging: json ? { forward: {}, filter: { core: 'WARN', other: 'ERROR' } } : { filter: { core: 'WARN', other: 'ERROR' } },
      ...(cfg.metricsBindAddress ? { metrics: { prometheus: { bindAddress: cfg.metricsBindAddress } } } : {}),
    },
  });
}

/** Ready = polling its task queue and not draining. Alive = not failed. */
export function workerHealth(worker: Pick<Worker, 'getState'>, draining: () => boolean): { live: boolean; ready: boolean; state: string } {
  const state = worker.getState();
  return { live: state !== 'FAILED', ready: state === 'RUNNING' && !draining(), state: draining() && state === 'RUNNING' ? 'DRAINING' : state };
}

/** GET /healthz (liveness) and GET /readyz (readiness): 200 or 503 with the worker's state as JSON. */
export async function serveHealth(bindAddress: string, health: () => ReturnType<typeof workerHealth>): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const h = health();
    const path = (req.url ?? '').split('?')[0];
    const ok = path === '/healthz' || path === '/livez' ? h.live : path === '/readyz' ? h.ready : undefined;
    res.writeHead(ok === undefined ? 404 : ok ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify(ok === undefined ? { error: 'GET /healthz or /readyz' } : { ok, state: h.state }));
  });
  const sep = bindAddress.lastIndexOf(':');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(bindAddress.slice(sep + 1)), bindAddress.slice(0, sep), () => resolve());
  });
  return server;
}

/**
 * SIGTERM/SIGINT: stop polling, let the tasks in hand finish (activities within the shutdown grace
 * time), then run() resolves and the process exits 0. A second signal exits at once.
 */
export function drainOnSignals(worker: Pick<Worker, 'shutdown' | 'getState'>, log: ProcessLog, graceMs: number): { draining: () => boolean } {
  let since: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (since !== undefined) {
      log.error(`second ${signal} while draining: exiting now; the activities still running are retried by another worker after their timeouts`);
      process.exit(130);
    }
    since = Date.now();
    log.info(`${signal}: draining; no new tasks taken, in-flight activities have ${graceMs / 1000} s to finish`, { signal, graceSeconds: graceMs / 1000 });
    if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return { draining: () => since !== undefined };
}

export async function runWorker(config: Config = loadConfig()): Promise<void> {
  const ops = config.worker;
  const log = processLog(ops.logFormat);
  installRuntime(ops);
  const workflowBundle = await workflowBundleOnce(config);
  // Which bundle and how long finding (or building) it took: the line says it, JSON logs have it as fields too.
  const bundleFields = ops.logFormat === 'json' ? { workflowBundle: workflowBundle.source, bundleMs: workflowBundle.ms } : undefined;
  log.info(describeWorkflowBundle(workflowBundle), bundleFields);
  if (workflowBundle.warning) log.error(`workflow bundle: ${workflowBundle.warning}`, bundleFields);
  const connection = await connectWorker(config.temporal);
  const worker = await createWorker({
    connection,
    taskQueue: config.temporal.taskQueue,
    config,
    workflowBundle,
    // Past the grace time activities are cancelled; past the force time run() gives up on a stuck drain.
    overrides: { shutdownGraceTime: ops.shutdownGraceMs, shutdownForceTime: ops.shutdownGraceMs + 15_000 },
    notifyLog: (line) => log.info(line, { kind: 'notification' }),
  });
  const drain = drainOnSignals(worker, log, ops.shutdownGraceMs);
  const health = ops.healthBindAddress ? await serveHealth(ops.healthBindAddress, () => workerHealth(worker, drain.draining)) : undefined;
  const running = worker.run();
  // A signal that came while the worker was being created: drain at once.
  if (drain.draining()) worker.shutdown();
  log.info(
    `worker polling ${config.temporal.address} namespace=${config.temporal.namespace} taskQueue=${config.temporal.taskQueue}` +
      (config.aws.endpoint ? ` aws=${config.aws.endpoint}` : '') +
      // The RDS API budget is kept by the activities' RDS clients (src/activities/clients.ts), per account and region.
      (config.aws.rdsBudget
        ? ` rdsBudget=${config.aws.rdsBudget.requestsPerSecond}/s per account+region over ${config.aws.rdsBudget.workers} worker(s)`
        : ' rdsBudget=off') +
      (ops.metricsBindAddress ? ` metrics=http://${ops.metricsBindAddress}/metrics` : '') +
      (ops.healthBindAddress ? ` health=http://${ops.healthBindAddress}/readyz` : ''),
    { identity: worker.options.identity, taskQueue: config.temporal.taskQueue },
  );
  try {
    await running;
    log.info('worker drained and stopped');
  } finally {
    health?.close();
    await connection.close();
  }
}

if (require.main === module) {
  runWorker().then(
    () => process.exit(0),
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
