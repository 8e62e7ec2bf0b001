/**
 * The restore-then-cutover contract: the spec people write, the resolved spec the workflow runs, and its
 * status.
 */
import type { DatabaseAccess, DatabaseAccessSpec, RepairTableSummary } from './database';
import type { AllowedSignersFile, AwsAccessSpec, DurationSpec, OperatedStatus, ResolvedAwsAccess, SignedStart } from './common';

export interface RestoreSpec {
  /** Default: `restore-<targetInstanceId>` */
  restoreId?: string;
  requester: string;
  /**
   * Who may act on this run, in git's allowed-signers format: the file's text inline, or `{ file }` (read by
   * the CLI next to the spec file). With the workers' list (ORCHESTRATOR_ALLOWED_SIGNERS) too, a signature must
   * satisfy both: the spec narrows the team's list, it never widens it.
   */
  allowedSigners?: string | { file: string } | AllowedSignersFile;
  /** `aws`: the source's account (the restored instance and its security group live there too). */
  source: { region: string; instanceId: string; aws?: AwsAccessSpec };
  targetInstanceId: string;
  /** ISO instant, or "latest" for the latest restorable time. */
  restoreTime: string;
  /**
   * Copy class, subnet group, parameter group, security groups, Multi-AZ, storage (type, IOPS, gp3 throughput, the
   * autoscaling ceiling), IAM authentication, tags and CopyTagsToSnapshot, the AutoMinorVersionUpgrade flag, and its own
   * option group, CA certificate, CloudWatch log exports, network type, Extended Support choice and dedicated log volume
   * (default true).
   * PubliclyAccessible follows the source either way. A bastion or a cutover needs it.
   */
  copySourceSettings?: boolean;
  /**
   * Allow access from the bastion's security group on the DB port. The rule goes on a security group
   * created for the restored instance (in the source's VPC) and attached to it; no group the source
   * uses is changed. Needs copySourceSettings (the restored instance lives in the source's VPC).
   */
  /** `aws`: the bastion group's account, when another (the rule then names the group with its owner). */
  bastion?: { securityGroupId: string; port?: number; aws?: AwsAccessSpec };
  /** Without cutover the workflow ends once the restored instance is available (the common case). */
  cutover?: {
    hostedZoneId: string;
    recordName: string;
    setIdentifier: string;
    weight?: number;
    ttlSeconds?: number;
    /** Lower the record's TTL to this many seconds before asking for approval. */
    lowerTtlFirstTo?: number;
    approvers?: string[];
    /** How often people are reminded while the cutover waits for their approval or decision (default 24h, at least 1m). */
    reminderInterval?: DurationSpec;
    /** The hosted zone's account, when another than the worker's. */
    aws?: AwsAccessSpec;
    /**
     * Where the worker can reach the database: the verification then also connects through the CNAME and checks
     * that it reaches the restored instance's server, not only that DNS answers.
     */
    database?: DatabaseAccessSpec;
    /**
     * DNS resolvers ("10.0.0.2" or "10.0.0.2:53") the worker can reach that resolve the zone as the
     * applications do: for a private zone, the VPC's resolver (VPC CIDR base + 2) or one forwarding to it.
     * When given, the cutover is verified by a real lookup there as well.
     */
    resolvers?: string[];
  };
  /**
   * The common ending (runbook: "In most cases you should be able to use pg_dump to extract the data you
   * need from the restored database to restore to the original database"): dump from the restored instance,
   * and optionally write the lost rows back into the original after a second person approved exactly what
   * is written. A restore takes `extract` or `cutover`, not both.
   */
  extract?: ExtractSpec;
  pollInterval?: DurationSpec;
}

export interface ExtractSpec {
  /** The database on both instances (the restored one has the source's users and passwords as of the restore time). */
  database: DatabaseAccessSpec;
  /** Folder the dump and the repair's difference are written to: on the worker, or a volume every worker mounts. */
  directory: string;
  /** `pg_dump -Fc` of the restored instance: only `tables` when given, less the exclusions. */
  dump?: { tables?: string[]; excludeSchemas?: string[]; excludeTables?: string[] };
  /** Write the restored rows the original lacks back into it, after an approval (not by the requester). */
  repair?: {
    tables: string[];
    /** Also overwrite rows present in both that differ (default false: only counted and shown). */
    updateChanged?: boolean;
    /** Who may approve (default: anyone but the requester). */
    approvers?: string[];
    /** Rows shown per table in the approval (default 5). */
    sampleSize?: number;
    /** How often people are reminded while the repair waits for approval (default 24h, at least 1m). */
    reminderInterval?: DurationSpec;
  };
}

