/**
 * Child processes of the dev tooling: the real worker, the simulator and a dev server as processes of
 * their own. Each runs in its own process group
 * so that a kill takes the whole group; every process started here is tracked, `killAllProcesses()` ends
 * what is still alive, and none outlives this process (killed on its exit, even after an unexpected error).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from './temporal-binaries';

const alive = new Set<ChildProcessHandle>();
const KEEP_LINES = 200;

process.once('exit', () => {
  for (const p of alive) p.killNow();
});

export class ChildProcessHandle {
  readonly spawnedAt = Date.now();
  readonly output: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: { pattern: RegExp; resolve: (match: RegExpExecArray) => void }[] = [];

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    alive.add(this);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => alive.delete(this));
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        this.output.push(line);
        if (this.output.length > KEEP_LINES) this.output.shift();
        this.waiters = this.waiters.filter((w) => {
          const match = w.pattern.exec(line);
          if (match) w.resolve(match);
          return !match;
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first line matching `pattern`; rejects if the process exits first or `timeoutMs` passes. */
  waitForMatch(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
    for (const line of this.output) {
      const seen = pattern.exec(line);
      if (seen) return Promise.resolve(seen);
    }
    return new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no line matching ${pattern} within ${timeoutMs} ms\n${this.tail()}`)), timeoutMs);
      this.waiters.push({ pattern, resolve: (match) => (clearTimeout(timer), resolve(match)) });
      void this.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code ?? signal}) before printing ${pattern}\n${this.tail()}`));
      });
    });
  }

  /** Resolves with the time the first line matching `pattern` appears. */
  async waitForLine(pattern: RegExp, timeoutMs = 60_000): Promise<number> {
    await this.waitForMatch(pattern, timeoutMs);
    return Date.now();
  }

  /** SIGKILL to the whole process group: no shutdown hook, no graceful drain; what a crash or OOM kill does. */
  async kill(): Promise<void> {
    this.killNow('SIGKILL');
    await this.exited;
  }

  /** SIGTERM: the process shuts down as it would under a supervisor. */
  async stop(): Promise<void> {
    this.killNow('SIGTERM');
    await this.exited;
  }

  killNow(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.running) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      this.child.kill(signal);
    }
  }

  tail(n = 40): string {
    return this.output.slice(-n).map((l) => `    | ${l}`).join('\n');
  }
}

/** Spawns a tracked process in a group of its own, its output kept for waitForLine and error messages. */
export function spawnProcess(name: string, command: string, args: string[], opts: Pick<SpawnOptions, 'env' | 'cwd'> = {}): ChildProcessHandle {
  const child = spawn(command, args, { cwd: opts.cwd ?? PROJECT_ROOT, env: opts.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  return new ChildProcessHandle(name, child);
}

/** A TypeScript entry point of this repository run as `node -r ts-node/register/transpile-only <file>`. */
export function spawnTypeScript(name: string, file: string, args: string[] = [], env?: NodeJS.ProcessEnv): ChildProcessHandle {
  return spawnProcess(name, process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(PROJECT_ROOT, file), ...args], { env });
}

export async function killAllProcesses(): Promise<void> {
  await Promise.all([...alive].map((p) => p.kill()));
}
