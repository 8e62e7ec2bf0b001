/**
 * The simulator's call log, read whole while the soak runs: the log keeps only its last 20 000 calls and a soak
 * makes far more, so this reads `SimAdminClient.calls({ since })` every couple of seconds and keeps every
 * mutation and every faulted call (and counts the rest by service and action). A gap in the sequence numbers
 * means calls were dropped before they were read: the checker then cannot vouch for them, and says so.
 */
import fs from 'node:fs';
import type { CallRecord, SimAdminClient } from '../../sim';
import { sleep } from '../../dev/time';

export interface CollectedCalls {
  /** Every mutating call (answered by the service or by an injected fault), in order. */
  mutations: CallRecord[];
  /** Every call an injected fault answered. */
  faulted: CallRecord[];
  /** Calls seen, by `service action`. */
  byAction: Record<string, number>;
  total: number;
  /** Sequence ranges never read (dropped from the log first). */
  gaps: string[];
  firstSeq?: number;
  lastSeq: number;
}

export class CallCollector {
  readonly collected: CollectedCalls = { mutations: [], faulted: [], byAction: {}, total: 0, gaps: [], lastSeq: 0 };
  private running = false;
  private loop?: Promise<void>;
  private readonly out: number;

  constructor(
    private readonly admin: SimAdminClient,
    file: string,
    private readonly intervalMs = 2000,
  ) {
    this.out = fs.openSync(file, 'a');
  }

  /** Reads what is new since the last read; returns how many calls it read. */
  async readNew(): Promise<number> {
    const c = this.collected;
    const calls = await this.admin.calls({ since: c.lastSeq });
    if (calls.length === 0) return 0;
    const first = calls[0]!.seq;
    if (first !== c.lastSeq + 1 && !(c.lastSeq === 0 && first === 1)) c.gaps.push(`${c.lastSeq + 1}..${first - 1}`);
    c.firstSeq ??= first;
    for (const call of calls) {
      c.total++;
      const key = `${call.service} ${call.action}`;
      c.byAction[key] = (c.byAction[key] ?? 0) + 1;
      if (call.isMutation) c.mutations.push(call);
      if (call.fault) c.faulted.push(call);
      if (call.isMutation || call.fault) fs.writeSync(this.out, `${JSON.stringify(call)}\n`);
    }
    c.lastSeq = calls[calls.length - 1]!.seq;
    return calls.length;
  }

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        // The simulator is in this process: an error here is a bug, but the next read picks up from the same seq.
        await this.readNew().catch(() => undefined);
        await sleep(this.intervalMs);
      }
    })();
  }

  /** Stops reading after a last read of everything new. */
  async stop(): Promise<CollectedCalls> {
    this.running = false;
    await this.loop;
    while ((await this.readNew()) > 0);
    fs.closeSync(this.out);
    return this.collected;
  }
}
