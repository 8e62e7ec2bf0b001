/** The pure rules the campaign and `campaign plan` share: approvals, pending maintenance, the plan's decisions. */
import assert from 'node:assert/strict';
import type { Approval, InstanceInfo, PendingMaintenanceAction } from '../../src/api';
import { checkApprover, invalidateOtherPlans, validApprovalCount } from '../../src/domain/approvals';
import { awsAppliesAtOf, awsUpgradeDeadline, describePending, firstAwsUpgrade, pendingUpgradeTo, withAwsDates } from '../../src/domain/pending-maintenance';
import { approvalPlanId, awsAppliesBefore, noticeOverride, planStage, precheckInstant, previewWindow, productionWindow } from '../../src/domain/plan';
import { assessStage } from '../../src/domain/preflight';
import { automaticMinorTarget } from '../../src/domain/upgrade-targets';
import { resolveCampaignSpec } from '../../src/input';

const DAY = 86_400_000;
const MON_2026_11_23 = Date.parse('2026-11-23T00:00:00Z');

const spec = resolveCampaignSpec({
  targetEngineVersion: '15.8',
  requester: 'alice',
  stages: [
    { name: 'preview', region: 'eu-west-2', instanceId: 'db-preview', method: 'maintenance-window' },
    { name: 'staging', region: 'eu-west-2', instanceId: 'db-staging', method: 'apply-now', probe: { url: 'https://status.example/_status' } },
    { name: 'production', region: 'eu-west-2', instanceId: 'db-production', method: 'maintenance-window', notice: { minimum: '4d', overrideReason: 'security fix' } },
  ],
  blackouts: [{ from: '2026-12-03T00:00:00Z', to: '2026-12-04T00:00:00Z', reason: 'freeze' }],
});
const [preview, staging, production] = spec.stages;

function instance(over: Partial<InstanceInfo> = {}): InstanceInfo {
  return {
    region: 'eu-west-2', instanceId: 'db', engine: 'postgres', engineVersion: '15.5', status: 'available', autoMinorVersionUpgrade: false,
    preferredMaintenanceWindow: 'wed:22:00-wed:22:30', instanceClass: 'db.t4g.medium', multiAZ: false, vpcSecurityGroupIds: [], deletionProtection: false, tags: {}, ...over,
  };
}
const targets = [
  { engineVersion: '15.6', isMajorVersionUpgrade: false, autoUpgrade: false },
  { engineVersion: '15.8', isMajorVersionUpgrade: false, autoUpgrade: true },
];
const upgrade = (over: Partial<PendingMaintenanceAction> = {}): PendingMaintenanceAction => ({ action: 'db-upgrade', description: 'Upgrade to PostgreSQL 15.8', ...over });

