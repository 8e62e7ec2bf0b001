/**
 * The Temporal server as a team runs it, on one machine: built from the Go module proxy once per machine
 * (`go install go.temporal.io/server/cmd/server@v1.32.2`, the schema tool beside it) into .tools/,
 * configured from the module's own `config/development-postgres12.yaml` (ports changed: PostgreSQL
 * persistence, SQL visibility), its schemas set up by its SQL tool, started as a process of its own; then
 * the `default` namespace and the search attributes the workflows write (src/api/search-attributes.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/api/search-attributes';
import { findTemporalBinary } from '../../dev/temporal-binaries';
import { typeNames } from '../../dev/temporal-server';
import { run, which } from './daemons';
import { CLUSTER_DIR, ClusterError, DB_PASSWORD, DB_USER, GO_TOOLCHAIN, NAMESPACE, NAMESPACE_RETENTION, TEMPORAL_BUILD_DIR, TEMPORAL_MODULE, TEMPORAL_SERVER_VERSION, say, type ClusterPorts } from './layout';

export const TEMPORAL_DIR = path.join(CLUSTER_DIR, 'temporal');
/** The module's dynamic config for SQL persistence (docker-compose.yml carries the same settings). */
export const DYNAMIC_CONFIG_TEMPLATE = path.join(TEMPORAL_BUILD_DIR, 'config', 'dynamicconfig', 'development-sql.yaml');
export const SERVER_BIN = path.join(TEMPORAL_BUILD_DIR, 'bin', 'server');
const SQL_BIN = path.join(TEMPORAL_BUILD_DIR, 'bin', 'sql');
const TEMPLATE = path.join(TEMPORAL_BUILD_DIR, 'config', 'development-postgres12.yaml');
const SCHEMA_DIR = path.join(TEMPORAL_BUILD_DIR, 'schema', 'postgresql', 'v12');

export function goEnv(gobin: string): NodeJS.ProcessEnv {
  return { ...process.env, GOTOOLCHAIN: GO_TOOLCHAIN, GOBIN: gobin, GOFLAGS: '-buildvcs=false' };
}

export function requireGo(what: string): string {
  const go = which('go');
  if (!go) {
    throw new ClusterError(
      `${what} is built once from the Go module proxy and needs Go (any release from 1.21 on: it fetches ${GO_TOOLCHAIN} by itself). ` +
        'Install it (e.g. apt-get install -y golang, or the go.dev tarball) and run `npm run cluster -- up` again.',
    );
  }
  return go;
}

export function temporalBuilt(): boolean {
  return [SERVER_BIN, SQL_BIN, TEMPLATE, DYNAMIC_CONFIG_TEMPLATE, SCHEMA_DIR].every((p) => fs.existsSync(p));
}

/** Builds into a fresh folder then renames it, so an interrupted build never counts as built. */
export function buildTemporal(): void {
  const go = requireGo('The Temporal server');
  const tmp = `${TEMPORAL_BUILD_DIR}.partial`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(path.join(tmp, 'bin'), { recursive: true });
  say(`building the Temporal server ${TEMPORAL_SERVER_VERSION} and its SQL tool with ${GO_TOOLCHAIN} (once per machine; minutes)`);
  const env = goEnv(path.join(tmp, 'bin'));
  run(go, ['install', `${TEMPORAL_MODULE}/cmd/server@${TEMPORAL_SERVER_VERSION}`, `${TEMPORAL_MODULE}/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`], { env, show: true });
  // The module's source (now in the module cache) holds the configs and schemas this version ships.
  const mod = JSON.parse(run(go, ['mod', 'download', '-json', `${TEMPORAL_MODULE}@${TEMPORAL_SERVER_VERSION}`], { env }).stdout) as { Dir: string };
  fs.mkdirSync(path.join(tmp, 'config', 'dynamicconfig'), { recursive: true });
  fs.copyFileSync(path.join(mod.Dir, 'config', 'development-postgres12.yaml'), path.join(tmp, 'config', 'development-postgres12.yaml'));
  fs.copyFileSync(path.join(mod.Dir, 'config', 'dynamicconfig', 'development-sql.yaml'), path.join(tmp, 'config', 'dynamicconfig', 'development-sql.yaml'));
  fs.cpSync(path.join(mod.Dir, 'schema', 'postgresql', 'v12'), path.join(tmp, 'schema', 'postgresql', 'v12'), { recursive: true });
  // Files from the module cache are read-only: the copies must be removable by `rm -rf .tools`.
  run('chmod', ['-R', 'u+w', tmp]);
  fs.rmSync(TEMPORAL_BUILD_DIR, { recursive: true, force: true });
  fs.renameSync(tmp, TEMPORAL_BUILD_DIR);
}

