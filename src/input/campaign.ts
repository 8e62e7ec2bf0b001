/**
 * A raw campaign spec resolved into the workflow's input: every field checked, the runbook's defaults
 * written out (preview and staging first, production only with 14 days' notice, a status-page scheduled
 * maintenance, a pending-maintenance check a few days before, a team decision over a minute of downtime).
 */
import { readDatabaseAccess } from './database';
import { RESOLVED_CAMPAIGN_SPEC, type CampaignSpec, type ChangesBy, type ResolvedBlueGreen, type BlueGreenSpec, type ResolvedCampaignSpec, type ResolvedStage, type StageMethod, type StageSpec } from '../api';
import { SECOND_MS, formatDuration } from '../domain/duration';
import { SpecError } from './errors';
import { PRODUCTION_NOTICE_MS, DEFAULT_PRECHECK_BEFORE_MS, DEFAULT_GRACE_MS, DEFAULT_MAX_MISSED_WINDOWS, MIN_REMINDER_INTERVAL_MS, DEFAULT_DOWNTIME_THRESHOLD_MS, DEFAULT_PROBE, MAX_PROBE_RATE_PER_SECOND, DEFAULT_REMINDER_INTERVAL_MS, DEFAULT_CAMPAIGN_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS, DEFAULT_REARM_BEFORE_MS, DEFAULT_SWITCHOVER_TIMEOUT_MS, MIN_SWITCHOVER_TIMEOUT_MS, DEFAULT_BLUE_GREEN_PROVISIONING_TIMEOUT_MS, defaultCampaignId, defaultStatusPageName, defaultStatusPageBody, defaultInfraCodeHint } from './defaults';
import { readStageInstances } from './fleet';
import { AllListed, Problems, describe, durationProblems, readAwsAccess, isMissing, join, readBoolean, readBlackouts, readDuration, readId, readInteger, readObject, readPeople, readAllowedSignersField, readRegion, readString, readStringList, readUrl, ENGINE_VERSION_PATTERN } from './fields';


const CAMPAIGN_FIELDS = ['campaignId', 'targetEngineVersion', 'requester', 'allowedSigners', 'stages', 'approval', 'blackouts', 'pollInterval', 'changes'] as const satisfies readonly (keyof CampaignSpec)[];
const STAGE_FIELDS = [
  'name', 'region', 'instanceId', 'instances', 'select', 'waves', 'aws', 'method', 'requiresApproval', 'notice', 'statusPage', 'precheckBefore', 'grace',
  'maxMissedWindows', 'probe', 'downtimeThreshold', 'healthCheckUrl', 'infraCodeHint', 'changes', 'rearmBefore', 'pagerDuty', 'blueGreen',
] as const satisfies readonly (keyof StageSpec)[];
const BLUE_GREEN_FIELDS = ['switchoverTimeout', 'targetParameterGroup', 'provisioningTimeout', 'switchover'] as const satisfies readonly (keyof BlueGreenSpec)[];
/** Compile-time check that the field lists above name every field of the api.ts input types. */
type _CampaignFieldsListed = AllListed<Exclude<keyof CampaignSpec, (typeof CAMPAIGN_FIELDS)[number]>>;
type _StageFieldsListed = AllListed<Exclude<keyof StageSpec, (typeof STAGE_FIELDS)[number]>>;
type _BlueGreenFieldsListed = AllListed<Exclude<keyof BlueGreenSpec, (typeof BLUE_GREEN_FIELDS)[number]>>;
const METHODS: readonly StageMethod[] = ['maintenance-window', 'apply-now', 'blue-green'];
const CHANGES_BY: readonly ChangesBy[] = ['api', 'terraform'];

