/**
 * `signText` drives the machine's real ssh-keygen, with a key file and through a real ssh-agent, and the
 * domain verifier (the one the workflows run) accepts what it produces.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CliError } from '../../src/cli/context';
import { SSH_KEY_ENV, signText, signingKeyFile } from '../../src/cli/sign';
import { parseAllowedSigners } from '../../src/domain/identity/allowed-signers';
import { SSH_SIGNATURE_NAMESPACE, verifySshSignature } from '../../src/domain/identity/ssh-signature';
import { makeKey, tempDir, type TestKey } from '../fixtures/ssh-keys';

const TEXT = 'rds-orchestrator approve\ncampaign: notify-15.8\nplan: production → 15.8\n';

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function rejectsWith(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof CliError, String(err));
    assert.equal(err.exitCode, 2);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('signText: ssh-keygen -Y sign with a key file or ssh-agent', function () {
  this.timeout(60_000);
  let dir: string;
  let key: TestKey;
  let agentKey: TestKey;
  let agent: ChildProcess | undefined;
  const socket = () => path.join(dir, 'agent.sock');

  before(function () {
    dir = tempDir('rds-orch-sign-');
    key = makeKey(dir, 'alice', 'ed25519');
    agentKey = makeKey(dir, 'bob', 'ecdsa', 256);
  });
  after(function () {
    // The agent started here, by its own pid (it runs in the foreground with -D).
    if (agent?.pid && agent.exitCode === null) agent.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('signs with a private key file; the domain verifier accepts the signature', async function () {
    const armored = await signText(TEXT, { keyFile: key.file, namespace: SSH_SIGNATURE_NAMESPACE });
    assert.match(armored, /^-----BEGIN SSH SIGNATURE-----\n[\s\S]+\n-----END SSH SIGNATURE-----\n$/);
    const result = verifySshSignature(armored, TEXT, SSH_SIGNATURE_NAMESPACE);
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.publicKey.fingerprint, key.fingerprint);
    const list = parseAllowedSigners(`alice ${key.publicKey}`);
    assert.ok(list.ok);
    assert.equal(list.verifyFor('alice', SSH_SIGNATURE_NAMESPACE, TEXT, armored, Date.now()).ok, true);
  });

  it('signs through ssh-agent when given only the public key', async function () {
    agent = spawn('ssh-agent', ['-D', '-a', socket()], { stdio: 'ignore' });
    await until(() => fs.existsSync(socket()), 'ssh-agent to listen');
    const env = { ...process.env, SSH_AUTH_SOCK: socket() };
    execFileSync('ssh-add', [agentKey.file], { env, stdio: 'ignore' });
    // The .pub alone, in a directory without the private key: only the agent can sign.
    const pubOnly = path.join(dir, 'pub-only');
    fs.mkdirSync(pubOnly);
    const pub = path.join(pubOnly, 'bob.pub');
    fs.copyFileSync(agentKey.pubFile, pub);

    const armored = await signText(TEXT, { keyFile: pub, namespace: SSH_SIGNATURE_NAMESPACE, env });
    const list = parseAllowedSigners(`bob ${agentKey.publicKey}`);
    assert.ok(list.ok);
    const result = list.verifyFor('bob', SSH_SIGNATURE_NAMESPACE, TEXT, armored, Date.now());
    assert.deepEqual(result.ok && [result.principal, result.keyType, result.fingerprint], ['bob', 'ecdsa-sha2-nistp256', agentKey.fingerprint]);

    const noAgent = { ...process.env };
    delete noAgent.SSH_AUTH_SOCK;
    await rejectsWith(signText(TEXT, { keyFile: pub, env: noAgent }), /is a public key and no ssh-agent is running/);
  });

  it('finds the key: --key, then $RDS_ORCHESTRATOR_SSH_KEY, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa', async function () {
    const home = path.join(dir, 'home');
    fs.mkdirSync(path.join(home, '.ssh'), { recursive: true });
    assert.throws(() => signingKeyFile({ homeDir: home, env: {} }), /no SSH key to sign with: none of ~\/.ssh\/id_ed25519, ~\/.ssh\/id_ecdsa, ~\/.ssh\/id_rsa exists/);
    fs.copyFileSync(agentKey.file, path.join(home, '.ssh', 'id_ecdsa'));
    fs.chmodSync(path.join(home, '.ssh', 'id_ecdsa'), 0o600);
    fs.copyFileSync(key.pubFile, path.join(home, '.ssh', 'id_rsa.pub'));
    assert.equal(signingKeyFile({ homeDir: home, env: {} }), path.join(home, '.ssh', 'id_ecdsa'));
    assert.equal(signingKeyFile({ homeDir: home, env: { [SSH_KEY_ENV]: key.file } }), key.file);
    assert.equal(signingKeyFile({ keyFile: key.pubFile, homeDir: home, env: { [SSH_KEY_ENV]: key.file } }), key.pubFile);
    assert.throws(() => signingKeyFile({ env: { [SSH_KEY_ENV]: path.join(dir, 'nope') } }), /nope not found \(from \$RDS_ORCHESTRATOR_SSH_KEY\)/);

    const armored = await signText(TEXT, { homeDir: home, env: { PATH: process.env.PATH } });
    assert.equal((verifySshSignature(armored, TEXT, SSH_SIGNATURE_NAMESPACE) as { publicKey: { fingerprint: string } }).publicKey.fingerprint, agentKey.fingerprint);
  });

  it('says to install openssh-client when ssh-keygen is missing', async function () {
    await rejectsWith(signText(TEXT, { keyFile: key.file, env: { PATH: path.join(dir, 'empty-path') } }), /ssh-keygen not found: install openssh-client/);
  });
});
