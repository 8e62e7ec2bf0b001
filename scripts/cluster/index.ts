/**
 * `npm run cluster -- up [--no-ui] | down [--wipe] | status [--json]`: the production topology on this
 * machine (PostgreSQL 15, Temporal server 1.32.2 on it, the Temporal UI server), see ./cluster.ts and
 * README "Running it for real".
 */
import { down, status, up, type ClusterStatus } from './cluster';
import { ClusterError, say } from './layout';

const USAGE = 'usage: npm run cluster -- up [--no-ui] | down [--wipe] | status [--json]';

function printStatus(s: ClusterStatus): void {
  const line = (name: string, st: { running: boolean; pid?: number }, where?: string) =>
    console.log(`  ${name.padEnd(10)} ${st.running ? `running  pid ${String(st.pid).padEnd(8)}` : 'stopped              '} ${where ?? ''}`);
  console.log(`cluster in ${s.dir} (built: temporal server ${s.built.temporal ? 'yes' : 'no'}, ui server ${s.built.ui ? 'yes' : 'no'})`);
  line('postgres', s.postgres, s.postgres.address);
  line('temporal', s.temporal, s.temporal.address && `${s.temporal.address}  (server metrics ${s.temporal.metrics})`);
  line('ui', s.ui, s.ui.url);
  if (s.temporal.running) {
    console.log(`\n  export TEMPORAL_ADDRESS=${s.temporalAddress}`);
    console.log(`  logs: ${s.temporal.log}, ${s.ui.log}${s.postgres.log ? `, ${s.postgres.log}` : ''}`);
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(argv: string[]): Promise<number> {
  const [command, ...flags] = argv;
  const unknown = flags.filter((f) => !['--no-ui', '--wipe', '--json'].includes(f));
  if (unknown.length) {
    console.error(`unknown option ${unknown.join(' ')}\n${USAGE}`);
    return 2;
  }
  switch (command) {
    case 'up': {
      const report = await up({ ui: !flags.includes('--no-ui') });
      say(`up in ${seconds(report.totalMs)}${report.buildMs > 1000 ? ` (of which the one-time build ${seconds(report.buildMs)})` : ''}; started: ${report.started.join(', ') || 'nothing (all running)'}`);
      printStatus(report.status);
      return 0;
    }
    case 'down': {
      const stopped = await down({ wipe: flags.includes('--wipe') });
      say(`stopped: ${stopped.join(', ') || 'nothing was running'}${flags.includes('--wipe') ? '; data wiped' : '; data kept (--wipe deletes it)'}`);
      return 0;
    }
    case 'status': {
      const s = status();
      if (flags.includes('--json')) console.log(JSON.stringify(s, null, 2));
      else printStatus(s);
      return 0;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof ClusterError ? `cluster: ${err.message}` : err);
    process.exit(1);
  },
);
