/**
 * The simulator's PostgreSQL clusters, one per PostgreSQL-backed instance, under one root folder
 * (`<state file>.postgres/`, or a temporary folder deleted at close when the simulator keeps its state in memory).
 * It starts and stops the servers, takes base backups, runs point-in-time recoveries and keeps a cached reading of
 * how far each cluster's archived WAL reaches, refreshed in the background so that describing an instance never
 * waits on SQL. Every server it started is stopped at close(), and at process exit if close() was never reached.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InstanceCluster } from './cluster';
import type { ClusterSpec } from './cluster';
import { requirePostgresBinDir } from './server';

export interface FleetClusterSpec extends Omit<ClusterSpec, 'dir'> {
  /** Where the cluster lives under the root: path segments (e.g. account, region, instance id). */
  key: string[];
}

interface Coverage {
  /** Wall ms of the last reading that found every written WAL archived. */
  allArchivedAt?: number;
  /** Wall ms of the newest archived segment. */
  newestSegment?: number;
}

export class PostgresFleet {
  private readonly clusters = new Map<string, InstanceCluster>();
  private readonly coverage = new Map<string, Coverage>();
  private readonly started = new Set<InstanceCluster>();
  private bin?: string;
  private refreshing = false;
  private readonly onExit = (): void => void this.stopAllNow('immediate');
  private exitHooked = false;

  /** `temporary`: the root is deleted at close (a simulator without a state file). */
  constructor(
    readonly root: string,
    private readonly temporary: boolean,
  ) {}

  /** `<state file>.postgres`, or a new temporary folder. */
  static forStateFile(stateFile: string | undefined): PostgresFleet {
    if (stateFile) return new PostgresFleet(`${path.resolve(stateFile)}.postgres`, false);
    return new PostgresFleet(path.join(os.tmpdir(), `rds-sim-postgres-${process.pid}-${Math.random().toString(36).slice(2, 8)}`), true);
  }

  private binDir(): string {
    this.bin ??= requirePostgresBinDir();
    return this.bin;
  }

  /** The cluster object of a spec (its folder need not exist yet). */
  cluster(spec: FleetClusterSpec): InstanceCluster {
    const name = spec.key.join('/');
    let cluster = this.clusters.get(name);
    if (!cluster || cluster.spec.port !== spec.port || cluster.spec.host !== spec.host) {
      // The root and the folders above an instance's must be traversable by the postgres user.
      fs.mkdirSync(this.root, { recursive: true, mode: 0o755 });
      let dir = this.root;
      for (const part of spec.key.slice(0, -1)) {
        dir = path.join(dir, part);
        fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
      }
      cluster = new InstanceCluster(this.binDir(), { dir: path.join(this.root, ...spec.key), host: spec.host, port: spec.port, user: spec.user, password: spec.password });
      this.clusters.set(name, cluster);
    }
    return cluster;
  }

  /** A new cluster: initdb, start, base backup; stopped again unless `running`. Returns the backup's end (wall ms). */
  create(spec: FleetClusterSpec, running: boolean): number {
    const cluster = this.cluster(spec);
    cluster.create();
    this.start(spec);
    const backupEnd = cluster.takeBaseBackup();
    this.coverage.set(spec.key.join('/'), { allArchivedAt: backupEnd });
    if (!running) this.stop(spec);
    return backupEnd;
  }

  /** Point-in-time recovery of `source` into a new cluster, then its own base backup. Returns the backup's end (wall ms). */
  restore(spec: FleetClusterSpec, source: FleetClusterSpec, targetReal: number | undefined): number {
    const cluster = this.cluster(spec);
    this.started.add(cluster);
    this.hookExit();
    cluster.recoverFrom(this.cluster(source), targetReal);
    const backupEnd = cluster.takeBaseBackup();
    this.coverage.set(spec.key.join('/'), { allArchivedAt: backupEnd });
    return backupEnd;
  }