function readChangesBy(p: Problems, value: unknown, path: string, fallback: ChangesBy): ChangesBy {
  if (isMissing(value)) return fallback;
  if (typeof value !== 'string' || !CHANGES_BY.includes(value as ChangesBy)) {
    p.add(path, `must be "api" (the campaign turns AutoMinorVersionUpgrade on and off itself) or "terraform" (the campaign asks the team for the Terraform change and waits until AWS shows it), got ${describe(value)}`);
    return fallback;
  }
  return value as ChangesBy;
}

/** A PagerDuty Events API v2 integration key: 32 characters (letters and digits). */
const ROUTING_KEY_PATTERN = /^[A-Za-z0-9]{32}$/;

/** An environment variable's name, as a shell exports it. */
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

function readPagerDuty(p: Problems, value: unknown, path: string, requiresApproval: boolean): { enabled: boolean; routingKeyEnv?: string } {
  const out: { enabled: boolean; routingKeyEnv?: string } = { enabled: requiresApproval };
  if (isMissing(value)) return out;
  const o = readObject(p, value, path, ['enabled', 'routingKey']);
  if (!o) return out;
  out.enabled = readBoolean(p, o.enabled, join(path, 'enabled'), requiresApproval);
  const keyPath = join(path, 'routingKey');
  if (isMissing(o.routingKey)) return out;
  if (typeof o.routingKey === 'string') {
    // Never echoed: it may be the key itself.
    p.add(keyPath, `a routing key is a secret, and the spec is written into the workflow's history: put the key in an environment variable of the workers and name it, e.g. routingKey: { env: "NOTIFY_PAGERDUTY_KEY" }${ROUTING_KEY_PATTERN.test(o.routingKey) ? ' (this looks like a real key: rotate it if the spec was shared)' : ''}`);
    return out;
  }
  const ref = readObject(p, o.routingKey, keyPath, ['env']);
  if (!ref) return out;
  const name = readString(p, ref.env, join(keyPath, 'env'), { required: true, example: '"NOTIFY_PAGERDUTY_KEY"' });
  if (name && !ENV_NAME_PATTERN.test(name)) p.add(join(keyPath, 'env'), `"${name}" is not an environment variable's name (letters, digits and _, not starting with a digit)`);
  else if (name) out.routingKeyEnv = name;
  return out;
}

function readTargetVersion(p: Problems, value: unknown): string {
  if (typeof value === 'number') {
    // YAML/JSON turn 15.10 into 15.1, which is a different version.
    p.add('targetEngineVersion', `got the number ${value}; write the version as quoted text (e.g. "15.10"), because a number loses trailing zeros`);
    return '';
  }
  const version = readString(p, value, 'targetEngineVersion', { required: true, example: '"15.8"' });
  if (version && !ENGINE_VERSION_PATTERN.test(version)) {
    p.add('targetEngineVersion', `"${version}" is not a PostgreSQL minor version; use major.minor, e.g. "15.8" or "15.10"`);
    return '';
  }
  return version;
}

