/**
 * Issue 25, part 2 (fuzzed inputs): campaign and restore specs of random shape, valid specs mutated one field
 * at a time, and spec files of random text. Whatever comes in, the resolvers answer with a resolved spec the
 * workflow can run (it survives the trip through JSON into history, its durations are real durations, its
 * names match their patterns) or with a SpecError whose every problem starts with the path of a field; the
 * file reader answers with a value or a SpecFileError naming the file. Never a TypeError, a RangeError or
 * anything else.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { RESOLVED_CAMPAIGN_SPEC, RESOLVED_RESTORE_SPEC, type ResolvedCampaignSpec, type ResolvedRestoreSpec } from '../../src/api';
import { SpecError, isAwsRegion, isRdsInstanceIdentifier, parseIsoInstant, resolveCampaignSpec, resolveRestoreSpec } from '../../src/input';
import { MAX_DURATION_MS } from '../../src/input/defaults';
import { ENGINE_VERSION_PATTERN, ID_PATTERN } from '../../src/input/fields';
import { SpecFileError, loadSpecFile } from '../../src/input/file';
import { SEED, SPEC_KEYS, anyText, junk, pathsOf, replacement, withValueAt } from './junk';

const EXAMPLES = join(__dirname, '..', '..', 'examples');

/** The top-level fields of each spec: a problem's path starts with one of them (or with a key the input has). */
const CAMPAIGN_FIELDS = ['campaignId', 'targetEngineVersion', 'requester', 'allowedSigners', 'stages', 'approval', 'blackouts', 'pollInterval', 'changes'];
const RESTORE_FIELDS = ['restoreId', 'requester', 'allowedSigners', 'source', 'targetInstanceId', 'restoreTime', 'copySourceSettings', 'bastion', 'cutover', 'extract', 'pollInterval'];

/** `stages[2].probe.url: ...`, `spec: ...`: the field a problem is about, then a colon. */
function assertNamesAField(problem: string, raw: unknown, fields: string[]): void {
  const ownKeys = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? Object.keys(raw) : [];
  const starts = [...fields, ...ownKeys].some((f) => problem.startsWith(`${f}:`) || problem.startsWith(`${f}.`) || problem.startsWith(`${f}[`));
  assert.ok(starts || problem.startsWith('spec: '), `a problem that names no field: ${JSON.stringify(problem.slice(0, 300))}`);
}

/** Plain JSON data: what the workflow's input is in history (a NaN or an Infinity would come back as null). */
function assertJsonData(value: unknown, at = 'spec'): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') return assert.ok(Number.isFinite(value), `${at} is ${value}, which JSON turns into null`);
  assert.ok(typeof value === 'object', `${at} is ${typeof value}, which JSON drops or refuses`);
  assert.ok(Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype, `${at} is not a plain object`);
  for (const [k, v] of Object.entries(value)) assertJsonData(v, `${at}.${k}`);
}

function assertDuration(ms: unknown, what: string): void {
  assert.ok(typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 && ms <= MAX_DURATION_MS, `${what} is not a duration the workflow can wait: ${ms}`);
}

