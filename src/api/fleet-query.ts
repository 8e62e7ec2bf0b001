/**
 * What a fleet stage asks of one region and account (FleetQuery) and what it finds (FleetFound): the
 * findFleet activity's side of the contract (./activities.ts).
 */
import type { CallerIdentity, PendingMaintenanceAction, UpgradeTarget } from './aws-shapes';

/** One instance a fleet stage found: what the plan and the waves need, kept small (a fleet is hundreds). */
export interface FleetMember {
  region: string;
  instanceId: string;
  engine: string;
  engineVersion: string;
  status: string;
  /** `ddd:hh24:mi-ddd:hh24:mi`, UTC */
  preferredMaintenanceWindow: string;
  autoMinorVersionUpgrade: boolean;
  instanceClass: string;
  allocatedStorage?: number;
  /** Only the tags the query asked to keep (`keepTags`), not the whole TagList. */
  tags: Record<string, string>;
  /** What DescribePendingMaintenanceActions lists for it. */
  pending: PendingMaintenanceAction[];
  /** Its read replicas as RDS lists them (identifier, or ARN across regions); upgraded before it. */
  readReplicaIds?: string[];
  /** Set when it is itself a read replica: its source (identifier, or ARN across regions). */
  replicaSourceId?: string;
}

/** Which instances of one region and account a fleet stage takes (all of what is given must match). */
export interface FleetQuery {
  /** Exactly these (listed instances); each one not found is reported in `missing`. */
  instanceIds?: string[];
  tags?: Record<string, string>;
  engine: string;
  engineVersion?: string;
  /** Tag keys to return in each member's `tags` (those of the selection and of the order). */
  keepTags?: string[];
}

export interface FleetFound {
  members: FleetMember[];
  /** Listed instances that do not exist there. */
  missing: string[];
  /** Instances the tags matched but that are left out, and why (another engine, another current version). */
  excluded: { instanceId: string; reason: string }[];
}

/** What one place of a fleet stage holds (readFleetPlace): its account, its instances, their versions' upgrade targets. */
export interface FleetPlaceFound extends FleetFound {
  /** The role's account and ARN (STS GetCallerIdentity), when the search asked for it. */
  identity?: CallerIdentity;
  /** For each engine and version found that is not the target: its valid upgrade targets (DescribeDBEngineVersions). */
  targets: { engine: string; engineVersion: string; targets: UpgradeTarget[] }[];
}
