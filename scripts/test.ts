/**
 * `npm test`: the type check, the lint and every mocha suite, side by side. Several suites wait on real
 * time (the demo end to end waits for minute-grained maintenance windows, the durability suite for killed
 * and restarted processes), and run one after the other they left the machine idle for most of ten minutes.
 * Here each group is a process of its own (mocha's own servers are per process: test/harness.ts), all
 * started at once, the longest first. A group's output is held until it ends and then printed whole, so
 * the log reads as one list of tests per group; a summary closes it. Exit code: 0 only when every group
 * passed.
 *
 * `npm run mocha` still runs every suite in one process, one after the other (handy with `-- --grep`).
 * `npm test -- --list` prints the groups; `npm test -- demo durability` runs only the groups named.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'node_modules', '.bin');


interface Group {
  name: string;
  /** What it is, for the summary. */
  what: string;
  command: string;
  args: string[];
  mocha: boolean;
  /** A nice value: the groups that only use the CPU yield it to those timed by the clock. */
  nice?: number;
}

const npmScript = (name: string, what: string, nice?: number): Group => ({ name, what, command: 'npm', args: ['run', '--silent', name], mocha: false, nice });

/** A mocha process over `files`, less `ignore` (both globs relative to the repository). */
function mochaGroup(name: string, what: string, files: string[], ignore: string[] = [], nice?: number): Group {
  const args = [...files, ...ignore.flatMap((glob) => ['--ignore', glob])];
  if (process.stdout.isTTY) args.push('--color');
  return { name, what, command: path.join(BIN, 'mocha'), args, mocha: true, nice };
}

/**
 * Longest first: the demo (real maintenance windows two minutes apart, about 4 minutes), the durability
 * suite (about 2.5 minutes of crashes and restarts), then the suites against Temporal servers, the rest of
 * mocha, the type check and the lint. The two timed by the clock run at normal priority; the others only use
 * the CPU, and are niced (the longest least) so that a recovery the durability suite reports (a new worker
 * process compiles before it polls), or the demo's next step, is not measured behind a type check.
 */
const WAITS_ON_REAL_TIME = ['test/e2e/**', 'test/durability/**', 'test/demo-resume/**'];
const ON_THE_CLOCK = ['test/activities/probe.test.ts', 'test/activities/database/probe.test.ts', 'test/activities/database/through-simulator.test.ts'];
const TIME_SKIPPING = ['test/workflows/**/*.test.ts', 'test/identity/**/*.test.ts', 'test/fuzz/workflows/**/*.test.ts'];
/**
 * The time-skipping suites in two processes, each with its own test server: in one they were the last group to end
 * (277 s of a 300 s budget, the last 43 s alone on one core while the other stood idle). About 80 s each alone.
 */
