/**
 * The chaos driver: a schedule drawn from the run's seed (printed first; `--seed N` draws the same one), then
 * carried out with one log line per fault and its time.
 *
 *   workers     a random worker SIGKILLed every 10-60 s (drawn), and a new one started in its place
 *   temporal    the Temporal server SIGKILLed, down for a few seconds, started again on the same PostgreSQL
 *   postgres    the cluster's PostgreSQL stopped (pg_ctl -m fast: every connection dropped) and started again
 *   aws         a fraction of every AWS call answered by throttling, a 500, a timeout or a reset connection
 *               (the simulator's seeded random faults, POST /_sim/faults), from the start to the end
 *   slow        every AWS answer seconds late for a while (a slow period that ends by itself)
 *
 * Restarts and slow periods are spread over the run at least 30 s apart, so each one's recovery is its own.
 */
import type { SimAdminClient } from '../../sim';
import { spawnTypeScript } from '../../dev/processes';
import { sleep } from '../../dev/time';
import type { SoakLog } from './log';
import type { SoakProfile } from './profiles';
import type { Random } from './random';
import type { WorkerPool } from './workers';

export type InfraKind = 'temporal-restart' | 'postgres-restart' | 'slow-period';

export interface InfraEvent {
  atMs: number;
  kind: InfraKind;
  /** Down time (restarts) or length (slow period), ms. */
  durationMs: number;
  /** Slow periods: the latency added to every answer. */
  latencyMs?: number;
}

export interface ChaosPlan {
  /** Offsets from the start of the run (ms) at which a worker is killed, until the run ends. */
  workerKillsMs: number[];
  infra: InfraEvent[];
  aws: { rate: number; seed: number; hangMs: number };
}

export interface ChaosRecord {
  at: number;
  kind: 'worker-kill' | InfraKind | 'aws-faults-on' | 'aws-faults-off';
  detail: string;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function planChaos(profile: SoakProfile, rng: Random): ChaosPlan {
  const c = profile.chaos;
  const kills = rng.fork('worker-kills');
  const workerKillsMs: number[] = [];
  for (let t = kills.between(...c.workerKillEverySeconds) * 1000; t < profile.deadlineMinutes * 60_000; t += kills.between(...c.workerKillEverySeconds) * 1000) {
    workerKillsMs.push(Math.round(t));
  }
  const infraRng = rng.fork('infra');
  const kinds: InfraKind[] = [...Array<InfraKind>(c.serverRestarts).fill('temporal-restart'), ...Array<InfraKind>(c.postgresRestarts).fill('postgres-restart'), ...Array<InfraKind>(c.slowPeriods).fill('slow-period')];
  // Shuffled, so that which restart comes first is drawn too.
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = infraRng.int(0, i);
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  const [lo, hi] = c.spreadSeconds;
  const times = infraRng.spread(kinds.length, lo * 1000, hi * 1000, 30_000);
  const infra = kinds.map((kind, i): InfraEvent => {
    const atMs = Math.round(times[i]!);
    if (kind === 'temporal-restart') return { atMs, kind, durationMs: Math.round(infraRng.between(...c.serverDownSeconds) * 1000) };
    if (kind === 'postgres-restart') return { atMs, kind, durationMs: Math.round(infraRng.between(...c.postgresDownSeconds) * 1000) };
    return { atMs, kind, durationMs: Math.round(infraRng.between(...c.slowForSeconds) * 1000), latencyMs: Math.round(infraRng.between(...c.slowLatencyMs)) };
  });
  return { workerKillsMs, infra, aws: { rate: c.awsFaultRate, seed: rng.fork('aws').int(1, 2 ** 31 - 1), hangMs: c.hangMs } };
}

export function describeChaos(plan: ChaosPlan): string[] {
  const first = plan.workerKillsMs.slice(0, 8).map((t) => secs(t).replace(' s', '')).join(', ');
  return [
    `workers: SIGKILL at ${first}${plan.workerKillsMs.length > 8 ? ', …' : ''} s (every 10-60 s until the run ends)`,
    ...plan.infra.map((e) =>
      e.kind === 'slow-period'
        ? `${secs(e.atMs).padStart(8)}  slow period: every AWS answer ${secs(e.latencyMs!)} late for ${secs(e.durationMs)}`
        : `${secs(e.atMs).padStart(8)}  ${e.kind === 'temporal-restart' ? 'Temporal server SIGKILL' : 'PostgreSQL stop (fast)'}, down ${secs(e.durationMs)}, started again`,
    ),
    `aws: ${(plan.aws.rate * 100).toFixed(0)} % of AWS calls throttled, 500, timed out (held ${secs(plan.aws.hangMs)}) or reset, drawn with seed ${plan.aws.seed}`,
  ];
}

export class ChaosDriver {
  readonly records: ChaosRecord[] = [];
  private stopped = false;
  private readonly tasks: Promise<void>[] = [];
  private readonly infraRunning = new Set<Promise<void>>();