function readStage(p: Problems, raw: unknown, path: string, target: string, campaignChanges: ChangesBy): ResolvedStage | undefined {
  const o = readObject(p, raw, path, STAGE_FIELDS);
  if (!o) return undefined;
  const name = readString(p, o.name, join(path, 'name'), { required: true, example: '"preview", "staging" or "production"' });
  if (name.includes('|')) p.add(join(path, 'name'), `"${name}" must not contain "|" (it separates the parts of an approval plan)`);
  const region = readRegion(p, o.region, join(path, 'region'));

  let method: StageMethod = 'maintenance-window';
  if (isMissing(o.method)) {
    p.add(join(path, 'method'), 'is required: "maintenance-window" (wait for the instance\'s weekly window), "apply-now" (upgrade immediately under an availability probe) or "blue-green" (an RDS Blue/Green deployment switched over in the window)');
  } else if (typeof o.method !== 'string' || !METHODS.includes(o.method as StageMethod)) {
    p.add(join(path, 'method'), `must be "maintenance-window", "apply-now" or "blue-green", got ${describe(o.method)}`);
  } else {
    method = o.method as StageMethod;
  }

  const requiresApproval = readBoolean(p, o.requiresApproval, join(path, 'requiresApproval'), name === 'production');
  const { instanceId, fleet } = readStageInstances(p, o, path, requiresApproval);
  if (requiresApproval && method === 'apply-now') {
    p.add(join(path, 'method'), 'a stage that requires approval must use "maintenance-window" or "blue-green" (users are given notice of a scheduled window); use one of them or set requiresApproval: false');
  }
  const blueGreen = readBlueGreen(p, o.blueGreen, join(path, 'blueGreen'), method, requiresApproval);

  let noticeMs = requiresApproval ? PRODUCTION_NOTICE_MS : 0;
  let noticeOverrideReason: string | undefined;
  const noticePath = join(path, 'notice');
  if (!isMissing(o.notice)) {
    const notice = readObject(p, o.notice, noticePath, ['minimum', 'overrideReason']);
    if (notice) {
      noticeMs = readDuration(p, notice.minimum, join(noticePath, 'minimum'), noticeMs);
      noticeOverrideReason = readString(p, notice.overrideReason, join(noticePath, 'overrideReason'), { required: false, example: '"security fix must ship this week"' });
    }
  }
  if (requiresApproval && noticeMs < PRODUCTION_NOTICE_MS && !noticeOverrideReason) {
    p.add(
      join(noticePath, 'overrideReason'),
      `is required because notice.minimum (${formatDuration(noticeMs)}) is below the runbook's ${formatDuration(PRODUCTION_NOTICE_MS)} notice for users; explain why, or raise notice.minimum to "14d"`,
    );
  }

  const statusPagePath = join(path, 'statusPage');
  const statusPage = { enabled: requiresApproval, name: defaultStatusPageName(target), body: defaultStatusPageBody(target), componentIds: [] as string[] };
  if (!isMissing(o.statusPage)) {
    const sp = readObject(p, o.statusPage, statusPagePath, ['enabled', 'name', 'body', 'componentIds']);
    if (sp) {
      statusPage.enabled = readBoolean(p, sp.enabled, join(statusPagePath, 'enabled'), statusPage.enabled);
      statusPage.name = readString(p, sp.name, join(statusPagePath, 'name'), { required: false, example: '"Scheduled database maintenance"' }) ?? statusPage.name;
      statusPage.body = readString(p, sp.body, join(statusPagePath, 'body'), { required: false, example: '"We will upgrade our database..."' }) ?? statusPage.body;
      statusPage.componentIds = readStringList(p, sp.componentIds, join(statusPagePath, 'componentIds'), '["8kbf7d35c070"]') ?? [];
    }
  }

  const precheckBeforeMs = readDuration(p, o.precheckBefore, join(path, 'precheckBefore'), DEFAULT_PRECHECK_BEFORE_MS);
  if (noticeMs > 0 && precheckBeforeMs >= noticeMs) {
    const which = isMissing(o.precheckBefore) ? ' (the default)' : '';
    p.add(
      join(path, 'precheckBefore'),
      `${formatDuration(precheckBeforeMs)}${which} must be shorter than notice.minimum (${formatDuration(noticeMs)}), since the check happens after the notice goes out; set precheckBefore to less, e.g. "${formatDuration(Math.min(Math.floor(noticeMs / 2), MAX_PRECHECK_BEFORE_MS))}"`,
    );
  }
  const graceMs = readDuration(p, o.grace, join(path, 'grace'), DEFAULT_GRACE_MS);
  const maxMissedWindows = readInteger(p, o.maxMissedWindows, join(path, 'maxMissedWindows'), DEFAULT_MAX_MISSED_WINDOWS, 1);

  let probe: ResolvedStage['probe'];
  const probePath = join(path, 'probe');
  if (!isMissing(o.probe)) {
    const pr = readObject(p, o.probe, probePath, ['url', 'postgres', 'ratePerSecond', 'requestTimeoutMs', 'settle', 'maxDuration']);
    if (pr) {
      const sql = !isMissing(pr.postgres);
      if (sql && !isMissing(pr.url)) p.add(probePath, 'give url (GETs against a status endpoint) or postgres (SELECT 1 on the instance\'s database), not both');
      const url = sql ? undefined : (readUrl(p, pr.url, join(probePath, 'url'), true) ?? '');
      const postgres = sql ? readDatabaseAccess(p, pr.postgres, join(probePath, 'postgres')) : undefined;
      let ratePerSecond = DEFAULT_PROBE.ratePerSecond;
      if (!isMissing(pr.ratePerSecond)) {
        if (typeof pr.ratePerSecond !== 'number' || !(pr.ratePerSecond > 0) || pr.ratePerSecond > MAX_PROBE_RATE_PER_SECOND) {
          p.add(join(probePath, 'ratePerSecond'), `expected a number of requests per second above 0 and at most ${MAX_PROBE_RATE_PER_SECOND} (a low-volume probe), got ${describe(pr.ratePerSecond)}`);
        } else {
          ratePerSecond = pr.ratePerSecond;
        }
      }
      probe = {
        ...(url !== undefined ? { url } : {}),
        ...(postgres ? { postgres } : {}),
        ratePerSecond,
        requestTimeoutMs: readDuration(p, pr.requestTimeoutMs, join(probePath, 'requestTimeoutMs'), DEFAULT_PROBE.requestTimeoutMs, 1),
        settleMs: readDuration(p, pr.settle, join(probePath, 'settle'), DEFAULT_PROBE.settleMs),
        maxDurationMs: readDuration(p, pr.maxDuration, join(probePath, 'maxDuration'), DEFAULT_PROBE.maxDurationMs, SECOND_MS),
      };
    }
  } else if (method === 'apply-now') {
    p.add(probePath, 'is required for method "apply-now" (the runbook runs a low-volume load test while upgrading), e.g. { url: "https://api.example.com/_status" } or { postgres: { name: "notify", password: "master-secret" } }');
  }

  const downtimeThresholdMs = readDuration(p, o.downtimeThreshold, join(path, 'downtimeThreshold'), DEFAULT_DOWNTIME_THRESHOLD_MS, 1);
  const healthCheckUrl = readUrl(p, o.healthCheckUrl, join(path, 'healthCheckUrl'), false);
  const infraCodeHint =
    readString(p, o.infraCodeHint, join(path, 'infraCodeHint'), { required: false, example: '"Set engine_version in terraform/rds.tf"' }) ??
    defaultInfraCodeHint(target, fleet ? `every instance of the ${name} stage` : instanceId);

  const changes = readChangesBy(p, o.changes, join(path, 'changes'), campaignChanges);
  const rearmBeforeMs = readDuration(p, o.rearmBefore, join(path, 'rearmBefore'), DEFAULT_REARM_BEFORE_MS, MIN_POLL_INTERVAL_MS);
  const pagerDuty = readPagerDuty(p, o.pagerDuty, join(path, 'pagerDuty'), requiresApproval);

  const stage: ResolvedStage = {
    name, region, instanceId, method, requiresApproval, noticeMs, statusPage, precheckBeforeMs, graceMs, maxMissedWindows,
    downtimeThresholdMs, infraCodeHint, changes, rearmBeforeMs, pagerDuty,
  };
  const aws = readAwsAccess(p, o.aws, join(path, 'aws'));
  if (aws) stage.aws = aws;
  if (fleet) stage.fleet = fleet;
  if (noticeOverrideReason !== undefined) stage.noticeOverrideReason = noticeOverrideReason;
  if (probe) stage.probe = probe;
  if (healthCheckUrl !== undefined) stage.healthCheckUrl = healthCheckUrl;
  if (blueGreen) stage.blueGreen = blueGreen;
  return stage;
}

