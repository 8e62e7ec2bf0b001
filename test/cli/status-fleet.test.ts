/**
 * `campaign status` with fleet stages, on hand-built statuses (no workflow runs here): a thousand instances
 * read as counts, waves, window groups and the failed and running ones; `--all` lists them all; `--instance`
 * finds an instance and shows its own workflow's timeline, or says why it has none yet.
 */
import assert from 'node:assert/strict';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { CampaignStatus, FleetInstanceReport, FleetInstanceState, StageReport, TimelineEntry } from '../../src/api';
import { runCli } from '../../src/cli';
import { findFleetInstance, noWorkflowYet } from '../../src/cli/fleet-instance';
import { formatCampaignStatus, formatFleetInstanceStatus } from '../../src/cli/format';
import { CliError } from '../../src/cli/io';
import { campaignWorkflowId } from '../../src/client';
import { countStates } from '../../src/domain/fleet';
import { statusAnswer } from '../../src/domain/fleet-status';

const PARENT = campaignWorkflowId('pg-fleet');
const childId = (stage: string, region: string, id: string) => `${PARENT}/${stage}/${region}/${id}`;

function instance(stage: string, n: number, state: FleetInstanceState, wave: number, extra: Partial<FleetInstanceReport> = {}): FleetInstanceReport {
  const instanceId = `${stage === 'staging' ? 'stg' : 'prod'}-${String(n).padStart(4, '0')}`;
  return { region: 'eu-west-2', instanceId, wave, state, fromVersion: '15.5', workflowId: childId(stage, 'eu-west-2', instanceId), ...extra };
}

/** Staging: 1000 instances, two at a time; wave 452 of 500 is running. */
function stagingStage(): StageReport {
  const instances: FleetInstanceReport[] = [];
  for (let n = 1; n <= 1000; n++) {
    const wave = Math.ceil(n / 2);
    let state: FleetInstanceState = wave < 452 ? 'completed' : wave === 452 ? 'running' : 'pending';
    let extra: Partial<FleetInstanceReport> = {};
    if (n === 17 || n === 402 || n === 777) {
      state = 'failed';
      extra = { note: `${n === 777 ? 'over 60s of measured downtime (83s)' : 'the health check failed'}: continue or abort?`, downtimeSeconds: n === 777 ? 83 : undefined };
    }
    if (n === 1000) extra = { note: undefined };
    instances.push(instance('staging', n, state, wave, extra));
  }
  // One instance at the target was skipped at preflight: no wave, no workflow.
  instances.push({ ...instance('staging', 1001, 'skipped', 0), fromVersion: '15.8', note: 'already at 15.8' });
  return {
    name: 'staging',
    region: 'eu-west-2',
    instanceId: '',
    method: 'apply-now',
    toVersion: '15.8',
    status: 'running',
    step: 'wave-started',
    missedWindows: 0,
    fleet: {
      selection: 'tags environment=staging, team=notify; postgres; in eu-west-2',
      order: 'smallest-first',
      maxConcurrent: 2,
      failureThreshold: 5,
      waves: 500,
      currentWave: 452,
      counts: countStates(instances),
      instances,
    },
  };
}

/** Production: three instances in two windows, one flagged, waiting for the approval. */
function productionStage(): StageReport {
  const w1 = { start: '2025-03-18T02:00:00.000Z', end: '2025-03-18T02:30:00.000Z' };
  const w2 = { start: '2025-03-27T04:00:00.000Z', end: '2025-03-27T04:30:00.000Z' };
  const instances = [
    instance('production', 1, 'pending', 1, { window: w1 }),
    instance('production', 2, 'pending', 1, { window: w1 }),
    instance('production', 3, 'pending', 2, { window: w2, flags: ['window 2025-03-20T04:00:00.000Z skipped: overlaps blackout "release freeze" (2025-03-19T00:00:00.000Z to 2025-03-21T00:00:00.000Z)'] }),
  ];
  return {
    name: 'production',
    region: 'eu-west-2',
    instanceId: '',
    method: 'maintenance-window',
    toVersion: '15.8',
    status: 'pending',
    missedWindows: 0,
    fleet: {
      selection: 'tags environment=production, team=notify; postgres; in eu-west-2',
      order: 'smallest-first',
      failureThreshold: 1,
      waves: 0,
      counts: countStates(instances),
      instances,
      windowGroups: [
        { ...w1, instances: 2, statusPageIncidentId: 'inc-0001' },
        { ...w2, instances: 1 },
      ],
    },
  };
}

