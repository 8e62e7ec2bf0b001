/**
 * method blue-green's part of the campaign's contract: what a spec says of the deployment, what the workflow
 * runs with (defaults written out), and what status reports of it.
 */
import type { DurationSpec } from './common';

/** `method: blue-green`: the RDS Blue/Green deployment a stage creates for each of its instances. */
export interface BlueGreenSpec {
  /** SwitchoverTimeout: AWS rolls the switchover back when it takes longer (default 5m, AWS's minimum 30s). */
  switchoverTimeout?: DurationSpec;
  /**
   * TargetDBParameterGroupName for the green copy. Default: the source's own group when it is a custom one (a
   * minor upgrade keeps the family), none when it uses a default group (RDS picks the target's default).
   */
  targetParameterGroup?: string;
  /** How long the green copy may take to become AVAILABLE before the team is asked (default 24h). */
  provisioningTimeout?: DurationSpec;
  /**
   * When to switch over in a stage that needs no approval: in its next maintenance window (default) or as
   * soon as the green is AVAILABLE ("now", e.g. staging measuring the switchover's downtime).
   */
  switchover?: 'window' | 'now';
}

export interface ResolvedBlueGreen {
  switchoverTimeoutSeconds: number;
  targetParameterGroup?: string;
  provisioningTimeoutMs: number;
  switchover: 'window' | 'now';
}

/** A stage's (or a fleet instance's) Blue/Green deployment as the campaign last read it. */
export interface BlueGreenReport {
  deploymentId: string;
  name: string;
  arn?: string;
  /** The green copy's identifier before the switchover (`<instance>-green-xxxxxx`). */
  greenInstanceId?: string;
  /** The old blue's identifier after the switchover (`<instance>-old1`). */
  oldInstanceId?: string;
  status: string;
  statusDetails?: string;
  /** AWS's tasks ("CREATING_READ_REPLICA_OF_SOURCE COMPLETED", …) and switchover members, as listed. */
  tasks?: string[];
  switchover?: string[];
  createdAt?: string;
  switchoverStartedAt?: string;
  switchoverEndedAt?: string;
  /** Switchovers AWS rolled back (each one asked the team). */
  rolledBack?: number;
  /** The team decided to switch over again after a failed switchover (SWITCHOVER_FAILED); consumed by the next switchover. */
  retryDecided?: boolean;
}
