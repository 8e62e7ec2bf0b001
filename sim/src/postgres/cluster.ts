/**
 * One PostgreSQL-backed instance's cluster on disk: `data/` (the running cluster), `archive/` (its WAL, archived
 * continuously), `base/` (the base backup taken when it was created) and `postgres.log`. It knows no RDS: the
 * simulator's RDS instances drive it through sim/src/rds-postgres.ts.
 *
 * - WAL archiving: archive_mode on, archive_command copying each completed segment into `archive/` (keeping its
 *   modification time, i.e. when its last WAL was written), archive_timeout 60 s, so archived WAL trails writes
 *   by about a minute at most (RDS uploads every five minutes: "typically within the last five minutes",
 *   https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIT.html).
 * - Point-in-time recovery: a copy of the source's base backup, restore_command reading the source's archive,
 *   recovery_target_time and recovery_target_action promote
 *   (https://www.postgresql.org/docs/15/continuous-archiving.html#BACKUP-PITR-RECOVERY).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { PostgresServer, ensurePostgresFolder, runAsPostgres } from './server';

export interface ClusterSpec {
  /** A folder only this cluster uses. */
  dir: string;
  /** The loopback address it alone listens on. */
  host: string;
  port: number;
  user: string;
  password: string;
}

const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
/** The size of the long page header a WAL segment starts with: an insert position there means the segment is empty. */
const SEGMENT_HEADER_BYTES = 40;
const RECOVERY_TARGET_NOT_REACHED = 'recovery ended before configured recovery target was reached';

export class InstanceCluster {
  readonly server: PostgresServer;

  constructor(
    private readonly bin: string,
    readonly spec: ClusterSpec,
  ) {
    this.server = new PostgresServer({ bin, dataDir: this.dataDir, host: spec.host, port: spec.port });
  }

  get dataDir(): string {
    return path.join(this.spec.dir, 'data');
  }

  get archiveDir(): string {
    return path.join(this.spec.dir, 'archive');
  }

  get baseDir(): string {
    return path.join(this.spec.dir, 'base');
  }

  exists(): boolean {
    return fs.existsSync(path.join(this.dataDir, 'PG_VERSION'));
  }

  /** The settings every simulated instance runs with: its port is given at start; its WAL is archived into its own folder. */
  private archiveSettings(): Record<string, string | number | boolean> {
    return {
      archive_mode: true,
      archive_command: `test ! -f ${sq(this.archiveDir)}/%f && cp --preserve=timestamps %p ${sq(this.archiveDir)}/%f`,
      archive_timeout: 60,
      wal_level: 'replica',
    };
  }

  private prepareFolders(): void {
    if (fs.existsSync(this.spec.dir) && fs.readdirSync(this.spec.dir).length > 0) {
      throw new Error(`PostgreSQL folder ${this.spec.dir} is not empty: it belongs to an instance that existed before; move it away`);
    }
    ensurePostgresFolder(this.spec.dir);
    fs.mkdirSync(this.archiveDir);
    ensurePostgresFolder(this.spec.dir);
  }

  /** initdb with the master user and password, archiving on. */
  create(): void {
    this.prepareFolders();
    this.server.init(this.spec.user, this.spec.password);
    this.server.configure(this.archiveSettings());
  }

  /**
   * The base backup a restore starts from (pg_basebackup, plain format, with the WAL it needs, after a fast
   * checkpoint), taken from the running server. Returns the wall time it ended: the earliest restorable instant.
   */
  takeBaseBackup(): number {
    const tmp = `${this.baseDir}.partial`;
    fs.rmSync(tmp, { recursive: true, force: true });
    runAsPostgres(path.join(this.bin, 'pg_basebackup'), ['-h', this.spec.host, '-p', String(this.spec.port), '-U', this.spec.user, '-D', tmp, '-X', 'fetch', '-c', 'fast', '--no-sync', '-w'], {
      env: { PGPASSWORD: this.spec.password },
    });
    const endedAt = Date.now();
    fs.renameSync(tmp, this.baseDir);
    return endedAt;
  }

  /**
   * Point-in-time recovery of `source` into this (new, empty) cluster, to `targetReal` (wall epoch ms), or to the
   * end of the archived WAL when undefined; promoted at the target, then started on this cluster's address and port
   * with its own archive. When the archive ends before any transaction after the target (recovery cannot "reach"
   * it), every archived transaction is at or before the target, so replaying the whole archive is the state at the
   * target.
   */
  recoverFrom(source: InstanceCluster, targetReal: number | undefined): void {
    this.prepareFolders();
    try {
      this.recoverOnce(source, targetReal);
    } catch (err) {
      if (targetReal === undefined || !this.server.logTail(40).includes(RECOVERY_TARGET_NOT_REACHED)) throw err;
      this.server.stop('immediate');
      fs.rmSync(this.dataDir, { recursive: true, force: true });
      this.recoverOnce(source, undefined);
    }
  }