/** The module's development-postgres12.yaml with this cluster's ports (everything else as shipped). */
export function writeTemporalConfig(ports: ClusterPorts): string {
  fs.mkdirSync(TEMPORAL_DIR, { recursive: true });
  const dynamicConfig = path.join(TEMPORAL_DIR, 'dynamicconfig.yaml');
  fs.writeFileSync(dynamicConfig, fs.readFileSync(DYNAMIC_CONFIG_TEMPLATE, 'utf8').replaceAll('localhost:7243', `127.0.0.1:${ports.frontendHttp}`));
  const doc = YAML.parseDocument(fs.readFileSync(TEMPLATE, 'utf8'));
  for (const store of ['postgres-default', 'postgres-visibility']) {
    doc.setIn(['persistence', 'datastores', store, 'sql', 'connectAddr'], `127.0.0.1:${ports.postgres}`);
    doc.setIn(['persistence', 'datastores', store, 'sql', 'user'], DB_USER);
    doc.setIn(['persistence', 'datastores', store, 'sql', 'password'], DB_PASSWORD);
  }
  // The shipped `info` writes about 0.5 MB a minute of routine lines; warnings and errors are what a log of a local cluster is read for.
  doc.setIn(['log', 'level'], 'warn');
  doc.setIn(['global', 'pprof', 'port'], 0);
  doc.setIn(['global', 'metrics', 'prometheus', 'listenAddress'], `127.0.0.1:${ports.serverMetrics}`);
  const services: [string, number, number][] = [
    ['frontend', ports.frontend, ports.frontendMembership],
    ['history', ports.history, ports.historyMembership],
    ['matching', ports.matching, ports.matchingMembership],
    ['worker', ports.worker, ports.workerMembership],
  ];
  for (const [name, grpc, membership] of services) {
    doc.setIn(['services', name, 'rpc', 'grpcPort'], grpc);
    doc.setIn(['services', name, 'rpc', 'membershipPort'], membership);
  }
  doc.setIn(['services', 'frontend', 'rpc', 'httpPort'], ports.frontendHttp);
  doc.setIn(['clusterMetadata', 'clusterInformation', 'active', 'rpcAddress'], `127.0.0.1:${ports.frontend}`);
  doc.setIn(['dynamicConfigClient', 'filepath'], dynamicConfig);
  const file = path.join(TEMPORAL_DIR, 'config.yaml');
  fs.writeFileSync(file, `# Written by scripts/cluster from ${TEMPORAL_MODULE}@${TEMPORAL_SERVER_VERSION} config/development-postgres12.yaml (ports and log level changed)\n${doc.toString()}`);
  return file;
}

/** create-database, setup-schema -v 0.0, update-schema: each is a no-op when already done (v1.32.2's tool). */
export function setupSchemas(postgresPort: number): void {
  const env = { ...process.env, SQL_PLUGIN: 'postgres12', SQL_HOST: '127.0.0.1', SQL_PORT: String(postgresPort), SQL_USER: DB_USER, SQL_PASSWORD: DB_PASSWORD };
  for (const [db, dir] of [['temporal', 'temporal'], ['temporal_visibility', 'visibility']] as const) {
    run(SQL_BIN, ['--db', db, 'create-database'], { env });
    run(SQL_BIN, ['--db', db, 'setup-schema', '-v', '0.0'], { env });
    run(SQL_BIN, ['--db', db, 'update-schema', '-d', path.join(SCHEMA_DIR, dir, 'versioned')], { env });
  }
}

export function serverArgs(configFile: string): string[] {
  return ['--config-file', configFile, '--allow-no-auth', 'start'];
}

function temporalCli(): string {
  const cli = findTemporalBinary('cli');
  if (!cli) throw new ClusterError('no Temporal CLI (.tools/venv/bin/temporal, TEMPORAL_CLI_PATH or PATH): run npm install');
  return cli.path;
}

export function cli(address: string, args: string[], check = true) {
  return run(temporalCli(), [...args, '--address', address], { check });
}

export function serverServing(address: string): boolean {
  const r = cli(address, ['operator', 'cluster', 'health'], false);
  return r.status === 0 && /SERVING/.test(r.stdout);
}

/** The namespace (30 days' retention of closed runs), created only if missing. */
export function registerNamespace(address: string): void {
  if (cli(address, ['operator', 'namespace', 'describe', '--namespace', NAMESPACE], false).status !== 0) {
    say(`namespace ${NAMESPACE}: creating`);
    cli(address, ['operator', 'namespace', 'create', '--namespace', NAMESPACE, '--retention', NAMESPACE_RETENTION]);
  }
}

export function registerSearchAttributes(address: string): string[] {
  const listed = cli(address, ['operator', 'search-attribute', 'list', '--namespace', NAMESPACE, '-o', 'json']).stdout;
  const missing = ALL_SEARCH_ATTRIBUTES.filter((sa) => !listed.includes(`"${sa.name}"`));
  if (missing.length) {
    const args = missing.flatMap((sa) => ['--name', sa.name, '--type', typeNames(sa.type).cli]);
    say(`search attributes: creating ${missing.map((sa) => sa.name).join(', ')}`);
    cli(address, ['operator', 'search-attribute', 'create', '--namespace', NAMESPACE, ...args]);
  }
  return missing.map((sa) => sa.name);
}

/** Usable = the frontend accepts a visibility query on every search attribute (its namespace cache caught up). */
export function searchAttributesUsable(address: string): boolean {
  const query = ALL_SEARCH_ATTRIBUTES.map((sa) => `${sa.name} = 'cluster-check'`).join(' AND ');
  return cli(address, ['workflow', 'list', '--namespace', NAMESPACE, '--query', query, '--limit', '1'], false).status === 0;
}