const CAMPAIGN_TIME_SKIPPING = ['test/workflows/campaign.test.ts', 'test/workflows/estate.test.ts', 'test/workflows/fleet.test.ts', 'test/workflows/fleet-batches.test.ts'];
const LOCAL_STACK = ['test/cli/cli.test.ts', 'test/accounts/**/*.test.ts', 'test/moto/**/*.test.ts', 'test/replay.test.ts', 'test/worker-process.test.ts'];
const GROUPS: Group[] = [
  mochaGroup('demo', 'the demo\'s campaign end to end (test/e2e/demo)', ['test/e2e/demo.test.ts']),
  // The demo's restores (extract, cutover) in a demo of their own, beside the campaign's rather than after it.
  mochaGroup('restores', 'the demo\'s restores end to end (test/e2e/restore-demo)', ['test/e2e/restore-demo.test.ts']),
  // The probe's tests measure outages of a few hundred milliseconds on the clock: beside the crashes, not behind the CPU.
  // The demo interrupted by Ctrl-C and started again (about 2 minutes on the clock): beside the demo, not after it.
  mochaGroup('resume', 'the demo: Ctrl-C mid-wave, npm start again (test/demo-resume)', ['test/demo-resume/**/*.test.ts']),
  mochaGroup('durability', 'crashes and restarts (test/durability), the probe on the clock', ['test/durability/**/*.test.ts', ...ON_THE_CLOCK]),
  mochaGroup('campaigns', 'the campaign, its estate and fleet workflows on the time-skipping server', CAMPAIGN_TIME_SKIPPING, [], 10),
  mochaGroup('workflows', 'restores, Blue/Green, fleet places and signed identities on the time-skipping server', TIME_SKIPPING, CAMPAIGN_TIME_SKIPPING, 10),
  mochaGroup('stack', 'CLI, accounts, moto, replay and the worker process on a dev server', LOCAL_STACK, [], 10),
  // The unit suites in two processes (the product's, the simulator's): one group of both took the longest of all
  // (about 230 s of 300), while the others left a core idle at the end.
  mochaGroup('units', 'domain, spec, activities, conformance, fuzzed inputs and the rest', ['test/**/*.test.ts'], [...WAITS_ON_REAL_TIME, ...ON_THE_CLOCK, ...TIME_SKIPPING, ...LOCAL_STACK], 15),
  mochaGroup('simulator', 'the AWS simulator (sim/test), its PostgreSQL-backed instances included', ['sim/test/**/*.test.ts'], [...WAITS_ON_REAL_TIME, ...ON_THE_CLOCK, ...TIME_SKIPPING, ...LOCAL_STACK], 15),
  npmScript('typecheck', 'tsc --noEmit', 15),
  npmScript('lint', 'eslint', 15),
];

interface Outcome {
  group: Group;
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  /** CPU the group's processes used (user + system), when this machine says (see childrenCpuMs). */
  cpuMs?: number;
  output: string;
}

/** Clock ticks per second of /proc's times (USER_HZ: 100 on Linux unless getconf says otherwise). */
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU used so far by this process's children that have ended (with the descendants each waited for): cutime +
 * cstime of /proc/self/stat. Read as each group's process is reaped, the difference is that group's CPU (two groups ending in
 * the same instant share one figure; a process a group left running is not counted). Undefined without /proc.
 */
function childrenCpuMs(): number | undefined {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[13]) + Number(fields[14]);
    return Number.isFinite(ticks) ? (ticks * 1000) / TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}
let cpuReadMs = childrenCpuMs();

const running = new Set<ReturnType<typeof spawn>>();

