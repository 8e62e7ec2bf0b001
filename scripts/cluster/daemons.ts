/**
 * Processes that outlive the script that starts them (the Temporal server, the UI server): detached, in a
 * session of their own, output appended to a log file, pid in a file. A pid counts as ours only while
 * /proc says it still runs the same executable (pids get reused). Plus small helpers: running a command to
 * completion, free ports, waiting for a condition.
 */
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ClusterError } from './layout';

export interface Daemon {
  name: string;
  executable: string;
  args: string[];
  cwd: string;
  logFile: string;
  pidFile: string;
  env?: NodeJS.ProcessEnv;
}

/** The pid in `pidFile` if that process is alive and runs `executable`. */
export function runningPid(pidFile: string, executable: string): number | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const exe = fs.readlinkSync(`/proc/${pid}/exe`);
    return cmdline[0] === executable || exe === executable ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function startDaemon(d: Daemon): number {
  fs.mkdirSync(path.dirname(d.logFile), { recursive: true });
  const out = fs.openSync(d.logFile, 'a');
  fs.writeSync(out, `\n==== ${new Date().toISOString()} starting ${d.executable} ${d.args.join(' ')}\n`);
  const child = spawn(d.executable, d.args, { cwd: d.cwd, env: d.env ?? process.env, detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  if (!child.pid) throw new ClusterError(`${d.name}: could not start ${d.executable}`);
  child.unref();
  fs.writeFileSync(d.pidFile, `${child.pid}\n`);
  return child.pid;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stopPid(pid: number, graceMs = 20_000): Promise<'stopped' | 'killed'> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'stopped';
  }
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(100);
  if (!alive(pid)) return 'stopped';
  process.kill(pid, 'SIGKILL');
  while (alive(pid)) await sleep(50);
  return 'killed';
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function logTail(logFile: string | undefined): string {
  if (!logFile || !fs.existsSync(logFile)) return '';
  const lines = fs.readFileSync(logFile, 'utf8').split('\n').filter(Boolean).slice(-12);
  return `\n--- last lines of ${logFile}:\n${lines.map((l) => l.slice(0, 600)).join('\n')}`;
}

export interface WaitOptions {
  timeoutMs: number;
  /** Shown (its last lines) when the wait fails. */
  logFile?: string;
  /** The process being waited for: the wait fails at once when it is gone. */
  stillRunning?: () => boolean;
}

/** Polls `check` until it returns a value; the error names what was awaited and where to look. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, opts: WaitOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    const last = lastError ? ` (last error: ${String(lastError).slice(0, 500)})` : '';
    if (opts.stillRunning && !opts.stillRunning()) throw new ClusterError(`the process exited while waiting for ${what}${last}${logTail(opts.logFile)}`);
    if (Date.now() > deadline) throw new ClusterError(`timed out after ${opts.timeoutMs / 1000} s waiting for ${what}${last}${logTail(opts.logFile)}`);
    await sleep(250);
  }
}

export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free port in [floor, ceiling], tried at random. */
export async function freePortBetween(floor: number, ceiling: number, avoid: Set<number>): Promise<number> {
  for (let i = 0; i < 1000; i++) {
    const port = floor + Math.floor(Math.random() * (ceiling - floor + 1));
    if (!avoid.has(port) && (await portFree(port))) return port;
  }
  throw new ClusterError(`no free port between ${floor} and ${ceiling}`);
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; `check` (default) throws with its output when it fails. */
export function run(command: string, args: string[], opts: SpawnSyncOptions & { check?: boolean; show?: boolean } = {}): RunResult {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: opts.show ? 'inherit' : 'pipe', ...opts });
  const result = { status: r.status ?? -1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
  if (r.error) throw new ClusterError(`${command}: ${r.error.message}`);
  if ((opts.check ?? true) && result.status !== 0) {
    throw new ClusterError(`${command} ${args.join(' ')} failed (exit ${result.status}):\n${(result.stderr || result.stdout).trim().slice(-3000)}`);
  }
  return result;
}

export function which(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const p = path.join(dir, command);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}
