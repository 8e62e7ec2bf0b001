/**
 * `campaign plan` for fleet stages, against fake readers (the same findFleet selection rules as the RDS
 * activity, src/domain/fleet-selection.ts): what a selection finds and leaves out, which instances are
 * skipped, the waves and windows of a stage without approval, the window groups, flags and approval plan of a
 * production stage, and a listed instance that is missing or that the target cannot reach as problems.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PendingMaintenanceAction, StageSpec, UpgradeTarget } from '../../src/api';
import { selectFleet, toFleetMember, type FleetCandidate } from '../../src/domain/fleet-selection';
import { runCli } from '../../src/cli';
import { formatPlaceRead, formatPlan, formatStageRead, planCampaign, type CampaignPlan, type PlanReaders } from '../../src/cli/plan';
import { PLACES_AT_ONCE, type PlaceRead, type StageRead } from '../../src/cli/plan-fleet';
import { loadConfig } from '../../src/config';
import { fleetApprovalPlanId, groupByWindow } from '../../src/domain/fleet';
import { resolveCampaignSpec } from '../../src/input';
import { SimAdminClient } from '../../sim';
import { startSimulator, type RunningSimulator } from '../../sim';

/** Monday 2025-03-03 12:00 UTC. */
const NOW = Date.parse('2025-03-03T12:00:00Z');
const TUE = 'tue:02:00-tue:02:30';
const WED = 'wed:03:00-wed:03:30';
const THU = 'thu:04:00-thu:04:30';

interface FakeDb extends Partial<FleetCandidate> {
  instanceId: string;
  /** Found only through a role of this account (default: in every place of its region). */
  account?: string;
  pending?: PendingMaintenanceAction[];
}

const upgradeTo = (version: string, extra: Partial<PendingMaintenanceAction> = {}): PendingMaintenanceAction[] => [{ action: 'db-upgrade', description: `Upgrade to PostgreSQL ${version}`, ...extra }];

/** Read-only AWS as the plan sees it: instances per region, an engine catalogue, and a count of each read. */
class FakeReaders {
  readonly calls: { name: string; args: unknown[] }[] = [];
  readonly dbs: (FleetCandidate & { pending: PendingMaintenanceAction[]; account?: string })[] = [];
  readonly catalogue: Record<string, UpgradeTarget[]> = {
    '15.5': [
      { engineVersion: '15.6', isMajorVersionUpgrade: false, autoUpgrade: false },
      { engineVersion: '15.8', isMajorVersionUpgrade: false, autoUpgrade: true },
      { engineVersion: '16.4', isMajorVersionUpgrade: true, autoUpgrade: false },
    ],
    '15.7': [{ engineVersion: '15.8', isMajorVersionUpgrade: false, autoUpgrade: true }],
    '14.10': [{ engineVersion: '14.12', isMajorVersionUpgrade: false, autoUpgrade: true }],
  };

  add(...dbs: FakeDb[]): this {
    for (const d of dbs) {
      this.dbs.push({
        region: 'eu-west-2',
        engine: 'postgres',
        engineVersion: '15.5',
        status: 'available',
        preferredMaintenanceWindow: TUE,
        autoMinorVersionUpgrade: false,
        instanceClass: 'db.t4g.medium',
        allocatedStorage: 20,
        tags: {},
        pending: d.engineVersion === '15.8' ? [] : upgradeTo('15.8'),
        ...d,
      });
    }
    return this;
  }

  count(name: string): number {
    return this.calls.filter((c) => c.name === name).length;
  }

  readers(): PlanReaders {
    const regionOf = (where: unknown) => (typeof where === 'string' ? where : (where as { region: string }).region);
    const log = (name: string, ...args: unknown[]) => this.calls.push({ name, args });
    return {
      whoAmI: async ({ where }) => {
        log('whoAmI', where);
        const role = typeof where === 'string' ? undefined : where.roleArn;
        const account = role ? (/::(\d{12}):/.exec(role)?.[1] ?? '') : '111111111111';
        return { account, arn: `arn:aws:sts::${account}:assumed-role/x` };
      },
      describeInstance: async ({ where, instanceId: id }) => {
        log('describeInstance', where, id);
        throw new Error(`a fleet stage is not read one instance at a time (${id})`);
      },
      listUpgradeTargets: async ({ where, engine, engineVersion: version }) => {
        log('listUpgradeTargets', where, engine, version);
        return this.catalogue[version] ?? [];
      },
      listPendingMaintenance: async ({ where, instanceId: id }) => {
        log('listPendingMaintenance', where, id);
        throw new Error(`a fleet stage's pending maintenance comes with findFleet (${id})`);
      },
      findFleet: async ({ where, query }) => {
        log('findFleet', where, query);
        const account = typeof where === 'string' ? undefined : /::(\d{12}):/.exec(where.roleArn ?? '')?.[1];
        const here = this.dbs.filter((d) => d.region === regionOf(where) && (d.account === undefined || d.account === account));
        const { chosen, missing, excluded } = selectFleet(here, query);
        return { members: chosen.map((c) => toFleetMember(c, query, c.pending)), missing, excluded };
      },
    };
  }
}

