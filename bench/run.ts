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
 * ./scenarios/* (one measurement each: idle, fleet, baseline, replay, resume), ./measure and ./metrics
 * (what is measured), ./report (table and JSON).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { Closers } from '../dev/closers';
import { freePort } from '../dev/ports';
import { bucketOverrides, costPerWorkflow, type History } from './measure';
import { loadAverage, metricNames } from './metrics';
import { parseArgs, type BenchOptions } from './options';
import { describeRdsApi, render, writeResults, type SizeReport } from './report';
import { runBaseline } from './scenarios/baseline';
import { runFleet } from './scenarios/fleet';
import { renderFleetCampaign, runFleetCampaign, type FleetCampaignResult } from './scenarios/fleet-campaign';
import { runIdle } from './scenarios/idle';
import { runReplay } from './scenarios/replay';
import { runResume } from './scenarios/resume';
import { log, startBenchStack, WORKER_SETTINGS } from './stack';

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
    const h = await startBenchStack(closers, { speed: opts.speed, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`, rdsThrottle: opts.rdsThrottle, rdsBudget: opts.rdsBudget });
    log(`simulator ${h.simUrl} (pid ${h.simPid}, speed ${opts.speed}); dev server ${h.env.connection.options.address} (pid ${h.serverPid}); workflow bundle built in ${h.bundleSeconds.toFixed(1)} s`);
    log(`RDS API: ${describeRdsApi(opts)}`);

    const idle = await runIdle(h, opts.quick ? 10 : 20, runTag);
    if (opts.shape !== 'campaigns') return await fleetCampaignShape(h, opts, idle, runTag, startedAt, loadBefore);
    const sizes: SizeReport[] = [];
    let recorded: History | undefined;
    let recordedBaseline: History | undefined;
    for (const n of opts.sizes) {
      const { result, sampleHistory } = await runFleet(h, n, opts, runTag);
      recorded = sampleHistory;
      const report: SizeReport = { n, fleet: result };
      if (opts.baseline) {
        const b = await runBaseline(h, n, result, runTag);
        report.baseline = b.result;
        recordedBaseline = b.sampleHistory;
      }
      sizes.push(report);
    }
    const names = metricNames(await h.metrics.scrape()).filter((m) => /workflow_task|activity|sticky|slots/.test(m));
    const replay = opts.replay && recorded ? await runReplay(recorded, opts.replays, h.campaignBundle) : undefined;
    // The same measurement for a baseline history of the same shape: the floor set by the SDK itself.
    const replayBaseline = opts.replay && recordedBaseline ? await runReplay(recordedBaseline, opts.replays, h.baselineBundle) : undefined;
    const resume = opts.resume ? await runResume(h, opts.resumeCampaigns, opts, runTag) : undefined;

    const loadAfter = loadAverage();
    const table = render(sizes, idle, replay, replayBaseline, resume, opts);
    console.log('');
    console.log(table);
    console.log('');
    const file = writeResults({ opts, startedAt, loadBefore, loadAfter, bundleSeconds: h.bundleSeconds, sizes, idle, replay, replayBaseline, resume, metricNames: names, table });
    log(`results written to ${path.relative(process.cwd(), file)}`);
    return 0;
  } finally {
    await closers.close();
  }
}

/**
 * `--shape fleet-campaign|both`: per size, ONE campaign of three fleet stages over the N instances (after the
 * current shape at the same size with `both`); table and JSON `<date>-fleet-campaign-<sizes>.json`.
 */
async function fleetCampaignShape(h: Awaited<ReturnType<typeof startBenchStack>>, opts: BenchOptions, idle: Awaited<ReturnType<typeof runIdle>>, runTag: string, startedAt: Date, loadBefore: number[]): Promise<number> {
  const results: FleetCampaignResult[] = [];
  const current: SizeReport[] = [];
  const compare: Parameters<typeof renderFleetCampaign>[1] = [];
  for (const n of opts.sizes) {
    if (opts.shape === 'both') {
      const { result } = await runFleet(h, n, opts, runTag);
      current.push({ n, fleet: result });
      compare.push({
        n,
        cpuPerCampaignMs: costPerWorkflow(result, result.campaigns) * 1000,
        cpuPerCampaignMinusIdleMs: costPerWorkflow(result, result.campaigns, idle) * 1000,
        wallSeconds: result.wallSeconds,
        historyP50: result.historyEvents.p50,
        source: 'this run',
      });
    }
    const { result } = await runFleetCampaign(h, n, opts, runTag, idle);
    results.push(result);
  }
  const loadAfter = loadAverage();
  let table = renderFleetCampaign(results, compare);
  if (current.length) table += `\n\nCurrent shape (ceil(N/3) campaigns), same run:\n${render(current, idle, undefined, undefined, undefined, opts)}`;
  console.log('');
  console.log(table);
  console.log('');
  fs.mkdirSync(opts.outDir, { recursive: true });
  const file = path.join(opts.outDir, `${startedAt.toISOString().slice(0, 10)}-fleet-campaign-${opts.sizes.join('-')}.json`);
  const doc = {
    startedAt: startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10, node: process.version, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter, shared: 'other sessions were working on the same machine: see resources.otherCpuSeconds and machineBusyPercent' },
    shape: opts.shape,
    interpretation:
      'N instances tagged environment=preview|staging|production (thirds), upgraded by ONE upgradeCampaign of three fleet stages selecting them by tag, each instance in an upgradeFleetInstance child workflow: preview in maintenance windows (waves of <= 100 by a wave tag, one compressed window per wave), staging apply-now under the availability probe (waves of --staging-concurrency), production after one approval of the whole plan (update naming status.waitingFor.plan), one window group, one announcement.',
    settings: {
      simulatorSpeed: opts.speed,
      pollInterval: opts.pollInterval,
      probe: '1 GET/s per instance, settle 2s, stop check every 5s (activity default)',
      productionNotice: 'pre-check + 20 s (bench override; the spec needs notice > precheckBefore)',
      worker: WORKER_SETTINGS,
      rdsApi: { simulatorBucket: opts.rdsThrottle ?? null, workerBudgetPerSecond: opts.rdsBudget ?? null, describe: describeRdsApi(opts) },
      stagingConcurrency: opts.stagingConcurrency,
      childHistories: opts.childHistories,
    },
    idleStack: idle,
    sizes: results,
    currentShape: current.length ? current : undefined,
    table,
  };
  fs.writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  log(`results written to ${path.relative(process.cwd(), file)}`);
  return results.every((r) => r.failedInstances === 0 && r.campaignState === 'completed') ? 0 : 1;
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
