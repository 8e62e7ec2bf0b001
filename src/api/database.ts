/**
 * The database itself: how a worker reaches the PostgreSQL of an RDS instance, and the activities that
 * touch data (the runbook's extract: pg_dump of what was lost, put back after a second developer reviews
 * it; the SQL availability probe; the cutover's check that the CNAME leads to the restored database).
 *
 * Credentials are named, never carried: a spec says where the password is (the instance's RDS-managed master
 * secret, another Secrets Manager secret, an environment variable of the workers, or an IAM authentication
 * token), and the activity reads it when it connects. No password crosses this boundary, so none reaches
 * workflow history, logs, status or records.
 */
import type { AwsWhere } from './aws-shapes';

/** Where the password comes from. */
export type DatabaseCredentials =
  /** The instance's RDS-managed master user secret (DescribeDBInstances' MasterUserSecret.SecretArn): `{"username","password"}`. */
  | { kind: 'master-secret' }
  /** A Secrets Manager secret: a JSON object with `password` (and `username`, used unless the access names one), or a plain string. */
  | { kind: 'secret'; secretArn: string }
  /** An environment variable of the workers holding the password (the access names the user). */
  | { kind: 'env'; variable: string }
  /** An IAM database authentication token for `username` (the instance must enable IAM authentication). */
  | { kind: 'iam' };

/** How to reach one database of an instance (resolved: every default written out). */
export interface DatabaseAccess {
  /** The database name (`dbname`), e.g. "notify". */
  database: string;
  /** The user; required for `env` and `iam`; for secrets, the secret's `username` when absent. */
  username?: string;
  credentials: DatabaseCredentials;
  /**
   * `require`: TLS without checking the certificate; `verify-full`: TLS checked against the CA bundle the
   * workers have (RDS_CA_BUNDLE, else Node's roots); `disable`: no TLS (a local simulator's databases).
   */
  tls: 'require' | 'verify-full' | 'disable';
}

/** One instance's database, as an activity is asked to reach it: the endpoint is read from RDS when it connects. */
export interface DatabaseTarget {
  where: AwsWhere;
  instanceId: string;
  access: DatabaseAccess;
  /**
   * For `master-secret`: the instance whose RDS-managed secret is read when this one has none of its own. A
   * point-in-time restore of RDS for PostgreSQL gets no managed secret (RestoreDBInstanceToPointInTime's
   * ManageMasterUserPassword applies to Oracle only) but has its source's master password as of the restore
   * time: the source's secret, unless it was rotated since (then turn on ManageMasterUserPassword on the
   * restored instance, and a retry reads its own).
   */
  masterSecretOf?: string;
}

/** A table named in a spec: `schema.table`, or `table` in `public`. */
export type QualifiedTable = string;

export interface DumpRequest {
  /** The restored instance's database. */
  from: DatabaseTarget;
  /** Folder the dump file is written to (on the worker's machine or a volume every worker mounts). */
  directory: string;
  /** File name inside `directory` (the workflow makes it unique per run, so a retry finds its own file). */
  fileName: string;
  /** pg_dump --table for each (only these); empty: the whole database minus the exclusions. */
  tables: QualifiedTable[];
  /** pg_dump --exclude-schema for each. */
  excludeSchemas: string[];
  /** pg_dump --exclude-table for each. */
  excludeTables: QualifiedTable[];
}

export interface DumpResult {
  /** The file's full path. */
  path: string;
  sizeBytes: number;
  sha256: string;
  /** The pg_dump version that wrote it, as it prints it. */
  pgDumpVersion: string;
  startedAt: string;
  endedAt: string;
  /** false when a retry found the finished file of an earlier attempt and kept it. */
  written: boolean;
}

/** Compare, for the named tables, the restored rows with the original's by primary key. */
export interface RepairCompareRequest {
  restored: DatabaseTarget;
  original: DatabaseTarget;
  tables: QualifiedTable[];
  /** Whether rows present in both but different are to be written back (otherwise they are only counted). */
  updateChanged: boolean;
  /** Folder the full difference is written to, so the write applies exactly what was approved. */
  directory: string;
  /** File name of the difference inside `directory`. */
  fileName: string;
  /** Rows shown per table and kind in the summary. */
  sampleSize: number;
}

export interface RepairTableSummary {
  table: QualifiedTable;
  primaryKey: string[];
  /** Rows of the restored instance that the original lacks (they will be inserted). */
  missing: number;
  /** Rows in both whose values differ (updated only when updateChanged). */
  changed: number;
  /** Up to sampleSize primary keys of each kind, as `col=value, ...`. */
  sampleMissing: string[];
  sampleChanged: string[];
}

export interface RepairSummary {
  tables: RepairTableSummary[];
  updateChanged: boolean;
  /** The difference file: what the write applies, checked by its digest. */
  path: string;
  sha256: string;
  comparedAt: string;
}

export interface RepairWriteRequest {
  original: DatabaseTarget;
  /** The approved summary: the write applies its file and refuses one whose digest differs. */
  summary: RepairSummary;
  /** Unique per run: recorded in the original database with the counts, in the same transaction, so a retry writes nothing twice. */
  repairId: string;
}

export interface RepairWriteResult {
  /** Rows written per table. */
  tables: { table: QualifiedTable; inserted: number; updated: number; skipped: number }[];
  /** false when a retry found the repair already committed (the counts are those recorded then). */
  written: boolean;
  committedAt: string;
}

/** The SQL availability probe: `SELECT 1` at a fixed low rate, measured like the HTTP probe. */
export interface SqlProbeRequest {
  target: DatabaseTarget;
  ratePerSecond: number;
  requestTimeoutMs: number;
  stopWhen: { region: AwsWhere; instanceId: string; engineVersion: string; settleSeconds: number };
  maxDurationSeconds: number;
}

/** What a database says it is: the cutover checks that the CNAME leads to the restored one. */
export interface DatabaseIdentity {
  /**
   * pg_control_system().system_identifier: set by initdb and kept by every physical copy, so a point-in-time
   * restore has its source's: it tells the restored lineage from an unrelated database, not from its source.
   */
  systemIdentifier: string;
  serverVersion: string;
  /** inet_server_addr() and port, as the server saw the connection. */
  address?: string;
}

export interface DatabaseIdentityRequest {
  /** Connect to this host (a DNS name such as the cutover's CNAME) instead of the instance's endpoint. */
  host?: string;
  port?: number;
  /**
   * Resolve `host` through these DNS servers ("10.0.0.2" or "10.0.0.2:53"), CNAMEs followed to an address, as
   * the applications' resolver does (a private zone's VPC resolver); default: the worker's own resolver.
   */
  resolvers?: string[];
  target: DatabaseTarget;
}

/**
 * How a spec names a database (resolved into DatabaseAccess by the client):
 * `{ name: notify, password: master-secret }`, `{ name: notify, user: app, password: { secretArn: arn:… } }`,
 * `{ name: notify, user: app, password: { env: NOTIFY_DB_PASSWORD } }`, `{ name: notify, user: app, password: iam }`.
 */
export interface DatabaseAccessSpec {
  name: string;
  user?: string;
  password: 'master-secret' | 'iam' | { secretArn: string } | { env: string };
  /** Default `require`. */
  tls?: DatabaseAccess['tls'];
}