const campaign = (stages: StageSpec[], extra: Record<string, unknown> = {}) => resolveCampaignSpec({ campaignId: 'fleet-plan', targetEngineVersion: '15.8', requester: 'alice', stages, ...extra });

const notifyStaging: StageSpec = {
  name: 'staging',
  region: 'eu-west-2',
  select: { tags: { environment: 'staging', team: 'notify' } },
  waves: { maxConcurrent: 2 },
  method: 'maintenance-window',
};

function stagingFleet(): FakeReaders {
  const tags = { environment: 'staging', team: 'notify' };
  return new FakeReaders().add(
    { instanceId: 'stg-api', tags, allocatedStorage: 100, preferredMaintenanceWindow: THU, pending: [] },
    { instanceId: 'stg-admin', tags, allocatedStorage: 20, preferredMaintenanceWindow: TUE },
    { instanceId: 'stg-jobs', tags, allocatedStorage: 50, preferredMaintenanceWindow: WED },
    { instanceId: 'stg-old', tags, allocatedStorage: 10, engineVersion: '15.8' },
    { instanceId: 'stg-reports', tags, engine: 'mysql', engineVersion: '8.0.35' },
    { instanceId: 'billing-stg', tags: { environment: 'staging', team: 'billing' } },
    { instanceId: 'notify-prod', tags: { environment: 'production', team: 'notify' } },
  );
}

