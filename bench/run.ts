/**
 * `npm run bench -- [--sizes 100,500,1000] [--quick] [...]`: how far one worker on this machine drives a
 * fleet-sized upgrade campaign, against the AWS simulator on an embedded Temporal dev server.
 *
 * Interpretation of "N instances each going through the three-stage upgrade": the fleet is N RDS
 * instances grouped in threes (preview, staging, production of one database), so ceil(N/3) concurrent
 * `upgradeCampaign` workflows of three stages each; every instance is upgraded by its stage's method
 * (preview: maintenance window, staging: apply-now under the availability probe, production: approved
 * and announced window). Production is approved by an update from this driver.
 *
 * Processes: this process = bench driver + the worker under test (so its RSS/CPU are the worker's plus a
 * small driver); the AWS simulator is a child process (`sim/src/main.ts`, state in memory) whose CPU is
 * measured separately; the Temporal dev server is the SDK's child process. See bench/README.md.
 *
 * This file wires the parts: ./options (arguments), ./stack (the processes, bundles, worker settings),
 * ./scenarios (one measurement each, registered in ./scenarios/index.ts, all of one shape: ./scenario),
 * ./measure and ./metrics (what is measured), ./report (table and JSON, one report per shape).
 */
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { Closers } from '../dev/closers';
import { freePort } from '../dev/ports';
import { bucketOverrides } from './measure';
import { loadAverage, metricNames } from './metrics';
import { parseArgs, type BenchOptions } from './options';
import { campaignsRun, describeRdsApi, fleetCampaignExitCode, fleetCampaignRun, writeFleetCampaignResults, writeResults } from './report';
import { ScenarioResults, type ScenarioContext } from './scenario';
import { scenariosOf } from './scenarios';
import { log, startBenchStack } from './stack';

export async function benchMain(argv: string[]): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const startedAt = new Date();
  const runTag = startedAt.toISOString().slice(11, 19).replace(/:/g, '');
  const metricsPort = await freePort();
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${metricsPort}`, histogramBucketOverrides: bucketOverrides() } } },
  });
  const loadBefore = loadAverage();
  log(`bench: sizes ${opts.sizes.join(', ')}${opts.quick ? ' (quick)' : ''}; load average ${loadBefore.join(' ')} on ${os.cpus().length} cores`);

  const closers = new Closers();
  try {
    const stack = await startBenchStack(closers, { speed: opts.speed, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`, rdsThrottle: opts.rdsThrottle, rdsBudget: opts.rdsBudget });
    log(`simulator ${stack.simUrl} (pid ${stack.simPid}, speed ${opts.speed}); dev server ${stack.env.connection.options.address} (pid ${stack.serverPid}); workflow bundle built in ${stack.bundleSeconds.toFixed(1)} s`);
    log(`RDS API: ${describeRdsApi(opts)}`);

    const results = new ScenarioResults();
    const ctx = (size?: number): ScenarioContext => ({ stack, runTag, size, results });
    for (const s of scenariosOf('before-sizes', opts)) results.record(s, undefined, await s.run(ctx(), opts));
    for (const n of opts.sizes) for (const s of scenariosOf('per-size', opts)) results.record(s, n, await s.run(ctx(n), opts));
    // The worker runtime's metric families as the fleets left them (before the replay and resume workers).
    const names = metricNames(await stack.metrics.scrape()).filter((m) => /workflow_task|activity|sticky|slots/.test(m));
    for (const s of scenariosOf('after-sizes', opts)) results.record(s, undefined, await s.run(ctx(), opts));
    const loadAfter = loadAverage();

    if (opts.shape === 'campaigns') {
      const run = campaignsRun(results, { opts, startedAt, loadBefore, loadAfter, bundleSeconds: stack.bundleSeconds, metricNames: names });
      printTable(run.table);
      const file = writeResults(run);
      log(`results written to ${path.relative(process.cwd(), file)}`);
      return 0;
    }
    // `--shape fleet-campaign|both`: per size, ONE campaign of three fleet stages over the N instances (after
    // the current shape at the same size with `both`).
    const run = fleetCampaignRun(results, { opts, startedAt, loadBefore, loadAfter });
    printTable(run.table);
    const file = writeFleetCampaignResults(run);
    log(`results written to ${path.relative(process.cwd(), file)}`);
    return fleetCampaignExitCode(run.sizes);
  } finally {
    await closers.close();
  }
}

function printTable(table: string): void {
  console.log('');
  console.log(table);
  console.log('');
}

if (require.main === module) {
  benchMain(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`bench failed: ${(err as Error).stack ?? err}`);
      process.exit(1);
    },
  );
}