/** What the workflow is entitled to assume of its input (and history keeps as JSON). */
function assertRunnableCampaign(spec: ResolvedCampaignSpec): void {
  assertJsonData(spec);
  assert.equal(spec.format, RESOLVED_CAMPAIGN_SPEC);
  assert.match(spec.campaignId, ID_PATTERN);
  assert.match(spec.targetEngineVersion, ENGINE_VERSION_PATTERN);
  assert.ok(spec.requester.trim() !== '' && spec.requester === spec.requester.trim());
  assert.ok(spec.stages.length > 0);
  assertDuration(spec.pollIntervalMs, 'pollIntervalMs');
  assertDuration(spec.approval.reminderIntervalMs, 'approval.reminderIntervalMs');
  assert.ok(Number.isSafeInteger(spec.approval.minApprovals) && spec.approval.minApprovals >= 1);
  for (const b of spec.blackouts) assert.ok(Number.isFinite(b.fromMs) && b.fromMs < b.toMs && Number.isFinite(new Date(b.toMs).getTime()), `blackout ${JSON.stringify(b)}`);
  for (const s of spec.stages) {
    assert.ok(s.name !== '' && !s.name.includes('|'), `stage name ${s.name}`);
    assert.ok(isAwsRegion(s.region), `region ${s.region}`);
    assert.ok(['maintenance-window', 'apply-now', 'blue-green'].includes(s.method));
    if (s.fleet) assert.equal(s.instanceId, '');
    else assert.ok(isRdsInstanceIdentifier(s.instanceId), `instanceId ${s.instanceId}`);
    for (const id of s.fleet?.instanceIds ?? []) assert.ok(isRdsInstanceIdentifier(id), `fleet instance ${id}`);
    for (const [name, ms] of Object.entries({ noticeMs: s.noticeMs, precheckBeforeMs: s.precheckBeforeMs, graceMs: s.graceMs, downtimeThresholdMs: s.downtimeThresholdMs, rearmBeforeMs: s.rearmBeforeMs })) {
      assertDuration(ms, `${s.name}.${name}`);
    }
    if (s.probe) {
      for (const [name, ms] of Object.entries({ requestTimeoutMs: s.probe.requestTimeoutMs, settleMs: s.probe.settleMs, maxDurationMs: s.probe.maxDurationMs })) assertDuration(ms, `${s.name}.probe.${name}`);
      assert.ok(s.probe.ratePerSecond > 0 && s.probe.ratePerSecond <= 100);
      assert.ok((s.probe.url === undefined) !== (s.probe.postgres === undefined), 'a probe has a url or a database, exactly one');
    }
    if (s.blueGreen) {
      assertDuration(s.blueGreen.provisioningTimeoutMs, `${s.name}.blueGreen.provisioningTimeoutMs`);
      assertDuration(s.blueGreen.switchoverTimeoutSeconds * 1000, `${s.name}.blueGreen.switchoverTimeoutSeconds`);
      assert.ok(Number.isSafeInteger(s.blueGreen.switchoverTimeoutSeconds));
    }
    assert.ok(Number.isSafeInteger(s.maxMissedWindows) && s.maxMissedWindows >= 1);
  }
}

function assertRunnableRestore(spec: ResolvedRestoreSpec): void {
  assertJsonData(spec);
  assert.equal(spec.format, RESOLVED_RESTORE_SPEC);
  assert.match(spec.restoreId, ID_PATTERN);
  assert.ok(spec.requester.trim() !== '');
  assert.ok(isAwsRegion(spec.source.region));
  assert.ok(isRdsInstanceIdentifier(spec.source.instanceId) && isRdsInstanceIdentifier(spec.targetInstanceId));
  assert.notEqual(spec.source.instanceId, spec.targetInstanceId);
  assert.ok(spec.restoreTime === 'latest' || Number.isFinite(Date.parse(spec.restoreTime)), `restoreTime ${spec.restoreTime}`);
  assertDuration(spec.pollIntervalMs, 'pollIntervalMs');
  if (spec.cutover?.reminderIntervalMs !== undefined) assertDuration(spec.cutover.reminderIntervalMs, 'cutover.reminderIntervalMs');
  if (spec.extract?.repair) assertDuration(spec.extract.repair.reminderIntervalMs, 'extract.repair.reminderIntervalMs');
  if (spec.bastion) assert.ok(Number.isInteger(spec.bastion.port) && spec.bastion.port >= 1 && spec.bastion.port <= 65535);
  assert.ok(!(spec.cutover && spec.extract));
}

type Outcome<T> = { resolved: T } | { problems: string[] };

/** The resolver's answer: a resolved spec or a SpecError; anything else thrown fails the property. */
function outcome<T>(resolve: () => T): Outcome<T> {
  try {
    return { resolved: resolve() };
  } catch (error) {
    if (error instanceof SpecError) {
      assert.ok(error.problems.length > 0, 'a SpecError with no problem');
      for (const p of error.problems) assert.ok(error.message.includes(p), 'the message lists every problem');
      return { problems: error.problems };
    }
    throw new Error(`the resolver threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)} instead of a SpecError`, { cause: error });
  }
}

function checkCampaign(raw: unknown): Outcome<ResolvedCampaignSpec> {
  const o = outcome(() => resolveCampaignSpec(raw));
  if ('resolved' in o) assertRunnableCampaign(o.resolved);
  else for (const p of o.problems) assertNamesAField(p, raw, CAMPAIGN_FIELDS);
  return o;
}

