/**
 * The real databases behind PostgreSQL-backed instances (seeded with `postgres: true`), as RDS sees them: made at
 * seed, recovered to a point in time on restore, stopped and started with the instance's statuses, and how far
 * back and forward they can be restored. RDS knows them only through this port; the composition
 * (sim/src/rds-postgres.ts) plugs real PostgreSQL clusters into it. Without it, no instance is PostgreSQL-backed.
 */
import { SimError } from '../core/errors';
import type { DbInstance } from './state';

export interface InstanceDatabases {
  /** Throws (with how to install PostgreSQL) when PostgreSQL-backed instances cannot be made here. */
  check(): void;
  /** A seeded instance's cluster: initdb with its master user and password, base backup, running unless stopped. */
  provision(inst: DbInstance, masterUserPassword: string): void;
  /** A restored instance of a PostgreSQL-backed source: its recovery runs when it leaves `creating`. */
  prepareRestore(source: DbInstance, restored: DbInstance, restoreTime: number): void;
  /**
   * A blue/green deployment's green instance of a PostgreSQL-backed source: like a restore, its cluster is recovered
   * from the source's base backup and archived WAL (to the end of the archive) when it leaves `creating`.
   */
  prepareGreen(source: DbInstance, green: DbInstance): void;
  /**
   * A blue/green switchover has renamed the two instances (`newProduction` has the old blue's identifier, endpoint
   * and port; `oldBlue` is `<name>-old1` with the green's port) and ended their write outage: the new production
   * instance's cluster becomes a copy of the blue's data directory as it was when writes stopped, both servers start
   * on their new addresses, and the new production instance gets a base backup of its own.
   */
  switchOver(oldBlue: DbInstance, newProduction: DbInstance): void;
  /** The instance's status changed: start or stop its server (or run its pending recovery). */
  statusChanged(inst: DbInstance): void;
  /**
   * Simulated instants: the end of the base backup (nothing before it can be restored) and how far archived WAL
   * covers. Undefined for instances that are not PostgreSQL-backed.
   */
  restorable(inst: DbInstance): { backupEnd: number; coveredUntil: number } | undefined;
  /** Called at each tick: the simulator's clock may have moved against wall time. */
  observeClock(): void;
  /** After POST /_sim/reset: every server stopped and its data deleted. */
  reset(): void;
}

/**
 * RDS-managed master user secrets (ManageMasterUserPassword), as RDS sees Secrets Manager: the composition
 * (sim/src/simulator.ts) plugs the simulator's Secrets Manager in.
 */
export interface MasterUserSecrets {
  /** Makes (or finds) the instance's secret holding `{"username","password"}`; its ARN and KMS key. */
  create(inst: DbInstance, password: string): { arn: string; kmsKeyId: string };
}

export const NO_MASTER_USER_SECRETS: MasterUserSecrets = {
  create() {
    throw new SimError('InvalidParameterValue', 'manageMasterUserPassword needs the simulator\'s Secrets Manager (sim/src/simulator.ts)', 400);
  },
};

/** A server is up in every status but these (it starts before `available` is shown, and stops as these begin). */
export const DATABASE_DOWN_STATUSES: ReadonlySet<string> = new Set(['creating', 'stopping', 'stopped', 'starting', 'upgrading', 'restore-error', 'failed']);

/** Whether the instance's server runs: not in a down status, and not in a blue/green switchover's write outage. */
export const databaseUp = (inst: DbInstance): boolean => !DATABASE_DOWN_STATUSES.has(inst.status) && !inst.blueGreenSwitchover;

/** The simulator without real databases (an engine built without startSimulator): plain records only. */
export const NO_DATABASES: InstanceDatabases = {
  check() {
    throw new SimError('InvalidParameterValue', 'postgres: true needs the simulator started with startSimulator (sim/src/server.ts), which runs the PostgreSQL servers', 400);
  },
  provision() {
    this.check();
  },
  prepareRestore() {},
  prepareGreen() {},
  switchOver() {},
  statusChanged() {},
  restorable: () => undefined,
  observeClock() {},
  reset() {},
};

/**
 * CreateDBInstance's constraints for RDS for PostgreSQL
 * (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html): MasterUsername "Must be 1
 * to 63 letters or numbers. First character must be a letter."; MasterUserPassword "Must contain from 8 to 128
 * characters", "Can include any printable ASCII character except "/", """, or "@". Can't contain spaces."
 */
export function checkMasterCredentials(username: string, password: string | undefined): string {
  if (!/^[A-Za-z][A-Za-z0-9]{0,62}$/.test(username)) {
    throw new SimError('InvalidParameterValue', `MasterUsername ${username} is not valid: 1 to 63 letters or numbers, the first a letter`);
  }
  if (password === undefined) throw new SimError('InvalidParameterValue', 'postgres: true needs masterUserPassword (the master user\'s password, as CreateDBInstance\'s MasterUserPassword)');
  if (password.length < 8 || password.length > 128 || !/^[\x21-\x7e]+$/.test(password) || /[/"@]/.test(password)) {
    throw new SimError('InvalidParameterValue', 'MasterUserPassword is not valid: 8 to 128 printable ASCII characters, without "/", """, "@" or spaces');
  }
  return password;
}