function run(group: Group): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(group.command, group.args, { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    if (group.nice && child.pid) {
      try {
        os.setPriority(child.pid, group.nice);
      } catch {
        // Not permitted here: the group runs at the same priority as the others.
      }
    }
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    // Read as the process is reaped ('exit'), not when its pipes close ('close', later if a descendant holds them):
    // another group reaped in between would be counted here.
    let cpuMs: number | undefined;
    child.once('exit', () => {
      const cpuNow = childrenCpuMs();
      cpuMs = cpuNow !== undefined && cpuReadMs !== undefined ? cpuNow - cpuReadMs : undefined;
      cpuReadMs = cpuNow;
    });
    const done = (code: number | null, signal: NodeJS.Signals | null, extra = '') => {
      running.delete(child);
      resolve({ group, code, signal, ms: Date.now() - started, cpuMs, output: Buffer.concat(chunks).toString() + extra });
    };
    child.once('error', (err) => done(1, null, `\ncould not start ${group.command}: ${err.message}\n`));
    child.once('close', (code, signal) => done(code, signal));
  });
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(0)} s`;
const passed = (o: Outcome) => o.code === 0;

/** Mocha's closing counts ("412 passing (2m)", "1 failing", "3 pending"). */
function counts(o: Outcome): string {
  if (!o.group.mocha) return '';
  const n = (word: string) => Number(new RegExp(`^\\s*(\\d+) ${word}\\b`, 'm').exec(o.output)?.[1] ?? 0);
  return [`${n('passing')} passing`, n('failing') ? `${n('failing')} failing` : '', n('pending') ? `${n('pending')} pending` : ''].filter(Boolean).join(', ');
}

function verdict(o: Outcome): string {
  if (passed(o)) return 'passed';
  return o.signal ? `killed by ${o.signal}` : `FAILED (exit ${o.code})`;
}

function printGroup(o: Outcome): void {
  const rule = '─'.repeat(Math.max(4, 100 - o.group.name.length - o.group.what.length));
  process.stdout.write(`\n── ${o.group.name}: ${o.group.what} ${rule}\n`);
  const body = o.output.replace(/\s+$/, '');
  if (body) process.stdout.write(`${body}\n`);
  process.stdout.write(`── ${o.group.name} ${verdict(o)} in ${seconds(o.ms)}${counts(o) ? ` (${counts(o)})` : ''}\n`);
}

/**
 * A failed group's failures again, after the summary: a CI log is often read from its end, and the group's
 * own output may lie thousands of lines above it. For mocha, its closing list of failures ("1 failing" and
 * each failure with its stack); otherwise the group's last lines.
 */
function printFailures(o: Outcome): void {
  const body = o.output.replace(/\s+$/, '');
  const at = o.group.mocha ? body.search(/^\s*\d+ failing\b/m) : -1;
  const text = at >= 0 ? body.slice(at) : body.split('\n').slice(-60).join('\n');
  process.stdout.write(`\n── ${o.group.name} ${verdict(o)}: ${at >= 0 ? 'its failures' : 'its last lines'} ${'─'.repeat(60)}\n${text}\n`);
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--list')) {
    for (const g of GROUPS) console.log(`${g.name.padEnd(11)} ${g.what}\n            ${[path.relative(ROOT, g.command) || g.command, ...g.args].join(' ')}`);
    return 0;
  }
  const unknown = argv.filter((a) => !GROUPS.some((g) => g.name === a));
  if (unknown.length) {
    console.error(`unknown group(s) ${unknown.join(', ')}: the groups are ${GROUPS.map((g) => g.name).join(', ')}`);
    return 2;
  }
  const groups = argv.length ? GROUPS.filter((g) => argv.includes(g.name)) : GROUPS;
  const started = Date.now();
  console.log(`npm test on node ${process.version}: ${groups.length} groups side by side (${groups.map((g) => g.name).join(', ')}); each group's output is printed when it ends`);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const child of running) child.kill(signal);
    });
  }
  const outcomes = await Promise.all(
    groups.map(async (g) => {
      const o = await run(g);
      printGroup(o);
      return o;
    }),
  );

  const wall = Date.now() - started;
  const failed = outcomes.filter((o) => !passed(o));
  for (const o of failed) printFailures(o);
  console.log(`\n── summary ${'─'.repeat(90)}`);
  // CPU beside the wall time: the groups share the machine's cores, so their CPU together bounds the wall time.
  const cpu = (o: Outcome) => (o.cpuMs === undefined ? '' : `CPU ${seconds(o.cpuMs)}`.padStart(10));
  for (const o of outcomes) console.log(`  ${o.group.name.padEnd(11)} ${verdict(o).padEnd(16)} ${seconds(o.ms).padStart(6)} ${cpu(o)}   ${counts(o)}`);
  const cpuMs = outcomes.every((o) => o.cpuMs !== undefined) ? outcomes.reduce((sum, o) => sum + o.cpuMs!, 0) : undefined;
  const cpuText = cpuMs === undefined ? '' : `, ${seconds(cpuMs)} of CPU on ${os.availableParallelism()} core(s)`;
  console.log(`npm test ${failed.length ? `FAILED (${failed.map((o) => o.group.name).join(', ')})` : 'passed'} in ${seconds(wall)} wall${cpuText}`);
  return failed.length ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
