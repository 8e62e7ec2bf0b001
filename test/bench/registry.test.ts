/**
 * The bench's scenarios are registered once each, with one signature, and the command line picks them:
 * no Temporal server and no simulator here (nothing is run but the parts that decide what would run).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, USAGE, type BenchOptions } from '../../bench/options';
import { PHASES, ScenarioResults, sizeOf, type BenchScenario, type ScenarioContext } from '../../bench/scenario';
import { SCENARIOS, scenariosOf, selectScenarios } from '../../bench/scenarios';
import { scenario as baseline } from '../../bench/scenarios/baseline';
import { scenario as fleet } from '../../bench/scenarios/fleet';
import { scenario as fleetCampaign } from '../../bench/scenarios/fleet-campaign';
import { scenario as replay } from '../../bench/scenarios/replay';
import type { BenchStack } from '../../bench/stack';
import { fleetResult } from './fixtures';

const SCENARIOS_DIR = path.resolve(__dirname, '../../bench/scenarios');
const names = (scenarios: readonly BenchScenario[]) => scenarios.map((s) => s.name);

/** A context whose stack throws on any use: a scenario that reaches it would start something. */
function offlineContext(size?: number, results = new ScenarioResults()): ScenarioContext {
  const stack = new Proxy({} as BenchStack, {
    get: (_, key) => {
      throw new Error(`the scenario touched the stack (${String(key)}) before checking what it needs`);
    },
  });
  return { stack, runTag: '120000', size, results };
}

function refusal(argv: string[]): string {
  try {
    parseArgs(argv);
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail(`parseArgs accepted ${argv.join(' ')}`);
}

describe('bench: the scenario registry', function () {
  it('lists every scenario of bench/scenarios/ once, each exported as `scenario`', function () {
    const files = fs.readdirSync(SCENARIOS_DIR).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
    assert.ok(files.length >= 6, `expected the six scenarios, found ${files.join(', ')}`);
    for (const file of files) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- each file of the folder, by name
      const mod = require(path.join(SCENARIOS_DIR, file)) as { scenario?: BenchScenario };
      assert.ok(mod.scenario, `bench/scenarios/${file} exports no \`scenario\``);
      assert.equal(SCENARIOS.filter((s) => s === mod.scenario).length, 1, `bench/scenarios/${file}'s scenario is not registered exactly once`);
      assert.equal(`${mod.scenario.name}.ts`, file, 'a scenario is named after its file');
    }
    assert.equal(SCENARIOS.length, files.length, 'the registry holds a scenario that has no file of its own');
  });

  it('gives each scenario a unique kebab-case name, a description and a phase', function () {
    assert.deepEqual(names(SCENARIOS).sort(), ['baseline', 'fleet', 'fleet-campaign', 'idle', 'replay', 'resume']);
    for (const s of SCENARIOS) {
      assert.match(s.name, /^[a-z]+(-[a-z]+)*$/);
      assert.ok(s.describe.length >= 40 && s.describe.endsWith('.'), `${s.name}: describe it in one sentence`);
      assert.ok(PHASES.includes(s.phase), `${s.name}: unknown phase ${s.phase}`);
      assert.equal(typeof s.run, 'function');
      assert.equal(typeof s.selected, 'function');
    }
  });

  it('registers a scenario after the scenarios whose results it reads', function () {
    const at = (s: BenchScenario) => PHASES.indexOf(s.phase) * 100 + SCENARIOS.indexOf(s);
    const reads: [BenchScenario, string[]][] = [
      [baseline, ['fleet']],
      [fleetCampaign, ['idle']],
      [replay, ['fleet', 'baseline']],
    ];
    for (const [reader, needs] of reads) {
      for (const name of needs) {
        const needed = SCENARIOS.find((s) => s.name === name)!;
        assert.ok(at(needed) < at(reader), `${reader.name} reads ${name}'s result, so ${name} must run first`);
      }
    }
  });
});

