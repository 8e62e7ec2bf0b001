import assert from 'node:assert/strict';
import { RESOLVED_RESTORE_SPEC, type CampaignSpec, type RestoreSpec } from '../../src/api';
import { SpecError, parseIsoInstant, resolveCampaignSpec, resolveRestoreSpec, validateCampaignSpec, validateRestoreSpec } from '../../src/input';
import { ROLE_ARN_PATTERN } from '../../src/input/fields';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function campaign(): CampaignSpec {
  return {
    targetEngineVersion: '15.8',
    requester: 'alice@example.com',
    stages: [
      { name: 'preview', region: 'eu-west-2', instanceId: 'notify-preview', method: 'maintenance-window' },
      { name: 'staging', region: 'eu-west-2', instanceId: 'notify-staging', method: 'apply-now', probe: { url: 'https://api.staging.example.com/_status' } },
      { name: 'production', region: 'eu-west-2', instanceId: 'notify-production', method: 'maintenance-window' },
    ],
  };
}

function restore(): RestoreSpec {
  return {
    requester: 'alice@example.com',
    source: { region: 'eu-west-2', instanceId: 'notify-production' },
    targetInstanceId: 'notify-production-restored',
    restoreTime: 'latest',
  };
}

/** The problems a validation reports; fails the test when it does not throw a SpecError. */
function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof SpecError, `expected a SpecError, got ${String(error)}`);
    for (const problem of error.problems) assert.ok(error.message.includes(problem), `message lists "${problem}"`);
    return error.problems;
  }
  assert.fail('expected the spec to be refused');
}

function assertProblem(problems: string[], path: string, pattern: RegExp): void {
  const found = problems.filter((p) => p.startsWith(`${path}: `));
  assert.ok(found.length > 0, `no problem for ${path} in:\n${problems.join('\n')}`);
  assert.ok(found.some((p) => pattern.test(p)), `problem for ${path} does not match ${pattern}:\n${found.join('\n')}`);
}

/** Validates a campaign changed by `edit`, expecting exactly the given field paths to be reported. */
function campaignProblems(edit: (spec: CampaignSpec & Record<string, unknown>) => void): string[] {
  const spec = campaign() as CampaignSpec & Record<string, unknown>;
  edit(spec);
  return problemsOf(() => validateCampaignSpec(spec));
}

function stageProblems(index: number, edit: (stage: Record<string, unknown>) => void): string[] {
  return campaignProblems((spec) => edit(spec.stages[index] as unknown as Record<string, unknown>));
}

function restoreProblems(edit: (spec: Record<string, unknown>) => void): string[] {
  const spec = restore() as unknown as Record<string, unknown>;
  edit(spec);
  return problemsOf(() => validateRestoreSpec(spec));
}

