/**
 * What the soak runs: a fleet in several accounts and regions (the simulator's multi-account roles, the demo
 * fleet's network and zone), one campaign of two fleet stages over it, restores with cutover of their own
 * sources and records, and the demo's restore with extract on a PostgreSQL-backed production when PostgreSQL
 * is here. Everything is started the way a person starts it: specs resolved at the client and signed by the
 * requester's SSH key (dev/people.ts), then `startCampaign`/`startRestore` (src/client).
 *
 *   stage "windows"    requires approval: every instance's window opens a few minutes ahead, in window groups of
 *                      other lengths; one approval for all, one Statuspage maintenance per group; the simulator
 *                      applies the upgrade as a window opens, with AutoMinorVersionUpgrade on for it.
 *   stage "now"        apply-now in waves, under an availability probe of each instance's application (a small
 *                      gateway here answers `/app/{instanceId}/status` from the simulator's status page of the
 *                      instance in its own account and region: a stage's probe URL names only the instance).
 *
 * The windows come first because they are fixed in time: a stage that starts late picks next week's window.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { CampaignSpec, ResolvedCampaignSpec, ResolvedRestoreSpec, RestoreSpec, StageSpec } from '../../src/api';
import { campaignWorkflowId, restoreWorkflowId, startCampaign, startRestore } from '../../src/client';
import { DAY_MS, MINUTE_MS } from '../../src/domain/duration';
import { resolveCampaignSpec, resolveRestoreSpec } from '../../src/input';
import { DEMO_ACCOUNTS, DEMO_BASTION_SECURITY_GROUP_ID, DEMO_ROLE_NAME, demoDbSecurityGroupId, demoParameterGroupName, demoSubnetGroupName, formatMaintenanceWindow, type RunningSimulator, type SeedInstance, type SeedSpec, type SimAdminClient } from '../../sim';
import { loseSomeRows, type LostRows } from '../../dev/demo-extract';
import { FROM_VERSION, TARGET_VERSION, fleetAtRest, productionExtractSpec } from '../../dev/fixtures';
import { signedBy, type Team } from '../../dev/people';
import { nextWholeMinute, sleep } from '../../dev/time';
import type { SoakProfile } from './profiles';

export const REQUESTER = 'soak-requester';
export const APPROVER = 'soak-approver';
export const OPERATOR = 'soak-operator';
/** A key nobody listed: an approval signed with it in the approver's name must be refused. */
export const OUTSIDER = 'soak-mallory';
export const ZONE_ID = 'ZDEMONOTIFY0001';
const ZONE_NAME = 'notify.internal';
/** The restores' sources, zone and bastion are in production's account, eu-west-2 (the demo fleet's network). */
const RESTORE_REGION = 'eu-west-2';
const RESTORE_ACCOUNT = DEMO_ACCOUNTS.production;
/** The TTL of the soak's records: the cutover waits for it (after lowering it to 5 s first). */
const RECORD_TTL_SECONDS = 10;

export const roleArnOf = (account: string): string => `arn:aws:iam::${account}:role/${DEMO_ROLE_NAME}`;

export type StageName = 'windows' | 'now';

export interface FleetMember {
  account: string;
  region: string;
  id: string;
  stage: StageName;
  /** The first stage's window: when it opens (ms) and how long it is. */
  windowAt?: number;
  windowMinutes?: number;
}

export interface RestorePlan {
  kind: 'cutover' | 'extract';
  restoreId: string;
  workflowId: string;
  sourceId: string;
  targetId: string;
  /** The cutover's record (cutover restores). */
  recordName?: string;
  setIdentifier?: string;
}

export interface ScenarioPlan {
  runTag: string;
  campaignId: string;
  campaignWorkflowId: string;
  fleet: FleetMember[];
  windowStarts: number[];
  restores: RestorePlan[];
  seed: SeedSpec;
}

/** A name no earlier run on the same cluster used (workflow ids must be new; the simulator starts empty). */
export function runTagOf(seed: number, now = Date.now()): string {
  return `${seed}-${now.toString(36)}`;
}

