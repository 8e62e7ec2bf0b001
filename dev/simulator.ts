/**
 * The AWS simulator (sim/) for the local stack: started in this process or as a process of its own, and
 * the settings that point the product at it (the same variables an operator sets for real AWS).
 */
import { loadConfig, type Config } from '../src/config';
import { SimAdminClient } from '../sim';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../sim';
import type { Closers } from './closers';
import { spawnTypeScript, type ChildProcessHandle } from './processes';

/**
 * The demo's PagerDuty integration key: 32 letters and digits like a real one (the workers check the format),
 * and plainly not one. The simulator's Events API takes it, so the production window pages the simulated on-call.
 */
export const DEMO_PAGERDUTY_ROUTING_KEY = 'demo0routing0key0local0simulator';

/**
 * The environment variables that send the product's AWS, status-page and PagerDuty calls to the simulator at
 * `simUrl`; with `dnsAddress` (its DNS server), database endpoint names resolve there, as in the VPC.
 */
export function simulatorEnv(simUrl: string, dnsAddress?: string): Record<string, string> {
  return {
    ...(dnsAddress ? { ORCHESTRATOR_DATABASE_RESOLVERS: dnsAddress } : {}),
    ORCHESTRATOR_AWS_ENDPOINT: simUrl,
    STATUSPAGE_BASE_URL: `${simUrl}/statuspage/v1`,
    STATUSPAGE_API_KEY: 'local-key',
    STATUSPAGE_PAGE_ID: 'local-page',
    ORCHESTRATOR_PAGERDUTY_EVENTS_URL: `${simUrl}/v2/enqueue`,
    ORCHESTRATOR_PAGERDUTY_ROUTING_KEY: DEMO_PAGERDUTY_ROUTING_KEY,
  };
}

/** The product's Config for the simulator at `simUrl`; `env` adds or overrides variables (TEMPORAL_ADDRESS, ORCHESTRATOR_TASK_QUEUE, ...). */
export function simulatorConfig(simUrl: string, env: NodeJS.ProcessEnv = {}, dnsAddress?: string): Config {
  return loadConfig({ ...env, ...simulatorEnv(simUrl, dnsAddress) });
}

export interface LocalSimulator {
  sim: RunningSimulator;
  admin: SimAdminClient;
}

/** The simulator in this process (port 0 = a free one), closed by `closers`. */
export async function startLocalSimulator(closers: Closers, opts: SimulatorOptions = {}): Promise<LocalSimulator> {
  const sim = await startSimulator({ port: 0, ...opts });
  closers.add(() => sim.close());
  return { sim, admin: new SimAdminClient(sim.url) };
}

export interface SimulatorProcess {
  process: ChildProcessHandle;
  url: string;
  admin: SimAdminClient;
}

/** The simulator as a process of its own (`npm run sim`, state in memory), so its CPU can be measured apart; stopped by `closers`. */
export async function spawnSimulator(closers: Closers, opts: { speed: number }): Promise<SimulatorProcess> {
  const child = spawnTypeScript('simulator', 'sim/src/main.ts', ['--port', '0', '--speed', String(opts.speed)]);
  closers.add(() => child.stop());
  const [, url] = await child.waitForMatch(/listening on (http:\/\/\S+)/, 60_000);
  return { process: child, url, admin: new SimAdminClient(url) };
}
