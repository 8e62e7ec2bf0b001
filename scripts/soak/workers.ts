/**
 * The soak's workers: N processes of the compiled worker (`node dist/worker.js`, what the Docker image runs) on
 * one task queue, started as test-cluster starts them (dev/worker.ts). The chaos driver SIGKILLs one and starts
 * a new one in its place; the pool keeps each process's last lines in workers.log when it ends.
 */
import fs from 'node:fs';
import type { ChildProcessHandle } from '../../dev/processes';
import { WORKER_POLLING, spawnWorkerProcess, type WorkerProcessEnv } from '../../dev/worker';
import type { SoakLog } from './log';
import type { Random } from './random';

export interface SoakWorker {
  name: string;
  process: ChildProcessHandle;
  startedAt: number;
  pollingAt?: number;
}

export class WorkerPool {
  readonly live: SoakWorker[] = [];
  readonly startTimes: number[] = [];
  /** Workers that ended by themselves (not killed by the chaos driver, not stopped at the end), and why. */
  readonly ownExits: string[] = [];
  private started = 0;
  private stopping = false;
  private readonly killed = new Set<SoakWorker>();
  private readonly exits: Promise<unknown>[] = [];

  constructor(
    private readonly env: WorkerProcessEnv,
    private readonly log: SoakLog,
    private readonly logFile: string,
  ) {}

  /** Starts one worker; resolves once it polls (or after `timeoutMs`, logged). */
  async startOne(): Promise<SoakWorker> {
    const name = `worker-${++this.started}`;
    const process = spawnWorkerProcess(name, this.env, 'compiled');
    const w: SoakWorker = { name, process, startedAt: Date.now() };
    this.live.push(w);
    this.exits.push(
      process.exited.then(({ code, signal }) => {
        fs.appendFileSync(this.logFile, `==== ${name} (pid ${process.pid}) exited ${code ?? signal}\n${process.tail(200)}\n`);
        const i = this.live.indexOf(w);
        if (i >= 0) this.live.splice(i, 1);
        if (this.stopping || this.killed.has(w)) return;
        // A worker that cannot reach Temporal as it starts (the server restarting) exits: started again, as a supervisor would.
        const why = `${name} (pid ${process.pid}) exited by itself (${code ?? signal}): ${process.output.filter((l) => /error|fail/i.test(l)).pop()?.slice(0, 200) ?? 'no error line'}`;
        this.ownExits.push(why);
        this.log.line('workers', `${why}; started again in 2 s, as a supervisor would`);
        setTimeout(() => void this.startOne(), 2000);
      }),
    );
    try {
      await process.waitForLine(WORKER_POLLING, 120_000);
      w.pollingAt = Date.now();
      this.startTimes.push(w.pollingAt - w.startedAt);
      this.log.line('workers', `${name} (pid ${process.pid}) polling after ${((w.pollingAt - w.startedAt) / 1000).toFixed(1)} s`);
    } catch (err) {
      this.log.line('workers', `${name} (pid ${process.pid}) did not start polling: ${(err as Error).message.split('\n')[0]}`);
    }
    return w;
  }

  async start(n: number): Promise<void> {
    await Promise.all(Array.from({ length: n }, () => this.startOne()));
  }

  /** SIGKILLs a random live worker (chosen by `rng`) and starts a new one; returns the line to log. */
  async killOne(rng: Random): Promise<string> {
    const candidates = this.live.filter((w) => w.process.running);
    if (candidates.length === 0) {
      void this.startOne();
      return 'no worker alive to kill: started one';
    }
    const victim = rng.pick(candidates);
    this.killed.add(victim);
    const pid = victim.process.pid;
    await victim.process.kill();
    void this.startOne();
    return `SIGKILL ${victim.name} (pid ${pid}, up ${((Date.now() - victim.startedAt) / 1000).toFixed(0)} s); a new worker starting`;
  }

  /** SIGTERM to every worker (they drain), then waits for them to exit. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.live.map((w) => w.process.stop()));
    await Promise.all(this.exits);
  }
}
