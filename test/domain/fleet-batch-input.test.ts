/**
 * A batch's input (src/domain/fleet-batch-input.ts): what its instances share once, each instance's own part, and
 * each instance's input put together again exactly as the campaign would have given it.
 */
import assert from 'node:assert/strict';
import type { FleetInstanceInput, FleetInstanceStart, ResolvedStage } from '../../src/api';
import { batchMemberIds, endedOf, memberEnded, memberInput, slimBatch } from '../../src/domain/fleet-batch-input';
import type { FleetBatchEnded } from '../../src/api';
import { resolveCampaignSpec } from '../../src/input';

const production = resolveCampaignSpec({
  targetEngineVersion: '15.8',
  requester: 'alice',
  pollInterval: '5m',
  approval: { approvers: ['bob'] },
  stages: [
    {
      name: 'production',
      region: 'eu-west-2',
      select: { tags: { environment: 'production' }, from: [{ region: 'eu-west-2' }, { region: 'us-east-1', aws: { roleArn: 'arn:aws:iam::444444444444:role/rds-orchestrator' } }] },
      method: 'maintenance-window',
      requiresApproval: true,
      statusPage: { componentIds: ['c1'], name: 'Database maintenance', body: 'A short outage' },
    },
  ],
}).stages[0];

/** The stage as it applies to one instance, as preflight builds it (its region, account and instance). */
function instanceStage(s: ResolvedStage, region: string, instanceId: string, aws?: ResolvedStage['aws']): ResolvedStage {
  const stage: ResolvedStage = { ...s, region, instanceId };
  delete stage.fleet;
  if (aws) stage.aws = aws;
  else delete stage.aws;
  return stage;
}

function start(i: number, stage: ResolvedStage, window?: { startMs: number; endMs: number }): FleetInstanceStart {
  const input: FleetInstanceInput = {
    campaignId: 'pg-minor-15-8',
    parentWorkflowId: 'campaign-pg-minor-15-8',
    targetEngineVersion: '15.8',
    requester: 'alice',
    stage,
    wave: 2,
    blackouts: [],
    pollIntervalMs: 300_000,
    window,
    paused: undefined,
  };
  return { workflowId: `campaign-pg-minor-15-8/production/${stage.region}/${stage.instanceId}`, summary: `s${i}`, details: `d${i}`, input };
}

/** What the workflow gets: the input through JSON, as Temporal's payload converter passes it. */
const asSent = (x: unknown): unknown => JSON.parse(JSON.stringify(x));

describe('a fleet batch input', function () {
  const role = { roleArn: 'arn:aws:iam::444444444444:role/rds-orchestrator' } as ResolvedStage['aws'];
  const starts = [
    start(0, instanceStage(production, 'eu-west-2', 'orders-db', role), { startMs: 1_000, endMs: 2_000 }),
    start(1, instanceStage(production, 'us-east-1', 'billing-db', role), { startMs: 1_000, endMs: 2_000 }),
    // An instance reached with the worker's own credentials: its stage has no `aws` at all.
    start(2, instanceStage(production, 'eu-west-2', 'search-db'), { startMs: 3_000, endMs: 4_000 }),
  ];

  it('gives every instance its input again exactly, paused or not, its window its own', function () {
    const { common, members } = asSent(slimBatch(starts)) as ReturnType<typeof slimBatch>;
    members.forEach((m, i) => {
      assert.equal(m.workflowId, starts[i].workflowId);
      assert.deepEqual(memberInput(common, m, false), asSent(starts[i].input));
      assert.deepEqual(memberInput(common, m, true), asSent({ ...starts[i].input, paused: true }));
    });
  });

  it('holds the stage once: each instance carries only its region, instance, account and window', function () {
    const { members } = slimBatch(starts);
    assert.deepEqual(Object.keys(members[0].stage).sort(), []);
    assert.deepEqual(Object.keys(members[1].stage).sort(), ['instanceId', 'region']);
    assert.deepEqual(members[2], { workflowId: starts[2].workflowId, stage: { instanceId: 'search-db' }, unset: ['aws'], window: { startMs: 3_000, endMs: 4_000 } });
    // Measured: the batch's input against the whole input per instance (what the campaign's history holds).
    const many = Array.from({ length: 500 }, (_, i) => start(i, instanceStage(production, 'eu-west-2', `db-${String(i).padStart(4, '0')}`, role), { startMs: 1_000, endMs: 2_000 }));
    const whole = JSON.stringify(many.map((s) => s.input)).length;
    const slim = JSON.stringify(slimBatch(many)).length;
    assert.ok(slim * 4 < whole, `a batch of 500: ${slim} bytes, against ${whole} for whole inputs`);
  });

  it('refuses instances whose inputs differ beyond their stage and window (they belong to different batches)', function () {
    const other = start(3, instanceStage(production, 'eu-west-2', 'late-db', role));
    assert.throws(() => slimBatch([starts[0], { ...other, input: { ...other.input, wave: 3 } }]), /late-db: its input differs from the batch's beyond its stage and window/);
    assert.throws(() => slimBatch([]), /at least one instance/);
  });

  it("reads an end reported by member with the instance's ids again, and one reported by workflow id as it is", function () {
    const ids = batchMemberIds(starts);
    const ends: FleetBatchEnded[] = [
      { workflowId: starts[1].workflowId, state: 'completed', result: { instanceId: 'billing-db', region: 'us-east-1', state: 'completed', fromVersion: '15.5', toVersion: '15.8', window: { start: '2026-12-21T07:00:00.000Z', end: '2026-12-21T07:30:00.000Z' }, followUps: [] } },
      { workflowId: starts[2].workflowId, state: 'failed', note: 'its workflow could not be started: already started' },
    ];
    const told = ends.map((e, i) => asSent(memberEnded([1, 2][i], e)) as ReturnType<typeof memberEnded>);
    assert.deepEqual(told.map((t) => endedOf(t, ids)), ends);
    assert.equal(endedOf(ends[0], []), ends[0], 'an end from a batch started before it');
    assert.equal(endedOf({ member: 7, state: 'completed' }, ids), undefined, 'a member the campaign does not know');
    // What the campaign's history holds of each end: the ids are the campaign's already.
    const before = JSON.stringify(ends[0]).length;
    const after = JSON.stringify(told[0]).length;
    const idsLength = starts[1].workflowId.length + 'billing-db'.length + 'us-east-1'.length;
    assert.ok(before - after >= idsLength, `an end by member is ${after} bytes, by workflow id ${before}`);
  });
});
