/**
 * One real PostgreSQL server (Debian's `postgresql-15` binaries, the ones `npm run cluster` uses): its data
 * directory, a port on one loopback address (127.0.0.1 unless given), no Unix socket, password (scram)
 * authentication; initialised with initdb,
 * started and stopped with pg_ctl. initdb and postgres refuse to run as root, so as root every PostgreSQL
 * program runs (runuser) as the unprivileged `postgres` user, and the folders it writes are given to it.
 *
 * This file knows no RDS: it is the process control that the simulator's PostgreSQL-backed instances and
 * the tests build on.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const POSTGRES_MAJOR = 15;
/** The unprivileged user PostgreSQL runs as when the simulator runs as root. */
export const PG_OS_USER = 'postgres';
const isRoot = () => process.getuid?.() === 0;

export class PostgresUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PostgresUnavailableError';
  }
}

function hasServerBinaries(dir: string): boolean {
  return ['initdb', 'pg_ctl', 'postgres', 'pg_basebackup'].every((b) => fs.existsSync(path.join(dir, b)));
}

/**
 * RDS_SIM_PG_BIN, else Debian's PostgreSQL 15, else the newest other major Debian installed (13 or later),
 * else undefined.
 */
export function findPostgresBinDir(): string | undefined {
  const override = process.env.RDS_SIM_PG_BIN;
  if (override) return hasServerBinaries(override) ? override : undefined;
  const debian = `/usr/lib/postgresql/${POSTGRES_MAJOR}/bin`;
  if (hasServerBinaries(debian)) return debian;
  const root = '/usr/lib/postgresql';
  const majors = fs.existsSync(root) ? fs.readdirSync(root).filter((m) => /^\d+$/.test(m) && Number(m) >= 13) : [];
  return majors.sort((a, b) => Number(b) - Number(a)).map((m) => path.join(root, m, 'bin')).find(hasServerBinaries);
}

/** The binaries, or an error that says how to install them. */
export function requirePostgresBinDir(): string {
  const dir = findPostgresBinDir();
  if (dir) return dir;
  throw new PostgresUnavailableError(
    `PostgreSQL server binaries (initdb, pg_ctl, postgres, pg_basebackup) not found in /usr/lib/postgresql/${POSTGRES_MAJOR}/bin. ` +
      `Install them once: sudo apt-get install -y postgresql-${POSTGRES_MAJOR} (Debian/Ubuntu; .ci/run does), ` +
      'or set RDS_SIM_PG_BIN to a folder holding them.',
  );
}

/** Runs a program, as the `postgres` user when we are root. Throws with its output when it fails. */
export function runAsPostgres(program: string, args: string[], opts: { env?: NodeJS.ProcessEnv; check?: boolean; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  const env = { ...process.env, ...opts.env };
  const [exe, argv] = isRoot() ? ['runuser', ['-u', PG_OS_USER, '--', program, ...args]] : [program, args];
  const r = spawnSync(exe, argv, { env, encoding: 'utf8', timeout: opts.timeoutMs ?? 120_000 });
  if ((opts.check ?? true) && (r.status !== 0 || r.error)) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${path.basename(program)} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${out}`);
  }
  return r;
}

/** A folder PostgreSQL may write: created, and owned by the `postgres` user when we are root. */
export function ensurePostgresFolder(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!isRoot()) return;
  if (spawnSync('id', ['-u', PG_OS_USER]).status !== 0) {
    spawnSync('useradd', ['--system', '--user-group', '--home-dir', '/var/lib/postgresql', '--create-home', '--shell', '/usr/sbin/nologin', PG_OS_USER]);
  }
  spawnSync('chown', ['-R', `${PG_OS_USER}:`, dir]);
  fs.chmodSync(dir, 0o700);
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface PostgresServerOptions {
  bin: string;
  dataDir: string;
  port: number;
  /** The only address it listens on (listen_addresses); default 127.0.0.1. Linux routes all of 127.0.0.0/8 to lo. */
  host?: string;
  /** Extra postgresql.conf lines (archive settings, recovery targets). */
  settings?: Record<string, string | number | boolean>;
}

function confValue(v: string | number | boolean): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  return `'${v.replace(/'/g, "''")}'`;
}

/** One server's process control. Its data directory outlives it (the simulator's state file points at it). */
export class PostgresServer {
  constructor(readonly options: PostgresServerOptions) {}