/** A BlueGreenDeploymentName-safe parameter group name: letters, digits and hyphens, a letter first (RDS's rule for DB parameter groups). */
const PARAMETER_GROUP_PATTERN = /^[A-Za-z](?:[A-Za-z0-9]|-(?!-))*$/;

/** `blueGreen`, for method blue-green only; its defaults written out for every blue-green stage. */
function readBlueGreen(p: Problems, value: unknown, path: string, method: StageMethod, requiresApproval: boolean): ResolvedBlueGreen | undefined {
  if (method !== 'blue-green') {
    if (!isMissing(value)) p.add(path, `is for method "blue-green" only (this stage's method is "${method}"); remove it or set method: blue-green`);
    return undefined;
  }
  const out: ResolvedBlueGreen = { switchoverTimeoutSeconds: DEFAULT_SWITCHOVER_TIMEOUT_MS / SECOND_MS, provisioningTimeoutMs: DEFAULT_BLUE_GREEN_PROVISIONING_TIMEOUT_MS, switchover: 'window' };
  if (isMissing(value)) return out;
  const o = readObject(p, value, path, BLUE_GREEN_FIELDS);
  if (!o) return out;
  const timeoutPath = join(path, 'switchoverTimeout');
  const timeoutMs = readDuration(p, o.switchoverTimeout, timeoutPath, DEFAULT_SWITCHOVER_TIMEOUT_MS, MIN_SWITCHOVER_TIMEOUT_MS);
  if (timeoutMs % SECOND_MS !== 0) p.add(timeoutPath, `${formatDuration(timeoutMs)} is not whole seconds (SwitchoverTimeout is in seconds)`);
  out.switchoverTimeoutSeconds = Math.floor(timeoutMs / SECOND_MS);
  const group = readString(p, o.targetParameterGroup, join(path, 'targetParameterGroup'), { required: false, example: '"notify-pg15"' });
  if (group !== undefined) {
    if (group.length > 255 || !PARAMETER_GROUP_PATTERN.test(group) || group.endsWith('-')) p.add(join(path, 'targetParameterGroup'), `"${group}" is not a DB parameter group name (a letter first, then letters, digits and single hyphens, not ending in a hyphen)`);
    else out.targetParameterGroup = group;
  }
  out.provisioningTimeoutMs = readDuration(p, o.provisioningTimeout, join(path, 'provisioningTimeout'), out.provisioningTimeoutMs, MIN_POLL_INTERVAL_MS);
  if (!isMissing(o.switchover)) {
    if (o.switchover !== 'window' && o.switchover !== 'now') {
      p.add(join(path, 'switchover'), `must be "window" (switch over in the instance's maintenance window) or "now" (as soon as the green copy is available), got ${describe(o.switchover)}`);
    } else if (o.switchover === 'now' && requiresApproval) {
      p.add(join(path, 'switchover'), '"now" is for stages without approval: a stage that requires approval switches over in its approved and announced window');
    } else {
      out.switchover = o.switchover;
    }
  }
  return out;
}

