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
}

export interface StatuspageConfig {
  baseUrl: string;
  apiKey?: string;
  pageId?: string;
}

export interface Config {
  temporal: TemporalConfig;
  aws: AwsConfig;
  statuspage: StatuspageConfig;
  /** Generic JSON webhook (Slack-compatible payload with `text`). */
  notifyWebhookUrl?: string;
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
    },
    statuspage: {
      baseUrl: checkUrl(env, 'STATUSPAGE_BASE_URL') ?? 'https://api.statuspage.io/v1',
      apiKey: env.STATUSPAGE_API_KEY || undefined,
      pageId: env.STATUSPAGE_PAGE_ID || undefined,
    },
    notifyWebhookUrl: checkUrl(env, 'ORCHESTRATOR_NOTIFY_WEBHOOK_URL'),
  };
}