function campaignStatus(stages: StageReport[] = [stagingStage(), productionStage()]): CampaignStatus {
  const timeline: TimelineEntry[] = [];
  for (let n = 0; n < 30; n++) timeline.push({ at: `2025-03-03T12:${String(n).padStart(2, '0')}:00.000Z`, stage: 'staging', step: 'wave-ended', detail: `wave ${422 + n}/500` });
  return {
    campaignId: 'pg-fleet',
    targetEngineVersion: '15.8',
    requester: 'alice',
    state: 'running',
    currentStage: 'staging',
    currentStep: 'wave-started',
    stages,
    approvals: [],
    followUps: [],
    timeline,
    humanActions: [],
    changes: [],
    identity: { mode: 'unverified', runId: 'run-1', namespace: 'rds-orchestrator' },
    startedAt: '2025-03-03T10:00:00.000Z',
  };
}

/** The status of one instance's workflow (what its campaignStatusQuery answers). */
function childStatus(i: FleetInstanceReport): CampaignStatus {
  const timeline: TimelineEntry[] = [
    { at: '2025-03-03T12:40:00.000Z', stage: 'staging', step: 'instance-started', detail: `wave ${i.wave} of ${PARENT}` },
    { at: '2025-03-03T12:40:01.000Z', stage: 'staging', step: 'stage-started', detail: `${i.instanceId} 15.5 → 15.8 (apply-now)` },
  ];
  for (let n = 0; n < 12; n++) timeline.push({ at: `2025-03-03T12:41:${String(n).padStart(2, '0')}.000Z`, stage: 'staging', step: 'probe', detail: `sample ${n + 1}` });
  timeline.push({ at: '2025-03-03T12:45:00.000Z', stage: 'staging', step: 'instance-failed', detail: i.note });
  return {
    ...campaignStatus([{ name: 'staging', region: i.region, instanceId: i.instanceId, method: 'apply-now', toVersion: '15.8', fromVersion: '15.5', status: 'failed', downtimeSeconds: 83, missedWindows: 0 }]),
    state: 'failed',
    currentStep: 'instance-failed',
    failure: i.note,
    timeline,
    endedAt: '2025-03-03T12:45:00.000Z',
  };
}

/** The CLI run against a stand-in client whose workflows answer every query with `answer(workflowId, request)`. */
function cliWith(answer: (workflowId: string, req?: unknown) => Promise<unknown>) {
  const client = { workflow: { getHandle: (workflowId: string) => ({ workflowId, query: (_query: unknown, req?: unknown) => answer(workflowId, req) }) } } as unknown as Client;
  return async (...args: string[]): Promise<{ code: number; out: string; err: string }> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l), client });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
}

