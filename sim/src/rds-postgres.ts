/**
 * Real PostgreSQL behind the simulator's PostgreSQL-backed RDS instances: RDS's port for them
 * (sim/src/rds/databases.ts) over the clusters of sim/src/postgres. The servers follow the instances' statuses;
 * describe calls read a cached reading of the archived WAL, refreshed every second by a background tick (which
 * also brings the simulator up to now, so a server starts or stops when its status says, even when nobody asks).
 *
 * Simulated instants and PostgreSQL's wall-clock times are converted by SimRealTimeMap (sim/src/postgres/time-map.ts):
 * RestoreTime → recovery_target_time with toReal, archived WAL and backup times → LatestRestorableTime and the
 * earliest restorable time with toSim. The clusters live in `<state file>.postgres/<account>/<region>/<instance id>/`
 * (a temporary folder, deleted at close, when the state is in memory); its `time-map.json` keeps the map.
 *
 * Each instance's server listens on a loopback address of its own (127.0.0.2, 127.0.0.3, …; Linux routes all of
 * 127.0.0.0/8 to lo), the one the DNS server answers for its endpoint name, and on a port no other instance has: so
 * a client that reaches an instance through a name that leads elsewhere (a CNAME still pointing at the old
 * instance) fails to connect or meets the other server, as in AWS, where each endpoint name resolves to its own
 * instance's address. The addresses come from a counter kept in the RDS state (`postgresHostsGiven`), so a restart
 * with the state file gives no address twice.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FleetClusterSpec } from './postgres/fleet';
import { PostgresFleet } from './postgres/fleet';
import { freePortSync, requirePostgresBinDir } from './postgres/server';
import { SimRealTimeMap } from './postgres/time-map';
import type { InstanceDatabases } from './rds/databases';
import { DATABASE_DOWN_STATUSES, databaseUp } from './rds/databases';
import type { DbInstance, RdsState } from './rds/state';
import type { Simulator } from './simulator';

const REFRESH_MS = 1000;
/** Loopback addresses given: the n-th is 127.a.b.c with n + 1 = a·2¹⁶ + b·2⁸ + c (from 127.0.0.2 on). */
const LOOPBACK_SPAN = 0xfffffe - 1;

/** The n-th loopback address given (n ≥ 1), or undefined for one ending in .0 or .255, which are skipped. */
function loopbackAddress(n: number): string | undefined {
  const x = n + 1;
  const [a, b, c] = [(x >> 16) & 0xff, (x >> 8) & 0xff, x & 0xff];
  return c === 0 || c === 255 ? undefined : `127.${a}.${b}.${c}`;
}

/**
 * Where a PostgreSQL-backed instance's server listens (`sim.engine.rds.get(account, region, id)`): its own loopback
 * address (what its endpoint name resolves to in the simulator's DNS) and `Endpoint.Port`.
 */
export function postgresAddress(inst: Pick<DbInstance, 'id' | 'endpoint' | 'postgres'>): { host: string; port: number } {
  if (!inst.postgres?.host) throw new Error(`${inst.id} is not PostgreSQL-backed (seed it with postgres: true)`);
  return { host: inst.postgres.host, port: inst.endpoint.port };
}

export class PostgresBackedInstances implements InstanceDatabases {
  private fleet?: PostgresFleet;
  private map?: SimRealTimeMap;
  private timer?: NodeJS.Timeout;

  constructor(private readonly engine: Simulator) {}

  private parts(): { fleet: PostgresFleet; map: SimRealTimeMap } {
    this.fleet ??= PostgresFleet.forStateFile(this.engine.stateFile);
    fs.mkdirSync(this.fleet.root, { recursive: true, mode: 0o755 });
    this.map ??= new SimRealTimeMap(() => this.engine.now(), path.join(this.fleet.root, 'time-map.json'));
    return { fleet: this.fleet, map: this.map };
  }

  private backed(): DbInstance[] {
    return Object.values((this.engine.state as unknown as RdsState).instances).filter((i) => i.postgres);
  }

  private spec(inst: DbInstance): FleetClusterSpec {
    return { key: [inst.account, inst.region, inst.postgres?.folder ?? inst.id], host: (inst.postgres as { host: string }).host, port: inst.endpoint.port, user: inst.masterUsername, password: (inst.postgres as { masterUserPassword: string }).masterUserPassword };
  }

  check(): void {
    requirePostgresBinDir();
  }

  /** The next loopback address no live instance has, counted in the state. */
  private giveHost(): string {
    const rds = this.engine.state as unknown as RdsState;
    const taken = new Set(this.backed().map((i) => i.postgres?.host));
    for (let tries = 0; tries < LOOPBACK_SPAN; tries++) {
      rds.postgresHostsGiven = ((rds.postgresHostsGiven ?? 0) % LOOPBACK_SPAN) + 1;
      const host = loopbackAddress(rds.postgresHostsGiven);
      if (host && !taken.has(host)) {
        this.engine.markDirty();
        return host;
      }
    }
    throw new Error('every loopback address is taken');
  }

  /** An address and a port of its own: free on that address (and on 127.0.0.1), and no other instance's port. */
  private giveAddress(inst: DbInstance): string {
    const host = this.giveHost();
    inst.endpoint.port = freePortSync(host, new Set(this.backed().filter((i) => i !== inst).map((i) => i.endpoint.port)));
    return host;
  }

  provision(inst: DbInstance, masterUserPassword: string): void {
    const { fleet, map } = this.parts();
    inst.postgres = { masterUserPassword, host: this.giveAddress(inst) };
    const backupEnd = fleet.create(this.spec(inst), !DATABASE_DOWN_STATUSES.has(inst.status));
    inst.postgres.backupEnd = map.toSim(backupEnd);
    this.engine.markDirty();
    this.startTimer();
  }