describe('campaign plan: fleet stages', function () {
  it('a tag selection: what it found and left out, the skipped instance, waves of maxConcurrent smallest first with their windows', async function () {
    const fake = stagingFleet();
    const plan = await planCampaign(campaign([notifyStaging]), fake.readers(), NOW);
    assert.deepEqual(plan.problems, []);
    const [stage] = plan.stages;
    const f = stage.fleet!;
    assert.equal(stage.action, 'upgrade');
    assert.equal(stage.instance, 'tags environment=staging, team=notify; postgres; in eu-west-2');
    assert.equal(stage.from, '15.5, 15.8');
    assert.equal(f.found, 4);
    assert.deepEqual(f.counts, { upgrade: 3, skip: 1, blocked: 0 });
    assert.deepEqual(f.excluded, [{ region: 'eu-west-2', instanceId: 'stg-reports', reason: 'engine mysql' }]);
    assert.deepEqual(f.missing, []);
    assert.deepEqual(
      f.instances.map((i) => [i.instanceId, i.action, i.wave, i.window?.start, i.windowEstimated ?? false]),
      [
        // smallest first, two at a time; wave 2 starts when wave 1's last window ended (Wed 03:30)
        ['stg-admin', 'upgrade', 1, '2025-03-04T02:00:00.000Z', false],
        ['stg-jobs', 'upgrade', 1, '2025-03-05T03:00:00.000Z', false],
        ['stg-api', 'upgrade', 2, '2025-03-06T04:00:00.000Z', true],
        ['stg-old', 'skip', undefined, undefined, false],
      ],
    );
    assert.equal(f.instances[3].note, 'already at 15.8');
    assert.deepEqual(f.instances[2].warnings, ['AWS lists no pending db-upgrade to 15.8 yet']);
    assert.deepEqual(
      f.waves.map((w) => [w.wave, w.instances, w.window?.start, w.window?.end]),
      [
        [1, 2, '2025-03-04T02:00:00.000Z', '2025-03-05T03:30:00.000Z'],
        [2, 1, '2025-03-06T04:00:00.000Z', '2025-03-06T04:30:00.000Z'],
      ],
    );
    assert.equal(fake.count('listUpgradeTargets'), 1, 'the catalogue is read once per version');
    assert.equal(fake.count('findFleet'), 1);
    assert.equal(fake.count('describeInstance') + fake.count('listPendingMaintenance'), 0);
    assert.deepEqual(JSON.parse(JSON.stringify(plan.stages)), plan.stages, '--json carries the whole stage plan');

    const text = formatPlan(plan);
    assert.match(text, /\[staging\] fleet: tags environment=staging, team=notify; postgres; in eu-west-2 {2}15\.5, 15\.8 → 15\.8 {2}\(maintenance-window, upgrade\)/);
    assert.match(text, /found: +4 instance\(s\): 3 to upgrade, 1 already at 15\.8; 1 excluded/);
    assert.match(text, /excluded: +eu-west-2\/stg-reports: engine mysql/);
    assert.match(text, /waves: +2 \(up to 2 at a time, smallest-first\); stops and asks after 1 failed instance\(s\)/);
    assert.match(text, /1 +eu-west-2\/stg-admin +15\.5 +upgrade +2025-03-04T02:00Z – 2025-03-04T02:30Z/);
    assert.match(text, /2 +eu-west-2\/stg-api +15\.5 +upgrade +2025-03-06T04:00Z – 2025-03-06T04:30Z \(est\.\) +AWS lists no pending db-upgrade/);
    assert.match(text, /- +eu-west-2\/stg-old +15\.8 +skip +already at 15\.8/);
    assert.match(text, /! 1 instance\(s\): AWS lists no pending db-upgrade to 15\.8 yet \(stg-api\)/);
    assert.match(text, /Preflight would pass\. Nothing was changed\./);
  });

  it('more than 10,000 instances to upgrade over the campaign is a problem (the workflow\'s preflight refuses it too); 10,000 is not', async function () {
    const fake = new FakeReaders();
    for (let n = 0; n < 6000; n++) fake.add({ instanceId: `stg-${n}`, tags: { environment: 'staging', team: 'notify' } });
    for (let n = 0; n < 4000; n++) fake.add({ instanceId: `prd-${n}`, tags: { environment: 'production', team: 'notify' } });
    fake.add({ instanceId: 'prd-at-target', tags: { environment: 'production', team: 'notify' }, engineVersion: '15.8' });
    const production: StageSpec = { name: 'production', region: 'eu-west-2', select: { tags: { environment: 'production', team: 'notify' } }, method: 'maintenance-window' };
    const stages = [{ ...notifyStaging, waves: { maxConcurrent: 100 } }, production];
    const atLimit = await planCampaign(campaign(stages, { approval: { approvers: ['bob'] } }), fake.readers(), NOW);
    assert.deepEqual(atLimit.problems, [], 'the instance already at the target does not count');
    fake.add({ instanceId: 'prd-one-more', tags: { environment: 'production', team: 'notify' } });
    const over = await planCampaign(campaign(stages, { approval: { approvers: ['bob'] } }), fake.readers(), NOW);
    assert.deepEqual(over.problems, ['the fleet stages select 10001 instances to upgrade; one campaign upgrades at most 10000 (its history holds each instance\'s selection, start and end): narrow the selections (tags, engineVersion, places) or split the fleet into several campaigns']);
    assert.match(formatPlan(over), /PROBLEMS \(the campaign would fail before changing anything\):\n {2}- the fleet stages select 10001 instances/);
  });

  it('a big fleet prints its waves and 20 instances (flagged first) unless --all; --json has every one', async function () {
    const tags = { environment: 'staging', team: 'notify' };
    const fake = new FakeReaders();
    for (let n = 1; n <= 120; n++) fake.add({ instanceId: `stg-${String(n).padStart(3, '0')}`, tags, allocatedStorage: n, preferredMaintenanceWindow: [TUE, WED, THU][n % 3] });
    // AWS applies the upgrade itself before the window the last wave reaches: flagged, and shown first.
    fake.dbs[119].pending = upgradeTo('15.8', { forcedApplyDate: '2025-03-20T00:00:00Z' });
    const plan = await planCampaign(campaign([{ ...notifyStaging, waves: { maxConcurrent: 10 } }]), fake.readers(), NOW);
    assert.deepEqual(plan.problems, []);
    const f = plan.stages[0].fleet!;
    assert.equal(f.instances.length, 120);
    assert.equal(f.waves.length, 12);
    assert.deepEqual(f.instances.find((i) => i.instanceId === 'stg-120')!.flags, ['AWS applies the upgrade itself on 2025-03-20T00:00:00.000Z, before this window']);

    const text = formatPlan(plan);
    const rows = text.split('\n').filter((l) => /^ {4}\d+ +eu-west-2\/stg-\d{3} /.test(l));
    assert.equal(rows.length, 20, text);
    assert.match(rows[rows.length - 1], /stg-120 .*FLAG AWS applies the upgrade itself/);
    assert.match(text, /instances \(20 of 120, blocked and flagged first; --all lists every one, --json has everything\)/);
    assert.match(text, /wave 12 +10 instance\(s\) {2}windows from \S+ \(est\.\) {2}1 FLAGGED/);
    assert.ok(text.split('\n').length < 70, `${text.split('\n').length} lines`);

    const all = formatPlan(plan, { all: true });
    assert.equal(all.split('\n').filter((l) => /^ {4}\d+ +eu-west-2\/stg-\d{3} /.test(l)).length, 120);
  });

  it('production across a fleet: one approval for every instance and its window, grouped by window, with the flagged instances', async function () {
    const tags = { environment: 'production', team: 'notify' };
    const fake = new FakeReaders().add(
      { instanceId: 'prod-api', tags, preferredMaintenanceWindow: TUE },
      { instanceId: 'prod-admin', tags, preferredMaintenanceWindow: TUE },
      // Its first window with 14 days' notice (Thu 20 March) falls in the freeze: the next one is taken.
      { instanceId: 'prod-jobs', tags, preferredMaintenanceWindow: THU },
      // AWS would apply the upgrade itself on 10 March, before the window the notice allows.
      { instanceId: 'prod-reports', tags, preferredMaintenanceWindow: TUE, pending: upgradeTo('15.8', { forcedApplyDate: '2025-03-10T00:00:00Z' }) },
      { instanceId: 'prod-done', tags, engineVersion: '15.8' },
    );
    const blackouts = [{ from: '2025-03-19T00:00:00Z', to: '2025-03-21T00:00:00Z', reason: 'release freeze' }];
    const spec = campaign([{ name: 'production', region: 'eu-west-2', select: { tags }, method: 'maintenance-window' }], { blackouts });
    const plan = await planCampaign(spec, fake.readers(), NOW);
    assert.deepEqual(plan.problems, []);
    const [stage] = plan.stages;
    const f = stage.fleet!;
    assert.equal(f.maxConcurrent, undefined);
    assert.deepEqual(
      f.waves.map((w) => [w.wave, w.instances, w.window!.start, w.precheckAt, w.flagged]),
      [
        [1, 3, '2025-03-18T02:00:00.000Z', '2025-03-15T02:00:00.000Z', 1],
        [2, 1, '2025-03-27T04:00:00.000Z', '2025-03-24T04:00:00.000Z', 1],
      ],
    );
    const byId = new Map(f.instances.map((i) => [i.instanceId, i]));
    assert.deepEqual(byId.get('prod-jobs')!.flags, ['window 2025-03-20T04:00:00.000Z skipped: overlaps blackout "release freeze" (2025-03-19T00:00:00.000Z to 2025-03-21T00:00:00.000Z)']);
    assert.deepEqual(byId.get('prod-reports')!.flags, ['AWS applies the upgrade itself on 2025-03-10T00:00:00.000Z, before this window']);
    assert.deepEqual(byId.get('prod-api')!.flags, []);
    assert.equal(byId.get('prod-done')!.action, 'skip');

    // The approval the campaign would ask for, if it started now: the same function, the same members.
    const members = (await fake.readers().findFleet({ where: 'eu-west-2', query: { engine: 'postgres', tags, keepTags: ['environment', 'team'] } })).members.filter((m) => m.engineVersion !== '15.8');
    const expected = fleetApprovalPlanId('production', '15.8', groupByWindow(members, NOW, spec.stages[0], spec.blackouts));
    assert.equal(f.approvalPlan, expected);
    assert.match(f.approvalPlan!, /^production\|15\.8\|4 instances in 2 windows 2025-03-18T02:00:00\.000Z\.\.2025-03-27T04:00:00\.000Z\|sha256:[0-9a-f]{16}$/);

    const text = formatPlan(plan);
    assert.match(text, /waves: +2 \(one wave per window group\)/);
    assert.match(text, /wave 1 +3 instance\(s\) {2}window group Tue 2025-03-18 02:00–02:30 UTC \(prod-admin, prod-api, prod-reports\) {2}pre-check 2025-03-15T02:00Z {2}1 FLAGGED/);
    assert.match(text, /wave 2 +1 instance\(s\) {2}window group Thu 2025-03-27 04:00–04:30 UTC \(prod-jobs\) {2}pre-check 2025-03-24T04:00Z {2}1 FLAGGED/);
    assert.match(text, new RegExp(`approval: +${expected.replace(/[|.]/g, '\\$&')}`));
    assert.match(text, /needs approval: one approval covers all 4 instance\(s\) and their windows, 2 window group\(s\)/);
    assert.match(text, /eu-west-2\/prod-jobs +15\.5 +upgrade +2025-03-27T04:00Z – 2025-03-27T04:30Z +FLAG window 2025-03-20T04:00:00\.000Z skipped: overlaps blackout "release freeze"/);
    assert.match(text, /eu-west-2\/prod-reports .*FLAG AWS applies the upgrade itself on 2025-03-10T00:00:00\.000Z, before this window/);
    assert.match(text, /! 2 instance\(s\) flagged/);
  });

  it('two window groups opening at the same minute with different ends read differently in the plan', async function () {
    const tags = { environment: 'production', team: 'notify' };
    const fake = new FakeReaders().add(
      { instanceId: 'prod-short', tags, preferredMaintenanceWindow: TUE },
      { instanceId: 'prod-long', tags, preferredMaintenanceWindow: 'tue:02:00-tue:02:45' },
    );
    const plan = await planCampaign(campaign([{ name: 'production', region: 'eu-west-2', select: { tags }, method: 'maintenance-window' }]), fake.readers(), NOW);
    assert.deepEqual(plan.problems, []);
    const text = formatPlan(plan);
    assert.match(text, /wave 1 +1 instance\(s\) {2}window group Tue 2025-03-18 02:00–02:30 UTC \(prod-short\)/);
    assert.match(text, /wave 2 +1 instance\(s\) {2}window group Tue 2025-03-18 02:00–02:45 UTC \(prod-long\)/);
  });

  it('a listed stage: a missing instance, one of another engine and one the target cannot reach are problems', async function () {
    const fake = new FakeReaders().add(
      { instanceId: 'stg-a', preferredMaintenanceWindow: TUE },
      { instanceId: 'stg-b', engineVersion: '15.7', preferredMaintenanceWindow: WED },
      { instanceId: 'stg-mysql', engine: 'mysql', engineVersion: '8.0.35' },
      { instanceId: 'stg-legacy', engineVersion: '14.10' },
    );
    const stage: StageSpec = { name: 'staging', region: 'eu-west-2', instances: ['stg-b', 'stg-gone', 'stg-a', 'stg-mysql', 'stg-legacy'], method: 'maintenance-window' };
    const plan = await planCampaign(campaign([stage]), fake.readers(), NOW);
    assert.deepEqual(plan.problems, [
      'staging: eu-west-2/stg-gone is listed but does not exist there',
      'staging: eu-west-2/stg-mysql is listed but engine mysql',
      'staging: 15.8 is not a valid upgrade target for stg-legacy at 14.10; valid minor targets: 14.12',
    ]);
    const [planned] = plan.stages;
    const f = planned.fleet!;
    assert.equal(planned.action, 'blocked');
    assert.equal(f.selection, '5 listed instance(s) in eu-west-2');
    assert.deepEqual(f.missing, [{ region: 'eu-west-2', instanceId: 'stg-gone' }]);
    // Listed order, one at a time (the default); the blocked instance is not in a wave.
    assert.deepEqual(
      f.instances.map((i) => [i.instanceId, i.action, i.wave]),
      [
        ['stg-b', 'upgrade', 1],
        ['stg-a', 'upgrade', 2],
        ['stg-legacy', 'blocked', undefined],
      ],
    );
    assert.equal(fake.count('listUpgradeTargets'), 3, 'one read per distinct version: 15.7, 15.5, 14.10');

    const text = formatPlan(plan);
    assert.match(text, /found: +3 instance\(s\): 2 to upgrade, 0 already at 15\.8, 1 blocked; 1 excluded; 1 MISSING/);
    assert.match(text, /missing: +eu-west-2\/stg-gone \(listed, does not exist there\)/);
    assert.match(text, /- +eu-west-2\/stg-legacy +14\.10 +blocked +15\.8 is not a valid upgrade target/);
    assert.match(text, /PROBLEMS \(the campaign would fail before changing anything\):\n {2}- staging: eu-west-2\/stg-gone is listed but does not exist there/);
  });

  it('a selection in two accounts: each place read with its own role, and a selection that finds nothing is a problem', async function () {
    const role = 'arn:aws:iam::222222222222:role/rds-orchestrator';
    const tags = { environment: 'staging' };
    const fake = new FakeReaders().add({ instanceId: 'stg-west', tags }, { instanceId: 'stg-ireland', region: 'eu-west-1', tags });
    const stage: StageSpec = { name: 'staging', region: 'eu-west-2', select: { tags, from: [{ region: 'eu-west-2' }, { region: 'eu-west-1', aws: { roleArn: role } }] }, method: 'apply-now', probe: { url: 'http://127.0.0.1:1/_status' } };
    const plan = await planCampaign(campaign([stage]), fake.readers(), NOW);
    assert.deepEqual(plan.problems, []);
    const f = plan.stages[0].fleet!;
    assert.deepEqual(f.locations, [{ region: 'eu-west-2' }, { region: 'eu-west-1', account: '222222222222', access: `role ${role} (account 222222222222)` }]);
    assert.deepEqual(Object.keys(f.locations[1]), ['region', 'account', 'access'], 'the JSON as before the places were read together');
    // smallest first, then by name, across both places
    assert.deepEqual(f.instances.map((i) => `${i.region}/${i.instanceId}@${i.wave}`), ['eu-west-1/stg-ireland@1', 'eu-west-2/stg-west@2']);
    const session = (fake.calls.find((c) => c.name === 'findFleet' && typeof c.args[0] !== 'string')!.args[0] as { sessionName: string }).sessionName;
    assert.equal(session, 'fleet-plan-staging', 'the session name the campaign uses');
    assert.match(formatPlan(plan), /account: +eu-west-1: 222222222222 through role arn:aws:iam::222222222222:role\/rds-orchestrator/);

    const none = await planCampaign(campaign([{ ...stage, select: { tags: { environment: 'nowhere' } } }]), fake.readers(), NOW);
    assert.deepEqual(none.problems, ['staging: the selection (tags environment=nowhere; postgres; in eu-west-2) found no instance; check the tags, version and places it names']);
    assert.equal(none.stages[0].action, 'blocked');
  });
});

