/**
 * The fleet the bench upgrades: N instances grouped in threes (the preview, staging and production
 * instance of one database), one campaign per group, with the bench's compressed timings. The campaign
 * is dev/fixtures' fleet campaign over the group's instances.
 */
import type { ResolvedCampaignSpec } from '../src/api';
import { DAY_MS } from '../src/domain/duration';
import type { SimAdminClient } from '../sim';
import { DEMO_ENVIRONMENTS, type DemoEnvironment } from '../sim';
import type { SeedInstance } from '../sim';
import { formatMaintenanceWindow } from '../sim';
import { FROM_VERSION, REGION, resolvedFleetCampaign } from '../dev/fixtures';

export const APPROVER = 'bench-approver';

const instanceIdOf = (prefix: string, i: number) => (env: DemoEnvironment) => `${prefix}-${i}-${env}`;

/**
 * Campaign `i` of the fleet named `prefix`: probe 1 GET/s settling in 2 s, production notice 60 s and pre-check 45 s
 * before the window. The pre-check was 10 s: at N=1000 all 334 pre-check timers fire in one second and the two
 * workflow tasks to the flag change queued past the window for 105 campaigns (2026-11-25-1000-fast-resume.json).
 */
export function fleetCampaign(prefix: string, i: number, admin: SimAdminClient, pollInterval: string): ResolvedCampaignSpec {
  return resolvedFleetCampaign({
    campaignId: `${prefix}-${i}`,
    requester: 'bench-requester',
    timings: {
      pollInterval,
      probe: { ratePerSecond: 1, settle: '2s', maxDuration: '5m' },
      productionNotice: '60s',
      precheckBefore: '45s',
      reminderInterval: '10m',
    },
    noticeOverrideReason: 'BENCH ONLY: compressed timings',
    admin,
    instanceId: instanceIdOf(prefix, i),
  });
}

/** The instances of `campaigns` groups, on the old minor, with the preview and production windows given (staging's is days away). */
export function fleetSeed(prefix: string, campaigns: number, previewMs: number, productionMs: number): SeedInstance[] {
  const windowAt: Record<DemoEnvironment, number> = { preview: previewMs, staging: previewMs + 3 * DAY_MS, production: productionMs };
  const out: SeedInstance[] = [];
  for (let i = 0; i < campaigns; i++) {
    for (const stage of DEMO_ENVIRONMENTS) {
      out.push({
        region: REGION,
        id: instanceIdOf(prefix, i)(stage),
        engineVersion: FROM_VERSION,
        instanceClass: 'db.t4g.medium',
        autoMinorVersionUpgrade: false,
        backupRetentionPeriod: 7,
        // staging's window is far away: it is upgraded now, not in a window
        preferredMaintenanceWindow: formatMaintenanceWindow(windowAt[stage], 30),
        tags: { environment: stage, bench: prefix },
      });
    }
  }
  return out;
}