  prepareRestore(source: DbInstance, restored: DbInstance, restoreTime: number): void {
    restored.postgres = {
      masterUserPassword: (source.postgres as { masterUserPassword: string }).masterUserPassword,
      host: this.giveAddress(restored),
      recovery: { source: { account: source.account, region: source.region, id: source.id }, restoreTime },
    };
    this.startTimer();
  }

  prepareGreen(source: DbInstance, green: DbInstance): void {
    green.postgres = {
      masterUserPassword: (source.postgres as { masterUserPassword: string }).masterUserPassword,
      host: this.giveAddress(green),
      recovery: { source: { account: source.account, region: source.region, id: source.id } },
    };
    this.startTimer();
  }

  /**
   * Physical replication at the cutover, simply: both servers have been stopped since the switchover began (the
   * write outage), so the blue's data directory is final. The new production instance's cluster becomes a copy of
   * it and takes over the blue's loopback address (its port came with the endpoint), `-old1` keeps its own cluster
   * and takes the green's address; both start, and the new production instance takes a base backup of its own.
   */
  switchOver(oldBlue: DbInstance, newProduction: DbInstance): void {
    if (!oldBlue.postgres || !newProduction.postgres) return;
    const { fleet, map } = this.parts();
    for (const inst of [oldBlue, newProduction]) fleet.stop(this.spec(inst));
    fleet.copyData(this.spec(newProduction), this.spec(oldBlue));
    [oldBlue.postgres.host, newProduction.postgres.host] = [newProduction.postgres.host, oldBlue.postgres.host];
    // "After switchover, the previous production primary DB instance only allows read operations until it is
    // rebooted" (User Guide, "Switching a blue/green deployment"); the new production instance takes writes.
    fleet.readOnly(this.spec(oldBlue), true);
    fleet.readOnly(this.spec(newProduction), false);
    this.statusChanged(oldBlue);
    this.statusChanged(newProduction);
    if (fleet.running(this.spec(newProduction))) newProduction.postgres.backupEnd = map.toSim(fleet.baseBackup(this.spec(newProduction)));
    this.engine.markDirty();
  }

  statusChanged(inst: DbInstance): void {
    if (!inst.postgres) return;
    const { fleet, map } = this.parts();
    const up = databaseUp(inst);
    const recovery = inst.postgres.recovery;
    if (recovery) {
      if (!up) return;
      const source = this.engine.rds.find(recovery.source.account, recovery.source.region, recovery.source.id);
      try {
        if (!source?.postgres) throw new Error(`its source ${recovery.source.id} is gone`);
        const target = recovery.restoreTime === undefined ? undefined : map.toReal(recovery.restoreTime);
        const backupEnd = fleet.restore(this.spec(inst), this.spec(source), target);
        // A green instance: "After you create the blue/green deployment, the DB instance in the green environment is
        // read-only by default" (User Guide, blue/green deployments overview).
        if (recovery.restoreTime === undefined) fleet.readOnly(this.spec(inst), true);
        inst.postgres.backupEnd = map.toSim(backupEnd);
        inst.postgres.recovery = undefined;
      } catch (err) {
        // RDS's status for "an error attempting to restore to a point-in-time"
        // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/accessing-monitoring.html#Overview.DBInstance.Status).
        console.error(`[simulator] point-in-time recovery of ${inst.id} failed: ${(err as Error).message}`);
        inst.op = undefined;
        inst.status = 'restore-error';
      }
      this.engine.markDirty();
      return;
    }
    const spec = this.spec(inst);
    if (up && !fleet.running(spec)) fleet.start(spec);
    else if (!up && fleet.running(spec)) fleet.stop(spec);
  }

  restorable(inst: DbInstance): { backupEnd: number; coveredUntil: number } | undefined {
    const backupEnd = inst.postgres?.backupEnd;
    if (backupEnd === undefined) return undefined;
    const { fleet, map } = this.parts();
    const covered = fleet.coveredUntil(this.spec(inst));
    return { backupEnd, coveredUntil: covered === undefined ? backupEnd : map.toSim(covered) };
  }

  observeClock(): void {
    this.map?.observe();
  }

  reset(): void {
    this.stopTimer();
    this.fleet?.reset();
    this.fleet = undefined;
    this.map = undefined;
  }

  /** At start: the servers of the instances that were running when the state file was written. */
  resume(): void {
    const backed = this.backed();
    if (backed.length === 0) return;
    // A state file written before instances had addresses of their own: each gets one now.
    for (const inst of backed) if (inst.postgres && !inst.postgres.host) inst.postgres.host = this.giveHost();
    this.engine.tick();
    for (const inst of backed) this.statusChanged(inst);
    this.engine.persistIfDirty();
    this.startTimer();
  }

  /** The address of a PostgreSQL-backed instance's endpoint name (for the DNS server): its own, if it is one. */
  hostAddress(name: string): string | undefined {
    const wanted = name.toLowerCase().replace(/\.$/, '');
    return this.backed().find((i) => i.endpoint.address.toLowerCase() === wanted)?.postgres?.host;
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      try {
        this.engine.tick();
        this.engine.persistIfDirty();
      } catch (err) {
        console.error('[simulator] tick failed', err);
      }
      const running = this.backed().filter((i) => !i.postgres?.recovery && databaseUp(i));
      this.fleet?.refresh(running.map((i) => this.spec(i))).catch((err: unknown) => console.error('[simulator] PostgreSQL reading failed', err));
    }, REFRESH_MS);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops every server started here (and deletes a temporary root). */
  close(): void {
    this.stopTimer();
    this.fleet?.close();
  }
}