describe('campaign plan: the places of a fleet stage are read together', function () {
  const tags = { environment: 'staging' };
  const roleOf = (n: number) => `arn:aws:iam::${String(200000000000 + n)}:role/rds-orchestrator`;
  /** 2 × `accounts` places (default 10 accounts × 2 regions), 3 instances in each. */
  function manyPlaces(accounts = 10): { fake: FakeReaders; stage: StageSpec } {
    const fake = new FakeReaders();
    const from: { region: string; aws: { roleArn: string } }[] = [];
    for (let a = 1; a <= accounts; a++) {
      for (const region of ['eu-west-1', 'eu-west-2']) {
        from.push({ region, aws: { roleArn: roleOf(a) } });
        for (let n = 1; n <= 3; n++) fake.add({ instanceId: `db-${a}-${region}-${n}`, account: String(200000000000 + a), region, tags, allocatedStorage: a * 10 + n });
      }
    }
    return { fake, stage: { name: 'staging', region: 'eu-west-2', select: { tags, from }, waves: { maxConcurrent: 20 }, method: 'maintenance-window' } };
  }

  /** The readers, each findFleet held a while (longer for the first places, so they finish last), counting those in flight. */
  function slowFindFleet(readers: PlanReaders, delayOf: (where: unknown) => number): { readers: PlanReaders; most: () => number } {
    let inFlight = 0;
    let most = 0;
    return {
      most: () => most,
      readers: {
        ...readers,
        findFleet: async (input) => {
          inFlight += 1;
          most = Math.max(most, inFlight);
          try {
            await new Promise((resolve) => setTimeout(resolve, delayOf(input.where)));
            return await readers.findFleet(input);
          } finally {
            inFlight -= 1;
          }
        },
      },
    };
  }

  it('reads at most PLACES_AT_ONCE places at once, reports each as it finishes, and plans in the order of the places', async function () {
    const { fake, stage } = manyPlaces();
    const account = (where: unknown) => Number(/::(\d{12}):/.exec((where as { roleArn: string }).roleArn)![1]) - 200000000000;
    const slow = slowFindFleet(fake.readers(), (where) => 5 + (10 - account(where)) * 10);
    const reads: PlaceRead[] = [];
    const stages: StageRead[] = [];
    const plan = await planCampaign(campaign([stage]), slow.readers, NOW, { progress: { place: (r) => reads.push(r), stage: (r) => stages.push(r) } });
    assert.deepEqual(plan.problems, []);
    assert.equal(slow.most(), PLACES_AT_ONCE, 'eight places in flight at once, never more');
    const f = plan.stages[0].fleet!;
    assert.equal(f.found, 60);
    // The places in the spec's order, whatever order they finished in.
    assert.deepEqual(f.locations.map((l) => `${l.account} ${l.region}`), stage.select!.from!.map((l) => `${/::(\d{12}):/.exec(l.aws!.roleArn!)![1]} ${l.region}`));
    assert.deepEqual(reads.map((r) => r.done), Array.from({ length: 20 }, (_, n) => n + 1));
    assert.notDeepEqual(reads.map((r) => `${r.account} ${r.region}`), f.locations.map((l) => `${l.account} ${l.region}`), 'the slow first places finished after later ones');
    assert.ok(reads.every((r) => r.total === 20 && r.instances === 3 && r.error === undefined));
    assert.equal(stages.length, 1);
    assert.deepEqual({ ...stages[0], ms: 0, slowest: undefined }, { stage: 'staging', places: 20, failed: 0, instances: 60, ms: 0, atOnce: 8, slowest: undefined });
    assert.match(formatPlaceRead(reads[0]), /^\[staging\] read 1\/20 places: 2000000000\d\d eu-west-\d: 3 instance\(s\), \d+\.\d s$/);
    // The slowest place is the one whose read took longest as measured (timers on a loaded machine decide which).
    const longest = reads.reduce((a, b) => (b.ms > a.ms ? b : a));
    assert.equal(stages[0].slowest, longest);
    assert.match(formatStageRead(stages[0]), new RegExp(`^\\[staging\\] read 20 place\\(s\\) in \\d+\\.\\d s, 8 at a time: 60 instance\\(s\\); slowest ${longest.account} ${longest.region}, \\d+\\.\\d s$`));

    // The same plan as one place at a time (the order of the places, not of their answers, decides).
    const oneByOne = await planCampaign(campaign([stage]), fake.readers(), NOW, { placesAtOnce: 1 });
    assert.deepEqual(oneByOne.stages, plan.stages);
  });

  it('a place that cannot be read is named; the others are still read; no waves without every place', async function () {
    const { fake, stage } = manyPlaces();
    const readers = fake.readers();
    const failing = new Set([roleOf(3), roleOf(7)]);
    const reads: PlaceRead[] = [];
    const plan = await planCampaign(
      campaign([stage]),
      {
        ...readers,
        findFleet: async (input) => {
          const where = input.where as { region: string; roleArn: string };
          if (failing.has(where.roleArn) && where.region === 'eu-west-1') throw new Error(`DescribeDBInstances (fleet) (eu-west-1) failed: Rate exceeded`);
          return readers.findFleet(input);
        },
      },
      NOW,
      { progress: { place: (r) => reads.push(r) } },
    );
    assert.deepEqual(plan.problems, [
      'staging: 200000000003 eu-west-1: DescribeDBInstances (fleet) (eu-west-1) failed: Rate exceeded',
      'staging: 200000000007 eu-west-1: DescribeDBInstances (fleet) (eu-west-1) failed: Rate exceeded',
    ]);
    assert.equal(reads.length, 20);
    assert.equal(reads.filter((r) => r.error).length, 2);
    assert.match(formatPlaceRead(reads.find((r) => r.error)!), /: 20000000000[37] eu-west-1: FAILED after \d+\.\d s: DescribeDBInstances \(fleet\) \(eu-west-1\) failed: Rate exceeded$/);
    const f = plan.stages[0].fleet!;
    assert.equal(plan.stages[0].action, 'blocked');
    assert.equal(f.locations.length, 20);
    assert.equal(f.found, 54, 'the instances of the 18 places read');
    assert.deepEqual(f.waves, []);
  });

  it('a summary over many places counts them and names 20; --all names each place and account', async function () {
    const { fake, stage } = manyPlaces(15);
    const plan = await planCampaign(campaign([stage]), fake.readers(), NOW);
    const text = formatPlan(plan);
    assert.match(text, /\[staging\] fleet: tags environment=staging; postgres; in 30 places: 15 account\(s\) in eu-west-1, eu-west-2 {2}15\.5 → 15\.8/);
    const accountLines = (t: string) => t.split('\n').filter((l) => /^ {2}account: +eu-west-\d: \d{12} through role/.test(l)).length;
    assert.equal(accountLines(text), 20);
    assert.match(text, /\n {2}account: +… 10 more place\(s\) \(--all lists them\)\n/);
    const all = formatPlan(plan, { all: true });
    assert.equal(accountLines(all), 30);
    assert.ok(all.includes(`fleet: ${plan.stages[0].fleet!.selection}  `), 'the whole selection with --all');
    // A few places are named in the summary too.
    const two = await planCampaign(campaign([{ ...stage, select: { ...stage.select!, from: stage.select!.from!.slice(0, 4) } }]), fake.readers(), NOW);
    assert.ok(formatPlan(two).includes(`fleet: ${two.stages[0].fleet!.selection}  `));
  });
});