  constructor(
    private readonly plan: ChaosPlan,
    private readonly deps: { pool: WorkerPool; admin: SimAdminClient; log: SoakLog; rng: Random },
  ) {}

  private record(kind: ChaosRecord['kind'], detail: string): void {
    this.records.push({ at: Date.now(), kind, detail });
    this.deps.log.line('chaos', detail);
  }

  /** Sleeps until `t0 + offset`, or returns false when stopped first. */
  private async until(t0: number, offsetMs: number): Promise<boolean> {
    while (!this.stopped && Date.now() < t0 + offsetMs) await sleep(Math.min(500, t0 + offsetMs - Date.now()));
    return !this.stopped;
  }

  async start(t0: number): Promise<void> {
    const { admin } = this.deps;
    await admin.faults({ random: { rate: this.plan.aws.rate, seed: this.plan.aws.seed }, hangMs: this.plan.aws.hangMs });
    this.record('aws-faults-on', `AWS faults on: ${(this.plan.aws.rate * 100).toFixed(0)} % of calls (throttle, 500, timeout, reset), seed ${this.plan.aws.seed}`);
    const killer = this.deps.rng.fork('worker-choice');
    this.tasks.push(
      (async () => {
        for (const at of this.plan.workerKillsMs) {
          if (!(await this.until(t0, at))) return;
          try {
            this.record('worker-kill', await this.deps.pool.killOne(killer));
          } catch (err) {
            this.deps.log.line('chaos', `worker kill failed: ${(err as Error).message}`);
          }
        }
      })(),
    );
    for (const e of this.plan.infra) {
      this.tasks.push(
        (async () => {
          if (!(await this.until(t0, e.atMs))) return;
          const running = this.runInfra(e);
          this.infraRunning.add(running);
          await running;
          this.infraRunning.delete(running);
        })(),
      );
    }
  }

  private async runInfra(e: InfraEvent): Promise<void> {
    if (e.kind === 'slow-period') {
      await this.deps.admin.faults({ latencyMs: e.latencyMs!, latencyForMs: e.durationMs });
      this.record('slow-period', `slow period: every AWS answer ${secs(e.latencyMs!)} late for ${secs(e.durationMs)}`);
      return;
    }
    const what = e.kind === 'temporal-restart' ? 'temporal' : 'postgres';
    const name = e.kind === 'temporal-restart' ? 'Temporal server' : 'PostgreSQL';
    const child = spawnTypeScript(`restart ${what}`, 'scripts/soak/infra.ts', [what, String(e.durationMs)]);
    try {
      await child.waitForMatch(/"event":"stopped"/, 120_000);
      this.record(e.kind, `${name} ${what === 'temporal' ? 'SIGKILLed' : 'stopped (pg_ctl -m fast)'}; down for ${secs(e.durationMs)}, then started again`);
      const [, back] = await child.waitForMatch(/(\{"event":"back".*\})/, 180_000);
      const backMs = (JSON.parse(back!) as { backMs: number }).backMs;
      this.deps.log.line('chaos', `${name} back: serving ${secs(backMs)} after it stopped`);
    } catch (err) {
      this.deps.log.line('chaos', `${name} restart FAILED: ${(err as Error).message.split('\n').slice(0, 6).join(' | ')}`);
    }
    await child.exited;
  }

  /** Stops drawing faults: no more kills, AWS faults and latency off, and any restart in progress finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.infraRunning]);
    await Promise.all(this.tasks);
    await this.deps.admin.faults({ random: null, latencyMs: 0, throttleNext: 0, errorNext: 0, timeoutNext: 0, resetNext: 0 });
    this.record('aws-faults-off', 'AWS faults off; no more kills or restarts');
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.records) if (r.kind !== 'aws-faults-on' && r.kind !== 'aws-faults-off') out[r.kind] = (out[r.kind] ?? 0) + 1;
    return out;
  }
}
