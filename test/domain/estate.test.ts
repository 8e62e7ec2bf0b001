import assert from 'node:assert/strict';
import type { InstanceInfo } from '../../src/api';
import { movedAutomaticTarget } from '../../src/domain/upgrade-targets';
import { describeAuthors, onCallDedupKey, replicaLocation, standingOf, terraformChangeText } from '../../src/domain/estate';
import { planStage } from '../../src/domain/plan';
import { resolveCampaignSpec } from '../../src/input';

const NOW = Date.UTC(2026, 0, 1, 0, 0); // a Thursday

describe('domain: an estate that moves', () => {
  it('an instance below, at or past the target (15.10 is past 15.8)', () => {
    assert.deepEqual(standingOf('15.5', '15.8'), { kind: 'below-target' });
    assert.deepEqual(standingOf('15.8', '15.8'), { kind: 'at-target' });
    assert.deepEqual(standingOf('15.10', '15.8'), { kind: 'past-target', version: '15.10' });
  });

  it("RDS's automatic target moved away from the campaign's, or not", () => {
    const targets = (auto: string) => ['15.8', '15.10'].map((v) => ({ engineVersion: v, isMajorVersionUpgrade: false, autoUpgrade: v === auto }));
    assert.equal(movedAutomaticTarget(targets('15.8'), '15.8'), undefined);
    assert.deepEqual(movedAutomaticTarget(targets('15.10'), '15.8'), { now: '15.10' });
    assert.deepEqual(movedAutomaticTarget(targets('none'), '15.8'), { now: undefined });
  });

  it('who changed it, in words: the newest change first, or why CloudTrail cannot say', () => {
    const changes = [{ at: '2026-01-01T02:53:00Z', eventName: 'ModifyDBInstance', principal: 'arn:aws:iam::123456789012:user/terraform', username: 'terraform', eventId: 'e1' }];
    assert.equal(describeAuthors(changes), 'by arn:aws:iam::123456789012:user/terraform at 2026-01-01T02:53:00Z');
    assert.match(describeAuthors([], 'CloudTrail LookupEvents refused (AccessDenied)'), /who: unknown \(CloudTrail LookupEvents refused/);
    assert.match(describeAuthors([]), /not in CloudTrail yet/);
  });

  it('the Terraform change asked for, with engine_version after the window', () => {
    assert.equal(terraformChangeText(['db-a'], true), 'in Terraform, set auto_minor_version_upgrade = true on the aws_db_instance of db-a, and apply it');
    assert.equal(terraformChangeText(['db-a', 'db-b'], false, '15.8'), 'in Terraform, set auto_minor_version_upgrade = false, engine_version = "15.8" on the aws_db_instance of db-a, db-b, and apply it');
  });

  it('one PagerDuty dedup key per instance and window; replicas by identifier or ARN', () => {
    assert.equal(onCallDedupKey('pg', 'production', 'eu-west-2', 'db', Date.UTC(2026, 0, 7, 22)), 'rds-orchestrator/pg/production/eu-west-2/db/2026-01-07T22:00:00.000Z');
    assert.deepEqual(replicaLocation('db-ro', 'eu-west-2'), { region: 'eu-west-2', instanceId: 'db-ro' });
    assert.deepEqual(replicaLocation('arn:aws:rds:eu-west-1:123456789012:db:db-dr', 'eu-west-2'), { region: 'eu-west-1', instanceId: 'db-dr' });
  });

  it("the plan names the replicas first, who changes the flag, the re-arm and the page; and warns of a replica whose window comes after production's", () => {
    const spec = resolveCampaignSpec({
      targetEngineVersion: '15.8',
      requester: 'alice',
      changes: 'terraform',
      stages: [{ name: 'production', region: 'eu-west-2', instanceId: 'db', method: 'maintenance-window' }],
    });
    const info = { region: 'eu-west-2', instanceId: 'db', engine: 'postgres', engineVersion: '15.5', status: 'available', preferredMaintenanceWindow: 'wed:22:00-wed:22:30' } as InstanceInfo;
    const targets = [{ engineVersion: '15.8', isMajorVersionUpgrade: false, autoUpgrade: true }];
    const replicas = [
      { region: 'eu-west-2', instanceId: 'db-ro', engineVersion: '15.5', preferredMaintenanceWindow: 'sun:03:00-sun:03:30' },
      { region: 'eu-west-1', instanceId: 'db-done', engineVersion: '15.8', preferredMaintenanceWindow: 'sun:03:00-sun:03:30' },
    ];
    const { plan } = planStage(spec.stages[0], spec, { info, targets, pending: [], replicas }, NOW);
    assert.equal(plan.changes, 'terraform');
    assert.deepEqual(plan.replicas?.map((r) => r.instance), ['eu-west-2/db-ro'], 'a replica already at the target needs nothing');
    assert.ok(plan.what.some((w) => /read replicas first .*eu-west-2\/db-ro \(15\.5\), each in its own next maintenance window/.test(w)), plan.what.join('\n'));
    assert.ok(plan.what.some((w) => /Terraform owns the flag/.test(w)));
    assert.ok(plan.what.some((w) => /read again 15m before the window/.test(w)));
    assert.ok(plan.what.some((w) => /pages the person on call/.test(w)));
    assert.equal(plan.warnings.filter((w) => /next window .* does not end before the chosen window/.test(w)).length, 0, "the replica's next Sunday comes weeks before production's window");

    // Production's window in four hours (no notice), the replica's only after it.
    const soon = { ...spec.stages[0], noticeMs: 0, noticeOverrideReason: 'x' };
    const late = planStage(soon, { ...spec, stages: [soon] }, { info: { ...info, preferredMaintenanceWindow: 'thu:04:00-thu:04:30' }, targets, pending: [], replicas: [{ ...replicas[0], preferredMaintenanceWindow: 'thu:06:00-thu:06:30' }] }, NOW);
    assert.ok(late.plan.warnings.some((w) => /read replica eu-west-2\/db-ro's next window .* does not end before the chosen window/.test(w)), late.plan.warnings.join('\n'));
  });
});
