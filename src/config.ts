/**
 * The one place that reads the environment. Everything else receives a Config.
 * Standard Temporal variables (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*),
 * standard AWS variables (AWS_REGION, AWS_ENDPOINT_URL, credentials through the SDK's default chain),
 * and ORCHESTRATOR_* for the product's own settings.
 */
import fs from 'node:fs';

export interface TemporalConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  apiKey?: string;
  tls?: { serverNameOverride?: string; serverRootCACertificate?: Buffer; clientCert?: Buffer; clientKey?: Buffer } | true;
}

export interface AwsConfig {
  /** Unset in production. Set to the simulator's URL (http://127.0.0.1:4599) for the demo and tests. */
  endpoint?: string;
  defaultRegion: string;
  /** The orchestrator's share of the RDS API's request limit (bench/README.md "RDS API budget"); unset: none. */
  rdsBudget?: RdsBudgetConfig;
  /**
   * ORCHESTRATOR_RDS_BUDGET_WORKERS, read whether or not the RDS budget is on: CloudTrail's LookupEvents limit (2 a
   * second per account and region) is split over the worker processes too (default 1).
   */
  workers?: number;
}

/**
 * RDS throttles per account and region (a token bucket: 300 burst, 12 requests/s by default, shared with
 * every other caller of the account). All the workers of a deployment together stay at or under
 * `requestsPerSecond` per account and region after a burst of at most `burst`: each worker process paces
 * its RDS requests (every HTTP attempt, SDK retries included) with a token bucket of `burst / workers`
 * refilled at `requestsPerSecond / workers`.
 */
export interface RdsBudgetConfig {
  /** ORCHESTRATOR_RDS_REQUESTS_PER_SECOND (default 6, half of AWS's default 12; `off` = no budget). */
  requestsPerSecond: number;
  /** ORCHESTRATOR_RDS_BURST: requests that may start at once (default 10 s worth of the rate; 1 = evenly spaced). */
  burst: number;
  /** ORCHESTRATOR_RDS_BUDGET_WORKERS: the worker processes sharing the budget (default 1). */
  workers: number;
}

export const DEFAULT_RDS_REQUESTS_PER_SECOND = 6;

function rdsBudget(env: NodeJS.ProcessEnv): RdsBudgetConfig | undefined {
  const rate = (env.ORCHESTRATOR_RDS_REQUESTS_PER_SECOND || String(DEFAULT_RDS_REQUESTS_PER_SECOND)).trim();
  if (/^(off|none|0)$/i.test(rate)) return undefined;
  const requestsPerSecond = Number(rate);
  if (!Number.isFinite(requestsPerSecond) || requestsPerSecond <= 0) {
    throw new ConfigError(`ORCHESTRATOR_RDS_REQUESTS_PER_SECOND=${rate} is not a positive number of requests per second (or off)`);
  }
  const workers = budgetWorkers(env);
  const burstText = (env.ORCHESTRATOR_RDS_BURST || String(Math.max(1, Math.round(10 * requestsPerSecond)))).trim();
  const burst = Number(burstText);
  if (!Number.isFinite(burst) || burst < 1) throw new ConfigError(`ORCHESTRATOR_RDS_BURST=${burstText} is not a number of requests >= 1`);
  return { requestsPerSecond, burst, workers };
}

function budgetWorkers(env: NodeJS.ProcessEnv): number {
  const workersText = (env.ORCHESTRATOR_RDS_BUDGET_WORKERS || '1').trim();
  if (!/^[1-9]\d*$/.test(workersText)) throw new ConfigError(`ORCHESTRATOR_RDS_BUDGET_WORKERS=${workersText} is not a whole number of worker processes (>= 1)`);
  return Number(workersText);
}

/** PagerDuty's Events API v2 endpoint (https://developer.pagerduty.com/docs/events-api-v2/overview/); EU accounts use https://events.eu.pagerduty.com/v2/enqueue. */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** Paging the on-call engineer (src/activities/pagerduty.ts). */
export interface PagerDutyConfig {
  /** ORCHESTRATOR_PAGERDUTY_ROUTING_KEY: the workers' default integration key; a stage may name its own. Unset: pages are only logged. */
  routingKey?: string;
  /** ORCHESTRATOR_PAGERDUTY_EVENTS_URL (default PAGERDUTY_EVENTS_URL; the simulator's `<url>/v2/enqueue` in the demo). */
  eventsUrl: string;
}

