/**
 * Restarts of the cluster's own processes for the chaos driver, run as a process of their own so that the
 * scripts/cluster helpers (which wait synchronously for the server and PostgreSQL) never stall the soak's
 * process, where the simulator answers the workers:
 *
 *   ts-node scripts/soak/infra.ts temporal <downMs>   SIGKILL the Temporal server, wait, start it, wait until it serves
 *   ts-node scripts/soak/infra.ts postgres <downMs>   stop PostgreSQL (pg_ctl -m fast), wait, start it again
 *
 * Prints a JSON line when it has stopped the process ({"event":"stopped","at"}) and one when it serves again
 * ({"event":"back","at","backMs"}: backMs from the stop until serving again).
 */
import { readState } from '../cluster/layout';
import { startTemporalServer, stopTemporalServer } from '../cluster/cluster';
import { postgresBinDir, startPostgres, stopPostgres } from '../cluster/postgres';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(what: string | undefined, downText: string | undefined): Promise<void> {
  const downMs = Number(downText);
  if (!(downMs >= 0)) throw new Error('usage: infra.ts temporal|postgres <downMs>');
  let t0 = Date.now();
  const stopped = () => {
    t0 = Date.now();
    console.log(JSON.stringify({ event: 'stopped', at: t0 }));
  };
  if (what === 'temporal') {
    await stopTemporalServer('SIGKILL');
    stopped();
    await sleep(downMs);
    await startTemporalServer();
  } else if (what === 'postgres') {
    const state = readState();
    const bin = postgresBinDir();
    if (!state || !bin) throw new Error('no cluster state or PostgreSQL binaries: npm run cluster -- up');
    stopPostgres(bin, state.postgresDataDir);
    stopped();
    await sleep(downMs);
    startPostgres(bin, state.postgresDataDir, state.ports.postgres);
  } else {
    throw new Error(`unknown target ${what}: temporal or postgres`);
  }
  console.log(JSON.stringify({ event: 'back', at: Date.now(), backMs: Date.now() - t0 }));
}

main(process.argv[2], process.argv[3]).then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`infra: ${err.message}`);
    process.exit(1);
  },
);
