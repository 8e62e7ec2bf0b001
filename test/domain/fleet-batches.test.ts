/**
 * The fleet's batches (src/domain/fleet.ts): how a wave is cut between batch workflows, and how many instances one
 * campaign may hold (runs started before batches: 1000; since: 10,000, bounded by the status's size).
 */
import assert from 'node:assert/strict';
import { BATCHED_MAX_INSTANCES_BEFORE, DEFAULT_INSTANCES_PER_WORKFLOW, LEGACY_MAX_INSTANCES, MAX_BATCHES_BEFORE, MAX_BATCHES_PER_CAMPAIGN, MAX_INSTANCES_PER_CAMPAIGN, STATUS_NAMED_EVERY_INSTANCE_CAP_SINCE_MS, STATUS_NAMED_EVERY_INSTANCE_MAX, batchesAtMost, batchesOf, campaignInstanceCap, campaignBatchesProblem, campaignSizeProblem, fleetBatchId } from '../../src/domain/fleet';

describe('fleet batches', function () {
  it('a wave is cut into the fewest batches of at most the size, as even as can be, in order', function () {
    const ids = Array.from({ length: 7 }, (_, i) => i);
    assert.deepEqual(batchesOf(ids, 3), [[0, 1, 2], [3, 4], [5, 6]]);
    assert.deepEqual(batchesOf(ids, 7), [ids]);
    assert.deepEqual(batchesOf(ids, 1), ids.map((i) => [i]));
    assert.deepEqual(batchesOf([], 3), [[]]);
    const big = Array.from({ length: 1001 }, (_, i) => i);
    const cut = batchesOf(big, DEFAULT_INSTANCES_PER_WORKFLOW);
    assert.deepEqual(cut.map((b) => b.length), [201, 200, 200, 200, 200]);
    assert.deepEqual(cut.flat(), big, 'every instance once, in order');
  });

  it('a batch is findable by id from its campaign, its stage, wave and number', function () {
    assert.equal(fleetBatchId('campaign-pg-minor-15-8', 'staging', 3, 2), 'campaign-pg-minor-15-8/staging/wave-3/batch-2');
  });

  it('one campaign holds up to 10,000 instances (3,000 for runs whose status named every instance, 10,000 for runs with batches before places were read together, 1000 before batches), and says what to do past it', function () {
    assert.equal(MAX_INSTANCES_PER_CAMPAIGN, 10_000);
    assert.equal(campaignSizeProblem(MAX_INSTANCES_PER_CAMPAIGN), undefined);
    assert.match(campaignSizeProblem(MAX_INSTANCES_PER_CAMPAIGN + 1)!, /select 10001 instances to upgrade; one campaign upgrades at most 10000 \(its history holds each instance's selection, start and end\).*split the fleet into several campaigns/);
    assert.equal(campaignSizeProblem(BATCHED_MAX_INSTANCES_BEFORE, BATCHED_MAX_INSTANCES_BEFORE), undefined);
    assert.equal(campaignSizeProblem(STATUS_NAMED_EVERY_INSTANCE_MAX, STATUS_NAMED_EVERY_INSTANCE_MAX), undefined);
    assert.match(campaignSizeProblem(STATUS_NAMED_EVERY_INSTANCE_MAX + 1, STATUS_NAMED_EVERY_INSTANCE_MAX)!, /select 3001 instances to upgrade; one campaign upgrades at most 3000 \(its status names every instance/);
    assert.equal(campaignSizeProblem(1001), undefined);
    assert.match(campaignSizeProblem(1001, LEGACY_MAX_INSTANCES)!, /at most 1000 \(its history grows with every instance\)/);
  });

  it('a run keeps the cap of the rules it started under: its patches, and for runs with places read together but no part listed, its start time', function () {
    const since = STATUS_NAMED_EVERY_INSTANCE_CAP_SINCE_MS;
    assert.equal(new Date(since).toISOString(), '2026-12-07T06:40:49.000Z', 'when the 3,000 cap reached main');
    const cap = (fleetBatches: boolean, fleetPlacesTogether: boolean, fleetStatusListsAPart: boolean, startedMs = since + 1) => campaignInstanceCap({ fleetBatches, fleetPlacesTogether, fleetStatusListsAPart, startedMs });
    assert.equal(cap(false, false, false), LEGACY_MAX_INSTANCES);
    assert.equal(cap(true, false, false), BATCHED_MAX_INSTANCES_BEFORE);
    assert.equal(cap(true, true, true), MAX_INSTANCES_PER_CAMPAIGN);
    assert.equal(cap(true, true, true, since - 1), MAX_INSTANCES_PER_CAMPAIGN, 'the newest rules whenever the clock says');
    assert.equal(cap(true, true, false), STATUS_NAMED_EVERY_INSTANCE_MAX, 'started once the cap was on main');
    assert.equal(cap(true, true, false, since), STATUS_NAMED_EVERY_INSTANCE_MAX);
    assert.equal(cap(true, true, false, since - 1), 10_000, 'started on the commits before it, which allowed 10,000');
  });

  it('a campaign runs at most 500 batches (600 for runs started before): waves of one instance each count one; a stage with approval counts a window group per weekly half-hour at most', function () {
    const members = Array.from({ length: 1000 }, (_, i) => ({ region: 'eu-west-2', instanceId: `db-${i}`, engine: 'postgres', engineVersion: '15.5', tags: {}, allocatedStorage: 10 })) as never[];
    assert.equal(batchesAtMost(members, { order: 'listed', failureThreshold: 1, maxConcurrent: 1 }, false), 1000, 'a wave per instance');
    assert.equal(batchesAtMost(members, { order: 'listed', failureThreshold: 1, maxConcurrent: 100 }, false), 10);
    assert.equal(batchesAtMost(members, { order: 'listed', failureThreshold: 1, maxConcurrent: 100, instancesPerWorkflow: 40 }, false), 30, 'a wave of 100 in batches of 40: 3');
    assert.equal(batchesAtMost(members, { order: 'listed', failureThreshold: 1 }, true), 336 + 4);
    assert.equal(campaignBatchesProblem(MAX_BATCHES_PER_CAMPAIGN), undefined);
    assert.match(campaignBatchesProblem(501)!, /would run up to 501 waves or batches; one campaign runs at most 500 .*raise waves\.maxConcurrent/);
    assert.equal(campaignBatchesProblem(MAX_BATCHES_BEFORE, MAX_BATCHES_BEFORE), undefined);
    assert.match(campaignBatchesProblem(1000, MAX_BATCHES_BEFORE)!, /one campaign runs at most 600 /);
  });
});