describe('bench: options pick the scenarios', function () {
  const picked = (...argv: string[]) => names(selectScenarios(parseArgs(argv)));

  it('runs idle, then per size the fleet and its baseline, then replay and resume by default', function () {
    assert.deepEqual(picked(), ['idle', 'fleet', 'baseline', 'replay', 'resume']);
    assert.deepEqual(names(scenariosOf('per-size', parseArgs([]))), ['fleet', 'baseline']);
    assert.deepEqual(names(scenariosOf('after-sizes', parseArgs([]))), ['replay', 'resume']);
  });

  it('leaves out what --no-baseline, --no-replay and --no-resume name', function () {
    assert.deepEqual(picked('--no-baseline'), ['idle', 'fleet', 'replay', 'resume']);
    assert.deepEqual(picked('--no-replay', '--no-resume'), ['idle', 'fleet', 'baseline']);
    assert.deepEqual(picked('--no-baseline', '--no-replay', '--no-resume'), ['idle', 'fleet']);
  });

  it('runs the one fleet campaign alone with --shape fleet-campaign, after the current shape with --shape both', function () {
    assert.deepEqual(picked('--shape', 'fleet-campaign'), ['idle', 'fleet-campaign']);
    assert.deepEqual(picked('--shape', 'both'), ['idle', 'fleet', 'fleet-campaign']);
    // the campaigns shape's other phases never run beside the fleet campaign
    assert.deepEqual(picked('--shape', 'both', '--no-baseline'), ['idle', 'fleet', 'fleet-campaign']);
  });

  it('refuses an unknown shape, naming the shapes there are', function () {
    const message = refusal(['--shape', 'fleets']);
    assert.match(message, /^--shape fleets: expected campaigns, fleet-campaign or both\n/);
    assert.ok(message.endsWith(USAGE), 'the usage follows the reason');
  });

  it('refuses an unknown argument, a missing value and a size below one group', function () {
    assert.match(refusal(['--scenario', 'fleet']), /^unknown argument --scenario\nusage: /);
    assert.match(refusal(['--sizes']), /^--sizes needs a value\n/);
    assert.match(refusal(['--sizes', '100,2']), /^--sizes 2: expected an integer >= 3\n/);
    assert.match(refusal(['--staging-concurrency', '101']), /at most 100/);
    assert.match(refusal(['--rds-budget', '0']), /expected requests per second > 0, or off/);
  });

  it('keeps the defaults and the shortcuts of the command line', function () {
    const d: BenchOptions = parseArgs([]);
    assert.deepEqual([d.sizes, d.shape, d.replays, d.resumeCampaigns, d.stagingConcurrency, d.childHistories], [[100, 500, 1000], 'campaigns', 50, 10, 50, 'all']);
    const quick = parseArgs(['--quick']);
    assert.deepEqual([quick.sizes, quick.replays, quick.resumeCampaigns], [[30], 10, 3]);
    assert.deepEqual(parseArgs(['--quick', '--sizes', '60']).sizes, [60]);
    // the worker's budget defaults to the simulator's sustained rate when it throttles
    assert.equal(parseArgs(['--rds-throttle', '300/12']).rdsBudget, 12);
    assert.equal(parseArgs(['--rds-throttle', '300/12', '--rds-budget', 'off']).rdsBudget, undefined);
    assert.equal(parseArgs(['--child-histories', '5']).childHistories, 5);
    // the replay phase writes its two histories only when asked, into the folder given
    assert.equal(d.keepHistories, undefined);
    assert.equal(parseArgs(['--keep-histories', 'out/histories']).keepHistories, path.resolve('out/histories'));
    assert.match(USAGE, /--keep-histories DIR/);
  });
});

describe('bench: the driver keeps each scenario\'s results', function () {
  it('keeps a per-size result under its size, in the order of the sizes', function () {
    const results = new ScenarioResults();
    const a = fleetResult({ campaigns: 10 });
    const b = fleetResult({ campaigns: 2 });
    results.record(fleet, 30, { result: a, sampleHistory: {} });
    results.record(fleet, 6, { result: b, sampleHistory: {} });
    assert.deepEqual(results.perSize(fleet).map((r) => [r.n, r.result.result.campaigns]), [[30, 10], [6, 2]]);
    assert.equal(results.of(fleet, 6)?.result, b);
    assert.equal(results.of(fleet, 100), undefined);
    assert.equal(results.of(baseline, 30), undefined);
  });

  it('refuses to keep a scenario\'s result twice for one size', function () {
    const results = new ScenarioResults();
    results.record(fleet, 30, { result: fleetResult(), sampleHistory: {} });
    assert.throws(() => results.record(fleet, 30, { result: fleetResult(), sampleHistory: {} }), /scenario fleet N=30 ran twice/);
  });

  it('says which scenario is missing when one needs a result that is not there', async function () {
    await assert.rejects(baseline.run(offlineContext(30), parseArgs([])), /scenario fleet N=30 has not run: a scenario that needs it must come after it/);
    await assert.rejects(fleetCampaign.run(offlineContext(30), parseArgs(['--shape', 'fleet-campaign'])), /scenario idle has not run/);
  });

  it('gives a per-size scenario its size, and refuses to run one without', async function () {
    assert.equal(sizeOf(offlineContext(30), fleet), 30);
    assert.throws(() => sizeOf(offlineContext(), fleet), /scenario fleet runs once per size, but the driver gave it no size/);
    await assert.rejects(fleet.run(offlineContext(), parseArgs([])), /runs once per size/);
  });

  it('replays nothing when no history was recorded (every size failed, or --no-baseline)', async function () {
    assert.deepEqual(await replay.run(offlineContext(), parseArgs([])), { campaign: undefined, baseline: undefined });
  });
});