/**
 * What is wrong with a PagerDuty routing key, or undefined. The Events API v2 reference calls it "the 32
 * character Integration Key for an integration on a service or on a global ruleset": letters and digits
 * (hex for a service, `R...` for a ruleset). The key is a secret, so the answer never quotes it.
 */
export function routingKeyProblem(key: string): string | undefined {
  if (/\s/.test(key)) return 'contains whitespace (a line break copied with it from a file or a secret store?): remove it';
  if (key.length !== 32) {
    return (
      `is ${key.length} characters long, and an Events API v2 integration (routing) key is 32: copy the Integration Key of the ` +
      `PagerDuty service's "Events API V2" integration (a REST API key or a user token does not work here)`
    );
  }
  if (!/^[A-Za-z0-9]+$/.test(key)) return 'contains characters other than letters and digits, which an Events API v2 integration key never has';
  return undefined;
}

function pagerDutyConfig(env: NodeJS.ProcessEnv): PagerDutyConfig {
  const routingKey = env.ORCHESTRATOR_PAGERDUTY_ROUTING_KEY || undefined;
  const problem = routingKey === undefined ? undefined : routingKeyProblem(routingKey);
  if (problem) throw new ConfigError(`ORCHESTRATOR_PAGERDUTY_ROUTING_KEY ${problem}`);
  return { routingKey, eventsUrl: checkUrl(env, 'ORCHESTRATOR_PAGERDUTY_EVENTS_URL') ?? PAGERDUTY_EVENTS_URL };
}

export interface StatuspageConfig {
  baseUrl: string;
  apiKey?: string;
  pageId?: string;
}

export type LogFormat = 'text' | 'json';
export type LogLevelName = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** How the worker process runs in production: its endpoints for operators, its logs, its drain on SIGTERM. */
export interface WorkerProcessConfig {
  /** host:port of the SDK runtime's Prometheus endpoint (GET /metrics); unset: no metrics. */
  metricsBindAddress?: string;
  /** host:port of the health endpoint (GET /healthz liveness, GET /readyz readiness); unset: none. */
  healthBindAddress?: string;
  logFormat: LogFormat;
  logLevel: LogLevelName;
  /** After SIGTERM/SIGINT, how long in-flight activities may run on before they are cancelled (and retried elsewhere). */
  shutdownGraceMs: number;
  /** ORCHESTRATOR_WORKFLOW_BUNDLE: run this workflow bundle (a file `npm run build` wrote) instead of finding one (src/workflow-bundle.ts). */
  workflowBundlePath?: string;
}