/**
 * Checks every field of a raw campaign spec and applies the runbook's defaults.
 * @throws SpecError listing every problem found, one per line, each naming its field path.
 */
export function validateCampaignSpec(raw: unknown): ResolvedCampaignSpec {
  const p = new Problems();
  const o = readObject(p, raw, '', CAMPAIGN_FIELDS);
  if (!o) throw new SpecError(p.list, 'Invalid campaign spec');

  const targetEngineVersion = readTargetVersion(p, o.targetEngineVersion);
  const campaignId = readId(p, o.campaignId, 'campaignId', targetEngineVersion ? defaultCampaignId(targetEngineVersion) : undefined);
  const requester = readString(p, o.requester, 'requester', { required: true, example: '"alice@example.com"' });

  const campaignChanges = readChangesBy(p, o.changes, 'changes', 'api');
  const stages: ResolvedStage[] = [];
  if (isMissing(o.stages)) {
    p.add('stages', 'is required: list the stages in order, e.g. preview, staging, production');
  } else if (!Array.isArray(o.stages)) {
    p.add('stages', `expected a list of stages, got ${describe(o.stages)}`);
  } else if (o.stages.length === 0) {
    p.add('stages', 'needs at least one stage, e.g. { name: "preview", region: "eu-west-2", instanceId: "notify-preview", method: "maintenance-window" }');
  } else {
    const names = new Map<string, number>();
    const instances = new Map<string, number>();
    o.stages.forEach((rawStage, i) => {
      const path = `stages[${i}]`;
      const stage = readStage(p, rawStage, path, targetEngineVersion, campaignChanges);
      if (!stage) return;
      stages.push(stage);
      if (stage.name) {
        const first = names.get(stage.name);
        if (first !== undefined) p.add(join(path, 'name'), `"${stage.name}" is already used by stages[${first}]; stage names must be unique`);
        else names.set(stage.name, i);
      }
      const ids = stage.fleet ? (stage.fleet.instanceIds ?? []) : stage.instanceId ? [stage.instanceId] : [];
      for (const id of stage.region ? ids : []) {
        const key = `${stage.region}/${id}`;
        const first = instances.get(key);
        if (first !== undefined) p.add(join(path, stage.fleet ? 'instances' : 'instanceId'), `${key} is already upgraded by stages[${first}]; each instance may appear in one stage only`);
        else instances.set(key, i);
      }
    });
  }

  const approval = { approvers: [] as string[], minApprovals: 1, reminderIntervalMs: DEFAULT_REMINDER_INTERVAL_MS };
  if (!isMissing(o.approval)) {
    const a = readObject(p, o.approval, 'approval', ['approvers', 'minApprovals', 'reminderInterval']);
    if (a) {
      approval.approvers = readPeople(p, a.approvers, 'approval.approvers', requester);
      approval.minApprovals = readInteger(p, a.minApprovals, 'approval.minApprovals', 1, 1);
      if (!isMissing(a.approvers) && approval.approvers.length > 0 && approval.minApprovals > approval.approvers.length) {
        p.add('approval.minApprovals', `${approval.minApprovals} is more than the ${approval.approvers.length} listed approvers; lower it or add approvers`);
      }
      approval.reminderIntervalMs = readDuration(p, a.reminderInterval, 'approval.reminderInterval', DEFAULT_REMINDER_INTERVAL_MS, MIN_REMINDER_INTERVAL_MS);
    }
  }

  const blackouts = readBlackouts(p, o.blackouts, 'blackouts');
  const pollIntervalMs = readDuration(p, o.pollInterval, 'pollInterval', DEFAULT_CAMPAIGN_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS);

  const allowedSigners = readAllowedSignersField(p, o.allowedSigners, 'allowedSigners', requester);

  if (p.list.length > 0) throw new SpecError(p.list, 'Invalid campaign spec');
  const resolved: ResolvedCampaignSpec = { format: RESOLVED_CAMPAIGN_SPEC, campaignId, targetEngineVersion, requester, stages, approval, blackouts, pollIntervalMs };
  if (allowedSigners) resolved.allowedSigners = allowedSigners;
  return resolved;
}