function checkRestore(raw: unknown): Outcome<ResolvedRestoreSpec> {
  const o = outcome(() => resolveRestoreSpec(raw));
  if ('resolved' in o) assertRunnableRestore(o.resolved);
  else for (const p of o.problems) assertNamesAField(p, raw, RESTORE_FIELDS);
  return o;
}

/** Valid specs of every shape the product takes, each resolving as is; the mutations start from them. */
function validCampaigns(): Record<string, unknown> {
  const minimal = { targetEngineVersion: '15.8', requester: 'alice', stages: [{ name: 'preview', region: 'eu-west-2', instanceId: 'notify-preview', method: 'maintenance-window' }] };
  return {
    'examples/campaign.yaml': loadSpecFile(join(EXAMPLES, 'campaign.yaml')),
    minimal,
    fleet: {
      targetEngineVersion: '15.8',
      requester: 'alice',
      changes: 'terraform',
      stages: [
        { name: 'staging', region: 'eu-west-2', method: 'apply-now', select: { tags: { environment: 'staging' }, engineVersion: '15.5', from: [{ region: 'eu-west-2' }, { region: 'eu-west-1', aws: { roleArn: 'arn:aws:iam::222222222222:role/rds-orchestrator', externalId: 'notify' } }] }, waves: { maxConcurrent: 2, order: { tag: 'wave' }, failureThreshold: 1 }, probe: { postgres: { name: 'notify', user: 'probe', password: { env: 'NOTIFY_DB_PASSWORD' } }, ratePerSecond: 2, settle: '30s' } },
        { name: 'production', region: 'eu-west-2', method: 'maintenance-window', instances: ['notify-1', 'notify-2'], waves: { order: 'listed' }, aws: { profile: 'prod' }, notice: { minimum: '7d', overrideReason: 'security fix' }, precheckBefore: '2d', pagerDuty: { enabled: true, routingKey: { env: 'NOTIFY_PAGERDUTY_KEY' } }, statusPage: { enabled: true, name: 'Maintenance', body: 'Upgrade', componentIds: ['abc'] } },
      ],
      approval: { approvers: ['bob', 'carol'], minApprovals: 2, reminderInterval: '12h' },
    },
    blueGreen: {
      targetEngineVersion: '15.8',
      requester: 'alice',
      stages: [{ name: 'production', region: 'eu-west-2', instanceId: 'notify-production', method: 'blue-green', blueGreen: { switchoverTimeout: '5m', targetParameterGroup: 'notify-pg15', provisioningTimeout: '24h', switchover: 'window' }, probe: { url: 'https://api.example.com/_status', maxDuration: '1h', requestTimeoutMs: 2000 }, downtimeThreshold: '30s', grace: '2h', maxMissedWindows: 3, rearmBefore: '15m' }],
      blackouts: [{ from: '2026-12-20', to: '2027-01-04T00:00:00+01:00', reason: 'freeze' }],
      pollInterval: 90_000,
    },
  };
}

function validRestores(): Record<string, unknown> {
  return {
    'examples/restore.yaml': loadSpecFile(join(EXAMPLES, 'restore.yaml')),
    'examples/extract.yaml': loadSpecFile(join(EXAMPLES, 'extract.yaml')),
    crossAccount: {
      restoreId: 'notify-restore-1',
      requester: 'alice',
      source: { region: 'eu-west-2', instanceId: 'notify-production', aws: { roleArn: 'arn:aws:iam::222222222222:role/rds-orchestrator', region: 'eu-west-1' } },
      targetInstanceId: 'notify-restored',
      restoreTime: 'latest',
      cutover: { hostedZoneId: '/hostedzone/Z0123456789ABCDEFGHIJ', recordName: 'db.example.com.', setIdentifier: 'notify', aws: { profile: 'dns' }, database: { name: 'notify', user: 'app', password: 'iam', tls: 'verify-full' }, resolvers: ['10.0.0.2:53', '[2001:db8::2]:53'] },
      pollInterval: '30s',
    },
  };
}

