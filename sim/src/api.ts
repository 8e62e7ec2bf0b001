/**
 * The simulator's admin API types (JSON on /_sim/*), shared by the server, the admin client and tests: each
 * service's part of the seed spec and of its answer, and the engine's faults and call log.
 */
import type { CallRecord as EngineCallRecord } from './core/call-log';
import type { Ec2SeedResult, Ec2SeedSpec } from './ec2/seed';
import type { RdsSeedResult, RdsSeedSpec } from './rds/seed';
import type { Route53SeedResult, Route53SeedSpec } from './route53/seed';
import type { StsSeedResult, StsSeedSpec } from './sts/seed';

export type { CallDetails, CallFilter } from './core/call-log';
export type { FaultSpec, FaultState } from './core/faults';
export type { SeedSecurityGroup, SeedVpc } from './ec2/seed';
export type { SeedDbParameterGroup, SeedDbSubnetGroup, SeedInstance } from './rds/seed';
export type { AppStatus } from './rds/service';
export type { BlueGreenFaultResult, BlueGreenFaultSpec } from './rds/blue-green-faults';
export type { BlueGreenFault, GuardrailCheck } from './rds/state';
export type { SeedHostedZone, SeedRecord } from './route53/seed';
export type { SeedIdentity, SeedRole } from './sts/seed';

/** The services whose calls are in the call log. */
export type ServiceName = 'rds' | 'route53' | 'ec2' | 'sts' | 'cloudtrail' | 'statuspage' | 'pagerduty';

export type CallRecord = EngineCallRecord<ServiceName>;

export interface SeedSpec extends StsSeedSpec, Ec2SeedSpec, RdsSeedSpec, Route53SeedSpec {
  /** Secrets Manager secrets: `{ name, secretString, account?, region? }` (ARN `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 random>`). */ secrets?: import('./secretsmanager/seed').SeedSecret[];
  /** Clear everything first (default false: the seed is added to what exists). */
  reset?: boolean;
}

export type SeedResult = RdsSeedResult & Route53SeedResult & Ec2SeedResult & StsSeedResult;