export interface Config {
  temporal: TemporalConfig;
  aws: AwsConfig;
  statuspage: StatuspageConfig;
  pagerDuty: PagerDutyConfig;
  /** Generic JSON webhook (Slack-compatible payload with `text`). */
  notifyWebhookUrl?: string;
  /**
   * The team's allowed-signers file (ORCHESTRATOR_ALLOWED_SIGNERS; git's format): when set, every start,
   * approval, decision, pause, resume and abort must carry an SSH signature by a key it lists. Read by the
   * workers at each run's start and before each wait for people.
   */
  allowedSignersFile?: string;
  /**
   * DNS servers ("10.0.0.2" or "10.0.0.2:53") through which the workers resolve database hosts
   * (ORCHESTRATOR_DATABASE_RESOLVERS, comma-separated): for workers whose own resolver does not see the VPC's names
   * (outside the VPC, through a Route 53 Resolver inbound endpoint; the simulator's DNS server). Default: their own.
   */
  databaseResolvers?: string[];
  worker: WorkerProcessConfig;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function readFileVar(env: NodeJS.ProcessEnv, name: string): Buffer | undefined {
  const p = env[name];
  if (!p) return undefined;
  try {
    return fs.readFileSync(p);
  } catch (err) {
    throw new ConfigError(`${name}=${p}: cannot read the file (${(err as Error).message})`);
  }
}

function checkUrl(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  if (!v) return undefined;
  try {
    new URL(v);
  } catch {
    throw new ConfigError(`${name}=${v} is not a URL (expected e.g. http://127.0.0.1:4599)`);
  }
  return v;
}

/** `9464` (all interfaces) or `127.0.0.1:9464`. */
function bindAddress(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  if (!v) return undefined;
  const m = /^(?:(.+):)?(\d{1,5})$/.exec(v);
  if (!m || Number(m[2]) > 65535) throw new ConfigError(`${name}=${v} is not a port or host:port (expected e.g. 9464 or 127.0.0.1:9464)`);
  return `${m[1] ?? '0.0.0.0'}:${m[2]}`;
}

/** `10.0.0.2,10.0.1.2:53`: IPv4 addresses with an optional port. */
function resolverList(env: NodeJS.ProcessEnv, name: string): string[] | undefined {
  const v = env[name];
  if (!v) return undefined;
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.find((r) => !/^\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?$/.test(r));
  if (bad) throw new ConfigError(`${name}=${v}: "${bad}" is not an IPv4 address with an optional port (expected e.g. 10.0.0.2 or 127.0.0.1:5353)`);
  return list;
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[], fallback: T): T {
  const v = env[name];
  if (!v) return fallback;
  const hit = allowed.find((a) => a.toLowerCase() === v.toLowerCase());
  if (!hit) throw new ConfigError(`${name}=${v}: expected one of ${allowed.join(', ')}`);
  return hit;
}

function workerProcessConfig(env: NodeJS.ProcessEnv): WorkerProcessConfig {
  const grace = env.ORCHESTRATOR_SHUTDOWN_GRACE_SECONDS || '30';
  if (!/^\d+$/.test(grace)) throw new ConfigError(`ORCHESTRATOR_SHUTDOWN_GRACE_SECONDS=${grace} is not a whole number of seconds`);
  return {
    metricsBindAddress: bindAddress(env, 'ORCHESTRATOR_METRICS_PORT'),
    healthBindAddress: bindAddress(env, 'ORCHESTRATOR_HEALTH_PORT'),
    logFormat: oneOf(env, 'ORCHESTRATOR_LOG_FORMAT', ['text', 'json'] as const, 'text'),
    logLevel: oneOf(env, 'ORCHESTRATOR_LOG_LEVEL', ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const, 'INFO'),
    shutdownGraceMs: Number(grace) * 1000,
    workflowBundlePath: env.ORCHESTRATOR_WORKFLOW_BUNDLE || undefined,
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const clientCert = readFileVar(env, 'TEMPORAL_TLS_CLIENT_CERT_PATH');
  const clientKey = readFileVar(env, 'TEMPORAL_TLS_CLIENT_KEY_PATH');
  if (Boolean(clientCert) !== Boolean(clientKey)) {
    throw new ConfigError('Set both TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH for mTLS, or neither');
  }
  const serverRootCACertificate = readFileVar(env, 'TEMPORAL_TLS_SERVER_CA_CERT_PATH');
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  const tlsWanted = env.TEMPORAL_TLS === 'true' || Boolean(clientCert) || Boolean(serverRootCACertificate) || Boolean(apiKey);
  const tls: TemporalConfig['tls'] = tlsWanted
    ? clientCert || serverRootCACertificate || env.TEMPORAL_TLS_SERVER_NAME
      ? {
          clientCert,
          clientKey,
          serverRootCACertificate,
          serverNameOverride: env.TEMPORAL_TLS_SERVER_NAME || undefined,
        }
      : true
    : undefined;
  return {
    temporal: {
      address: env.TEMPORAL_ADDRESS || 'localhost:7233',
      namespace: env.TEMPORAL_NAMESPACE || 'default',
      taskQueue: env.ORCHESTRATOR_TASK_QUEUE || 'rds-orchestrator',
      apiKey,
      tls,
    },
    aws: {
      endpoint: checkUrl(env, 'ORCHESTRATOR_AWS_ENDPOINT') ?? checkUrl(env, 'AWS_ENDPOINT_URL'),
      defaultRegion: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'eu-west-2',
      rdsBudget: rdsBudget(env),
      workers: budgetWorkers(env),
    },
    statuspage: {
      baseUrl: checkUrl(env, 'STATUSPAGE_BASE_URL') ?? 'https://api.statuspage.io/v1',
      apiKey: env.STATUSPAGE_API_KEY || undefined,
      pageId: env.STATUSPAGE_PAGE_ID || undefined,
    },
    pagerDuty: pagerDutyConfig(env),
    notifyWebhookUrl: checkUrl(env, 'ORCHESTRATOR_NOTIFY_WEBHOOK_URL'),
    allowedSignersFile: env.ORCHESTRATOR_ALLOWED_SIGNERS || undefined,
    databaseResolvers: resolverList(env, 'ORCHESTRATOR_DATABASE_RESOLVERS'),
    worker: workerProcessConfig(env),
  };
}