/** The fleet, the restores' sources and records, on top of the demo fleet at rest (roles, network, zone, bastion). */
export function planScenario(profile: SoakProfile, runTag: string, withExtract: boolean, now = Date.now()): ScenarioPlan {
  const f = profile.fleet;
  const places = f.accounts.flatMap((account) => f.regions.map((region) => ({ account, region })));
  // Every window opens at the same minute; the groups differ by their length (30, 45, 60 minutes ...): another
  // window, so another group and another announcement, without waiting a minute more for each.
  const windowAt = nextWholeMinute(f.windowLeadMinutes * MINUTE_MS, now);
  const windowStarts = [windowAt];
  const fleet: FleetMember[] = [];
  const member = (stage: StageName, i: number): FleetMember => {
    const place = places[i % places.length]!;
    const m: FleetMember = { ...place, id: `soak-${stage === 'windows' ? 'win' : 'now'}-${String(i + 1).padStart(3, '0')}`, stage };
    if (stage === 'windows') {
      m.windowAt = windowAt;
      m.windowMinutes = 30 + 15 * (i % f.windowGroups);
    }
    return m;
  };
  for (let i = 0; i < f.windowed; i++) fleet.push(member('windows', i));
  for (let i = 0; i < f.applyNow; i++) fleet.push(member('now', i));

  const restores: RestorePlan[] = Array.from({ length: profile.restores.cutover }, (_, k) => {
    const sourceId = `soak-src-${k + 1}`;
    const restoreId = `soak-${runTag}-cutover-${k + 1}`;
    return { kind: 'cutover', restoreId, workflowId: restoreWorkflowId(restoreId), sourceId, targetId: `${sourceId}-restored`, recordName: `db.soak-${k + 1}.${ZONE_NAME}`, setIdentifier: sourceId };
  });
  if (withExtract) {
    const restoreId = `soak-${runTag}-extract`;
    restores.push({ kind: 'extract', restoreId, workflowId: restoreWorkflowId(restoreId), sourceId: 'notifydb-production', targetId: 'notifydb-extract' });
  }

  // The demo fleet in three accounts, windows hours away (nothing of it moves by itself), production PostgreSQL-backed for the extract.
  const seed = fleetAtRest(now, true, withExtract);
  const endpointOf = (id: string) => `${id}.soak0000.${RESTORE_REGION}.rds.amazonaws.com`;
  const instances: SeedInstance[] = fleet.map((m, i) => ({
    region: m.region,
    account: m.account,
    id: m.id,
    engineVersion: FROM_VERSION,
    instanceClass: 'db.t4g.medium',
    allocatedStorage: 20 + (i % 7) * 10,
    backupRetentionPeriod: 7,
    autoMinorVersionUpgrade: false,
    // The apply-now stage's windows are days away: only the campaign upgrades them.
    preferredMaintenanceWindow: formatMaintenanceWindow(m.windowAt ?? now + 3 * DAY_MS, m.windowMinutes ?? 30),
    tags: { soak: runTag, stage: m.stage, team: 'notify' },
  }));
  for (const r of restores.filter((x) => x.kind === 'cutover')) {
    instances.push({
      region: RESTORE_REGION,
      account: RESTORE_ACCOUNT,
      id: r.sourceId,
      engineVersion: FROM_VERSION,
      instanceClass: 'db.r6g.large',
      allocatedStorage: 100,
      backupRetentionPeriod: 7,
      autoMinorVersionUpgrade: false,
      preferredMaintenanceWindow: formatMaintenanceWindow(now + 2 * DAY_MS, 30),
      dbSubnetGroupName: demoSubnetGroupName('production'),
      parameterGroupName: demoParameterGroupName('production', FROM_VERSION.split('.')[0]!),
      vpcSecurityGroupIds: [demoDbSecurityGroupId('production')],
      endpoint: { address: endpointOf(r.sourceId), port: 5432 },
      tags: { soak: runTag, stage: 'restore-source' },
    });
  }
  seed.instances = [...(seed.instances ?? []), ...instances];
  const zone = seed.hostedZones?.find((z) => z.id === ZONE_ID);
  if (!zone) throw new Error(`the demo fleet has no zone ${ZONE_ID}`);
  for (const r of restores.filter((x) => x.kind === 'cutover')) {
    zone.records = [...(zone.records ?? []), { name: r.recordName!, type: 'CNAME', ttl: RECORD_TTL_SECONDS, setIdentifier: r.setIdentifier!, weight: 100, values: [endpointOf(r.sourceId)] }];
  }
  const campaignId = `soak-${runTag}`;
  return { runTag, campaignId, campaignWorkflowId: campaignWorkflowId(campaignId), fleet, windowStarts, restores, seed };
}

/** The campaign as a person writes it: two fleet stages selecting the soak's instances by tag in every account and region. */
export function campaignSpec(profile: SoakProfile, plan: ScenarioPlan, probeUrl: string): CampaignSpec {
  const f = profile.fleet;
  const from = f.accounts.flatMap((account) => f.regions.map((region) => ({ region, aws: { roleArn: roleArnOf(account) } })));
  const select = (stage: StageName) => ({ tags: { soak: plan.runTag, stage }, from });
  const stages: StageSpec[] = [
    {
      name: 'windows',
      region: f.regions[0]!,
      requiresApproval: true,
      select: select('windows'),
      method: 'maintenance-window',
      notice: { minimum: profile.timings.notice, overrideReason: 'SOAK TEST ONLY: windows minutes ahead' },
      precheckBefore: profile.timings.precheckBefore,
      grace: '2m',
    },
    {
      name: 'now',
      region: f.regions[0]!,
      select: select('now'),
      waves: { maxConcurrent: f.maxConcurrent },
      method: 'apply-now',
      probe: { url: probeUrl, ratePerSecond: 1, requestTimeoutMs: 1000, settle: '2s', maxDuration: '10m' },
      // A killed worker's probe resumes after its heartbeat timeout and counts the unprobed minute as outage.
      downtimeThreshold: '10m',
    },
  ];
  return {
    campaignId: plan.campaignId,
    targetEngineVersion: TARGET_VERSION,
    requester: REQUESTER,
    stages,
    approval: { approvers: [APPROVER], reminderInterval: '10m' },
    pollInterval: profile.timings.pollInterval,
  };
}

