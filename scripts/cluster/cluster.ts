/**
 * The production topology on one machine, without Docker: PostgreSQL 15 → Temporal server 1.32.2
 * (PostgreSQL persistence, SQL visibility) → the Temporal UI server. `up` starts what is not running
 * (building and installing what is missing first), `down` stops everything (data kept unless wiped),
 * `status` says what runs where. Workers are not part of it: they run from the product (README).
 */
import fs from 'node:fs';
import path from 'node:path';
import { freePortBetween, portFree, runningPid, sleep, startDaemon, stopPid, waitFor } from './daemons';
import {
  CLUSTER_DIR,
  ClusterError,
  LOG_DIR,
  NAMESPACE,
  POSTGRES_MAJOR,
  PORT_CEILING,
  PREFERRED_PORTS,
  TEMPORAL_SERVER_VERSION,
  UI_SERVER_VERSION,
  readState,
  say,
  writeState,
  type ClusterPorts,
  type ClusterState,
} from './layout';
import { choosePostgresDataDir, ensurePostgresInstalled, initPostgres, postgresBinDir, postgresInitialized, postgresPid, startPostgres, stopPostgres } from './postgres';
import {
  SERVER_BIN,
  TEMPORAL_DIR,
  buildTemporal,
  registerNamespace,
  registerSearchAttributes,
  searchAttributesUsable,
  serverArgs,
  serverServing,
  setupSchemas,
  temporalBuilt,
  writeTemporalConfig,
} from './temporal';
import { UI_BIN, UI_DIR, buildUi, uiArgs, uiBuilt, uiServing, writeUiConfig } from './ui';

const TEMPORAL_PID = path.join(TEMPORAL_DIR, 'server.pid');
const UI_PID = path.join(UI_DIR, 'server.pid');
const TEMPORAL_LOG = path.join(LOG_DIR, 'temporal-server.log');
const UI_LOG = path.join(LOG_DIR, 'ui-server.log');

const TEMPORAL_PORT_KEYS = ['frontend', 'frontendHttp', 'frontendMembership', 'history', 'historyMembership', 'matching', 'matchingMembership', 'worker', 'workerMembership', 'serverMetrics'] as const;

export interface UpOptions {
  /** Skip the Web UI (it needs its own one-time build). */
  ui?: boolean;
}

export interface UpReport {
  totalMs: number;
  buildMs: number;
  started: string[];
  status: ClusterStatus;
}

/** A port kept from the state file if still free (or held by our own running service), else a new free one. */
async function keepOrPick(key: keyof ClusterPorts, previous: number | undefined, taken: Set<number>, ownedByRunning: boolean): Promise<number> {
  const candidates = [previous, PREFERRED_PORTS[key]].filter((p): p is number => p !== undefined && p <= PORT_CEILING);
  for (const p of candidates) {
    if (taken.has(p)) continue;
    if ((p === previous && ownedByRunning) || (await portFree(p))) return p;
  }
  return freePortBetween(10_000, PORT_CEILING, taken);
}

async function choosePorts(previous: ClusterPorts | undefined, running: { postgres: boolean; temporal: boolean; ui: boolean }): Promise<ClusterPorts> {
  const taken = new Set<number>();
  const ports = {} as ClusterPorts;
  const keys: (keyof ClusterPorts)[] = ['postgres', ...TEMPORAL_PORT_KEYS, 'ui'];
  for (const key of keys) {
    const owner = key === 'postgres' ? running.postgres : key === 'ui' ? running.ui : running.temporal;
    ports[key] = await keepOrPick(key, previous?.[key], taken, owner);
    taken.add(ports[key]);
  }
  return ports;
}

function startTemporalProcess(ports: ClusterPorts): number {
  const config = writeTemporalConfig(ports);
  say(`Temporal server ${TEMPORAL_SERVER_VERSION}: starting on 127.0.0.1:${ports.frontend} (log ${path.relative(process.cwd(), TEMPORAL_LOG)})`);
  return startDaemon({ name: 'temporal', executable: SERVER_BIN, args: serverArgs(config), cwd: TEMPORAL_DIR, logFile: TEMPORAL_LOG, pidFile: TEMPORAL_PID });
}

const temporalRunning = () => runningPid(TEMPORAL_PID, SERVER_BIN) !== undefined;
const onTemporal = (timeoutMs: number) => ({ timeoutMs, logFile: TEMPORAL_LOG, stillRunning: temporalRunning });

async function waitForTemporalServing(address: string): Promise<void> {
  await waitFor('the Temporal frontend to serve', async () => (serverServing(address) ? true : undefined), onTemporal(120_000));
}

/**
 * Stops the Temporal server process alone (PostgreSQL and the UI stay up): `SIGKILL` as a crash or an OOM
 * kill does, `SIGTERM` as a supervisor does. Its history stays in PostgreSQL. Used by the cluster suite.
 */
export async function stopTemporalServer(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
  const pid = runningPid(TEMPORAL_PID, SERVER_BIN);
  if (pid === undefined) throw new ClusterError('the Temporal server is not running (npm run cluster -- up)');
  if (signal === 'SIGTERM') {
    await stopPid(pid);
    return;
  }
  process.kill(pid, 'SIGKILL');
  while (runningPid(TEMPORAL_PID, SERVER_BIN) !== undefined) await sleep(50);
}

/** Starts the Temporal server process again on the cluster's ports and data, and waits until its frontend serves. */
export async function startTemporalServer(): Promise<void> {
  const state = readState();
  if (!state) throw new ClusterError('no cluster state: run npm run cluster -- up first');
  if (!temporalRunning()) startTemporalProcess(state.ports);
  await waitForTemporalServing(`127.0.0.1:${state.ports.frontend}`);
}