/**
 * The client's entry: a raw spec (from a file or code) into the workflow's input. validateCampaignSpec's rules
 * (which the workflow keeps for raw inputs of runs started before), plus the rules added since, checked here so a
 * newer rule never changes a run already started.
 */
export function resolveCampaignSpec(raw: unknown): ResolvedCampaignSpec {
  const resolved = validateCampaignSpec(raw);
  const problems = durationProblems([
    ['pollInterval', resolved.pollIntervalMs],
    ['approval.reminderInterval', resolved.approval.reminderIntervalMs],
    ...resolved.stages.flatMap((s, i) => {
      const at = `stages[${i}]`;
      return [
        [`${at}.notice.minimum`, s.noticeMs],
        [`${at}.precheckBefore`, s.precheckBeforeMs],
        [`${at}.grace`, s.graceMs],
        [`${at}.downtimeThreshold`, s.downtimeThresholdMs],
        [`${at}.rearmBefore`, s.rearmBeforeMs],
        [`${at}.probe.requestTimeoutMs`, s.probe?.requestTimeoutMs],
        [`${at}.probe.settle`, s.probe?.settleMs],
        [`${at}.probe.maxDuration`, s.probe?.maxDurationMs],
        [`${at}.blueGreen.switchoverTimeout`, s.blueGreen && s.blueGreen.switchoverTimeoutSeconds * SECOND_MS],
        [`${at}.blueGreen.provisioningTimeout`, s.blueGreen?.provisioningTimeoutMs],
      ] as const;
    }),
  ]);
  // SwitchoverBlueGreenDeployment: "You can specify a switchover timeout period between 30 seconds and 3,600 seconds"
  // (RDS User Guide); a longer one was refused only at the switchover, after the green copy and the approval.
  resolved.stages.forEach((s, i) => {
    // The flag goes on right after the pre-check (production.ts). Earlier than 6 days before the window, the instance's
    // previous weekly window (a day long at most) could open with it on, and AutoMinorVersionUpgrade applies "during the
    // maintenance window": RDS would upgrade production a week before the approved and announced window.
    if (s.method === 'maintenance-window' && s.requiresApproval && s.precheckBeforeMs > MAX_PRECHECK_BEFORE_MS) {
      problems.push(
        `stages[${i}].precheckBefore: ${formatDuration(s.precheckBeforeMs)} is too early: AutoMinorVersionUpgrade goes on right after the pre-check, so the instance's previous weekly window could open with it on and RDS would upgrade it there, unannounced; use at most 6d`,
      );
    }
    if (s.blueGreen && s.blueGreen.switchoverTimeoutSeconds > MAX_SWITCHOVER_TIMEOUT_SECONDS) {
      problems.push(`stages[${i}].blueGreen.switchoverTimeout: ${s.blueGreen.switchoverTimeoutSeconds}s is longer than RDS allows; use at most 1h (3600s)`);
    }
    // Statuspage's incident: "Incident Name. There is a maximum limit of 255 characters"; the body "a maximum limit of
    // 25000 characters", less the reference line the announcement adds. Refused here, not days later at announce time.
    if (s.statusPage.enabled && s.statusPage.name.length > STATUS_PAGE_NAME_MAX) {
      problems.push(`stages[${i}].statusPage.name: ${s.statusPage.name.length} characters; Statuspage takes at most ${STATUS_PAGE_NAME_MAX}`);
    }
    if (s.statusPage.enabled && s.statusPage.body.length > STATUS_PAGE_BODY_MAX) {
      problems.push(`stages[${i}].statusPage.body: ${s.statusPage.body.length} characters; Statuspage takes at most 25000, of which the announcement's reference line needs some: use at most ${STATUS_PAGE_BODY_MAX}`);
    }
  });
  if (problems.length > 0) throw new SpecError(problems, 'Invalid campaign spec');
  return resolved;
}

/** The earliest pre-check before an approved window: a week less the longest maintenance window (a day). */
const MAX_PRECHECK_BEFORE_MS = 6 * 86_400_000;
/** SwitchoverTimeout's upper bound (RDS User Guide, Blue/Green switchover: "between 30 seconds and 3,600 seconds"). */
const MAX_SWITCHOVER_TIMEOUT_SECONDS = 3600;
/** Statuspage's incident name limit, and its body's (25000) less room for the reference line the announcement adds. */
const STATUS_PAGE_NAME_MAX = 255;
const STATUS_PAGE_BODY_MAX = 24_000;

