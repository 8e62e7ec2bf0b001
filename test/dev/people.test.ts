/**
 * The demo's people (dev/people.ts): on a fresh clone `npm test` starts three demos side by side, each making the
 * demo's SSH keys in the same folder. One of them failed in CI ("Command failed: ssh-keygen ... demo-approver": the
 * key appeared between its check and its ssh-keygen). Several processes making one team at once must all succeed
 * and end with the same keys.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeTeam } from '../../dev/people';

const ROOT = path.resolve(__dirname, '..', '..');

/** One process making the team in `dir`; resolves with what it printed (each person's fingerprint). */
function makeTeamInAProcess(dir: string): Promise<{ code: number | null; out: string; err: string }> {
  const script = `const { makeTeam } = require('./dev/people'); const t = makeTeam(${JSON.stringify(dir)}, ['alice', 'bob'], ['mallory']); console.log(JSON.stringify([...t.people.values()].map((p) => [p.name, p.fingerprint])));`;
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

describe('dev: the demo team', function () {
  this.timeout(60_000);

  it('several processes making the same team at once all succeed and end with one key per person', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-team-'));
    try {
      const runs = await Promise.all([1, 2, 3, 4].map(() => makeTeamInAProcess(dir)));
      for (const r of runs) assert.equal(r.code, 0, r.err);
      const seen = runs.map((r) => r.out.trim());
      assert.equal(new Set(seen).size, 1, `every process sees the same keys:\n${seen.join('\n')}`);
      const team = makeTeam(dir, ['alice', 'bob'], ['mallory']);
      assert.equal(JSON.stringify([...team.people.values()].map((p) => [p.name, p.fingerprint])), seen[0]);
      assert.deepEqual(fs.readdirSync(dir).sort(), ['alice', 'alice.pub', 'allowed_signers', 'bob', 'bob.pub', 'mallory', 'mallory.pub'], 'nothing left aside');
      const signers = fs.readFileSync(team.allowedSignersFile, 'utf8');
      assert.match(signers, /^alice namespaces="rds-orchestrator" ssh-ed25519 /m);
      assert.doesNotMatch(signers, /mallory/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
