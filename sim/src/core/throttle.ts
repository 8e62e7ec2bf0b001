/**
 * Request throttling with a token bucket per account and region, the way AWS throttles an API (RDS's is
 * sim/src/rds/throttle.ts): each bucket holds at most `burst` tokens and is refilled at `ratePerSecond`; each
 * request that reaches the service takes one token, and a request that finds the bucket empty is refused (it
 * takes none).
 *
 * Time is the simulator's clock *without* its /_sim/advance offset: the bucket refills with real (or test)
 * time, so jumping simulated weeks ahead does not hand out tokens.
 */
import { SimError } from './errors';

export interface TokenBucketSpec {
  /** Bucket size: requests that may be made at once after a quiet period (AWS default 300). */
  burst: number;
  /** Tokens added per second, up to `burst` (AWS default 12). */
  ratePerSecond: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function checkBucketSpec(spec: unknown, what: string): TokenBucketSpec {
  const s = spec as Partial<TokenBucketSpec> | null;
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
  if (!s || typeof s !== 'object' || !ok(s.burst) || !ok(s.ratePerSecond) || s.burst < 1) {
    throw new SimError('BadRequest', `${what} needs {"burst": <number >= 1>, "ratePerSecond": <number > 0>}, or null to turn throttling off; got ${JSON.stringify(spec)}`, 400);
  }
  return { burst: s.burst, ratePerSecond: s.ratePerSecond };
}

/** Token buckets per account and region; `spec` undefined = no throttling. */
export class RequestThrottle {
  private buckets = new Map<string, Bucket>();

  constructor(
    private readonly now: () => number,
    private spec?: TokenBucketSpec,
  ) {}

  get settings(): TokenBucketSpec | undefined {
    return this.spec ? { ...this.spec } : undefined;
  }

  /** New settings; every bucket starts full again (as after a quota change). */
  configure(spec: TokenBucketSpec | undefined): void {
    this.spec = spec ? { ...spec } : undefined;
    this.buckets.clear();
  }

  /** Takes a token for one request of `account` in `region`; false when the bucket is empty (throttle it). */
  take(account: string, region: string): boolean {
    const spec = this.spec;
    if (!spec) return true;
    const key = `${account}|${region}`;
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: spec.burst, at: t };
    b.tokens = Math.min(spec.burst, b.tokens + (Math.max(0, t - b.at) / 1000) * spec.ratePerSecond);
    b.at = t;
    this.buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Tokens left per `account|region` (refilled up to now), for GET /_sim/throttle and tests. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    if (!this.spec) return out;
    const t = this.now();
    for (const [key, b] of this.buckets) out[key] = Math.floor(Math.min(this.spec.burst, b.tokens + (Math.max(0, t - b.at) / 1000) * this.spec.ratePerSecond) * 10) / 10;
    return out;
  }
}