describe('domain rules', function () {
  it('approvals: not the requester, only listed approvers, one per person and plan; a moved plan invalidates', function () {
    const policy = { requester: 'alice', approvers: ['bob', 'carol'], minApprovals: 2 };
    assert.throws(() => checkApprover(policy, 'Alice ', [], 'p1'), /requested this change and cannot approve/);
    assert.throws(() => checkApprover(policy, 'mallory', [], 'p1'), /not on the approver list/);
    const approvals: Approval[] = [{ by: 'bob', at: 't', stage: 'production', plan: 'p1', valid: true }];
    assert.throws(() => checkApprover(policy, 'BOB', approvals, 'p1'), /already approved this plan/);
    assert.doesNotThrow(() => checkApprover(policy, 'carol', approvals, 'p1'));
    assert.equal(validApprovalCount(approvals, 'p1'), 1);
    assert.equal(invalidateOtherPlans(approvals, 'production', 'p2'), 1);
    assert.equal(validApprovalCount(approvals, 'p1'), 0);
  });

  it('pending maintenance: the upgrade to the target, AWS deadline, one line for people', function () {
    const pending = [upgrade({ autoAppliedAfterDate: '2026-12-10T00:00:00.000Z', forcedApplyDate: '2026-12-01T00:00:00.000Z' }), { action: 'system-update' }];
    assert.equal(pendingUpgradeTo(pending, '15.8'), pending[0]);
    assert.equal(pendingUpgradeTo(pending, '15.9'), undefined);
    assert.equal(awsUpgradeDeadline(pending), Date.parse('2026-12-01T00:00:00Z'));
    // AutoAppliedAfterDate: "applied to the resource during its first maintenance window after this date" (Thursday 10
    // December 2026 → Sunday 13 December 03:00 for a sun:03:00 window); ForcedApplyDate is the date itself.
    const auto = upgrade({ autoAppliedAfterDate: '2026-12-10T00:00:00.000Z' });
    assert.equal(awsAppliesAtOf(auto, 'sun:03:00-sun:03:30'), '2026-12-13T03:00:00.000Z');
    assert.equal(awsAppliesAtOf(auto, 'thu:00:00-thu:00:30'), '2026-12-10T00:00:00.000Z', 'a window opening at the date itself');
    assert.equal(awsAppliesAtOf(pending[0], 'sun:03:00-sun:03:30'), '2026-12-01T00:00:00.000Z', 'the forced date comes first');
    assert.equal(awsAppliesAtOf({ action: 'db-upgrade' }, 'sun:03:00-sun:03:30'), undefined);
    // CurrentApplyDate, the effective date (a next-maintenance opt-in, or the instance's own flag, has only it): the
    // window it falls in, or the first after it. Thursday 10 December 2026, 03:10 is inside a thu:03:00 window.
    assert.equal(awsAppliesAtOf(upgrade({ currentApplyDate: '2026-12-10T03:10:00.000Z', optInStatus: 'next-maintenance' }), 'thu:03:00-thu:03:30'), '2026-12-10T03:00:00.000Z');
    assert.equal(awsAppliesAtOf(upgrade({ currentApplyDate: '2026-12-10T03:10:00.000Z' }), 'sun:03:00-sun:03:30'), '2026-12-13T03:00:00.000Z');
    assert.equal(awsAppliesAtOf(upgrade({ currentApplyDate: '2026-12-12T00:00:00.000Z', autoAppliedAfterDate: '2026-12-20T00:00:00.000Z' }), 'sun:03:00-sun:03:30'), '2026-12-13T03:00:00.000Z', 'the earlier of the two');
    // The same date as the AutoAppliedAfterDate, inside a window: its first window after, as for that date.
    assert.equal(awsAppliesAtOf(upgrade({ currentApplyDate: '2026-12-10T03:10:00.000Z', autoAppliedAfterDate: '2026-12-10T03:10:00.000Z' }), 'thu:03:00-thu:03:30'), '2026-12-17T03:00:00.000Z');
    assert.equal(awsAppliesAtOf(upgrade({ currentApplyDate: '2026-12-10T03:10:00.000Z', forcedApplyDate: '2026-12-10T03:10:00.000Z' }), 'thu:03:00-thu:03:30'), '2026-12-10T03:10:00.000Z', 'a forced date is the date itself');
    // The deadline takes what the reading activity said; actions recorded before it said so count their dates themselves.
    assert.equal(awsUpgradeDeadline(withAwsDates([auto], 'sun:03:00-sun:03:30')), Date.parse('2026-12-13T03:00:00Z'));
    assert.equal(awsUpgradeDeadline([auto]), Date.parse('2026-12-10T00:00:00Z'));
    assert.deepEqual(withAwsDates([auto], undefined), [auto]);
    assert.equal(awsUpgradeDeadline([{ action: 'system-update', forcedApplyDate: '2026-11-30T00:00:00Z' }]), undefined, 'only a db-upgrade counts');
    // The action AWS applies first need not be the target's: the approval's question names it.
    const other = { action: 'db-upgrade', description: 'Upgrade to PostgreSQL 15.10', forcedApplyDate: '2026-12-05T00:00:00.000Z' };
    assert.deepEqual(firstAwsUpgrade([upgrade({ autoAppliedAfterDate: '2026-12-20T00:00:00.000Z' }), other]), { action: other, atMs: Date.parse('2026-12-05T00:00:00Z') });
    assert.equal(describePending(pending), 'db-upgrade (Upgrade to PostgreSQL 15.8); system-update');
    assert.equal(describePending([], 'nothing'), 'nothing');
  });

  it('preflight: a window stage takes only the automatic (AutoUpgrade) minor; apply-now any valid minor', function () {
    assert.equal(automaticMinorTarget(targets), '15.8');
    assert.deepEqual(assessStage(preview, instance(), '15.8', targets), { kind: 'ready', fromVersion: '15.5' });
    assert.equal(assessStage(preview, instance(), '15.6', targets).kind, 'problem');
    assert.equal(assessStage(staging, instance(), '15.6', targets).kind, 'ready');
    // Targets read by older activity code carry no AutoUpgrade: unknown, so not refused (their runs replay as before).
    assert.equal(assessStage(preview, instance(), '15.6', [{ engineVersion: '15.6', isMajorVersionUpgrade: false }]).kind, 'ready');
  });

  it('windows: preview takes the window open now or the next; production skips blackouts and keeps the notice', function () {
    const wednesdayNight = Date.parse('2026-11-25T22:10:00Z');
    assert.equal(previewWindow('wed:22:00-wed:22:30', wednesdayNight).startMs, Date.parse('2026-11-25T22:00:00Z'), 'open now');
    assert.equal(previewWindow('wed:22:00-wed:22:30', MON_2026_11_23).startMs, Date.parse('2026-11-25T22:00:00Z'), 'the next one');
    // 4 days' notice from Monday 23rd: Wednesday 25th (70 h away) is too soon; the next is Dec 2nd.
    const choice = productionWindow('wed:22:00-wed:22:30', MON_2026_11_23, production, spec.blackouts);
    assert.equal(choice.window.startMs, Date.parse('2026-12-02T22:00:00Z'));
    assert.equal(precheckInstant(choice.window, production), choice.window.startMs - 3 * DAY);
    const freeze = productionWindow('thu:10:00-thu:10:30', MON_2026_11_23, production, spec.blackouts);
    assert.equal(freeze.window.startMs, Date.parse('2026-12-10T10:00:00Z'), 'Thursday Dec 3rd lies in the blackout');
    assert.deepEqual(freeze.skipped.map((k) => k.window.startMs), [Date.parse('2026-12-03T10:00:00Z')]);
    assert.equal(approvalPlanId('production', '15.8', choice.window.startMs), 'production|15.8|2026-12-02T22:00:00.000Z');
    assert.equal(awsAppliesBefore([upgrade({ forcedApplyDate: '2026-12-01T00:00:00Z' })], choice.window), Date.parse('2026-12-01T00:00:00Z'));
    assert.equal(awsAppliesBefore([upgrade({ forcedApplyDate: '2026-12-09T00:00:00Z' })], choice.window), undefined);
    assert.equal(noticeOverride(spec), 'production: notice 4d instead of 14d (security fix)');
  });

  it('planStage: dates, warnings and the mechanism, as the campaign will use them', function () {
    const p = planStage(production, spec, { info: instance(), targets, pending: [upgrade({ forcedApplyDate: '2026-12-01T00:00:00Z' })] }, MON_2026_11_23);
    assert.deepEqual(p.problems, []);
    assert.deepEqual(p.plan.window, { start: '2026-12-02T22:00:00.000Z', end: '2026-12-02T22:30:00.000Z' });
    assert.equal(p.plan.precheckAt, '2026-11-29T22:00:00.000Z');
    assert.ok(p.plan.warnings.some((w) => /AWS would apply the upgrade on 2026-12-01T00:00:00.000Z, before the window/.test(w)));
    const skip = planStage(preview, spec, { info: instance({ engineVersion: '15.8' }), targets: [] }, MON_2026_11_23);
    assert.deepEqual({ action: skip.plan.action, what: skip.plan.what }, { action: 'skip', what: ['already at 15.8'] });
    const blocked = planStage(preview, { ...spec, targetEngineVersion: '15.6' }, { info: instance(), targets }, MON_2026_11_23);
    assert.equal(blocked.plan.action, 'blocked');
    assert.match(blocked.problems[0], /15\.6 cannot come through a maintenance window/);
  });
});
