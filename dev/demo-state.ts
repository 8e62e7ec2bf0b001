/**
 * What the demo keeps between two `npm start`s (dev tooling): a folder (default the git-ignored
 * `.rds-orchestrator/demo/`) holding the Temporal dev server's database, the simulator's state file (and beside
 * it, `<state>.postgres/`, the data of production's real PostgreSQL), the simulator's call log of each session
 * (the simulator keeps its log in memory only) and `demo.json`, which names the runs in progress, the ports
 * they depend on and the demo's stamp. `npm start` again reads it and follows those runs; `--fresh` wipes it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CallRecord, DemoEnvironment } from '../sim';
import type { LostRows } from './demo-extract';
import { PROJECT_ROOT } from './temporal-binaries';

/** Bumped when demo.json or what the demo keeps beside it changes shape: an older folder is not resumed. */
export const DEMO_STATE_VERSION = 1;

/** The default folder; `--state-dir` or RDS_DEMO_STATE_DIR choose another (tests). */
export const DEFAULT_DEMO_STATE_DIR = path.join(PROJECT_ROOT, '.rds-orchestrator', 'demo');

export interface SavedDemo {
  version: number;
  /** The demo's stamp (its ids end with it) and when it started (epoch ms). */
  stamp: string;
  startedAt: number;
  fast: boolean;
  /** The ports the runs depend on: the simulator's (the staging probe's URL is in the campaign's spec) and its DNS server's (a restore's resolvers). */
  simPort: number;
  dnsPort: number;
  /** With PostgreSQL: production is a real database (the extract's scene). */
  withDatabase: boolean;
  /** The campaign's stages when not all three (--stages). */
  stages?: DemoEnvironment[];
  /** --production blue-green: production by an RDS Blue/Green switchover. */
  production?: 'blue-green';
  campaignId?: string;
  extract?: { id: string; lost: LostRows };
  restoreId?: string;
  /** Every part the demo was asked for came to its end: the next start begins a new demo. */
  finished?: boolean;
}

export class DemoState {
  constructor(readonly dir: string) {}

  get dbFile(): string {
    return path.join(this.dir, 'temporal.db');
  }

  get simStateFile(): string {
    return path.join(this.dir, 'sim.json');
  }

  private get jsonFile(): string {
    return path.join(this.dir, 'demo.json');
  }

  private get callsFile(): string {
    return path.join(this.dir, 'calls.jsonl');
  }

  /** What an earlier start left: nothing, a demo to resume, or why what is there cannot be resumed. */
  load(): { saved?: SavedDemo; problem?: string } {
    if (!fs.existsSync(this.dir) || fs.readdirSync(this.dir).length === 0) return {};
    let saved: SavedDemo;
    try {
      saved = JSON.parse(fs.readFileSync(this.jsonFile, 'utf8')) as SavedDemo;
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      return { problem: missing ? `${this.shown()} holds no demo.json (a demo interrupted before it started)` : `${this.shown()}/demo.json is unreadable (${(err as Error).message})` };
    }
    if (saved.version !== DEMO_STATE_VERSION) return { problem: `${this.shown()} is from another version of the demo (${saved.version ?? '?'}, this one keeps ${DEMO_STATE_VERSION})` };
    return { saved };
  }

  save(saved: SavedDemo): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const tmp = `${this.jsonFile}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(saved, null, 2)}\n`);
    fs.renameSync(tmp, this.jsonFile);
  }

  /** Deletes everything the demo kept (the folder itself stays). */
  wipe(): void {
    if (!fs.existsSync(this.dir)) return;
    for (const entry of fs.readdirSync(this.dir)) fs.rmSync(path.join(this.dir, entry), { recursive: true, force: true });
  }

  /** Adds a session's calls to the log kept across starts. */
  appendCalls(calls: readonly object[]): void {
    if (!calls.length) return;
    fs.mkdirSync(this.dir, { recursive: true });
    fs.appendFileSync(this.callsFile, calls.map((c) => `${JSON.stringify(c)}\n`).join(''));
  }

  /** Every call the simulator answered, in all sessions of this demo. */
  readCalls(): CallRecord[] {
    if (!fs.existsSync(this.callsFile)) return [];
    return fs.readFileSync(this.callsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as CallRecord);
  }

  private shown(): string {
    return path.relative(process.cwd(), this.dir) || '.';
  }
}
