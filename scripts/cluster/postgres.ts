/**
 * PostgreSQL 15 from Debian's packages, as a server of the cluster's own: its data directory, its port on
 * 127.0.0.1, no Unix socket, password authentication; started and stopped with pg_ctl. initdb and postgres
 * refuse to run as root, so as root every PostgreSQL command runs (runuser) as the unprivileged `postgres`
 * user, which the package creates and this script creates itself when it is missing.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { run, which } from './daemons';
import { CLUSTER_DIR, ClusterError, DB_PASSWORD, DB_USER, POSTGRES_MAJOR, PROJECT_ROOT, say } from './layout';

const PACKAGE = `postgresql-${POSTGRES_MAJOR}`;
const BIN_DIR = `/usr/lib/postgresql/${POSTGRES_MAJOR}/bin`;
/** The unprivileged user PostgreSQL runs as when this script runs as root. */
const PG_USER = 'postgres';
const isRoot = () => process.getuid?.() === 0;

function hasServerBinaries(dir: string): boolean {
  return ['initdb', 'pg_ctl', 'postgres'].every((b) => fs.existsSync(path.join(dir, b)));
}

/**
 * RDS_CLUSTER_PG_BIN, else Debian's PostgreSQL 15, else the newest other major Debian installed (Temporal's
 * postgres12 plugin takes 12 and later; the compose file pins 15 as RDS does here).
 */
function binDir(): string | undefined {
  const override = process.env.RDS_CLUSTER_PG_BIN;
  if (override) return hasServerBinaries(override) ? override : undefined;
  if (hasServerBinaries(BIN_DIR)) return BIN_DIR;
  const majors = fs.existsSync('/usr/lib/postgresql') ? fs.readdirSync('/usr/lib/postgresql').filter((m) => /^\d+$/.test(m) && Number(m) >= 12) : [];
  const newest = majors.sort((a, b) => Number(b) - Number(a)).map((m) => `/usr/lib/postgresql/${m}/bin`).find(hasServerBinaries);
  return newest;
}

/** As root: the `postgres` user exists (Debian's package creates it; a machine with binaries from elsewhere may lack it). */
function ensurePostgresUser(): void {
  if (!isRoot() || run('id', ['-u', PG_USER], { check: false }).status === 0) return;
  say(`creating the unprivileged system user ${PG_USER} (PostgreSQL refuses to run as root)`);
  run('useradd', ['--system', '--user-group', '--home-dir', '/var/lib/postgresql', '--create-home', '--shell', '/usr/sbin/nologin', PG_USER]);
}

/** Installs Debian's package when missing and we may (root, apt-get); otherwise says what to install. */
export function ensurePostgresInstalled(): string {
  const found = binDir();
  if (found) {
    ensurePostgresUser();
    return found;
  }
  if (isRoot() && which('apt-get')) {
    say(`PostgreSQL ${POSTGRES_MAJOR} is not installed: installing it with apt-get`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    run('apt-get', ['update'], { env, show: true });
    // Debian 12 ships 15; a later release offers its own major only (the `postgresql` package).
    const pkg = run('apt-cache', ['show', PACKAGE], { check: false, env }).status === 0 ? PACKAGE : 'postgresql';
    run('apt-get', ['install', '-y', '--no-install-recommends', pkg], { env, show: true });
    const installed = binDir();
    if (installed) {
      ensurePostgresUser();
      return installed;
    }
  }
  throw new ClusterError(
    `PostgreSQL ${POSTGRES_MAJOR} server binaries not found in ${BIN_DIR}. Install them once: ` +
      `sudo apt-get install -y ${PACKAGE} (Debian/Ubuntu; this script does it itself when run as root), ` +
      `or set RDS_CLUSTER_PG_BIN to a folder holding initdb, pg_ctl and postgres of PostgreSQL ${POSTGRES_MAJOR}.`,
  );
}

/** Runs a PostgreSQL program as the user that owns the data directory. */
function pg(bin: string, program: string, args: string[], opts: { check?: boolean } = {}) {
  const exe = path.join(bin, program);
  return isRoot() ? run('runuser', ['-u', PG_USER, '--', exe, ...args], opts) : run(exe, args, opts);
}

function canReach(dir: string): boolean {
  return run('runuser', ['-u', PG_USER, '--', 'test', '-w', dir], { check: false }).status === 0;
}

/**
 * The data directory: .cluster/postgres/data, owned by the postgres user when we are root. If that user
 * cannot reach the checkout (a parent folder closed to others), a folder in the postgres user's home.
 */
export function choosePostgresDataDir(): string {
  const parent = path.join(CLUSTER_DIR, 'postgres');
  fs.mkdirSync(parent, { recursive: true });
  if (!isRoot()) return path.join(parent, 'data');
  run('chown', [`${PG_USER}:`, parent]);
  if (canReach(parent)) return path.join(parent, 'data');
  const hash = crypto.createHash('sha1').update(PROJECT_ROOT).digest('hex').slice(0, 10);
  const home = path.join('/var/lib/postgresql', `rds-orchestrator-cluster-${hash}`);
  say(`the postgres user cannot reach ${parent} (a parent folder is closed to other users): data in ${home}`);
  fs.mkdirSync(home, { recursive: true });
  run('chown', [`${PG_USER}:`, home]);
  return path.join(home, 'data');
}

export function postgresInitialized(dataDir: string): boolean {
  return fs.existsSync(path.join(dataDir, 'PG_VERSION'));
}

/** initdb with the `temporal` superuser (as the compose file's POSTGRES_USER), TCP on 127.0.0.1 only. */
export function initPostgres(bin: string, dataDir: string): void {
  const parent = path.dirname(dataDir);
  const pwfile = path.join(parent, 'initdb-password');
  fs.writeFileSync(pwfile, `${DB_PASSWORD}\n`, { mode: 0o600 });
  if (isRoot()) run('chown', [`${PG_USER}:`, pwfile]);
  try {
    say(`initdb ${dataDir}`);
    pg(bin, 'initdb', ['-D', dataDir, '-U', DB_USER, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C']);
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
  fs.appendFileSync(
    path.join(dataDir, 'postgresql.conf'),
    "\n# rds-orchestrator cluster (scripts/cluster): loopback TCP only; the port is given at start\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nmax_connections = 200\n",
  );
}

export function postgresPid(dataDir: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

export function startPostgres(bin: string, dataDir: string, port: number): void {
  const logFile = path.join(path.dirname(dataDir), 'postgres.log');
  pg(bin, 'pg_ctl', ['-D', dataDir, '-l', logFile, '-o', `-p ${port}`, '-w', '-t', '60', 'start']);
}

export function stopPostgres(bin: string, dataDir: string): void {
  pg(bin, 'pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']);
}

export function postgresBinDir(): string | undefined {
  return binDir();
}
