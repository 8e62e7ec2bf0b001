/**
 * What a campaign's status answer lists of a fleet stage (src/domain/fleet-status.ts): all of a small stage, the
 * instances needing attention of a large one, a page, or the instance asked for; the counts and each window group's
 * counts whole; bad requests refused with what to send.
 */
import assert from 'node:assert/strict';
import type { CampaignStatus, FleetInstanceReport, FleetInstanceState, StageReport } from '../../src/api';
import { countStates } from '../../src/domain/fleet';
import { STATUS_LISTS_AT_MOST, statusAnswer, statusRequestProblem } from '../../src/domain/fleet-status';

function fleetStage(name: string, n: number, stateOf: (k: number) => FleetInstanceState, groups = 0): StageReport {
  const instances: FleetInstanceReport[] = Array.from({ length: n }, (_, k) => ({
    region: k % 2 ? 'us-east-1' : 'eu-west-2',
    instanceId: `${name}-${k}`,
    wave: groups ? (k % groups) + 1 : Math.floor(k / 10) + 1,
    state: stateOf(k),
    fromVersion: k % 3 ? '15.10' : '15.5',
    workflowId: `wf/${name}/${k}`,
    ...(k === 7 ? { flags: ['AWS applies the upgrade before the window'] } : {}),
  }));
  return {
    name,
    region: 'eu-west-2',
    instanceId: '',
    method: groups ? 'maintenance-window' : 'apply-now',
    toVersion: '15.12',
    status: 'running',
    missedWindows: 0,
    fleet: {
      selection: 'tags environment=x',
      order: 'smallest-first',
      failureThreshold: 5,
      waves: groups || Math.ceil(n / 10),
      counts: countStates(instances),
      instances,
      ...(groups ? { windowGroups: Array.from({ length: groups }, (_, g) => ({ start: `2026-12-${10 + g}T02:00:00.000Z`, end: `2026-12-${10 + g}T02:30:00.000Z`, instances: Math.ceil((n - g) / groups) })) } : {}),
    },
  };
}

function status(stages: StageReport[]): CampaignStatus {
  return { campaignId: 'c', targetEngineVersion: '15.12', requester: 'alice', state: 'running', stages, startedAt: '2026-12-07T00:00:00.000Z', timeline: [], followUps: [] } as unknown as CampaignStatus;
}

const big = STATUS_LISTS_AT_MOST + 500;
const stateOf = (k: number): FleetInstanceState => (k % 100 === 3 ? 'failed' : k % 250 === 4 ? 'running' : k < 900 ? 'completed' : 'pending');

describe('status answers over large fleet stages', function () {
  it('a status whose fleet stages are all small is answered as it is (no copy)', function () {
    const s = status([fleetStage('staging', STATUS_LISTS_AT_MOST, stateOf)]);
    assert.equal(statusAnswer(s), s);
  });

  it('a large stage lists its failed, running, aborted and flagged instances, and the whole counts, versions and group counts', function () {
    const s = status([fleetStage('production', big, stateOf, 4), fleetStage('preview', 10, () => 'completed')]);
    const before = JSON.stringify(s);
    const a = statusAnswer(s);
    assert.equal(JSON.stringify(s), before, 'the campaign keeps every instance');
    const f = a.stages[0].fleet!;
    const wanted = s.stages[0].fleet!.instances.filter((i) => i.state === 'failed' || i.state === 'running' || i.flags);
    assert.deepEqual(f.instances, wanted);
    assert.deepEqual(f.listed, { which: 'attention', of: big, fromVersions: ['15.5', '15.10'] });
    assert.deepEqual(f.counts, s.stages[0].fleet!.counts);
    const groups = f.windowGroups!.map((g) => g.counts!);
    assert.equal(groups.reduce((n, c) => n + c.failed, 0), s.stages[0].fleet!.counts.failed);
    assert.deepEqual(groups[1], countStates(s.stages[0].fleet!.instances.filter((i) => i.wave === 2)));
    assert.equal(a.stages[1].fleet, s.stages[1].fleet, 'a small stage beside it lists all');
    assert.ok(JSON.stringify(a).length < JSON.stringify(s).length / 10);
  });

  it('even a large stage whose every instance failed lists at most STATUS_LISTS_AT_MOST', function () {
    const a = statusAnswer(status([fleetStage('staging', big, () => 'failed')]));
    assert.equal(a.stages[0].fleet!.instances.length, STATUS_LISTS_AT_MOST);
    assert.equal(a.stages[0].fleet!.counts.failed, big);
  });

  it('a page of each fleet stage, from its position', function () {
    const s = status([fleetStage('staging', big, stateOf), fleetStage('preview', 10, () => 'completed')]);
    const a = statusAnswer(s, { page: { from: 1000, size: 1000 } });
    assert.deepEqual(a.stages[0].fleet!.instances, s.stages[0].fleet!.instances.slice(1000));
    assert.deepEqual(a.stages[0].fleet!.listed, { which: 'page', from: 1000, of: big, fromVersions: ['15.5', '15.10'] });
    assert.deepEqual(a.stages[1].fleet!.instances, [], 'past its end');
    assert.equal(a.stages[1].fleet!.listed!.of, 10);
  });

  it('one instance, by ID or REGION/ID in any case, in every fleet stage or the one named', function () {
    const s = status([fleetStage('staging', big, stateOf), fleetStage('preview', 10, () => 'completed')]);
    const byId = statusAnswer(s, { instance: 'STAGING-1234' });
    assert.deepEqual(byId.stages[0].fleet!.instances.map((i) => `${i.region}/${i.instanceId}`), ['eu-west-2/staging-1234']);
    assert.equal(byId.stages[0].fleet!.listed!.which, 'matching');
    assert.deepEqual(byId.stages[1].fleet!.instances, []);
    assert.deepEqual(statusAnswer(s, { instance: 'us-east-1/staging-1234' }).stages[0].fleet!.instances, []);
    assert.equal(statusAnswer(s, { instance: 'preview-3', stage: 'staging' }).stages[1].fleet!.instances.length, 0);
    assert.equal(statusAnswer(s, { instance: 'preview-3', stage: 'preview' }).stages[1].fleet!.instances.length, 1);
    // A small stage too (the answer is the same whatever the size).
    assert.equal(statusAnswer(status([fleetStage('preview', 10, () => 'completed')]), { instance: 'preview-3' }).stages[0].fleet!.instances.length, 1);
  });

  it('a bad request is refused saying what a request holds', function () {
    const s = status([fleetStage('preview', 10, () => 'completed')]);
    assert.equal(statusRequestProblem(undefined), undefined);
    assert.equal(statusRequestProblem(null), undefined);
    for (const [req, why] of [
      ['x', /is an object/],
      [[1], /is an object/],
      [{ instances: 'all' }, /has no field instances/],
      [{ instance: '' }, /names one instance/],
      [{ instance: 3 }, /names one instance/],
      [{ stage: 'staging' }, /stage goes with instance/],
      [{ instance: 'a', page: { from: 0, size: 1 } }, /do not go together/],
      [{ page: { from: -1, size: 10 } }, /from a whole number from 0/],
      [{ page: { from: 0, size: STATUS_LISTS_AT_MOST + 1 } }, /size from 1 to 1000/],
      [{ page: { from: 0.5, size: 10 } }, /page is/],
      [{ page: null }, /page is/],
    ] as const) {
      assert.match(statusRequestProblem(req) ?? '', why, JSON.stringify(req));
      assert.throws(() => statusAnswer(s, req as never), (e: Error) => e.message.startsWith('campaign status: ') && why.test(e.message));
    }
  });
});