  get dataDir(): string {
    return this.options.dataDir;
  }

  get port(): number {
    return this.options.port;
  }

  get host(): string {
    return this.options.host ?? '127.0.0.1';
  }

  private pg(program: string, args: string[], check = true) {
    return runAsPostgres(path.join(this.options.bin, program), args, { check });
  }

  /** initdb with `superuser`/`password` (scram), TCP on its host only, then the extra settings. */
  init(superuser: string, password: string): void {
    ensurePostgresFolder(path.dirname(this.dataDir));
    const pwfile = path.join(path.dirname(this.dataDir), `.initdb-password-${process.pid}`);
    fs.writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (isRoot()) spawnSync('chown', [`${PG_OS_USER}:`, pwfile]);
    try {
      this.pg('initdb', ['-D', this.dataDir, '-U', superuser, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync']);
    } finally {
      fs.rmSync(pwfile, { force: true });
    }
    this.configure({ listen_addresses: this.host, unix_socket_directories: '', max_connections: 50, shared_buffers: '16MB', fsync: false, ...this.options.settings });
  }

  /** Appends settings to postgresql.conf (the last line for a name wins). */
  configure(settings: Record<string, string | number | boolean>): void {
    const lines = Object.entries(settings).map(([k, v]) => `${k} = ${confValue(v)}`);
    fs.appendFileSync(path.join(this.dataDir, 'postgresql.conf'), `\n# rds-orchestrator simulator\n${lines.join('\n')}\n`);
  }

  /** The postmaster's pid when it runs. */
  pid(): number | undefined {
    try {
      const pid = Number(fs.readFileSync(path.join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(pid, 0);
      return pid;
    } catch {
      return undefined;
    }
  }

  running(): boolean {
    return this.pid() !== undefined;
  }

  /**
   * Starts the server on its host and port (given on the command line, so they hold whatever postgresql.conf says,
   * e.g. a restored copy of another cluster's) and waits until it accepts connections (a recovery may take a while).
   */
  start(timeoutSeconds = 120): void {
    if (this.running()) return;
    const logFile = path.join(path.dirname(this.dataDir), 'postgres.log');
    this.pg('pg_ctl', ['-D', this.dataDir, '-l', logFile, '-o', `-p ${this.port} -h ${this.host}`, '-w', '-t', String(timeoutSeconds), 'start']);
  }

  /** Stops the server: `fast` ends every session at once (no connection lingers), as RDS's stop does. */
  stop(mode: 'fast' | 'immediate' = 'fast'): void {
    if (!this.running()) return;
    this.pg('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  /** Makes a running server read its configuration files again (pg_ctl reload): new sessions see the new settings. */
  reload(): void {
    if (this.running()) this.pg('pg_ctl', ['-D', this.dataDir, 'reload']);
  }

  /** The tail of the server's log, for error messages. */
  logTail(lines = 20): string {
    try {
      return fs.readFileSync(path.join(path.dirname(this.dataDir), 'postgres.log'), 'utf8').trim().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}

/**
 * A TCP port free on `host` and on 127.0.0.1 (default: 127.0.0.1 alone) and not in `avoid`, found synchronously (a
 * short-lived child binds port 0 and prints it): the simulator's seed and RDS calls are synchronous, and a port is
 * needed before PostgreSQL starts.
 */
export function freePortSync(host = '127.0.0.1', avoid: ReadonlySet<number> = new Set()): number {
  // Bound on `host`, then (another address) on 127.0.0.1 too: prints the port, or 0 when 127.0.0.1 holds it.
  const also = host === '127.0.0.1' ? 'done()' : "const t=net.createServer();t.once('error',()=>{p=0;done();});t.listen(p,'127.0.0.1',()=>t.close(done));";
  const script =
    `const net=require('net');const s=net.createServer();let p=0;const done=()=>{s.close();process.stdout.write(String(p));};` +
    `s.listen(0,${JSON.stringify(host)},()=>{p=s.address().port;${also}});`;
  for (let attempt = 0; attempt < 20; attempt++) {
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
    const port = Number(r.stdout);
    if (r.status !== 0 || !Number.isInteger(port) || port < 0) throw new Error(`could not find a free port on ${host}: ${r.stderr || r.error?.message || r.stdout}`);
    if (port > 0 && !avoid.has(port)) return port;
  }
  throw new Error(`could not find a free port on ${host} that no other instance uses`);
}