describe('fuzzed specs (issue 25): a resolved spec or a SpecError naming each field, nothing else', function () {
  it('the valid fixtures resolve (the mutations start from runnable specs)', function () {
    for (const [name, raw] of Object.entries(validCampaigns())) assert.ok('resolved' in checkCampaign(raw), name);
    for (const [name, raw] of Object.entries(validRestores())) assert.ok('resolved' in checkRestore(raw), name);
  });

  it('campaign specs of random shape', function () {
    fc.assert(fc.property(junk, (raw) => void checkCampaign(raw)), { seed: SEED, numRuns: 300 });
  });

  it('restore specs of random shape', function () {
    fc.assert(fc.property(junk, (raw) => void checkRestore(raw)), { seed: SEED, numRuns: 300 });
  });

  it('objects with every campaign and restore field, each of random value', function () {
    const fields = fc.dictionary(fc.constantFrom(...CAMPAIGN_FIELDS, ...RESTORE_FIELDS, ...SPEC_KEYS.slice(0, 30)), replacement, { maxKeys: 12, noNullPrototype: true });
    fc.assert(
      fc.property(fields, (raw) => {
        checkCampaign(raw);
        checkRestore(raw);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  /** One field of a valid spec replaced, removed, or given an unknown sibling. */
  function mutated(valid: Record<string, unknown>): fc.Arbitrary<{ name: string; raw: unknown }> {
    const named = Object.entries(valid).map(([name, spec]) => ({ name, spec, paths: pathsOf(spec) }));
    return fc
      .constantFrom(...named)
      .chain(({ name, spec, paths }) =>
        fc.tuple(fc.constant(name), fc.constant(spec), fc.constantFrom(...paths), fc.oneof({ weight: 5, arbitrary: replacement.map((value) => ({ value })) }, { weight: 1, arbitrary: fc.constant({ remove: true as const }) }, { weight: 1, arbitrary: anyText.map((key) => ({ sibling: key })) })),
      )
      .map(([name, spec, path, change]) => {
        if ('sibling' in change) return { name: `${name}: unknown field ${JSON.stringify(change.sibling)} beside ${path.join('.')}`, raw: withValueAt(spec, [...path.slice(0, -1), change.sibling], { value: 1 }) };
        return { name: `${name}: ${path.join('.')} ${'remove' in change ? 'removed' : `= ${String(JSON.stringify(change.value)).slice(0, 80)}`}`, raw: withValueAt(spec, path, change) };
      });
  }

  it('valid campaign specs with one field mutated', function () {
    fc.assert(fc.property(mutated(validCampaigns() as Record<string, unknown>), ({ raw }) => void checkCampaign(raw)), { seed: SEED, numRuns: 400 });
  });

  it('valid restore specs with one field mutated', function () {
    fc.assert(fc.property(mutated(validRestores() as Record<string, unknown>), ({ raw }) => void checkRestore(raw)), { seed: SEED, numRuns: 300 });
  });

  it('every duration of a valid campaign as random text: a number and a unit, or what looks like one', function () {
    const durationText = fc
      .tuple(
        fc.oneof(fc.nat().map(String), fc.double({ min: 0, noNaN: true }).map(String), fc.constantFrom('9'.repeat(30), '9'.repeat(400), '0.0000001', '1.5', '')),
        fc.constantFrom('', ' ', ' and '),
        fc.constantFrom('ms', 's', 'm', 'h', 'd', 'w', 'weeks', 'constructor', 'tostring', 'valueof', 'proto', 'e3', 'x'),
      )
      .map(([n, gap, unit]) => `${n}${gap}${unit}`);
    const campaign = validCampaigns().blueGreen as Record<string, unknown>;
    const durationPaths = pathsOf(campaign).filter((p) => ['pollInterval', 'switchoverTimeout', 'provisioningTimeout', 'maxDuration', 'requestTimeoutMs', 'downtimeThreshold', 'grace', 'rearmBefore'].includes(String(p[p.length - 1])));
    fc.assert(fc.property(fc.constantFrom(...durationPaths), fc.oneof(durationText, fc.array(durationText, { minLength: 2, maxLength: 3 }).map((parts) => parts.join(' '))), (path, text) => void checkCampaign(withValueAt(campaign, path, { value: text }))), {
      seed: SEED,
      numRuns: 200,
    });
  });

  it('durations that are no durations: an unknown unit named like a JavaScript member, too many digits, 1e300 (regressions)', function () {
    const base = validCampaigns().minimal as Record<string, unknown>;
    for (const pollInterval of ['1constructor', '2 constructor', `${'9'.repeat(400)}d`, '99999999999 weeks', 1e300, Number.MAX_VALUE]) {
      const o = checkCampaign({ ...base, pollInterval });
      assert.ok('problems' in o, `pollInterval ${String(pollInterval).slice(0, 20)} was accepted`);
      assert.match(o.problems.join('\n'), /^pollInterval: /m);
    }
    const stage = { name: 'production', region: 'eu-west-2', instanceId: 'notify-production', method: 'maintenance-window' };
    const o = checkCampaign({ ...base, stages: [{ ...stage, notice: { minimum: '1e300', overrideReason: 'x' } }] });
    assert.ok('problems' in o);
    const huge = checkCampaign({ ...base, stages: [{ ...stage, notice: { minimum: 1e300 } }] });
    assert.ok('problems' in huge && huge.problems.some((p) => p.startsWith('stages[0].notice.minimum: ')), JSON.stringify(huge));
    const restore = checkRestore({ ...(validRestores()['examples/restore.yaml'] as object), cutover: undefined, pollInterval: '3 constructor' });
    assert.ok('problems' in restore && restore.problems.some((p) => p.startsWith('pollInterval: ')), JSON.stringify(restore));
  });

  it('an ISO instant as toISOString writes it reads back as the same instant, from year 0000 to 9999', function () {
    const instants = fc.date({ min: new Date('0000-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true });
    fc.assert(
      fc.property(instants, (d) => {
        assert.equal(parseIsoInstant(d.toISOString()), d.getTime());
        assert.equal(parseIsoInstant(d.toISOString().slice(0, 10)), Date.parse(d.toISOString().slice(0, 10)));
      }),
      { seed: SEED, numRuns: 300, examples: [[new Date('0050-06-01T12:00:00.000Z')], [new Date('0000-02-29T00:00:00.000Z')], [new Date('0099-12-31T23:59:59.999Z')]] },
    );
  });

  describe('spec files of random text (src/input/file.ts)', function () {
    let dir: string;
    before(function () {
      dir = mkdtempSync(join(tmpdir(), 'fuzz-spec-file-'));
    });
    after(function () {
      rmSync(dir, { recursive: true, force: true });
    });

    /** A file's text: a random value written as YAML or JSON, maybe cut short or with junk spliced in; or raw junk. */
    const fileText = fc.oneof(
      fc.tuple(junk, fc.constantFrom('yaml', 'json'), fc.option(fc.nat(), { nil: undefined }), fc.option(fc.string({ maxLength: 4 }), { nil: undefined })).map(([value, format, cutAt, spliced]) => {
        const text = format === 'yaml' ? toYaml(value ?? null) : (JSON.stringify(value) ?? 'null');
        const at = cutAt === undefined ? text.length : cutAt % (text.length + 1);
        return `${text.slice(0, at)}${spliced ?? ''}${spliced === undefined ? text.slice(at) : ''}`;
      }),
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.constantFrom('', '\uFEFF', '# only a comment\n', 'a: &x [*x]', 'a: !!binary AAAA', 'a: !!str 1', '{', '[1, 2', 'a: 1\na: 2', '---\na: 1\n---\nb: 2', 'x: .inf\ny: .nan', '{"a": 1,}', '\u0000'),
      fc.constantFrom('allowedSigners: { file: /nonexistent/allowed_signers }', 'allowedSigners: { file: "." }', 'allowedSigners:\n  file: 42'),
    );

    it('answer with a value or a SpecFileError naming the file, and the value with a spec or a SpecError', function () {
      let n = 0;
      fc.assert(
        fc.property(fileText, fc.constantFrom('.yaml', '.json', '.txt'), (text, extension) => {
          const path = join(dir, `spec-${n++}${extension}`);
          writeFileSync(path, text);
          let value: unknown;
          try {
            value = loadSpecFile(path);
          } catch (error) {
            assert.ok(error instanceof SpecFileError, `loadSpecFile threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
            assert.equal(error.path, path);
            assert.ok(error.message.includes(path), `the message names the file: ${error.message}`);
            return;
          }
          checkCampaign(value);
          checkRestore(value);
        }),
        { seed: SEED, numRuns: 250 },
      );
    });
  });
});
