/** `npm run bench -- ...`: the bench's command-line options. */
import path from 'node:path';
import { MINUTE_MS } from '../src/domain/duration';
import { PROJECT_ROOT } from '../dev/temporal-binaries';

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
}

export const USAGE = `usage: npm run bench -- [--sizes 100,500,1000] [--quick] [--speed 10] [--poll 2s] [--replays 50]
       [--resume-campaigns 10] [--no-baseline] [--no-resume] [--no-replay] [--out bench/results]
  --quick   one small fleet (30 instances), 10 replays, 3 resumed campaigns: a smoke run of every phase (~5.5 min)`;

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
  };
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
    else if (a === '--help' || a === '-h') throw new Error(USAGE);
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  if (o.quick) {
    if (!sizesGiven) o.sizes = [30];
    o.replays = Math.min(o.replays, 10);
    o.resumeCampaigns = Math.min(o.resumeCampaigns, 3);
  }
  if (!(o.speed > 0)) throw new Error(`--speed must be > 0\n${USAGE}`);
  return o;
}
