import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpecFileError, loadSpecFile } from '../../src/input/file';
import { resolveCampaignSpec, resolveRestoreSpec, validateCampaignSpec } from '../../src/input';

describe('spec file loading', function () {
  let dir: string;

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'spec-file-'));
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  function write(name: string, text: string): string {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  }

  function errorOf(path: string): SpecFileError {
    try {
      loadSpecFile(path);
    } catch (error) {
      assert.ok(error instanceof SpecFileError, String(error));
      assert.equal(error.path, path);
      assert.ok(error.message.includes(path), `message names the file: ${error.message}`);
      return error;
    }
    assert.fail(`expected ${path} to be refused`);
  }

  const yamlCampaign = [
    '# staged minor upgrade',
    'targetEngineVersion: "15.10"',
    'requester: alice@example.com',
    'stages:',
    '  - { name: preview, region: eu-west-2, instanceId: notify-preview, method: maintenance-window }',
    '  - name: production',
    '    region: eu-west-2',
    '    instanceId: notify-production',
    '    method: maintenance-window',
    '    notice: { minimum: 14 days }',
    'blackouts:',
    '  - from: "2025-12-19"',
    '    to: "2026-01-05"',
    '',
  ].join('\n');

  it('reads YAML (.yaml and .yml) into a spec that validates', function () {
    for (const name of ['campaign.yaml', 'campaign.yml']) {
      const raw = loadSpecFile(write(name, yamlCampaign));
      const spec = validateCampaignSpec(raw);
      assert.equal(spec.campaignId, 'pg-minor-15-10');
      assert.equal(spec.stages[1].noticeMs, 14 * 86_400_000);
    }
  });

  it('reads JSON, with or without a byte-order mark', function () {
    assert.deepEqual(loadSpecFile(write('a.json', '{"requester": "alice"}')), { requester: 'alice' });
    assert.deepEqual(loadSpecFile(write('bom.json', '\uFEFF{"requester": "alice"}')), { requester: 'alice' });
  });

  it('tries JSON then YAML for other extensions', function () {
    assert.deepEqual(loadSpecFile(write('spec.txt', '{"a": [1, 2]}')), { a: [1, 2] });
    assert.deepEqual(loadSpecFile(write('spec', 'a: [1, 2]\n')), { a: [1, 2] });
  });

  it('a missing file is named with a hint', function () {
    const error = errorOf(join(dir, 'nope.yaml'));
    assert.match(error.message, /Spec file not found/);
  });

  it('a directory is refused', function () {
    assert.match(errorOf(dir).message, /is a directory/);
  });

  it('an empty file is refused', function () {
    assert.match(errorOf(write('empty.yaml', '  \n')).message, /is empty/);
    assert.match(errorOf(write('comments.yaml', '# nothing yet\n')).message, /holds no value/);
  });

  it('a JSON syntax error gives its line and column', function () {
    const error = errorOf(write('bad.json', '{\n  "a": 1,\n  "b": [1, 2,]\n}\n'));
    assert.match(error.message, /not valid JSON: line 3, column 14: unexpected "\]"/);
    assert.match(errorOf(write('cut.json', '{"a": 1')).message, /line 1, column 8: unexpected end of file/);
  });

  it('a YAML syntax error gives its line', function () {
    const error = errorOf(write('bad.yaml', 'a: 1\nb: [1, 2\nc: 3\n'));
    assert.match(error.message, /not valid YAML: .*line \d+, column \d+/);
  });

  it('a repeated YAML key is an error, not a silent override', function () {
    const error = errorOf(write('dup.yml', 'requester: alice\nrequester: bob\n'));
    assert.match(error.message, /unique.*line 2/);
  });

  it('an unparseable file of unknown type says both formats were tried', function () {
    assert.match(errorOf(write('spec.conf', 'a: [1\n')).message, /not valid JSON or YAML: .*line \d+/);
  });
});

describe('the examples the README points at', function () {
  const examples = join(__dirname, '..', '..', 'examples');

  it('examples/campaign.yaml, restore.yaml, extract.yaml and blue-green.yaml resolve as written', function () {
    assert.equal(resolveCampaignSpec(loadSpecFile(join(examples, 'campaign.yaml'))).stages.length > 0, true);
    assert.ok(resolveRestoreSpec(loadSpecFile(join(examples, 'restore.yaml'))).cutover);
    const extract = resolveRestoreSpec(loadSpecFile(join(examples, 'extract.yaml'))).extract!;
    assert.deepEqual(extract.repair?.tables, ['public.orders', 'public.order_items']);
    assert.deepEqual(extract.database.credentials, { kind: 'master-secret' });
    const blueGreen = resolveCampaignSpec(loadSpecFile(join(examples, 'blue-green.yaml'))).stages[2];
    assert.deepEqual([blueGreen.method, blueGreen.blueGreen], ['blue-green', { switchoverTimeoutSeconds: 300, provisioningTimeoutMs: 86_400_000, switchover: 'window' }]);
  });

  it("a status-page name or body longer than Statuspage takes is refused when the campaign is started, not days later at the announcement", function () {
    const spec = loadSpecFile(join(examples, 'campaign.yaml')) as { stages: { statusPage?: Record<string, unknown> }[] };
    const last = spec.stages.length - 1;
    spec.stages[last].statusPage = { ...spec.stages[last].statusPage, name: 'n'.repeat(256), body: 'b'.repeat(24_001) };
    assert.throws(() => resolveCampaignSpec(spec), (e: Error) => /statusPage\.name: 256 characters; Statuspage takes at most 255/.test(e.message) && /statusPage\.body: 24001 characters/.test(e.message));
    spec.stages[last].statusPage = { ...spec.stages[last].statusPage, name: 'n'.repeat(255), body: 'b'.repeat(24_000) };
    assert.doesNotThrow(() => resolveCampaignSpec(spec));
  });

  it('a Blue/Green switchover timeout longer than RDS allows (1h) is refused when the campaign is started, not at the switchover', function () {
    const spec = loadSpecFile(join(examples, 'blue-green.yaml')) as { stages: { blueGreen?: Record<string, unknown> }[] };
    spec.stages[2].blueGreen = { ...spec.stages[2].blueGreen, switchoverTimeout: '1h' };
    assert.equal(resolveCampaignSpec(spec).stages[2].blueGreen?.switchoverTimeoutSeconds, 3600);
    spec.stages[2].blueGreen = { ...spec.stages[2].blueGreen, switchoverTimeout: '61m' };
    assert.throws(() => resolveCampaignSpec(spec), /stages\[2\]\.blueGreen\.switchoverTimeout: 3660s is longer than RDS allows; use at most 1h/);
  });
});
