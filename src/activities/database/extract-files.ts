/**
 * The files the extract writes (a dump, a difference file) on a directory every worker may share, when two attempts
 * of one activity can be alive at once (a worker presumed dead after its heartbeat timeout is still running while
 * the retry starts):
 * - each attempt writes its own hidden partial `.<file>.<attempt>-<random>.partial` (never another request's file
 *   name: those cannot start with '.'), created 0600 (production data), and renames it into place;
 * - only the holder of the lock `.<file>.lock` (created exclusively, holding the attempt's id, its mtime refreshed
 *   every few seconds) publishes `<file>`: another attempt waits for it to be released, or takes it over when it is
 *   stale (not refreshed for `staleMs`, some minutes) or clearly abandoned (its process is gone from this host);
 * - other attempts' leftovers are deleted only when they are older than the heartbeat timeout or their lock was
 *   abandoned.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';

/** A lock not refreshed for this long belongs to an attempt that is gone (the holder refreshes it every few seconds). */
export const LOCK_STALE_MS = 180_000;
/** Files the extract writes hold production data: only the worker's user reads them. */
export const FILE_MODE = 0o600;
const LOCK_POLL_MS = 1000;
/** Hashing reads this much at a time (tests make it small). */
export const HASH_CHUNK_BYTES = 1 << 20;

/** The ids of the locks this process holds (a lock naming this process but none of these was left by a finished attempt). */
const heldHere = new Set<string>();

interface LockOwner {
  id: string;
  host: string;
  pid: number;
  attempt: number;
  acquiredAt: string;
}

/** This attempt's id: its number and a random suffix (two workers may run the same attempt number). */
export const attemptIdOf = (ctx: Context | undefined) => `${ctx?.info.attempt ?? 0}-${randomBytes(6).toString('hex')}`;