export type RestoreState =
  | 'validating'
  | 'restoring'
  | 'extracting'
  | 'waiting-for-approval'
  | 'cutting-over'
  | 'waiting-for-decision'
  | 'rolling-back'
  | 'completed'
  | 'rolled-back'
  | 'aborted'
  | 'failed';

export interface RestoreStatus extends OperatedStatus<RestoreState> {
  restoreId: string;
  requester: string;
  source: { region: string; instanceId: string; endpoint?: string; account?: string; role?: string };
  target: {
    instanceId: string;
    endpoint?: string;
    restoreTime: string;
    /** The security group created for the restored instance (bastion access), when a bastion is given. */
    securityGroupId?: string;
  };
  /** The DNS switch, once the cutover is prepared. */
  cutover?: {
    recordName: string;
    /** private zones cannot be checked with TestDNSAnswer; they are verified by INSYNC, the record and `resolvers`. */
    zone: 'private' | 'public';
    /** When the CNAME change to the restored instance was sent: writes may reach it from then on. */
    switchedAt?: string;
    /** The zone's account and the role assumed for it, when another than the worker's. */
    account?: string;
    role?: string;
    /** What the verification checked, one line each. */
    verified?: string[];
  };
  /** The extract, once it starts: the dump, and the repair's difference, approval and rows written. */
  extract?: {
    database: string;
    dump?: { path: string; sizeBytes: number; sha256: string; startedAt: string; endedAt: string };
    repair?: {
      tables: RepairTableSummary[];
      updateChanged: boolean;
      /** The difference the approval covers and the write applies. */
      path: string;
      sha256: string;
      comparedAt: string;
      /** Rows written per table, once committed. */
      written?: { table: string; inserted: number; updated: number; skipped: number }[];
      committedAt?: string;
    };
  };
  rollback?: {
    reason: string;
    steps: string[];
    /** A rollback after the switch: the writes the applications made to the restored instance in this span stay there. */
    stranded?: { instanceId: string; from: string; to: string };
  };
}

/** Marks a spec resolved by the client; see RESOLVED_CAMPAIGN_SPEC. */
export const RESOLVED_RESTORE_SPEC = 'rds-orchestrator/resolved-restore-spec/v1';

export interface ResolvedRestoreSpec {
  format: typeof RESOLVED_RESTORE_SPEC;
  restoreId: string;
  requester: string;
  source: { region: string; instanceId: string; aws?: ResolvedAwsAccess };
  targetInstanceId: string;
  restoreTime: 'latest' | string;
  copySourceSettings: boolean;
  bastion?: { securityGroupId: string; port: number; aws?: ResolvedAwsAccess };
  cutover?: {
    hostedZoneId: string;
    recordName: string;
    setIdentifier: string;
    weight: number;
    ttlSeconds: number;
    lowerTtlFirstTo?: number;
    approvers: string[];
    /** Absent only in the input of runs started before it was resolved (they remind every 24h). */
    reminderIntervalMs?: number;
    aws?: ResolvedAwsAccess;
    /** ip or ip:port of resolvers that resolve the zone as the applications do (may be empty). */
    resolvers: string[];
    database?: DatabaseAccess;
  };
  extract?: ResolvedExtract;
  pollIntervalMs: number;
  /** The run's own allowed signers (spec.allowedSigners), as read when it was resolved. */
  allowedSigners?: AllowedSignersFile;
  /** The requester's signature over this spec (every field but this one), when identities are verified. */
  signedStart?: SignedStart;
}

export interface ResolvedExtract {
  database: DatabaseAccess;
  directory: string;
  dump?: { tables: string[]; excludeSchemas: string[]; excludeTables: string[] };
  repair?: { tables: string[]; updateChanged: boolean; approvers: string[]; sampleSize: number; reminderIntervalMs: number };
}

/** What `restoreAndCutover` accepts: a resolved spec, or (runs started before) a raw one. */
export type RestoreInput = ResolvedRestoreSpec | RestoreSpec;