  /** `target`'s cluster becomes a copy of `source`'s data directory (both stopped); see InstanceCluster.copyDataFrom. */
  copyData(target: FleetClusterSpec, source: FleetClusterSpec): void {
    this.cluster(target).copyDataFrom(this.cluster(source));
    this.coverage.delete(target.key.join('/'));
  }

  /** Sessions of the cluster start read-only, or not (default_transaction_read_only). */
  readOnly(spec: FleetClusterSpec, on: boolean): void {
    this.cluster(spec).setReadOnly(on);
  }

  /** A new base backup of a running cluster (its earliest restorable point from now on). Returns its end (wall ms). */
  baseBackup(spec: FleetClusterSpec): number {
    const backupEnd = this.cluster(spec).takeBaseBackup();
    this.coverage.set(spec.key.join('/'), { allArchivedAt: backupEnd });
    return backupEnd;
  }

  start(spec: FleetClusterSpec): void {
    const cluster = this.cluster(spec);
    if (!cluster.exists()) throw new Error(`the PostgreSQL data folder ${cluster.dataDir} is missing`);
    this.started.add(cluster);
    this.hookExit();
    if (!cluster.server.running()) cluster.server.start();
  }

  /** A server left running by a test that never reached close() is stopped as the process exits. */
  private hookExit(): void {
    if (this.exitHooked) return;
    this.exitHooked = true;
    process.on('exit', this.onExit);
  }

  /** pg_ctl stop -m fast: every session ends at once, as when RDS stops an instance. */
  stop(spec: FleetClusterSpec): void {
    this.cluster(spec).server.stop('fast');
  }

  running(spec: FleetClusterSpec): boolean {
    return this.cluster(spec).server.running();
  }

  /** Wall ms up to which archived WAL (or the base backup) covers the cluster's writes, from the cached readings. */
  coveredUntil(spec: FleetClusterSpec): number | undefined {
    const c = this.coverage.get(spec.key.join('/'));
    const times = [c?.allArchivedAt, c?.newestSegment].filter((t): t is number => t !== undefined);
    return times.length ? Math.max(...times) : undefined;
  }

  /** Refreshes the readings of the running clusters (the simulator's background tick). */
  async refresh(specs: FleetClusterSpec[]): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      for (const spec of specs) {
        const cluster = this.cluster(spec);
        const name = spec.key.join('/');
        const c = this.coverage.get(name) ?? {};
        c.newestSegment = cluster.newestArchivedSegment() ?? c.newestSegment;
        if (cluster.server.running()) {
          const askedAt = Date.now();
          if ((await cluster.everythingArchived()) === true) c.allArchivedAt = askedAt;
        }
        this.coverage.set(name, c);
      }
    } finally {
      this.refreshing = false;
    }
  }

  /** Stops every server started here, each on its own (one failing does not keep the others running). */
  private stopAllNow(mode: 'fast' | 'immediate'): Error[] {
    const errors: Error[] = [];
    for (const cluster of this.started) {
      try {
        cluster.server.stop(mode);
      } catch (err) {
        try {
          cluster.server.stop('immediate');
        } catch {
          errors.push(err as Error);
        }
      }
    }
    return errors;
  }

  /** POST /_sim/reset: every server stopped and every cluster folder deleted. */
  reset(): void {
    this.stopAllNow('immediate');
    this.started.clear();
    this.clusters.clear();
    this.coverage.clear();
    fs.rmSync(this.root, { recursive: true, force: true });
  }

  /** Stops every server started here; deletes the root when it is temporary. */
  close(): void {
    const errors = this.stopAllNow('fast');
    process.removeListener('exit', this.onExit);
    this.exitHooked = false;
    this.started.clear();
    if (this.temporary) fs.rmSync(this.root, { recursive: true, force: true });
    if (errors.length) throw new Error(`could not stop PostgreSQL: ${errors.map((e) => e.message).join('; ')}`);
  }
}