const companion = (finalPath: string, suffix: string) => path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.${suffix}`);
export const lockPathOf = (finalPath: string) => companion(finalPath, 'lock');
export const partialPathOf = (finalPath: string, id: string) => companion(finalPath, `${id}.partial`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface LockSeen {
  raw: string;
  owner?: LockOwner;
  mtimeMs: number;
}

async function readLock(file: string): Promise<LockSeen | undefined> {
  try {
    const [raw, stat] = await Promise.all([fs.promises.readFile(file, 'utf8'), fs.promises.stat(file)]);
    let owner: LockOwner | undefined;
    try {
      owner = JSON.parse(raw) as LockOwner;
    } catch {
      // Written half by an attempt that died between creating and filling it: only its age says anything.
    }
    return { raw, owner, mtimeMs: stat.mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Whether the lock's holder is surely gone: its process is not running on this host, or not refreshed for staleMs. */
function abandoned(seen: LockSeen, staleMs: number): boolean {
  if (Date.now() - seen.mtimeMs > staleMs) return true;
  const o = seen.owner;
  if (!o || o.host !== os.hostname()) return false;
  if (o.pid === process.pid) return !heldHere.has(o.id);
  try {
    process.kill(o.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Moves an abandoned lock aside; puts it back if it turned out to be another's fresh one (taken meanwhile). */
async function breakLock(lockPath: string, seen: LockSeen, id: string): Promise<void> {
  const aside = `${lockPath}.${id}.stale`;
  try {
    await fs.promises.rename(lockPath, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = await readLock(aside);
  if (moved && (moved.raw !== seen.raw || moved.mtimeMs !== seen.mtimeMs)) await fs.promises.link(aside, lockPath).catch(() => undefined);
  await fs.promises.rm(aside, { force: true });
}

export interface FileLock {
  id: string;
  /** The ids of the abandoned locks taken over: their partial files are leftovers. */
  brokenIds: string[];
  /** Whether the lock is still this attempt's (checked right before publishing). */
  owns(): Promise<boolean>;
  release(): Promise<void>;
}

export interface LockOptions {
  ctx: Context | undefined;
  staleMs: number;
  /** Called every poll while another live attempt holds the lock (a heartbeat). */
  onWait: (holder: string) => void;
}

/** Takes the lock of `finalPath` for attempt `id`, waiting while another live attempt holds it. */
export async function acquireFileLock(finalPath: string, id: string, opts: LockOptions): Promise<FileLock> {
  const lockPath = lockPathOf(finalPath);
  const brokenIds: string[] = [];
  const owner: LockOwner = { id, host: os.hostname(), pid: process.pid, attempt: opts.ctx?.info.attempt ?? 0, acquiredAt: new Date().toISOString() };
  for (;;) {
    try {
      const handle = await fs.promises.open(lockPath, 'wx', FILE_MODE);
      try {
        await handle.writeFile(JSON.stringify(owner));
        await handle.sync();
      } finally {
        await handle.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const seen = await readLock(lockPath);
    if (!seen) continue;
    if (abandoned(seen, opts.staleMs)) {
      if (seen.owner?.id) brokenIds.push(seen.owner.id);
      await breakLock(lockPath, seen, id);
      continue;
    }
    const o = seen.owner;
    opts.onWait(o ? `attempt ${o.attempt} (${o.id}) on ${o.host} pid ${o.pid} since ${o.acquiredAt}` : 'an attempt');
    if (opts.ctx?.cancellationSignal.aborted) await opts.ctx.cancelled;
    await sleep(Math.min(LOCK_POLL_MS, opts.staleMs));
  }
  heldHere.add(id);
  const owns = async () => (await readLock(lockPath).catch(() => undefined))?.owner?.id === id;
  const refresh = setInterval(() => {
    void owns().then((mine) => (mine ? fs.promises.utimes(lockPath, new Date(), new Date()) : undefined)).catch(() => undefined);
  }, Math.max(10, Math.min(5000, opts.staleMs / 6)));
  refresh.unref();
  return {
    id,
    brokenIds,
    owns,
    async release() {
      clearInterval(refresh);
      heldHere.delete(id);
      if (await owns()) await fs.promises.rm(lockPath, { force: true });
    },
  };
}

/** The publish step's guard: a lock lost (taken over as stale) means another attempt now writes this file. */
export async function requireLock(lock: FileLock, finalPath: string, type: string): Promise<void> {
  if (await lock.owns()) return;
  throw ApplicationFailure.retryable(`Another attempt took over writing ${finalPath} (this attempt's lock ${lock.id} went stale): this attempt's file is discarded`, type);
}

/**
 * Deletes what other attempts left beside `finalPath`: partial files and temporaries older than `olderThanMs`, or
 * of a lock taken over as abandoned; also the `<file>.partial` of earlier versions (same rule).
 */
export async function removeLeftovers(finalPath: string, lock: FileLock, olderThanMs: number): Promise<void> {
  const dir = path.dirname(finalPath);
  const base = path.basename(finalPath);
  // Exactly the names this module gives (not another file's whose name merely begins like this one's).
  const escaped = base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const id = '\\d+-[0-9a-f]{12}';
  const mine = new RegExp(`^(\\.${escaped}\\.${id}\\.partial|\\.${escaped}\\.lock\\.${id}\\.stale|${escaped}\\.manifest\\.json\\.[0-9a-f]{12}\\.tmp|${escaped}\\.partial)$`);
  for (const name of await fs.promises.readdir(dir)) {
    if (!mine.test(name) || name.includes(lock.id)) continue;
    const file = path.join(dir, name);
    const stat = await fs.promises.stat(file).catch(() => undefined);
    if (!stat) continue;
    if (lock.brokenIds.some((b) => name.includes(b)) || Date.now() - stat.mtimeMs > olderThanMs) await fs.promises.rm(file, { force: true });
  }
}

/** How long another attempt's file must be untouched to be a leftover: the heartbeat timeout (that attempt is presumed dead), else staleMs. */
export const leftoverAgeMs = (ctx: Context | undefined, staleMs: number) => ctx?.info.heartbeatTimeoutMs || staleMs;

/**
 * The sha256 and size of `file`, calling `progress(bytesSoFar)` at least every `everyMs` (a heartbeat: hashing a
 * dump of many GB takes minutes); rejects when the activity is cancelled.
 */
export async function sha256File(
  file: string,
  opts: { progress?: (bytes: number) => void; everyMs?: number; chunkBytes?: number; ctx?: Context } = {},
): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  let last = Date.now();
  for await (const chunk of fs.createReadStream(file, { highWaterMark: opts.chunkBytes ?? HASH_CHUNK_BYTES })) {
    hash.update(chunk as Buffer);
    sizeBytes += (chunk as Buffer).length;
    if (opts.progress && Date.now() - last >= (opts.everyMs ?? 0)) {
      last = Date.now();
      opts.progress(sizeBytes);
    }
    if (opts.ctx?.cancellationSignal.aborted) await opts.ctx.cancelled;
  }
  return { sha256: hash.digest('hex'), sizeBytes };
}

export async function fsyncPath(file: string): Promise<void> {
  const handle = await fs.promises.open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `file` (0600) so that it is either absent or complete: a temporary of its own beside it, synced, renamed. */
export async function writeFileAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await fs.promises.writeFile(tmp, text, { mode: FILE_MODE, flag: 'wx' });
    await fsyncPath(tmp);
    await fs.promises.rename(tmp, file);
  } finally {
    await fs.promises.rm(tmp, { force: true });
  }
}

/** A line of a file as its bytes (without the '\n'), where it starts, and whether a '\n' ended it. */
export interface RawLine {
  raw: Buffer;
  offset: number;
  terminated: boolean;
}

/** The lines of `file` (or of its bytes [start, end)), read a chunk at a time: a large file is never held in memory. */
export async function* readLines(file: string, range: { start: number; end: number } | undefined = undefined): AsyncGenerator<RawLine> {
  if (range && range.end <= range.start) return;
  let carry: Buffer[] = [];
  let offset = range?.start ?? 0;
  for await (const chunk of fs.createReadStream(file, range ? { start: range.start, end: range.end - 1 } : {})) {
    const buf = chunk as Buffer;
    let from = 0;
    for (let nl = buf.indexOf(10, from); nl >= 0; nl = buf.indexOf(10, from)) {
      const raw = carry.length ? Buffer.concat([...carry, buf.subarray(from, nl)]) : buf.subarray(from, nl);
      yield { raw, offset, terminated: true };
      offset += raw.length + 1;
      carry = [];
      from = nl + 1;
    }
    if (from < buf.length) carry.push(buf.subarray(from));
  }
  if (carry.length) yield { raw: Buffer.concat(carry), offset, terminated: false };
}