export async function up(opts: UpOptions = {}): Promise<UpReport> {
  const start = Date.now();
  const withUi = opts.ui ?? true;
  const started: string[] = [];
  fs.mkdirSync(LOG_DIR, { recursive: true });

  const pgBin = ensurePostgresInstalled();
  const buildStart = Date.now();
  if (!temporalBuilt()) buildTemporal();
  if (withUi && !uiBuilt()) buildUi();
  const buildMs = Date.now() - buildStart;

  const previous = readState();
  const dataDir = previous?.postgresDataDir ?? choosePostgresDataDir();
  const running = { postgres: postgresPid(dataDir) !== undefined, temporal: runningPid(TEMPORAL_PID, SERVER_BIN) !== undefined, ui: runningPid(UI_PID, UI_BIN) !== undefined };
  const state: ClusterState = { postgresDataDir: dataDir, ports: await choosePorts(previous?.ports, running) };
  writeState(state);
  const { ports } = state;
  const address = `127.0.0.1:${ports.frontend}`;

  if (!running.postgres) {
    if (!postgresInitialized(dataDir)) initPostgres(pgBin, dataDir);
    say(`PostgreSQL ${POSTGRES_MAJOR}: starting on 127.0.0.1:${ports.postgres}`);
    startPostgres(pgBin, dataDir, ports.postgres);
    started.push('postgres');
  }
  setupSchemas(ports.postgres);

  if (!running.temporal) {
    startTemporalProcess(ports);
    started.push('temporal');
  }
  await waitForTemporalServing(address);
  await waitFor(`namespace ${NAMESPACE}`, async () => (registerNamespace(address), true), onTemporal(60_000));
  await waitFor('the search attributes', async () => (registerSearchAttributes(address), true), onTemporal(60_000));
  await waitFor('the search attributes to be queryable', async () => (searchAttributesUsable(address) ? true : undefined), onTemporal(90_000));

  if (withUi && !running.ui) {
    writeUiConfig(ports);
    say(`Temporal UI server ${UI_SERVER_VERSION}: starting on http://127.0.0.1:${ports.ui}`);
    startDaemon({ name: 'ui', executable: UI_BIN, args: uiArgs(), cwd: UI_DIR, logFile: UI_LOG, pidFile: UI_PID });
    started.push('ui');
  }
  if (withUi) {
    await waitFor('the Temporal UI', async () => ((await uiServing(ports.ui)) ? true : undefined), { timeoutMs: 60_000, logFile: UI_LOG, stillRunning: () => runningPid(UI_PID, UI_BIN) !== undefined });
  }

  return { totalMs: Date.now() - start, buildMs, started, status: status() };
}

export interface ServiceStatus {
  running: boolean;
  pid?: number;
  address?: string;
  log?: string;
}

export interface ClusterStatus {
  dir: string;
  temporalAddress?: string;
  built: { temporal: boolean; ui: boolean };
  postgres: ServiceStatus;
  temporal: ServiceStatus & { metrics?: string };
  ui: ServiceStatus & { url?: string };
}

export function status(): ClusterStatus {
  const state = readState();
  const p = state?.ports;
  const pgPid = state ? postgresPid(state.postgresDataDir) : undefined;
  const tPid = runningPid(TEMPORAL_PID, SERVER_BIN);
  const uPid = runningPid(UI_PID, UI_BIN);
  return {
    dir: CLUSTER_DIR,
    temporalAddress: p ? `127.0.0.1:${p.frontend}` : undefined,
    built: { temporal: temporalBuilt(), ui: uiBuilt() },
    postgres: { running: pgPid !== undefined, pid: pgPid, address: p && `127.0.0.1:${p.postgres}`, log: state && path.join(path.dirname(state.postgresDataDir), 'postgres.log') },
    temporal: { running: tPid !== undefined, pid: tPid, address: p && `127.0.0.1:${p.frontend}`, log: TEMPORAL_LOG, metrics: p && `http://127.0.0.1:${p.serverMetrics}/metrics` },
    ui: { running: uPid !== undefined, pid: uPid, url: p && `http://127.0.0.1:${p.ui}`, log: UI_LOG },
  };
}

/** Stops the UI, the Temporal server (SIGTERM, it shuts down cleanly) and PostgreSQL; `wipe` deletes the data too. */
export async function down(opts: { wipe?: boolean } = {}): Promise<string[]> {
  const stopped: string[] = [];
  for (const [name, pidFile, exe] of [['ui', UI_PID, UI_BIN], ['temporal', TEMPORAL_PID, SERVER_BIN]] as const) {
    const pid = runningPid(pidFile, exe);
    if (pid !== undefined) {
      stopped.push(`${name} (${await stopPid(pid)})`);
    }
    fs.rmSync(pidFile, { force: true });
  }
  const state = readState();
  const pgBin = postgresBinDir();
  if (state && pgBin && postgresPid(state.postgresDataDir) !== undefined) {
    stopPostgres(pgBin, state.postgresDataDir);
    stopped.push('postgres');
  }
  if (opts.wipe) {
    if (state && !state.postgresDataDir.startsWith(CLUSTER_DIR)) fs.rmSync(path.dirname(state.postgresDataDir), { recursive: true, force: true });
    fs.rmSync(CLUSTER_DIR, { recursive: true, force: true });
  }
  return stopped;
}