describe('spec: campaign defaults reproduce the runbook', function () {
  const resolved = validateCampaignSpec(campaign());
  const [preview, staging, production] = resolved.stages;

  it('derives the campaign id from the target version', function () {
    assert.equal(resolved.campaignId, 'pg-minor-15-8');
    assert.equal(validateCampaignSpec({ ...campaign(), targetEngineVersion: '15.10' }).campaignId, 'pg-minor-15-10');
  });

  it('keeps target, requester and the stage order', function () {
    assert.equal(resolved.targetEngineVersion, '15.8');
    assert.equal(resolved.requester, 'alice@example.com');
    assert.deepEqual(resolved.stages.map((s) => s.name), ['preview', 'staging', 'production']);
  });

  it('only the stage named production requires approval, 14 days notice and a status page', function () {
    assert.equal(production.requiresApproval, true);
    assert.equal(production.noticeMs, 14 * DAY);
    assert.equal(production.noticeOverrideReason, undefined);
    assert.equal(production.statusPage.enabled, true);
    for (const stage of [preview, staging]) {
      assert.equal(stage.requiresApproval, false);
      assert.equal(stage.noticeMs, 0);
      assert.equal(stage.statusPage.enabled, false);
    }
  });

  it('status page defaults name the target and the downtime, no shorter than AWS says it can be (several minutes)', function () {
    assert.equal(production.statusPage.name, 'Scheduled maintenance: PostgreSQL upgrade to 15.8');
    assert.match(production.statusPage.body, /15\.8/);
    assert.match(production.statusPage.body, /unavailable for a short time, usually under a minute but possibly several minutes/);
    assert.deepEqual(production.statusPage.componentIds, []);
  });

  it('checks pending maintenance 3 days before, waits 1h of grace, tolerates 2 missed windows', function () {
    assert.equal(production.precheckBeforeMs, 3 * DAY);
    assert.equal(production.graceMs, HOUR);
    assert.equal(production.maxMissedWindows, 2);
  });

  it('apply-now probe defaults: 2 requests/s, 2s timeout, 30s settle, 2h maximum; 60s downtime threshold', function () {
    assert.deepEqual(staging.probe, { url: 'https://api.staging.example.com/_status', ratePerSecond: 2, requestTimeoutMs: 2000, settleMs: 30 * SECOND, maxDurationMs: 2 * HOUR });
    assert.equal(staging.downtimeThresholdMs, 60 * SECOND);
    assert.equal(preview.probe, undefined);
    assert.equal(preview.healthCheckUrl, undefined);
  });

  it('infrastructure-code follow-up names the version and the instance', function () {
    assert.equal(
      preview.infraCodeHint,
      'Set engine_version = "15.8" and auto_minor_version_upgrade = false for notify-preview in the Terraform code (otherwise Terraform will error on its next plan).',
    );
  });

  it('approval, blackouts and polling defaults', function () {
    assert.deepEqual(resolved.approval, { approvers: [], minApprovals: 1, reminderIntervalMs: 24 * HOUR });
    assert.deepEqual(resolved.blackouts, []);
    assert.equal(resolved.pollIntervalMs, 60 * SECOND);
  });

  it('explicit values win over defaults', function () {
    const spec = campaign();
    spec.campaignId = 'my-campaign';
    spec.stages[0] = {
      ...spec.stages[0],
      requiresApproval: false,
      notice: { minimum: '2d' },
      statusPage: { enabled: true, name: 'Preview upgrade', body: 'Short body', componentIds: ['abc123'] },
      precheckBefore: '1d',
      grace: '30m',
      maxMissedWindows: 5,
      healthCheckUrl: 'http://preview.example.com/health',
      infraCodeHint: 'Edit terraform/preview.tf',
      changes: 'terraform',
      rearmBefore: '30m',
      pagerDuty: { enabled: true, routingKey: { env: 'PREVIEW_PAGERDUTY_KEY' } },
    };
    spec.stages[1].probe = { url: 'http://localhost:8080/status', ratePerSecond: 0.5, requestTimeoutMs: 500, settle: '10s', maxDuration: '15m' };
    spec.stages[1].downtimeThreshold = '90s';
    spec.approval = { approvers: ['bob@example.com', 'carol@example.com'], minApprovals: 2, reminderInterval: '4h' };
    spec.blackouts = [{ from: '2025-12-19', to: '2026-01-05T09:00:00Z', reason: 'Christmas' }];
    spec.pollInterval = 5000;
    const r = validateCampaignSpec(spec);
    assert.equal(r.campaignId, 'my-campaign');
    assert.deepEqual(r.stages[0], {
      name: 'preview', region: 'eu-west-2', instanceId: 'notify-preview', method: 'maintenance-window', requiresApproval: false,
      noticeMs: 2 * DAY, statusPage: { enabled: true, name: 'Preview upgrade', body: 'Short body', componentIds: ['abc123'] },
      precheckBeforeMs: DAY, graceMs: 30 * MINUTE, maxMissedWindows: 5, downtimeThresholdMs: 60 * SECOND,
      healthCheckUrl: 'http://preview.example.com/health', infraCodeHint: 'Edit terraform/preview.tf',
      changes: 'terraform', rearmBeforeMs: 30 * MINUTE, pagerDuty: { enabled: true, routingKeyEnv: 'PREVIEW_PAGERDUTY_KEY' },
    });
    assert.equal(r.stages[1].changes, 'api', 'the campaign changes the flag itself unless a stage says otherwise');
    assert.deepEqual(r.stages[2].pagerDuty, { enabled: true }, 'production pages the person on call by default (the workers\' routing key)');
    assert.deepEqual(r.stages[1].pagerDuty, { enabled: false });
    assert.equal(r.stages[2].rearmBeforeMs, 15 * MINUTE);
    assert.deepEqual(r.stages[1].probe, { url: 'http://localhost:8080/status', ratePerSecond: 0.5, requestTimeoutMs: 500, settleMs: 10 * SECOND, maxDurationMs: 15 * MINUTE });
    assert.equal(r.stages[1].downtimeThresholdMs, 90 * SECOND);
    assert.deepEqual(r.approval, { approvers: ['bob@example.com', 'carol@example.com'], minApprovals: 2, reminderIntervalMs: 4 * HOUR });
    assert.deepEqual(r.blackouts, [{ fromMs: Date.parse('2025-12-19T00:00:00Z'), toMs: Date.parse('2026-01-05T09:00:00Z'), reason: 'Christmas' }]);
    assert.equal(r.pollIntervalMs, 5000);
  });

  it('refuses a wrong changes, rearmBefore or pagerDuty, saying what each takes', function () {
    assertProblem(stageProblems(0, (s) => (s.changes = 'console')), 'stages[0].changes', /"api".*"terraform"/);
    assertProblem(campaignProblems((s) => ((s as Record<string, unknown>).changes = 'pulumi')), 'changes', /"api".*"terraform"/);
    assertProblem(stageProblems(2, (s) => (s.rearmBefore = 'soon')), 'stages[2].rearmBefore', /./);
    // A key written in the spec would be in the workflow's history: refused, and never echoed.
    const key = 'R0123456789abcdef0123456789ABCDE';
    const written = stageProblems(2, (s) => (s.pagerDuty = { routingKey: key as never }));
    assertProblem(written, 'stages[2].pagerDuty.routingKey', /a routing key is a secret.*routingKey: \{ env: "NOTIFY_PAGERDUTY_KEY" \}.*rotate it/);
    assert.ok(!written.join('\n').includes(key), 'the key is not echoed');
    assertProblem(stageProblems(2, (s) => (s.pagerDuty = { routingKey: { env: '1PD' } })), 'stages[2].pagerDuty.routingKey.env', /not an environment variable's name/);
    assertProblem(stageProblems(2, (s) => (s.pagerDuty = { page: true })), 'stages[2].pagerDuty.page', /unknown field.*enabled, routingKey/);
    const r = validateCampaignSpec({ ...campaign(), changes: 'terraform' });
    assert.deepEqual(r.stages.map((x) => x.changes), ['terraform', 'terraform', 'terraform'], 'the campaign-level changes applies to every stage');
  });

  it('any stage can require approval, and production can opt out', function () {
    const spec = campaign();
    spec.stages[0].requiresApproval = true;
    spec.stages[2].requiresApproval = false;
    const r = validateCampaignSpec(spec);
    assert.equal(r.stages[0].requiresApproval, true);
    assert.equal(r.stages[0].noticeMs, 14 * DAY);
    assert.equal(r.stages[2].requiresApproval, false);
    assert.equal(r.stages[2].noticeMs, 0);
    assert.equal(r.stages[2].statusPage.enabled, false);
  });

  it('lowercases instance identifiers (RDS stores them lowercase) and trims text', function () {
    const spec = campaign();
    spec.stages[0].instanceId = 'Notify-Preview';
    spec.requester = '  alice@example.com ';
    const r = validateCampaignSpec(spec);
    assert.equal(r.stages[0].instanceId, 'notify-preview');
    assert.equal(r.requester, 'alice@example.com');
  });

  it('treats null like an absent field (an empty YAML key)', function () {
    const spec = campaign() as unknown as Record<string, unknown>;
    spec.approval = null;
    spec.blackouts = null;
    (spec.stages as Record<string, unknown>[])[2].notice = null;
    const r = validateCampaignSpec(spec);
    assert.equal(r.stages[2].noticeMs, 14 * DAY);
    assert.deepEqual(r.blackouts, []);
  });

  it('does not modify its input', function () {
    const spec = campaign();
    const copy = JSON.parse(JSON.stringify(spec));
    validateCampaignSpec(spec);
    assert.deepEqual(spec, copy);
  });
});

describe('spec: production notice override', function () {
  it('a notice below 14 days on an approval stage needs a reason', function () {
    const problems = stageProblems(2, (s) => (s.notice = { minimum: '2d' }));
    assertProblem(problems, 'stages[2].notice.overrideReason', /is required because notice.minimum \(2d\) is below the runbook's 14d/);
  });

  it('a blank reason does not count', function () {
    const problems = stageProblems(2, (s) => (s.notice = { minimum: '2d', overrideReason: '   ' }));
    assertProblem(problems, 'stages[2].notice.overrideReason', /must not be empty/);
  });

  it('is accepted with a reason, which is kept for status and plan', function () {
    const spec = campaign();
    spec.stages[2].notice = { minimum: '2m', overrideReason: 'demo with short windows' };
    spec.stages[2].precheckBefore = '1m';
    const stage = validateCampaignSpec(spec).stages[2];
    assert.equal(stage.noticeMs, 2 * MINUTE);
    assert.equal(stage.noticeOverrideReason, 'demo with short windows');
  });

  it('14 days or more needs no reason', function () {
    const spec = campaign();
    spec.stages[2].notice = { minimum: '3w' };
    assert.equal(validateCampaignSpec(spec).stages[2].noticeMs, 21 * DAY);
  });

  it('precheck must come after the notice goes out (shorter than the notice), naming the default when it is one', function () {
    const problems = stageProblems(2, (s) => (s.notice = { minimum: '2d', overrideReason: 'urgent CVE' }));
    assertProblem(problems, 'stages[2].precheckBefore', /3d \(the default\) must be shorter than notice.minimum \(2d\).*e\.g\. "1d"/);
    assertProblem(stageProblems(2, (s) => (s.precheckBefore = '14d')), 'stages[2].precheckBefore', /14d must be shorter than notice.minimum \(14d\)/);
  });

  it("precheck at most 6 days before an approved window: the flag goes on after it, and must not meet the instance's previous weekly window", function () {
    const at = (precheckBefore: string) => {
      const spec = campaign();
      spec.stages[2].precheckBefore = precheckBefore;
      spec.stages[2].notice = { minimum: '3w' };
      return spec;
    };
    assert.equal(resolveCampaignSpec(at('6d')).stages[2].precheckBeforeMs, 6 * DAY);
    assert.throws(() => resolveCampaignSpec(at('7d')), (err: unknown) => {
      assert.match(String((err as Error).message), /stages\[2\]\.precheckBefore: 7d is too early: AutoMinorVersionUpgrade goes on right after the pre-check, .*previous weekly window .*use at most 6d/);
      return true;
    });
    // The suggestion for a precheck longer than the notice is one the campaign takes.
    assertProblem(stageProblems(2, (s) => (s.precheckBefore = '14d')), 'stages[2].precheckBefore', /e\.g\. "6d"/);
  });

  it('a stage without notice has no precheck constraint', function () {
    const spec = campaign();
    spec.stages[0].precheckBefore = '30d';
    assert.equal(validateCampaignSpec(spec).stages[0].precheckBeforeMs, 30 * DAY);
  });
});

describe('spec: approvers', function () {
  it('the requester may not approve their own campaign', function () {
    const problems = campaignProblems((s) => (s.approval = { approvers: ['bob@example.com', 'Alice@Example.com'] }));
    assertProblem(problems, 'approval.approvers[1]', /"Alice@Example.com" is also the requester.*must not be the requester/);
  });

  it('minApprovals cannot exceed the listed approvers', function () {
    const problems = campaignProblems((s) => (s.approval = { approvers: ['bob@example.com'], minApprovals: 2 }));
    assertProblem(problems, 'approval.minApprovals', /2 is more than the 1 listed approvers/);
  });

  it('minApprovals is a whole number of at least 1', function () {
    assertProblem(campaignProblems((s) => (s.approval = { minApprovals: 0 })), 'approval.minApprovals', />= 1/);
    assertProblem(campaignProblems((s) => (s.approval = { minApprovals: 1.5 })), 'approval.minApprovals', /whole number/);
  });

  it('minApprovals without a list of approvers is allowed (anyone but the requester)', function () {
    const spec = campaign();
    spec.approval = { minApprovals: 2 };
    assert.equal(validateCampaignSpec(spec).approval.minApprovals, 2);
  });

  it('an empty list and duplicate approvers are refused', function () {
    assertProblem(campaignProblems((s) => (s.approval = { approvers: [] })), 'approval.approvers', /empty list.*leave the field out/);
    assertProblem(campaignProblems((s) => (s.approval = { approvers: ['bob', 'BOB'] })), 'approval.approvers[1]', /listed twice.*approval.approvers\[0\]/);
    assertProblem(campaignProblems((s) => (s.approval = { approvers: ['bob', ''] })), 'approval.approvers[1]', /must not be empty/);
    assertProblem(campaignProblems((s) => (s.approval = { approvers: 'bob' as unknown as string[] })), 'approval.approvers', /expected a list/);
  });

  it('the reminder interval is a positive duration', function () {
    assertProblem(campaignProblems((s) => (s.approval = { reminderInterval: 'daily' })), 'approval.reminderInterval', /could not read "daily"/);
    assertProblem(campaignProblems((s) => (s.approval = { reminderInterval: 0 })), 'approval.reminderInterval', /too short/);
    assertProblem(campaignProblems((s) => (s.approval = { reminderInterval: '30s' })), 'approval.reminderInterval', /too short; use at least 1m/);
  });
});

describe('spec: campaign problems name the field to fix', function () {
  it('refuses something that is not an object', function () {
    for (const raw of [null, 'spec', 42, []]) {
      assertProblem(problemsOf(() => validateCampaignSpec(raw)), 'spec', /expected an object/);
    }
  });

  it('required top-level fields', function () {
    const problems = problemsOf(() => validateCampaignSpec({}));
    assertProblem(problems, 'targetEngineVersion', /is required/);
    assertProblem(problems, 'requester', /is required/);
    assertProblem(problems, 'stages', /is required/);
    assert.equal(problems.length, 3, problems.join('\n'));
  });

  it('target version: digits.digits, and a YAML number is explained', function () {
    assertProblem(campaignProblems((s) => (s.targetEngineVersion = '15')), 'targetEngineVersion', /"15" is not a PostgreSQL minor version.*"15.10"/);
    assertProblem(campaignProblems((s) => (s.targetEngineVersion = 'v15.8')), 'targetEngineVersion', /major.minor/);
    assertProblem(campaignProblems((s) => (s.targetEngineVersion = 15.1 as unknown as string)), 'targetEngineVersion', /number 15.1.*quoted text.*trailing zeros/);
  });

  it('campaign id pattern', function () {
    assertProblem(campaignProblems((s) => (s.campaignId = 'has space')), 'campaignId', /"has space" is not a valid id/);
    assertProblem(campaignProblems((s) => (s.campaignId = '-leading')), 'campaignId', /not a valid id/);
    assertProblem(campaignProblems((s) => (s.campaignId = 'x'.repeat(64))), 'campaignId', /not a valid id/);
    assert.equal(validateCampaignSpec({ ...campaign(), campaignId: 'A'.repeat(63) }).campaignId, 'A'.repeat(63));
  });

  it('stages: a list with at least one stage', function () {
    assertProblem(campaignProblems((s) => (s.stages = [])), 'stages', /at least one stage/);
    assertProblem(campaignProblems((s) => (s.stages = {} as never)), 'stages', /expected a list/);
    assertProblem(campaignProblems((s) => (s.stages = ['preview'] as never)), 'stages[0]', /expected an object/);
  });

  it('stage names are required and unique', function () {
    assertProblem(stageProblems(1, (s) => delete s.name), 'stages[1].name', /is required/);
    assertProblem(stageProblems(1, (s) => (s.name = 'preview')), 'stages[1].name', /"preview" is already used by stages\[0\]/);
    assertProblem(stageProblems(1, (s) => (s.name = 'a|b')), 'stages[1].name', /must not contain "\|"/);
  });

  it('each instance appears in one stage only (compared case-insensitively, per region)', function () {
    assertProblem(stageProblems(1, (s) => (s.instanceId = 'NOTIFY-PREVIEW')), 'stages[1].instanceId', /eu-west-2\/notify-preview is already upgraded by stages\[0\]/);
    const spec = campaign();
    spec.stages[1].instanceId = 'notify-preview';
    spec.stages[1].region = 'eu-west-1';
    assert.doesNotThrow(() => validateCampaignSpec(spec));
  });

  it('region must look like an AWS region', function () {
    for (const region of ['europe', 'eu-west', 'EU-WEST-2', 'eu_west_2']) {
      assertProblem(stageProblems(0, (s) => (s.region = region)), 'stages[0].region', /does not look like an AWS region.*"eu-west-2"/);
    }
    const spec = campaign();
    for (const region of ['us-east-1', 'ap-southeast-3', 'us-gov-west-1', 'il-central-1']) {
      spec.stages[0].region = region;
      assert.doesNotThrow(() => validateCampaignSpec(spec), region);
    }
  });

  it('instance id must be an RDS identifier', function () {
    for (const id of ['1db', 'db_1', 'db--1', 'db-', 'a'.repeat(64), 'db.1']) {
      assertProblem(stageProblems(2, (s) => (s.instanceId = id)), 'stages[2].instanceId', /is not an RDS instance identifier.*starting with a letter/);
    }
    const spec = campaign();
    spec.stages[2].instanceId = 'a'.repeat(63);
    assert.doesNotThrow(() => validateCampaignSpec(spec));
  });

  it('method: required, one of three, apply-now needs a probe, approval stages use the maintenance window or Blue/Green', function () {
    assertProblem(stageProblems(0, (s) => delete s.method), 'stages[0].method', /is required: "maintenance-window".*"apply-now".*"blue-green"/);
    assertProblem(stageProblems(0, (s) => (s.method = 'now')), 'stages[0].method', /must be "maintenance-window", "apply-now" or "blue-green", got the text "now"/);
    assertProblem(stageProblems(1, (s) => delete s.probe), 'stages[1].probe', /is required for method "apply-now"/);
    assertProblem(stageProblems(2, (s) => (s.method = 'apply-now')), 'stages[2].method', /requires approval must use "maintenance-window" or "blue-green"/);
  });

  it('probe fields', function () {
    assertProblem(stageProblems(1, (s) => (s.probe = {})), 'stages[1].probe.url', /is required/);
    assertProblem(stageProblems(1, (s) => (s.probe = { url: 'ftp://x.example.com' })), 'stages[1].probe.url', /not an http\(s\) URL/);
    assertProblem(stageProblems(1, (s) => (s.probe = { url: 'https://x.example.com', ratePerSecond: 0 })), 'stages[1].probe.ratePerSecond', /above 0/);
    assertProblem(stageProblems(1, (s) => (s.probe = { url: 'https://x.example.com', ratePerSecond: 1000 })), 'stages[1].probe.ratePerSecond', /at most 100/);
    assertProblem(stageProblems(1, (s) => (s.probe = { url: 'https://x.example.com', requestTimeoutMs: 0 })), 'stages[1].probe.requestTimeoutMs', /too short/);
    assertProblem(stageProblems(1, (s) => (s.probe = { url: 'https://x.example.com', settle: 'a while' })), 'stages[1].probe.settle', /could not read/);
    assertProblem(stageProblems(1, (s) => (s.probe = { url: 'https://x.example.com', maxDuration: '0s' })), 'stages[1].probe.maxDuration', /too short/);
  });

  it('a SQL probe: SELECT 1 on the instance\'s database instead of a status URL, one or the other', function () {
    const spec = campaign();
    spec.stages[1].probe = { postgres: { name: 'notify', password: 'master-secret' }, ratePerSecond: 1 };
    const probe = validateCampaignSpec(spec).stages[1].probe;
    assert.deepEqual(probe, { postgres: { database: 'notify', credentials: { kind: 'master-secret' }, tls: 'require' }, ratePerSecond: 1, requestTimeoutMs: 2000, settleMs: 30 * SECOND, maxDurationMs: 2 * HOUR });
    assertProblem(stageProblems(1, (s) => (s.probe = { url: 'https://x.example.com', postgres: { name: 'notify', password: 'master-secret' } })), 'stages[1].probe', /url .* or postgres .*, not both/);
    assertProblem(stageProblems(1, (s) => (s.probe = { postgres: { name: 'notify', password: 's3cret' } })), 'stages[1].probe.postgres.password', /not a password source/);
  });

  it('durations, counts, booleans and URLs in a stage', function () {
    assertProblem(stageProblems(0, (s) => (s.grace = '1 fortnight')), 'stages[0].grace', /unknown unit "fortnight"/);
    assertProblem(stageProblems(0, (s) => (s.precheckBefore = -5)), 'stages[0].precheckBefore', /not a valid duration/);
    assertProblem(stageProblems(1, (s) => (s.downtimeThreshold = '0s')), 'stages[1].downtimeThreshold', /too short/);
    assertProblem(stageProblems(0, (s) => (s.maxMissedWindows = 0)), 'stages[0].maxMissedWindows', />= 1/);
    assertProblem(stageProblems(0, (s) => (s.maxMissedWindows = '2')), 'stages[0].maxMissedWindows', /whole number.*got the text "2"/);
    assertProblem(stageProblems(0, (s) => (s.requiresApproval = 'yes')), 'stages[0].requiresApproval', /expected true or false/);
    assertProblem(stageProblems(0, (s) => (s.healthCheckUrl = 'preview.example.com/health')), 'stages[0].healthCheckUrl', /not an http\(s\) URL/);
    assertProblem(stageProblems(0, (s) => (s.infraCodeHint = 7)), 'stages[0].infraCodeHint', /expected text/);
  });

  it('status page fields', function () {
    assertProblem(stageProblems(2, (s) => (s.statusPage = { enabled: 'on' })), 'stages[2].statusPage.enabled', /true or false/);
    assertProblem(stageProblems(2, (s) => (s.statusPage = { name: '' })), 'stages[2].statusPage.name', /must not be empty/);
    assertProblem(stageProblems(2, (s) => (s.statusPage = { componentIds: 'abc' })), 'stages[2].statusPage.componentIds', /expected a list/);
    assertProblem(stageProblems(2, (s) => (s.statusPage = 'yes')), 'stages[2].statusPage', /expected an object/);
  });

  it('unknown fields are reported with a suggestion (typos would otherwise be ignored)', function () {
    assertProblem(stageProblems(2, (s) => (s.notcie = { minimum: '2d' })), 'stages[2].notcie', /unknown field; did you mean "notice"\?/);
    assertProblem(campaignProblems((s) => (s.aproval = {})), 'aproval', /did you mean "approval"/);
    assertProblem(stageProblems(2, (s) => (s.notice = { minimum: '14d', reason: 'x' })), 'stages[2].notice.reason', /unknown field.*minimum, overrideReason/);
  });

  it('blackouts: ISO instants with a zone, from before to', function () {
    assertProblem(campaignProblems((s) => (s.blackouts = [{ from: 'next week', to: '2026-01-05' }])), 'blackouts[0].from', /"next week" is not an ISO instant/);
    assertProblem(campaignProblems((s) => (s.blackouts = [{ from: '2025-12-19T10:00', to: '2026-01-05' }])), 'blackouts[0].from', /with Z or an offset/);
    assertProblem(campaignProblems((s) => (s.blackouts = [{ from: '2025-02-30', to: '2026-01-05' }])), 'blackouts[0].from', /not an ISO instant/);
    assertProblem(campaignProblems((s) => (s.blackouts = [{ from: '2026-01-05', to: '2025-12-19' }])), 'blackouts[0].to', /must be after from/);
    assertProblem(campaignProblems((s) => (s.blackouts = [{ from: '2026-01-05' } as never])), 'blackouts[0].to', /is required/);
    assertProblem(campaignProblems((s) => (s.blackouts = { from: 'x' } as never)), 'blackouts', /expected a list/);
  });

  it('poll interval is at least 1s', function () {
    assertProblem(campaignProblems((s) => (s.pollInterval = '500ms')), 'pollInterval', /500ms is too short; use at least 1s/);
  });

  it('reports several problems together, one per line', function () {
    const spec = {
      targetEngineVersion: '15',
      requester: '',
      stages: [
        { name: 'preview', region: 'europe', instanceId: 'db_1', method: 'apply-now' },
        { name: 'production', region: 'eu-west-2', instanceId: 'notify-production', method: 'maintenance-window', notice: { minimum: '1d' } },
      ],
      approval: { approvers: ['bob'], minApprovals: 3 },
      pollInterval: 'often',
    };
    let message = '';
    const problems = problemsOf(() => {
      try {
        return validateCampaignSpec(spec);
      } catch (error) {
        message = (error as Error).message;
        throw error;
      }
    });
    for (const path of [
      'targetEngineVersion', 'requester', 'stages[0].region', 'stages[0].instanceId', 'stages[0].probe', 'stages[1].notice.overrideReason',
      'stages[1].precheckBefore', 'approval.minApprovals', 'pollInterval',
    ]) {
      assert.ok(problems.some((p) => p.startsWith(`${path}: `)), `missing ${path} in\n${problems.join('\n')}`);
    }
    assert.equal(problems.length, 9, problems.join('\n'));
    assert.match(message, /^Invalid campaign spec \(9 problems\):\n {2}- /);
    assert.equal(message.split('\n').length, 10);
  });
});

describe('spec: restore', function () {
  it('applies defaults', function () {
    assert.deepEqual(validateRestoreSpec(restore()), {
      format: RESOLVED_RESTORE_SPEC,
      restoreId: 'notify-production-restored',
      requester: 'alice@example.com',
      source: { region: 'eu-west-2', instanceId: 'notify-production' },
      targetInstanceId: 'notify-production-restored',
      restoreTime: 'latest',
      copySourceSettings: true,
      pollIntervalMs: 30 * SECOND,
    });
  });

  it('resolving at the client adds the rules newer than running workflows: bastion needs the source\'s settings', function () {
    const spec = { ...restore(), bastion: { securityGroupId: 'sg-0123456789abcdef0' } };
    assert.equal(resolveRestoreSpec(spec).format, RESOLVED_RESTORE_SPEC);
    assert.throws(() => resolveRestoreSpec({ ...spec, copySourceSettings: false }), /bastion: needs copySourceSettings/);
    // A raw spec of a run started before keeps validating as it did then (the workflow resolves it itself).
    assert.doesNotThrow(() => validateRestoreSpec({ ...spec, copySourceSettings: false }));
  });

  it('resolving at the client refuses a cutover without the source\'s settings: the applications would move to an instance in the default VPC', function () {
    const spec = { ...restore(), cutover: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', recordName: 'db.notify.internal', setIdentifier: 'primary' } };
    assert.equal(resolveRestoreSpec(spec).cutover?.recordName, 'db.notify.internal');
    assert.throws(() => resolveRestoreSpec({ ...spec, copySourceSettings: false }), /cutover: needs copySourceSettings .*default VPC/);
    assert.doesNotThrow(() => validateRestoreSpec({ ...spec, copySourceSettings: false }), 'a run started before keeps validating as it did');
  });

  it('normalises the restore time and fills bastion and cutover defaults', function () {
    const r = validateRestoreSpec({
      ...restore(),
      restoreId: 'incident-42',
      restoreTime: '2025-03-01T13:30:00+01:00',
      copySourceSettings: false,
      bastion: { securityGroupId: 'sg-0123456789abcdef0' },
      cutover: { hostedZoneId: '/hostedzone/Z0123456789ABC', recordName: 'db.example.com', setIdentifier: 'restored', approvers: ['bob@example.com'] },
      pollInterval: '10s',
    });
    assert.equal(r.restoreId, 'incident-42');
    assert.equal(r.restoreTime, '2025-03-01T12:30:00.000Z');
    assert.equal(r.copySourceSettings, false);
    assert.deepEqual(r.bastion, { securityGroupId: 'sg-0123456789abcdef0', port: 5432 });
    assert.deepEqual(r.cutover, { hostedZoneId: 'Z0123456789ABC', recordName: 'db.example.com', setIdentifier: 'restored', weight: 100, ttlSeconds: 300, approvers: ['bob@example.com'], reminderIntervalMs: 24 * HOUR, resolvers: [] });
    assert.equal(r.pollIntervalMs, 10 * SECOND);
  });

  it('keeps explicit cutover numbers and a lowered TTL', function () {
    const r = validateRestoreSpec({
      ...restore(),
      restoreTime: 'LATEST',
      bastion: { securityGroupId: 'sg-01234567', port: 6432 },
      cutover: { hostedZoneId: 'Z0123456789ABC', recordName: 'db.example.com.', setIdentifier: 'restored', weight: 0, ttlSeconds: 600, lowerTtlFirstTo: 60, reminderInterval: '2h' },
    });
    assert.equal(r.restoreTime, 'latest');
    assert.equal(r.bastion?.port, 6432);
    assert.deepEqual(r.cutover, { hostedZoneId: 'Z0123456789ABC', recordName: 'db.example.com.', setIdentifier: 'restored', weight: 0, ttlSeconds: 600, lowerTtlFirstTo: 60, approvers: [], reminderIntervalMs: 2 * HOUR, resolvers: [] });
  });

  it('required fields', function () {
    const problems = problemsOf(() => validateRestoreSpec({}));
    for (const path of ['requester', 'source', 'targetInstanceId', 'restoreTime']) assertProblem(problems, path, /is required/);
    assert.equal(problems.length, 4, problems.join('\n'));
  });

  it('target must differ from the source', function () {
    assertProblem(restoreProblems((s) => (s.targetInstanceId = 'Notify-Production')), 'targetInstanceId', /is the source instance.*"notify-production-restored"/);
  });

  it('source and target identifiers and region', function () {
    assertProblem(restoreProblems((s) => (s.source = { region: 'london', instanceId: 'notify--production' })), 'source.region', /AWS region/);
    assertProblem(restoreProblems((s) => (s.source = { region: 'london', instanceId: 'notify--production' })), 'source.instanceId', /RDS instance identifier/);
    assertProblem(restoreProblems((s) => (s.targetInstanceId = 'restored_db')), 'targetInstanceId', /RDS instance identifier/);
    assertProblem(restoreProblems((s) => (s.source = 'notify-production')), 'source', /expected an object/);
  });

  it('restore time is "latest" or a real ISO instant with a zone', function () {
    assertProblem(restoreProblems((s) => (s.restoreTime = 'yesterday')), 'restoreTime', /neither "latest" nor an ISO instant/);
    assertProblem(restoreProblems((s) => (s.restoreTime = '2025-03-01T12:00:00')), 'restoreTime', /with Z or an offset/);
    assertProblem(restoreProblems((s) => (s.restoreTime = '2025-13-01T12:00:00Z')), 'restoreTime', /ISO instant/);
  });

  it('restore id pattern', function () {
    assertProblem(restoreProblems((s) => (s.restoreId = 'not ok')), 'restoreId', /not a valid id/);
  });

  it('bastion rules', function () {
    assertProblem(restoreProblems((s) => (s.bastion = { securityGroupId: 'bastion' })), 'bastion.securityGroupId', /not a security group id.*"sg-0123456789abcdef0"/);
    assertProblem(restoreProblems((s) => (s.bastion = {})), 'bastion.securityGroupId', /is required/);
    assertProblem(restoreProblems((s) => (s.bastion = { securityGroupId: 'sg-01234567', port: 70000 })), 'bastion.port', /from 1 to 65535/);
  });

  it('cutover rules', function () {
    const cutover = { hostedZoneId: 'Z0123456789ABC', recordName: 'db.example.com', setIdentifier: 'restored' };
    assertProblem(restoreProblems((s) => (s.cutover = { ...cutover, ttlSeconds: 60, lowerTtlFirstTo: 60 })), 'cutover.lowerTtlFirstTo', /must be lower than ttlSeconds \(60s\)/);
    assertProblem(restoreProblems((s) => (s.cutover = { ...cutover, approvers: ['ALICE@example.com'] })), 'cutover.approvers[0]', /is also the requester/);
    // Route 53 sets only a length on a hosted zone id (GetHostedZone API reference: maximum 32), no pattern.
    assertProblem(restoreProblems((s) => (s.cutover = { ...cutover, hostedZoneId: 'Z'.repeat(33) })), 'cutover.hostedZoneId', /at most 32 characters/);
    assertProblem(restoreProblems((s) => (s.cutover = { ...cutover, hostedZoneId: 'Z12 34' })), 'cutover.hostedZoneId', /not a Route 53 hosted zone id/);
    const accepted = (c: Record<string, unknown>) => validateRestoreSpec({ ...restore(), cutover: { ...cutover, ...c } }).cutover!;
    for (const id of ['z0123abc', 'Z08ABCDEF1234567890XY', '/hostedzone/Z1']) assert.equal(accepted({ hostedZoneId: id }).hostedZoneId, id.replace('/hostedzone/', ''));
    assertProblem(restoreProblems((s) => (s.cutover = { ...cutover, resolvers: ['10.0.0.2', 'vpc-resolver'] })), 'cutover.resolvers[1]', /not an IP address/);
    assertProblem(restoreProblems((s) => (s.cutover = { ...cutover, reminderInterval: '30s' })), 'cutover.reminderInterval', /too short; use at least 1m/);
    assertProblem(restoreProblems((s) => (s.cutover = { ...cutover, resolvers: '10.0.0.2' })), 'cutover.resolvers', /expected a list/);
    assert.deepEqual(accepted({ resolvers: ['10.0.0.2', '10.0.0.2:53', 'fd00::2', '[fd00::2]:53'] }).resolvers, ['10.0.0.2', '10.0.0.2:53', 'fd00::2', '[fd00::2]:53']);
    assertProblem(restoreProblems((s) => (s.cutover = { ...cutover, recordName: 'not a name' })), 'cutover.recordName', /not a DNS name/);
    assertProblem(restoreProblems((s) => (s.cutover = { ...cutover, weight: 256 })), 'cutover.weight', /from 0 to 255/);
    assertProblem(restoreProblems((s) => (s.cutover = { ...cutover, ttlSeconds: -1 })), 'cutover.ttlSeconds', /out of range/);
    assertProblem(restoreProblems((s) => (s.cutover = { ...cutover, setIdentifier: 'x'.repeat(129) })), 'cutover.setIdentifier', /at most 128/);
    assertProblem(restoreProblems((s) => (s.cutover = { hostedZoneId: 'Z0123456789ABC' })), 'cutover.recordName', /is required/);
  });

  it('reports several problems together', function () {
    const problems = restoreProblems((s) => {
      s.targetInstanceId = 'notify-production';
      s.restoreTime = 'soon';
      s.pollInterval = '0s';
      s.extra = true;
    });
    for (const path of ['targetInstanceId', 'restoreTime', 'pollInterval', 'extra']) assert.ok(problems.some((p) => p.startsWith(`${path}: `)), path);
    assert.equal(problems.length, 4, problems.join('\n'));
  });
});

describe('spec: restore extract', function () {
  const extract = { database: { name: 'notify', password: 'master-secret' }, directory: '/var/lib/rds-orchestrator/extracts', dump: { excludeSchemas: ['audit'], excludeTables: ['public.Sessions'] }, repair: { tables: ['orders', 'billing.invoices'] } };

  it('resolves the database, the dump selection and the repair with their defaults; tables are schema-qualified and folded to lower case', function () {
    const r = validateRestoreSpec({ ...restore(), extract });
    assert.deepEqual(r.extract, {
      database: { database: 'notify', credentials: { kind: 'master-secret' }, tls: 'require' },
      directory: '/var/lib/rds-orchestrator/extracts',
      dump: { tables: [], excludeSchemas: ['audit'], excludeTables: ['public.sessions'] },
      repair: { tables: ['public.orders', 'billing.invoices'], updateChanged: false, approvers: [], sampleSize: 5, reminderIntervalMs: 24 * 3600 * SECOND },
    });
  });

  it('reads every password source, and never a password', function () {
    const access = (password: unknown, user?: string) => validateRestoreSpec({ ...restore(), extract: { ...extract, database: { name: 'notify', user, password } } }).extract!.database;
    assert.deepEqual(access({ secretArn: 'arn:aws:secretsmanager:eu-west-2:111122223333:secret:notify-db-AbCdEf' }).credentials, { kind: 'secret', secretArn: 'arn:aws:secretsmanager:eu-west-2:111122223333:secret:notify-db-AbCdEf' });
    assert.deepEqual(access({ env: 'NOTIFY_DB_PASSWORD' }, 'notify_admin'), { database: 'notify', username: 'notify_admin', credentials: { kind: 'env', variable: 'NOTIFY_DB_PASSWORD' }, tls: 'require' });
    assert.deepEqual(access('iam', 'notify_admin').credentials, { kind: 'iam' });
    const withDb = (database: unknown) => restoreProblems((s) => (s.extract = { ...extract, database }));
    assertProblem(withDb({ name: 'notify', password: 'hunter2' }), 'extract.database.password', /not a password source.*never the password itself/);
    assertProblem(withDb({ name: 'notify', password: { env: 'NOTIFY_DB_PASSWORD' } }), 'extract.database.password', /env needs user/);
    assertProblem(withDb({ name: 'notify', password: 'iam' }), 'extract.database.password', /iam needs user/);
    assertProblem(withDb({ name: 'notify', password: { secretArn: 'notify-db' } }), 'extract.database.password.secretArn', /not a Secrets Manager secret ARN/);
    assertProblem(withDb({ name: 'notify', password: 'master-secret', tls: 'prefer' }), 'extract.database.tls', /require, verify-full, disable/);
    assertProblem(withDb({ password: 'master-secret' }), 'extract.database.name', /required/);
  });

  it('names what is wrong with the extract', function () {
    const problems = (e: Record<string, unknown>) => restoreProblems((s) => (s.extract = { ...extract, ...e }));
    assertProblem(problems({ dump: undefined, repair: undefined }), 'extract', /names neither dump nor repair/);
    assertProblem(problems({ repair: { tables: [] } }), 'extract.repair.tables', /is required/);
    assertProblem(problems({ repair: { tables: ['orders; drop table x'] } }), 'extract.repair.tables[0]', /not a table name/);
    assertProblem(problems({ repair: { tables: ['orders', 'public.ORDERS'] } }), 'extract.repair.tables[1]', /named twice/);
    assertProblem(problems({ dump: { excludeSchemas: ['audit log'] } }), 'extract.dump.excludeSchemas[0]', /not a schema name/);
    assertProblem(problems({ directory: 'extracts' }), 'extract.directory', /absolute path/);
    assertProblem(problems({ repair: { tables: ['orders'], approvers: ['alice@example.com'] } }), 'extract.repair.approvers[0]', /also the requester/);
    assertProblem(
      restoreProblems((s) => {
        s.extract = extract;
        s.cutover = { hostedZoneId: 'Z0123456789ABCDEFGHIJ', recordName: 'db.example.com', setIdentifier: 'restored' };
      }),
      'extract',
      /extract .* or cutover .*, not both/,
    );
  });
});

describe('spec: ISO instants', function () {
  it('reads dates, times with Z or offsets, and fractions', function () {
    assert.equal(parseIsoInstant('2025-12-19'), Date.parse('2025-12-19T00:00:00Z'));
    assert.equal(parseIsoInstant('2025-12-19T10:15:30Z'), Date.parse('2025-12-19T10:15:30Z'));
    assert.equal(parseIsoInstant('2025-12-19T10:15:30.123456Z'), Date.parse('2025-12-19T10:15:30.123Z'));
    assert.equal(parseIsoInstant('2025-12-19T10:15-0530'), Date.parse('2025-12-19T15:45:00Z'));
    assert.equal(parseIsoInstant('2024-02-29T00:00:00Z'), Date.parse('2024-02-29T00:00:00Z'));
  });

  it('refuses impossible dates and local times', function () {
    for (const text of ['2025-02-29', '2025-04-31', '2025-00-10', '2025-01-01T24:00:00Z', '2025-01-01T10:00:00', 'today']) {
      assert.equal(parseIsoInstant(text), undefined, text);
    }
  });
});

describe('spec: role ARNs', function () {
  it("a role in any AWS partition (botocore's: aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b/e/f, aws-eusc), with a path; nothing else", function () {
    for (const partition of ['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f', 'aws-eusc']) {
      assert.ok(ROLE_ARN_PATTERN.test(`arn:${partition}:iam::222222222222:role/ops/rds-orchestrator`), partition);
    }
    for (const bad of ['arn:aws:iam::22222222222:role/x', 'arn:aws:iam::222222222222:user/x', 'arn:gcp:iam::222222222222:role/x', 'arn:aws-:iam::222222222222:role/x']) {
      assert.ok(!ROLE_ARN_PATTERN.test(bad), bad);
    }
  });
});