export function cutoverRestoreSpec(profile: SoakProfile, r: RestorePlan): RestoreSpec {
  const aws = { roleArn: roleArnOf(RESTORE_ACCOUNT) };
  return {
    restoreId: r.restoreId,
    requester: REQUESTER,
    source: { region: RESTORE_REGION, instanceId: r.sourceId, aws },
    targetInstanceId: r.targetId,
    restoreTime: 'latest',
    bastion: { securityGroupId: DEMO_BASTION_SECURITY_GROUP_ID, port: 5432, aws },
    cutover: { hostedZoneId: ZONE_ID, recordName: r.recordName!, setIdentifier: r.setIdentifier!, weight: 100, ttlSeconds: RECORD_TTL_SECONDS, lowerTtlFirstTo: 5, approvers: [APPROVER], aws },
    pollInterval: profile.timings.restorePollInterval,
  };
}

export interface Started {
  workflowId: string;
  kind: 'campaign' | 'cutover' | 'extract';
  id: string;
  startedAt: number;
}

/**
 * Starts as a person does when the cluster is restarting: again until it answers (two minutes at most). A start
 * whose answer was lost is found by its id on the next try (already started: it is there).
 */
async function startPatiently(workflowId: string, start: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await start();
      return;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return;
      if (Date.now() > deadline) throw new Error(`could not start ${workflowId}: ${(err as Error).message}`);
      await sleep(2000);
    }
  }
}

export async function startSignedCampaign(client: Client, team: Team, spec: CampaignSpec, taskQueue: string): Promise<Started> {
  const resolved: ResolvedCampaignSpec = resolveCampaignSpec(spec);
  const signed = await signedBy(team, 'campaign', resolved.campaignId, resolved);
  const workflowId = campaignWorkflowId(resolved.campaignId);
  await startPatiently(workflowId, () => startCampaign(client, signed, { taskQueue }));
  return { workflowId, kind: 'campaign', id: resolved.campaignId, startedAt: Date.now() };
}

export async function startSignedRestore(client: Client, team: Team, spec: RestoreSpec, kind: 'cutover' | 'extract', taskQueue: string): Promise<Started> {
  const resolved: ResolvedRestoreSpec = resolveRestoreSpec(spec);
  const signed = await signedBy(team, 'restore', resolved.restoreId, resolved);
  const workflowId = restoreWorkflowId(resolved.restoreId);
  await startPatiently(workflowId, () => startRestore(client, signed, { taskQueue }));
  return { workflowId, kind, id: resolved.restoreId, startedAt: Date.now() };
}

/**
 * The data-loss scene of the demo on the PostgreSQL-backed production: rows written, some lost, the WAL archived;
 * then the extract's spec, to just before the loss.
 */
export async function prepareExtract(sim: RunningSimulator, r: RestorePlan, profile: SoakProfile, directory: string, log: (line: string) => void): Promise<{ spec: RestoreSpec; lost: LostRows }> {
  const lost = await loseSomeRows(sim, true, (l) => log(`extract: ${l.trim()}`));
  fs.mkdirSync(directory, { recursive: true });
  const spec = productionExtractSpec({
    restoreId: r.restoreId,
    requester: REQUESTER,
    targetInstanceId: r.targetId,
    pollInterval: profile.timings.restorePollInterval,
    restoreTime: lost.restoreTime,
    directory: path.resolve(directory),
    accounts: true,
    approvers: [APPROVER],
  });
  return { spec, lost };
}

/**
 * The applications' status pages behind one URL: `/app/{instanceId}/status` answers what the simulator's page of
 * that instance answers, in the instance's own account and region (the stage's probe URL names only the instance).
 */
export async function startProbeGateway(admin: SimAdminClient, fleet: FleetMember[]): Promise<{ url: string; close(): Promise<void> }> {
  const byId = new Map(fleet.map((m) => [m.id, m]));
  const server = http.createServer((req, res) => {
    const m = /^\/app\/([^/]+)\/status$/.exec(req.url ?? '');
    const member = m ? byId.get(decodeURIComponent(m[1]!)) : undefined;
    if (!member) {
      res.writeHead(404).end('{"error":"no such instance"}');
      return;
    }
    fetch(admin.appStatusUrl(member.region, member.id, member.account), { signal: AbortSignal.timeout(5000) })
      .then(async (r) => res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text()))
      .catch((err: Error) => res.writeHead(502).end(JSON.stringify({ error: err.message })));
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/app/{instanceId}/status`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