describe('campaign plan --spec with a fleet stage (the CLI, the real activities, the simulator)', function () {
  this.timeout(60_000);
  let sim: RunningSimulator;
  let dir: string;

  before(async function () {
    sim = await startSimulator({ port: 0 });
    const tags = { environment: 'staging', team: 'notify' };
    const seeded = Array.from({ length: 25 }, (_, n) => ({
      region: 'eu-west-2',
      id: `notify-stg-${String(n + 1).padStart(2, '0')}`,
      engineVersion: n === 0 ? '15.8' : '15.5',
      instanceClass: 'db.t4g.medium',
      allocatedStorage: 20 + n,
      preferredMaintenanceWindow: 'sun:03:00-sun:03:30',
      autoMinorVersionUpgrade: false,
      tags,
    }));
    await new SimAdminClient(sim.url).seed({ reset: true, instances: [...seeded, { ...seeded[1], id: 'billing-stg', tags: { environment: 'staging', team: 'billing' } }] });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-plan-fleet-'));
  });

  after(async function () {
    await sim?.close();
  });

  async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l), config: loadConfig({ ORCHESTRATOR_AWS_ENDPOINT: sim.url }) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('prints 20 instances by default, every one with --all, and the whole plan with --json', async function () {
    const file = path.join(dir, 'fleet.json');
    fs.writeFileSync(file, JSON.stringify({ campaignId: 'fleet-cli', targetEngineVersion: '15.8', requester: 'alice', stages: [{ ...notifyStaging, waves: { maxConcurrent: 5 } }] }));
    const rowsOf = (out: string) => out.split('\n').filter((l) => /^ {4}(\d+|-) +eu-west-2\/notify-stg-\d\d /.test(l));

    const summary = await cli('campaign', 'plan', '--spec', file);
    assert.equal(summary.code, 0, summary.err + summary.out);
    assert.match(summary.out, /found: +25 instance\(s\): 24 to upgrade, 1 already at 15\.8/);
    assert.match(summary.out, /waves: +5 \(up to 5 at a time, smallest-first\)/);
    assert.equal(rowsOf(summary.out).length, 20);
    assert.match(summary.out, /instances \(20 of 25, blocked and flagged first; --all lists every one, --json has everything\)/);
    assert.doesNotMatch(summary.out, /billing-stg/);

    const all = await cli('campaign', 'plan', '--spec', file, '--all');
    assert.equal(rowsOf(all.out).length, 25);

    const json = await cli('campaign', 'plan', '--spec', file, '--json');
    const plan = JSON.parse(json.out) as CampaignPlan;
    assert.equal(plan.stages[0].fleet!.instances.length, 25);
    assert.deepEqual(plan.stages[0].fleet!.instances.filter((i) => i.action === 'skip').map((i) => i.instanceId), ['notify-stg-01']);
  });

  it('--out writes the whole plan and says where; stderr has a line per fleet stage, and one per place with --progress', async function () {
    const file = path.join(dir, 'fleet-out.json');
    fs.writeFileSync(file, JSON.stringify({ campaignId: 'fleet-out', targetEngineVersion: '15.8', requester: 'alice', stages: [{ ...notifyStaging, waves: { maxConcurrent: 5 } }] }));
    const out = path.join(dir, 'plan.json');

    const summary = await cli('campaign', 'plan', '--spec', file, '--out', out, '--no-progress');
    assert.equal(summary.code, 0, summary.err + summary.out);
    assert.match(summary.out, /instances \(20 of 25, blocked and flagged first/);
    assert.ok(summary.out.endsWith(`\n\nThe whole plan (1 stage(s), 25 instance(s) of 1 fleet stage(s)) is written to ${out}`), summary.out);
    const written = JSON.parse(fs.readFileSync(out, 'utf8')) as CampaignPlan;
    assert.equal(written.stages[0].fleet!.instances.length, 25);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
    assert.match(summary.err, /^\[staging\] read 1 place\(s\) in \d+\.\d s, 1 at a time: 25 instance\(s\)$/);

    const json = await cli('campaign', 'plan', '--spec', file, '--json', '--out', out, '--progress');
    assert.equal(json.code, 0, json.err);
    assert.deepEqual(JSON.parse(json.out), JSON.parse(fs.readFileSync(out, 'utf8')), 'stdout is the JSON only, the same as the file');
    const err = json.err.split('\n');
    assert.match(err[0], /^\[staging\] read 1\/1 places: eu-west-2: 25 instance\(s\), \d+\.\d s$/);
    assert.match(err[1], /^\[staging\] read 1 place\(s\)/);
    assert.equal(err[2], `The whole plan (1 stage(s), 25 instance(s) of 1 fleet stage(s)) is written to ${out}`);

    const nowhere = await cli('campaign', 'plan', '--spec', file, '--out', path.join(dir, 'no-such-dir', 'plan.json'));
    assert.equal(nowhere.code, 2);
    assert.match(nowhere.err, /error: could not write the plan to .*no-such-dir\/plan\.json: ENOENT/);
  });
});