describe('campaign status: fleet stages', function () {
  it('a thousand instances read as counts, waves, window groups, and the failed, running and flagged ones', function () {
    const status = campaignStatus();
    const text = formatCampaignStatus(status, Date.parse('2025-03-03T13:00:00Z'));
    const lines = text.split('\n');
    assert.ok(lines.length < 70, `${lines.length} lines:\n${text}`);
    assert.match(text, /staging +fleet: 1001 instance\(s\) +15\.5,15\.8 +15\.8 +running +wave-started/);
    assert.match(text, /production +fleet: 3 instance\(s\) +15\.5 +15\.8 +pending +Tue 2025-03-18 02:00–02:30 UTC \+1/);
    assert.match(text, /\[staging\] fleet: tags environment=staging, team=notify; postgres; in eu-west-2\n {2}up to 2 at a time, smallest-first; stops and asks after 5 failed instance\(s\)/);
    assert.match(text, /instances: 1001: 96 pending, 2 running, 899 completed, 3 failed, 1 skipped/);
    assert.match(text, /waves: +452\/500/);
    assert.match(text, /FAILED \(3\):\n.*WAVE +INSTANCE +FROM +STATE +WINDOW +DOWNTIME +NOTE\n +9 +eu-west-2\/stg-0017 +15\.5 +failed +the health check failed: continue or abort\?/);
    assert.match(text, /389 +eu-west-2\/stg-0777 +15\.5 +failed +83s +over 60s of measured downtime/);
    assert.match(text, /running \(2\):\n.*\n +452 +eu-west-2\/stg-0903 +15\.5 +running\n +452 +eu-west-2\/stg-0904 +15\.5 +running/);
    assert.doesNotMatch(text, /stg-0905|stg-0001 /, 'no pending or completed instance listed');
    assert.match(text, /\(campaign status pg-fleet --all lists all 1001; --instance ID shows one instance's timeline\)/);

    assert.match(text, /\[production\] fleet: .*\n {2}one wave per window group, smallest-first; stops and asks after 1 failed instance\(s\)/);
    assert.match(text, /waves: +0\/2/);
    assert.match(text, /wave 1 +Tue 2025-03-18 02:00–02:30 UTC \(prod-0001, prod-0002\) {2}status page inc-0001 {2}\(2 pending\)/);
    assert.match(text, /wave 2 +Thu 2025-03-27 04:00–04:30 UTC \(prod-0003\) {2}not announced {2}\(1 pending\)/);
    assert.match(text, /flagged \(1\):\n.*\n +2 +eu-west-2\/prod-0003 +15\.5 +pending +2025-03-27T04:00Z +FLAG window 2025-03-20T04:00:00\.000Z skipped: overlaps blackout "release freeze"/);
    assert.match(text, /Recent steps:\n( {2}2025-03-03T12:\d\d:00\.000Z staging wave-ended: wave \d+\/500\n?){8}$/);

    const all = formatCampaignStatus(status, Date.parse('2025-03-03T13:00:00Z'), { all: true });
    assert.equal(all.split('\n').filter((l) => /^ {4}\S+ +eu-west-2\/stg-\d{4} /.test(l)).length, 1001);
    assert.match(all, /instances \(1001\):/);
    assert.match(all, /- +eu-west-2\/stg-1001 +15\.8 +skipped +already at 15\.8/);
  });

  it('two window groups opening at the same minute with different ends read differently in the status', function () {
    const production = productionStage();
    const w2 = { start: '2025-03-18T02:00:00.000Z', end: '2025-03-18T02:45:00.000Z' };
    const f = production.fleet!;
    f.instances[2].window = w2;
    f.windowGroups![1] = { ...w2, instances: 1 };
    const text = formatCampaignStatus(campaignStatus([production]), Date.parse('2025-03-03T13:00:00Z'));
    assert.match(text, /wave 1 +Tue 2025-03-18 02:00–02:30 UTC \(prod-0001, prod-0002\)/);
    assert.match(text, /wave 2 +Tue 2025-03-18 02:00–02:45 UTC \(prod-0003\)/);
    assert.match(text, /production +fleet: 3 instance\(s\) .*Tue 2025-03-18 02:00–02:30 UTC \+1/);
  });

  it('a fleet stage before its preflight selected anything, and a one-instance stage, keep their rows', function () {
    const waiting: StageReport = { name: 'staging', region: 'eu-west-2', instanceId: '', method: 'apply-now', toVersion: '15.8', status: 'pending', missedWindows: 0 };
    const single: StageReport = { name: 'preview', region: 'eu-west-2', instanceId: 'notifydb-preview', method: 'maintenance-window', toVersion: '15.8', fromVersion: '15.5', status: 'completed', missedWindows: 0 };
    const text = formatCampaignStatus(campaignStatus([single, waiting]));
    assert.match(text, /preview +eu-west-2\/notifydb-preview +15\.5 +15\.8 +completed/);
    assert.match(text, /staging +fleet +\? +15\.8 +pending/);
    assert.doesNotMatch(text, /\[staging\]/);
  });

  it('a stage in an estate that moves shows its replicas, a Terraform-owned flag, reverts, the page, and the answers its question takes', function () {
    const production: StageReport = {
      name: 'production', region: 'eu-west-2', instanceId: 'notifydb-production', method: 'maintenance-window', toVersion: '15.8', fromVersion: '15.5', status: 'running', missedWindows: 0,
      changes: 'terraform', flagReverts: 2, mechanism: 'apply-in-window',
      replicas: [{ region: 'eu-west-1', instanceId: 'notifydb-production-dr', listedAs: 'arn:aws:rds:eu-west-1:444444444444:db:notifydb-production-dr', fromVersion: '15.5', state: 'upgraded', window: { start: '2025-03-02T03:00:00.000Z', end: '2025-03-02T03:30:00.000Z' } }],
      onCall: { dedupKey: 'rds-orchestrator/pg/production/eu-west-2/notifydb-production/2025-03-05T22:00:00.000Z', state: 'triggered' },
    };
    const status = campaignStatus([production]);
    status.state = 'waiting-for-decision';
    status.waitingFor = { kind: 'decision', description: 'target moved', question: 'target moved', askedAt: '2025-03-03T12:00:00.000Z', options: ['apply-in-window', 'retarget', 'abort'] };
    const text = formatCampaignStatus(status);
    assert.match(text, /answer: +rds-orchestrator campaign decide pg-fleet --apply-in-window\|--retarget\|--abort --as NAME/);
    assert.match(text, /\[production\] Terraform owns the flag/);
    assert.match(text, /\[production\] read replicas first: eu-west-1\/notifydb-production-dr 15\.5 upgraded \(window 2025-03-02T03:00Z\)/);
    assert.match(text, /\[production\] RDS's automatic target moved: the campaign applies 15\.8 itself when the window opens/);
    assert.match(text, /\[production\] AutoMinorVersionUpgrade turned off by someone else 2 time\(s\)/);
    assert.match(text, /\[production\] on call \(PagerDuty\): triggered, dedup key rds-orchestrator\/pg\/production/);
  });

  it('--instance: finds an instance by its identifier or REGION/IDENTIFIER, or says what the campaign has', function () {
    const status = campaignStatus();
    assert.equal(findFleetInstance(status, 'stg-0777').instance.workflowId, childId('staging', 'eu-west-2', 'stg-0777'));
    assert.equal(findFleetInstance(status, 'EU-WEST-2/Prod-0003').stage.name, 'production');
    assert.throws(
      () => findFleetInstance(status, 'stg-9999'),
      (e: CliError) => e.exitCode === 4 && /no fleet stage of campaign pg-fleet has the instance stg-9999: staging has 1001 instance\(s\); production has 3 instance\(s\)/.test(e.message),
    );
    assert.throws(() => findFleetInstance(status, 'eu-west-1/stg-0777'), /no fleet stage .* has the instance eu-west-1\/stg-0777/);
    assert.throws(() => findFleetInstance(status, 'stg-0777', 'production'), /no fleet stage .*: production has 3 instance\(s\)/);
    assert.throws(() => findFleetInstance(status, 'stg-0777', 'qa'), (e: CliError) => e.exitCode === 2 && /no fleet stage named qa \(its fleet stages: staging, production\)/.test(e.message));

    // The same identifier in two regions: ambiguous until the region (or the stage) is named.
    const two = campaignStatus();
    two.stages[0].fleet!.instances.push({ ...two.stages[0].fleet!.instances[776], region: 'eu-west-1', workflowId: childId('staging', 'eu-west-1', 'stg-0777') });
    assert.throws(() => findFleetInstance(two, 'stg-0777'), (e: CliError) => e.exitCode === 2 && /stg-0777 is more than one instance .*staging: eu-west-2\/stg-0777, staging: eu-west-1\/stg-0777.*REGION\/INSTANCE/.test(e.message));
    assert.equal(findFleetInstance(two, 'eu-west-1/stg-0777').instance.workflowId, childId('staging', 'eu-west-1', 'stg-0777'));

    assert.equal(noWorkflowYet(findFleetInstance(status, 'stg-0960')), 'eu-west-2/stg-0960 is pending in wave 480 of stage staging (the stage is at wave 452/500): its workflow starts with its wave');
    assert.equal(noWorkflowYet(findFleetInstance(status, 'prod-0003')), 'eu-west-2/prod-0003 is pending in wave 2 of stage production (stage production is pending): its workflow starts with its wave');
    assert.equal(noWorkflowYet(findFleetInstance(status, 'stg-1001')), 'eu-west-2/stg-1001 was skipped before any wave (already at 15.8): it has no workflow of its own');
    assert.equal(noWorkflowYet(findFleetInstance(status, 'stg-0777')), undefined);

    const noFleet = campaignStatus([{ name: 'preview', region: 'eu-west-2', instanceId: 'notifydb-preview', method: 'maintenance-window', toVersion: '15.8', status: 'running', missedWindows: 0 }]);
    assert.throws(() => findFleetInstance(noFleet, 'notifydb-preview'), /campaign pg-fleet has no fleet stage/);
  });

  it("--instance prints the instance's own workflow: its state, what the campaign counts, its whole timeline", function () {
    const status = campaignStatus();
    const { stage, instance: i } = findFleetInstance(status, 'stg-0777');
    const text = formatFleetInstanceStatus(stage, i, childStatus(i), Date.parse('2025-03-03T13:00:00Z'));
    assert.match(text, /^Instance eu-west-2\/stg-0777 {2}→ {2}15\.8 {3}state: FAILED {3}stage staging, wave 389 of campaign pg-fleet/);
    assert.match(text, new RegExp(`workflow ${PARENT}/staging/eu-west-2/stg-0777 {3}started 2025-03-03T10:00:00\\.000Z, ended 2025-03-03T12:45:00\\.000Z`));
    assert.match(text, /15\.5 → 15\.8 \(apply-now\) {3}failed {3}downtime 83s/);
    assert.match(text, /the campaign counts it as failed: over 60s of measured downtime \(83s\): continue or abort\?/);
    assert.match(text, /FAILURE: over 60s/);
    assert.match(text, /Timeline \(15 step\(s\)\):\n {2}2025-03-03T12:40:00\.000Z instance-started: wave 389 of campaign-pg-fleet\n/);
    assert.equal(text.split('\n').filter((l) => / probe: sample \d+$/.test(l)).length, 12, 'the whole timeline, not the last 8 steps');
  });

  describe('through the command line (a stand-in client answers the queries)', function () {
    const status = campaignStatus();
    const failed = findFleetInstance(status, 'stg-0777').instance;
    const queried: string[] = [];
    const cli = cliWith(async (workflowId) => {
      queried.push(workflowId);
      if (workflowId === PARENT) return status;
      if (workflowId === failed.workflowId) return childStatus(failed);
      throw new WorkflowNotFoundError(`workflow ${workflowId} not found`, workflowId, undefined);
    });

    it('status, --all, --instance, --instance --json, and a pending instance', async function () {
      const summary = await cli('campaign', 'status', 'pg-fleet');
      assert.equal(summary.code, 0, summary.err);
      assert.match(summary.out, /instances: 1001: 96 pending, 2 running, 899 completed, 3 failed, 1 skipped/);
      assert.ok(summary.out.split('\n').length < 70);
      const all = await cli('campaign', 'status', 'pg-fleet', '--all');
      assert.ok(all.out.split('\n').length > 1000);

      queried.length = 0;
      const one = await cli('campaign', 'status', 'pg-fleet', '--instance', 'eu-west-2/stg-0777');
      assert.equal(one.code, 0, one.err);
      assert.deepEqual(queried, [PARENT, failed.workflowId], "the campaign's status, then the instance's own workflow");
      assert.match(one.out, /^Instance eu-west-2\/stg-0777/);
      assert.match(one.out, /instance-failed: over 60s of measured downtime/);

      const json = await cli('campaign', 'status', 'pg-fleet', '--instance', 'stg-0777', '--json');
      assert.equal(json.code, 0, json.err);
      assert.deepEqual(JSON.parse(json.out), childStatus(failed));

      queried.length = 0;
      const pending = await cli('campaign', 'status', 'pg-fleet', '--instance', 'stg-0960');
      assert.equal(pending.code, 4);
      assert.equal(pending.err, 'error: eu-west-2/stg-0960 is pending in wave 480 of stage staging (the stage is at wave 452/500): its workflow starts with its wave');
      assert.deepEqual(queried, [PARENT], 'no query for a workflow that has not started');

      const gone = await cli('campaign', 'status', 'pg-fleet', '--instance', 'stg-0903');
      assert.equal(gone.code, 4);
      assert.equal(gone.err, `error: eu-west-2/stg-0903 has no workflow ${PARENT}/staging/eu-west-2/stg-0903: the campaign counts it as running`);

      const missing = await cli('campaign', 'status', 'pg-fleet', '--instance', 'nope');
      assert.equal(missing.code, 4);
      assert.match(missing.err, /staging has 1001 instance\(s\); production has 3 instance\(s\)/);

      const stray = await cli('campaign', 'status', 'pg-fleet', '--stage', 'staging');
      assert.equal(stray.code, 2);
    });
  });

  describe('a worker that lists a part of a large stage (it answers as the campaign workflow does: statusAnswer)', function () {
    const status = campaignStatus();
    const failed = findFleetInstance(status, 'stg-0777').instance;
    const asked: unknown[] = [];
    const cli = cliWith(async (workflowId, req) => {
      if (workflowId === failed.workflowId) return childStatus(failed);
      assert.equal(workflowId, PARENT);
      asked.push(req);
      // Through JSON, as Temporal hands it over.
      return JSON.parse(JSON.stringify(statusAnswer(status, req as never)));
    });

    it('the status reads as it did when every instance was listed; --all reads every page; --instance asks for that instance', async function () {
      const now = Date.parse('2025-03-03T13:00:00.000Z');
      const answer = statusAnswer(status);
      assert.equal(answer.stages[0].fleet!.listed?.which, 'attention');
      assert.equal(answer.stages[0].fleet!.instances.length, 5, '3 failed and 2 running of 1001');
      assert.equal(answer.stages[1].fleet, status.stages[1].fleet, 'a stage of 3 lists them all');
      assert.equal(formatCampaignStatus(answer, now), formatCampaignStatus(status, now));

      asked.length = 0;
      const all = await cli('campaign', 'status', 'pg-fleet', '--all', '--json');
      assert.equal(all.code, 0, all.err);
      assert.deepEqual(asked, [undefined, { page: { from: 0, size: 1000 } }, { page: { from: 1000, size: 1000 } }]);
      assert.deepEqual(JSON.parse(all.out), JSON.parse(JSON.stringify(status)), 'the pages joined are the whole status');

      asked.length = 0;
      const one = await cli('campaign', 'status', 'pg-fleet', '--instance', 'eu-west-2/stg-0777');
      assert.equal(one.code, 0, one.err);
      assert.deepEqual(asked, [{ instance: 'eu-west-2/stg-0777' }]);
      assert.match(one.out, /^Instance eu-west-2\/stg-0777/);

      const pending = await cli('campaign', 'status', 'pg-fleet', '--instance', 'STG-0960', '--stage', 'staging');
      assert.equal(pending.code, 4);
      assert.equal(pending.err, 'error: eu-west-2/stg-0960 is pending in wave 480 of stage staging (the stage is at wave 452/500): its workflow starts with its wave');

      const missing = await cli('campaign', 'status', 'pg-fleet', '--instance', 'nope');
      assert.equal(missing.code, 4);
      assert.match(missing.err, /staging has 1001 instance\(s\); production has 3 instance\(s\)/);

      const otherStage = await cli('campaign', 'status', 'pg-fleet', '--instance', 'stg-0777', '--stage', 'production');
      assert.equal(otherStage.code, 4);
    });
  });
});
