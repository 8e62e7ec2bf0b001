/**
 * The soak's profiles: how big the fleet is, how many restores, how hard the chaos hits, how long it may take,
 * and the figure of a fault-free run of the same scenario to compare the time against (measured on this
 * machine with `npm run soak -- --no-chaos`, recorded here; `--compare` measures it again instead).
 */

/** How long a run's parts took, in seconds (the report's figures; a profile records its fault-free ones). */
export interface Durations {
  campaign?: number;
  restoresP50?: number;
  restoresMax?: number;
  /** From the first start to the last close (the restores start at drawn moments, so this follows their schedule too). */
  scenario?: number;
}

export type ProfileName = 'default' | 'short';

export interface SoakProfile {
  name: ProfileName;
  description: string;
  fleet: {
    /** The accounts the fleet lives in, each reached through its `rds-orchestrator` role. */
    accounts: string[];
    regions: string[];
    /** Instances of the first stage: approved once, announced per window group, upgraded in their windows. */
    windowed: number;
    /** Window groups of the first stage: windows opening at the same minute, 30, 45, 60 ... minutes long (one Statuspage maintenance each). */
    windowGroups: number;
    /** Minutes from the start to the first group's window (it opens at the next whole minute after; the plan needs the notice before it). */
    windowLeadMinutes: number;
    /** Instances of the second stage: upgraded now under the availability probe, in waves. */
    applyNow: number;
    maxConcurrent: number;
  };
  restores: {
    /** Restores with a cutover; one of them is aborted by the operator, the others approved. */
    cutover: number;
    /** One restore with extract when PostgreSQL is here (a PostgreSQL-backed source; skipped and said so otherwise). */
    extract: boolean;
    /** Each restore starts at a moment drawn within this many seconds of the start, so the chaos meets them mid-way. */
    startWithinSeconds: number;
  };
  /** The first stage's notice and pre-check, and every run's poll interval (durations as a spec writes them). */
  timings: { notice: string; precheckBefore: string; pollInterval: string; restorePollInterval: string };
  /** The simulator's --speed (status durations divided by it; windows are wall-clock minutes). */
  simSpeed: number;
  chaos: {
    /** A random worker SIGKILLed (and a new one started) every this many seconds, drawn uniformly. */
    workerKillEverySeconds: [number, number];
    serverRestarts: number;
    /** The Temporal server stays down this long (seconds, drawn) before it is started again. */
    serverDownSeconds: [number, number];
    postgresRestarts: number;
    postgresDownSeconds: [number, number];
    /** Infrastructure restarts and slow periods fall within this window of the run (seconds after the start): within the campaign's time under chaos, so that every one happens. */
    spreadSeconds: [number, number];
    /** The fraction of AWS calls answered by throttling, a 500, a timeout or a reset connection. */
    awsFaultRate: number;
    /** How long an injected timeout holds a call (longer than the workers' 20 s SDK request timeout). */
    hangMs: number;
    slowPeriods: number;
    slowLatencyMs: [number, number];
    slowForSeconds: [number, number];
  };
  /** After this long the run stops waiting: what is still open is reported as stuck. */
  deadlineMinutes: number;
  /** A fault-free run of this profile (`--no-chaos`), to compare the times to finish against. */
  faultFree?: { durations: Durations; seed: number; measured: string };
}

/** Three accounts (DEMO_ACCOUNTS' preview, staging and production), two regions. */
const ACCOUNTS = ['222222222222', '333333333333', '444444444444'];
const REGIONS = ['eu-west-2', 'eu-west-1'];

export const PROFILES: Record<ProfileName, SoakProfile> = {
  default: {
    name: 'default',
    description: '600 instances in 3 accounts x 2 regions (150 in 3 approved window groups, 450 now in waves of 50), 5 restores with cutover and 1 with extract; workers killed every 10-60 s, 4 Temporal server restarts, 2 PostgreSQL restarts, 5 % of AWS calls faulted, 2 slow periods',
    fleet: { accounts: ACCOUNTS, regions: REGIONS, windowed: 150, windowGroups: 3, windowLeadMinutes: 6, applyNow: 450, maxConcurrent: 50 },
    restores: { cutover: 5, extract: true, startWithinSeconds: 840 },
    timings: { notice: '150s', precheckBefore: '100s', pollInterval: '2s', restorePollInterval: '2s' },
    simSpeed: 10,
    chaos: {
      workerKillEverySeconds: [10, 60],
      serverRestarts: 4,
      serverDownSeconds: [1, 5],
      postgresRestarts: 2,
      postgresDownSeconds: [2, 6],
      spreadSeconds: [40, 780],
      awsFaultRate: 0.05,
      hangMs: 25_000,
      slowPeriods: 2,
      slowLatencyMs: [2000, 5000],
      slowForSeconds: [30, 90],
    },
    deadlineMinutes: 40,
    faultFree: { durations: { campaign: 578.4, restoresP50: 21.0, restoresMax: 30.5, scenario: 868.0 }, seed: 7, measured: 'measured 2026-12-06 on this 2-core machine with --no-chaos' },
  },
  short: {
    name: 'short',
    description: '60 instances in 3 accounts x 2 regions (18 in 2 approved window groups, 42 now in waves of 21), 2 restores with cutover (one aborted) and 1 with extract; workers killed every 10-60 s, 1 Temporal server restart, 1 PostgreSQL restart, 5 % of AWS calls faulted, 1 slow period',
    fleet: { accounts: ACCOUNTS, regions: REGIONS, windowed: 18, windowGroups: 2, windowLeadMinutes: 2, applyNow: 42, maxConcurrent: 21 },
    restores: { cutover: 2, extract: true, startWithinSeconds: 120 },
    timings: { notice: '45s', precheckBefore: '30s', pollInterval: '2s', restorePollInterval: '2s' },
    simSpeed: 10,
    chaos: {
      workerKillEverySeconds: [10, 60],
      serverRestarts: 1,
      serverDownSeconds: [1, 4],
      postgresRestarts: 1,
      postgresDownSeconds: [2, 4],
      spreadSeconds: [30, 180],
      awsFaultRate: 0.05,
      hangMs: 25_000,
      slowPeriods: 1,
      slowLatencyMs: [2000, 4000],
      slowForSeconds: [20, 40],
    },
    deadlineMinutes: 12,
    faultFree: { durations: { campaign: 188.4, restoresP50: 30.4, restoresMax: 39.5, scenario: 188.5 }, seed: 3, measured: 'measured 2026-12-07 on this 2-core machine with --compare' },
  },
};