  private recoverOnce(source: InstanceCluster, targetReal: number | undefined): void {
    if (!fs.existsSync(path.join(source.baseDir, 'PG_VERSION'))) throw new Error(`the source's base backup ${source.baseDir} is missing`);
    runAsPostgres('cp', ['-a', source.baseDir, this.dataDir]);
    this.server.configure({
      ...this.archiveSettings(),
      restore_command: `cp ${sq(source.archiveDir)}/%f %p`,
      // No connections until recovery is over: the instance is not there before its promotion.
      hot_standby: false,
      recovery_target_action: 'promote',
      // recovery_target_time takes PostgreSQL's timestamptz syntax ("2025-01-06 12:00:00.123+00"), not ISO's T and Z.
      ...(targetReal !== undefined ? { recovery_target_time: new Date(targetReal).toISOString().replace('T', ' ').replace('Z', '+00') } : {}),
    });
    runAsPostgres('touch', [path.join(this.dataDir, 'recovery.signal')]);
    try {
      this.server.start();
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${this.server.logTail()}`);
    }
    this.waitForPromotion();
  }

  /**
   * pg_ctl returns once recovery runs; the cluster is the restored instance once it is "in production" and takes
   * connections. The control file says "in production" a moment before the postmaster accepts connections (until
   * then a connection is refused: "the database system is not accepting connections"); on a loaded machine that
   * moment was long enough for the base backup right after to fail (a CI run of the demo's restore).
   */
  private waitForPromotion(timeoutMs = 120_000): void {
    const deadline = Date.now() + timeoutMs;
    const isReady = path.join(this.bin, 'pg_isready');
    const accepting = () =>
      !fs.existsSync(isReady) ||
      runAsPostgres(isReady, ['-h', this.spec.host, '-p', String(this.spec.port), '-U', this.spec.user, '-d', 'postgres', '-q'], { check: false }).status === 0;
    for (;;) {
      const control = runAsPostgres(path.join(this.bin, 'pg_controldata'), ['-D', this.dataDir], { check: false }).stdout ?? '';
      if (/Database cluster state:\s+in production/.test(control) && this.server.running() && accepting()) return;
      if (!this.server.running()) throw new Error(`point-in-time recovery failed:\n${this.server.logTail()}`);
      if (Date.now() > deadline) throw new Error(`point-in-time recovery did not finish within ${timeoutMs / 1000} s:\n${this.server.logTail()}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }

  /**
   * This cluster's data becomes a copy of `source`'s data directory (both servers stopped, so the copy is the
   * source as of its clean shutdown): what physical replication that has caught up at a cutover leaves. Its base
   * backup and archive start afresh (the source's WAL history is not its own); its own archive settings follow.
   */
  copyDataFrom(source: InstanceCluster): void {
    if (this.server.running() || source.server.running()) throw new Error(`copying ${source.dataDir} to ${this.dataDir} needs both servers stopped`);
    if (!source.exists()) throw new Error(`the PostgreSQL data folder ${source.dataDir} is missing`);
    for (const dir of [this.dataDir, this.baseDir, this.archiveDir]) fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(this.archiveDir, { recursive: true });
    ensurePostgresFolder(this.spec.dir);
    runAsPostgres('cp', ['-a', source.dataDir, this.dataDir]);
    this.server.configure(this.archiveSettings());
  }

  /** Sessions start read-only (default_transaction_read_only) or not; a running server takes it at once for new sessions. */
  setReadOnly(on: boolean): void {
    this.server.configure({ default_transaction_read_only: on });
    this.server.reload();
  }

  /** The modification time (wall ms) of the newest archived WAL segment: its WAL was written by then. */
  newestArchivedSegment(): number | undefined {
    if (!fs.existsSync(this.archiveDir)) return undefined;
    let newest: number | undefined;
    for (const name of fs.readdirSync(this.archiveDir)) {
      if (!/^[0-9A-F]{24}$/.test(name)) continue; // whole segments only, not .history or .partial files
      const mtime = fs.statSync(path.join(this.archiveDir, name)).mtimeMs;
      if (newest === undefined || mtime > newest) newest = mtime;
    }
    return newest;
  }

  /**
   * Whether every WAL written so far is archived: the insert position is at the very start of a segment (nothing
   * written in it) and the segment before it is the last one archived. Asked over SQL; undefined when it cannot be.
   */
  async everythingArchived(): Promise<boolean | undefined> {
    const client = new Client({ host: this.spec.host, port: this.spec.port, user: this.spec.user, password: this.spec.password, database: 'postgres', connectionTimeoutMillis: 2000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const { rows } = await client.query<{ covered: boolean }>(
        `SELECT (pg_walfile_name_offset(l)).file_offset = $1 AND a.last_archived_wal = pg_walfile_name(l - ($1 + 1)) AS covered
           FROM pg_current_wal_insert_lsn() AS l, pg_stat_archiver AS a`,
        [SEGMENT_HEADER_BYTES],
      );
      return rows[0]?.covered === true;
    } catch {
      return undefined;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
