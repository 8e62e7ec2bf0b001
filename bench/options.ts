/** `npm run bench -- ...`: the bench's command-line options. */
import path from 'node:path';
import { MINUTE_MS } from '../src/domain/duration';
import { PROJECT_ROOT } from '../dev/temporal-binaries';
import { parseBucket } from '../sim';
import type { TokenBucketSpec } from '../sim';

/** `--shape`: which fleet the per-size phase upgrades (see BenchOptions.shape). */
export const SHAPES = ['campaigns', 'fleet-campaign', 'both'] as const;
export type BenchShape = (typeof SHAPES)[number];

export interface BenchOptions {
  sizes: number[];
  quick: boolean;
  /** Simulator --speed: divides status durations (upgrade 30 s → 3 s at 10). */
  speed: number;
  pollInterval: string;
  replays: number;
  resumeCampaigns: number;
  baseline: boolean;
  resume: boolean;
  replay: boolean;
  outDir: string;
  /** Give up on a fleet this long after its production window opened. */
  drainTimeoutMs: number;
  /** The simulator's RDS token bucket per account and region (`--rds-throttle`); undefined = RDS never throttles. */
  rdsThrottle?: TokenBucketSpec;
  /** The worker's RDS budget, requests/s per account and region (ORCHESTRATOR_RDS_REQUESTS_PER_SECOND); undefined = none. */
  rdsBudget?: number;
  /**
   * `campaigns` (default): ceil(N/3) campaigns of one instance per stage (scenarios/fleet.ts);
   * `fleet-campaign`: one campaign of three fleet stages over the N instances (scenarios/fleet-campaign.ts);
   * `both`: the current shape, then the fleet campaign, at each size.
   */
  shape: BenchShape;
  /** fleet-campaign: the staging stage's waves.maxConcurrent (probes running at once). */
  stagingConcurrency: number;
  /** fleet-campaign: how many child histories to fetch for per-child counts (`all`, or a sample size). */
  childHistories: number | 'all';
  /** Where the replay scenario writes the two histories it replays (for bench/profile-replay.ts); none when unset. */
  keepHistories?: string;
}

export const USAGE = `usage: npm run bench -- [--sizes 100,500,1000] [--quick] [--speed 10] [--poll 2s] [--replays 50]
       [--resume-campaigns 10] [--no-baseline] [--no-resume] [--no-replay] [--out bench/results]
       [--rds-throttle aws|BURST/RATE|off] [--rds-budget N|off]
       [--shape campaigns|fleet-campaign|both] [--staging-concurrency 50] [--child-histories all|N]
       [--keep-histories DIR]
  --quick          one small fleet (30 instances), 10 replays, 3 resumed campaigns: a smoke run of every phase (~5.5 min)
  --rds-throttle   the simulator throttles RDS per account and region like AWS: \`aws\` = 300 burst, 12/s (default off)
  --rds-budget     the worker's RDS budget per account and region, requests/s (default: the bucket's rate when
                   --rds-throttle is on, else off); see bench/README.md "RDS API budget"
  --shape          campaigns: ceil(N/3) campaigns of one instance per stage (default); fleet-campaign: ONE campaign
                   of three fleet stages selecting the N instances by tag (no baseline, replay or resume phases);
                   both: the current shape then the fleet campaign at each size
  --staging-concurrency  fleet-campaign: staging's waves.maxConcurrent (default 50, at most 100)
  --child-histories      fleet-campaign: child histories fetched for the per-child counts (default all)
  --keep-histories DIR   write the campaign and baseline histories the replay phase replays to DIR (campaign.json,
                         baseline.json) for bench/profile-replay.ts`;

/** @throws Error with the usage text for a bad argument or `--help`. */
export function parseArgs(argv: string[]): BenchOptions {
  const o: BenchOptions = {
    sizes: [100, 500, 1000],
    quick: false,
    speed: 10,
    pollInterval: '2s',
    replays: 50,
    resumeCampaigns: 10,
    baseline: true,
    resume: true,
    replay: true,
    outDir: path.join(PROJECT_ROOT, 'bench', 'results'),
    drainTimeoutMs: 10 * MINUTE_MS,
    shape: 'campaigns',
    stagingConcurrency: 50,
    childHistories: 'all',
  };
  let budgetGiven = false;
  let sizesGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    const int = (v: string, min: number) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) throw new Error(`${a} ${v}: expected an integer >= ${min}\n${USAGE}`);
      return n;
    };
    if (a === '--sizes') {
      o.sizes = next().split(',').map((s) => int(s.trim(), 3));
      sizesGiven = true;
    } else if (a === '--quick') o.quick = true;
    else if (a === '--speed') o.speed = Number(next());
    else if (a === '--poll') o.pollInterval = next();
    else if (a === '--replays') o.replays = int(next(), 1);
    else if (a === '--resume-campaigns') o.resumeCampaigns = int(next(), 1);
    else if (a === '--no-baseline') o.baseline = false;
    else if (a === '--no-resume') o.resume = false;
    else if (a === '--no-replay') o.replay = false;
    else if (a === '--out') o.outDir = path.resolve(next());
    else if (a === '--rds-throttle') {
      const v = next();
      o.rdsThrottle = v === 'off' ? undefined : parseBucket(v);
    } else if (a === '--rds-budget') {
      const v = next();
      budgetGiven = true;
      o.rdsBudget = v === 'off' ? undefined : Number(v);
      if (o.rdsBudget !== undefined && !(o.rdsBudget > 0)) throw new Error(`--rds-budget ${v}: expected requests per second > 0, or off\n${USAGE}`);
    }
    else if (a === '--shape') {
      const v = next();
      const shape = SHAPES.find((s) => s === v);
      if (!shape) throw new Error(`--shape ${v}: expected ${SHAPES.slice(0, -1).join(', ')} or ${SHAPES[SHAPES.length - 1]}\n${USAGE}`);
      o.shape = shape;
    } else if (a === '--staging-concurrency') {
      o.stagingConcurrency = int(next(), 1);
      if (o.stagingConcurrency > 100) throw new Error(`--staging-concurrency: at most 100 (the spec's maximum for waves.maxConcurrent)\n${USAGE}`);
    } else if (a === '--child-histories') {
      const v = next();
      o.childHistories = v === 'all' ? 'all' : int(v, 1);
    } else if (a === '--keep-histories') o.keepHistories = path.resolve(next());
    else if (a === '--help' || a === '-h') throw new Error(USAGE);
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  if (o.quick) {
    if (!sizesGiven) o.sizes = [30];
    o.replays = Math.min(o.replays, 10);
    o.resumeCampaigns = Math.min(o.resumeCampaigns, 3);
  }
  if (!(o.speed > 0)) throw new Error(`--speed must be > 0\n${USAGE}`);
  // The bench is the account's only caller, so its share defaults to the whole sustained rate.
  if (!budgetGiven && o.rdsThrottle) o.rdsBudget = o.rdsThrottle.ratePerSecond;
  return o;
}
