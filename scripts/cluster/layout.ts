/**
 * Where the local production topology lives and what it runs: the pinned versions, the build cache
 * (.tools/, built once per machine), the cluster's own folder (.cluster/: data, configs, logs, pids) and
 * its state file (the ports chosen at the first `up`, kept while they stay free).
 */
import fs from 'node:fs';
import path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** The Temporal server, its schema tool, and the Go toolchain that builds them (fetched by `go` itself). */
export const TEMPORAL_SERVER_VERSION = 'v1.32.2';
export const TEMPORAL_MODULE = 'go.temporal.io/server';
/**
 * The standalone Web UI server a team runs (the `temporalio/ui` image is built from it). v2.56.0 is the
 * newest that builds from the Go module proxy here: v2.56.1 and later need github.com/labstack/echo/v4
 * v4.16.1, which the proxy refuses ("403 This module version is not available").
 */
export const UI_SERVER_VERSION = 'v2.56.0';
export const UI_MODULE = 'github.com/temporalio/ui-server/v2';
export const GO_TOOLCHAIN = 'go1.27.3';
export const POSTGRES_MAJOR = '15';

export const TOOLS_DIR = path.join(PROJECT_ROOT, '.tools');
export const TEMPORAL_BUILD_DIR = path.join(TOOLS_DIR, 'temporal-server', TEMPORAL_SERVER_VERSION);
export const UI_BUILD_DIR = path.join(TOOLS_DIR, 'temporal-ui-server', UI_SERVER_VERSION);

export const CLUSTER_DIR = path.join(PROJECT_ROOT, '.cluster');
export const LOG_DIR = path.join(CLUSTER_DIR, 'logs');
export const STATE_FILE = path.join(CLUSTER_DIR, 'cluster.json');

/** The database user and password (local only, loopback only; the compose file uses the same). */
export const DB_USER = 'temporal';
export const DB_PASSWORD = 'temporal';
export const NAMESPACE = 'default';
/** How long closed runs stay in the namespace (docker-compose.yml registers it the same way). */
export const NAMESPACE_RETENTION = '720h';

/** Every port the topology listens on, all on 127.0.0.1. */
export interface ClusterPorts {
  postgres: number;
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
  /** The Temporal server's own Prometheus metrics. */
  serverMetrics: number;
  ui: number;
}

export interface ClusterState {
  ports: ClusterPorts;
  /** PostgreSQL's data directory (under .cluster/ unless the postgres user cannot reach it). */
  postgresDataDir: string;
}

/** Ports tried first, when free: the module's development config's (every Temporal tool and doc assumes 7233) and the UI image's. */
export const PREFERRED_PORTS: Partial<ClusterPorts> = {
  frontend: 7233,
  frontendHttp: 7243,
  frontendMembership: 6933,
  history: 7234,
  historyMembership: 6934,
  matching: 7235,
  matchingMembership: 6935,
  worker: 7239,
  workerMembership: 6939,
  serverMetrics: 8000,
  ui: 8080,
};

/**
 * Any other port is picked below this: the server records its membership ports in PostgreSQL as a
 * SMALLINT (cluster_membership.rpc_port), so an ephemeral port (32768 and up) makes it exit at start.
 */
export const PORT_CEILING = 32767;

export function readState(): ClusterState | undefined {
  try {
    return JSON.parse(fs.readFileSync(STATE_FILE, 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

export function writeState(state: ClusterState): void {
  fs.mkdirSync(CLUSTER_DIR, { recursive: true });
  fs.writeFileSync(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);
}

export function say(line: string): void {
  console.log(`cluster: ${line}`);
}

export class ClusterError extends Error {
  override name = 'ClusterError';
}
