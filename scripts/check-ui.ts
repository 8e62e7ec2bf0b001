/**
 * `npm run check:ui`: does the Temporal UI tell the runbook? Starts the demo's stack (simulator, dev server
 * with its Web UI, worker), a short campaign over the demo fleet (preview in its window, staging now, production
 * waiting for its approval), opens the UI's page of that workflow in headless Chromium, looks for the
 * summaries the workflows set (timers, activities, children) and the current details in the rendered page,
 * and saves a screenshot to docs/ui-campaign.png. Outside `npm test`: it needs Debian's `chromium`.
 *
 * Exit codes: 0 found; 1 the page lacks the summaries (what it found is printed); 2 no Chromium (as root it
 * installs it with apt-get; otherwise it says the command and stops).
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { campaignStatusQuery, type CampaignStatus } from '../src/api';
import { startCampaign } from '../src/client';
import { resolvedFleetWavesCampaign, fleetOfThreeWithWindows, type CampaignTimings } from '../dev/fixtures';
import { freePort } from '../dev/ports';
import { startLocalStack } from '../dev/stack';
import { PROJECT_ROOT } from '../dev/temporal-binaries';
import { nextWholeMinute } from '../dev/time';

const SCREENSHOT = path.join(PROJECT_ROOT, 'docs', 'ui-campaign.png');
const TIMINGS: CampaignTimings = {
  pollInterval: '1s',
  probe: { ratePerSecond: 5, settle: '5s', maxDuration: '10m' },
  productionNotice: '30m',
  precheckBefore: '15s',
  reminderInterval: '10m',
};
/** What the page must show: the words of the summaries and of the current details (see test/workflows/ui-metadata.test.ts). */
const EXPECTED: { what: string; re: RegExp }[] = [
  { what: 'a child workflow summary (instance and wave)', re: /notifydb-staging\S* → 15\.8: staging wave \d/ },
  { what: 'the approval wait (timer summary)', re: /approval of production by/ },
  { what: 'the current details (state)', re: /WAITING-FOR-APPROVAL/ },
];

function chromium(): string {
  for (const name of ['chromium', 'chromium-browser']) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
    if (found) return found;
  }
  if (process.getuid?.() === 0) {
    console.log('check:ui: installing chromium (apt-get install -y chromium) …');
    const r = spawnSync('apt-get', ['install', '-y', 'chromium'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status === 0) return chromium();
  }
  console.error('check:ui needs Chromium: sudo apt-get install -y chromium');
  process.exit(2);
}

/** Chromium run asynchronously: the worker lives in this process and must answer the UI's queries meanwhile. */
async function headless(browser: string, args: string[]): Promise<string> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'check-ui-'));
  try {
    const { stdout } = await promisify(execFile)(browser, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', `--user-data-dir=${profile}`, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    return stdout;
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const browser = chromium();
  const uiPort = await freePort();
  const stack = await startLocalStack({ taskQueue: 'check-ui', server: { uiPort }, simulator: { speed: 5 }, notifyLog: () => undefined });
  try {
    await stack.admin.seed(fleetOfThreeWithWindows(nextWholeMinute(30_000), { staging: 30, production: 40 }, true));
    const campaignId = `check-ui-${Date.now()}`;
    const spec = resolvedFleetWavesCampaign({ campaignId, requester: 'alice', timings: TIMINGS, noticeOverrideReason: 'check:ui: windows minutes apart', admin: stack.admin, accounts: true, approvers: ['bob', 'carol'] });
    const handle = await startCampaign(stack.client, spec, { taskQueue: stack.taskQueue });
    console.log(`check:ui: campaign ${campaignId} started; waiting for production's approval (preview's window opens within a minute) …`);
    const deadline = Date.now() + 6 * 60_000;
    let status: CampaignStatus | undefined;
    for (;;) {
      status = await handle.query(campaignStatusQuery);
      if (status.waitingFor?.kind === 'approval' || ['completed', 'failed', 'aborted'].includes(status.state)) break;
      if (Date.now() > deadline) throw new Error(`the campaign did not reach production's approval in 6 minutes: ${status.state} at ${status.currentStage}/${status.currentStep}`);
      await new Promise((r) => setTimeout(r, 2000));
    }
    console.log(`check:ui: ${status.state} at ${status.currentStage}/${status.currentStep}`);
    const url = `http://127.0.0.1:${uiPort}/namespaces/default/workflows/${encodeURIComponent(handle.workflowId)}/${handle.firstExecutionRunId}/history`;
    console.log(`check:ui: ${url}`);
    const dom = await headless(browser, ['--virtual-time-budget=20000', '--run-all-compositor-stages-before-draw', '--dump-dom', url]);
    fs.writeFileSync(path.join(os.tmpdir(), 'check-ui-dom.html'), dom);
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await headless(browser, ['--virtual-time-budget=20000', '--run-all-compositor-stages-before-draw', '--hide-scrollbars', `--screenshot=${SCREENSHOT}`, '--window-size=1400,1000', url]);
    console.log(`check:ui: screenshot ${path.relative(PROJECT_ROOT, SCREENSHOT)}; page text in ${path.join(os.tmpdir(), 'check-ui-dom.html')}`);
    const page = dom.replace(/<[^>]+>/g, ' ').replace(/&gt;/g, '>').replace(/&amp;/g, '&').replace(/\s+/g, ' ');
    const missing = EXPECTED.filter((e) => !e.re.test(page));
    for (const e of EXPECTED) console.log(`  ${missing.includes(e) ? 'MISSING' : 'found  '} ${e.what}`);
    await handle.terminate('check:ui done');
    if (missing.length) process.exitCode = 1;
  } finally {
    await stack.close();
  }
}

main().catch((err: unknown) => {
  console.error(`check:ui failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
