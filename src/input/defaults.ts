/**
 * The runbook's numbers and texts ("Upgrading our Postgres minor version"): 14 days' notice for production,
 * a pending-maintenance check a few days before, a team decision over a minute of downtime. Used when a
 * spec is resolved at the client; a running workflow never reads them again (its input has them written out).
 */
import { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS } from '../domain/duration';


/** "It should be at least 2 weeks in the future so we can give our users at least 2 weeks notice." */
export const PRODUCTION_NOTICE_MS = 14 * DAY_MS;
/** "A few days before the expected day of the production upgrade, check ... pending maintenance." */
export const DEFAULT_PRECHECK_BEFORE_MS = 3 * DAY_MS;
export const DEFAULT_GRACE_MS = HOUR_MS;
export const DEFAULT_MAX_MISSED_WINDOWS = 2;
/** "We expect there to be less than a minute for minor upgrades. If there is more, then discuss with the team." */
/** Each reminder adds about a dozen history events; faster than a minute would flood both people and history. */
export const MIN_REMINDER_INTERVAL_MS = MINUTE_MS;
export const DEFAULT_DOWNTIME_THRESHOLD_MS = 60 * SECOND_MS;
export const DEFAULT_PROBE = { ratePerSecond: 2, requestTimeoutMs: 2_000, settleMs: 30 * SECOND_MS, maxDurationMs: 2 * HOUR_MS };
export const MAX_PROBE_RATE_PER_SECOND = 100;
export { DEFAULT_REMINDER_INTERVAL_MS } from '../domain/approvals';
/** The flag and AWS's automatic target are read again this long before a window (and at its start). */
export { DEFAULT_REARM_BEFORE_MS } from '../domain/estate';
/** SwitchoverBlueGreenDeployment: "Default: 300 … Valid Range: Minimum value of 30" (RDS API Reference). */
export const DEFAULT_SWITCHOVER_TIMEOUT_MS = 300 * SECOND_MS;
export const MIN_SWITCHOVER_TIMEOUT_MS = 30 * SECOND_MS;
/** A green copy of a large instance takes hours; a day without AVAILABLE asks the team. */
export const DEFAULT_BLUE_GREEN_PROVISIONING_TIMEOUT_MS = 24 * HOUR_MS;
export const DEFAULT_CAMPAIGN_POLL_INTERVAL_MS = 60 * SECOND_MS;
export const DEFAULT_RESTORE_POLL_INTERVAL_MS = 30 * SECOND_MS;
export const MIN_POLL_INTERVAL_MS = SECOND_MS;
/**
 * The longest duration a spec may give (100 years): anything longer is a typo, and a workflow adds durations to
 * the current instant, which JavaScript's dates hold only up to the year 275760.
 */
export const MAX_DURATION_MS = 36_525 * DAY_MS;
export const DEFAULT_BASTION_PORT = 5432;
export const DEFAULT_CUTOVER_WEIGHT = 100;
export const DEFAULT_CUTOVER_TTL_SECONDS = 300;

export function defaultCampaignId(targetEngineVersion: string): string {
  return `pg-minor-${targetEngineVersion.replace(/\./g, '-')}`;
}

export function defaultStatusPageName(targetEngineVersion: string): string {
  return `Scheduled maintenance: PostgreSQL upgrade to ${targetEngineVersion}`;
}

export function defaultStatusPageBody(targetEngineVersion: string): string {
  return (
    `We will upgrade our database to PostgreSQL ${targetEngineVersion} during this scheduled maintenance window. ` +
    // The runbook expects under a minute (staging measures it); AWS says a Multi-AZ instance's primary and standby are
    // upgraded "at the same time" and the database "might be unavailable for several minutes": no promise the public
    // page cannot keep.
    'The database restarts during the upgrade: we expect it to be unavailable for a short time, usually under a minute but possibly several minutes; requests made during that time may fail and can be retried.'
  );
}

export function defaultInfraCodeHint(targetEngineVersion: string, instanceId: string): string {
  return `Set engine_version = "${targetEngineVersion}" and auto_minor_version_upgrade = false for ${instanceId} in the Terraform code (otherwise Terraform will error on its next plan).`;
}

