/**
 * readFleetPlace refuses, non-retryably and saying what to do, a place whose answer Temporal would refuse (a
 * result over 2 MB is retried until it times out, over and over); a place of ordinary size is handed over whole.
 */
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import type { FleetMember, FleetPlaceSearch } from '../../src/api';
import { PLACE_ANSWER_MAX_BYTES, createFleetPlaceActivities, type FleetReaders } from '../../src/activities/fleet-place';

function readers(count: number): FleetReaders {
  const members: FleetMember[] = Array.from({ length: count }, (_, n) => ({
    region: 'eu-west-2',
    instanceId: `notify-db-${String(n).padStart(5, '0')}`,
    engine: 'postgres',
    engineVersion: '15.5',
    status: 'available',
    preferredMaintenanceWindow: 'tue:02:00-tue:02:30',
    autoMinorVersionUpgrade: false,
    instanceClass: 'db.r6g.large',
    allocatedStorage: 100,
    tags: { environment: 'production', team: 'notify' },
    pending: [{ action: 'system-update', description: 'New Operating System update is available', autoAppliedAfterDate: undefined, forcedApplyDate: undefined, currentApplyDate: undefined, optInStatus: undefined } as never],
  }));
  return {
    whoAmI: async () => ({ account: '123456789012', arn: 'arn:aws:sts::123456789012:assumed-role/rds-orchestrator/x', userId: 'x' }),
    findFleet: async () => ({ members, missing: [], excluded: [] }),
    listUpgradeTargets: async () => [{ engine: 'postgres', engineVersion: '15.8', autoUpgrade: true, isMajorVersionUpgrade: false } as never],
  } as unknown as FleetReaders;
}

const search: FleetPlaceSearch = {
  where: { region: 'eu-west-2', roleArn: 'arn:aws:iam::123456789012:role/rds-orchestrator' },
  query: { engine: 'postgres', tags: { environment: 'production' } },
  withAccount: true,
  targetEngineVersion: '15.8',
};

describe('readFleetPlace: an answer Temporal takes', function () {
  it('a place of 2,000 instances is handed over whole', async function () {
    const found = await createFleetPlaceActivities(readers(2000)).readFleetPlace(search);
    assert.equal(found.members.length, 2000);
    assert.ok(JSON.stringify(found).length < PLACE_ANSWER_MAX_BYTES);
  });

  it('a place whose answer is over 1.5 MB is refused, non-retryably, naming the place and what to do', async function () {
    await assert.rejects(createFleetPlaceActivities(readers(6000)).readFleetPlace(search), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.nonRetryable, true);
      assert.equal(err.type, 'FleetPlaceTooLarge');
      assert.match(err.message, /^eu-west-2 as arn:aws:iam::123456789012:role\/rds-orchestrator: the selection found 6000 instance\(s\), \d\.\d MB .* at most 1\.5 MB .*narrow the selection in this place/);
      return true;
    });
  });
});
