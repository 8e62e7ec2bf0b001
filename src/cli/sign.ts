/**
 * Signing what a person agrees to, with the SSH key they already have: `ssh-keygen -Y sign` (OpenSSH's
 * SSHSIG format), the text on stdin, the armored signature back. The key is a private key file, or a
 * public key (`.pub`) whose private half is in ssh-agent: ssh-keygen then asks the agent to sign.
 * Passphrase prompts go straight to the person's terminal (ssh-keygen reads /dev/tty).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SSH_SIGNATURE_NAMESPACE } from '../domain/identity/ssh-signature';
import { CliError } from './io';

/** The environment variable that names the key to sign with. */
export const SSH_KEY_ENV = 'RDS_ORCHESTRATOR_SSH_KEY';

/** The keys tried, in order, when none is named: OpenSSH's own defaults, newest algorithm first. */
const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export interface SignOptions {
  /** A private key file, or a `.pub` whose private key is in ssh-agent. */
  keyFile?: string;
  /** `ssh-keygen -Y sign -n`; rds-orchestrator's own namespace unless told otherwise. */
  namespace?: string;
  /** For tests: the environment (SSH_AUTH_SOCK, RDS_ORCHESTRATOR_SSH_KEY, PATH) and home directory. */
  env?: NodeJS.ProcessEnv;
  homeDir?: string;
}

/** The key file to sign with: the one given, else $RDS_ORCHESTRATOR_SSH_KEY, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa. */
export function signingKeyFile(opts: Pick<SignOptions, 'keyFile' | 'env' | 'homeDir'> = {}): string {
  const env = opts.env ?? process.env;
  const named = opts.keyFile ?? env[SSH_KEY_ENV];
  if (named) {
    if (!fs.existsSync(named)) throw new CliError(`SSH key ${named} not found${opts.keyFile ? '' : ` (from $${SSH_KEY_ENV})`}: pass --key FILE with your private key, or your .pub when the key is in ssh-agent`, 2);
    return named;
  }
  const sshDir = path.join(opts.homeDir ?? os.homedir(), '.ssh');
  for (const name of DEFAULT_KEYS) {
    // A .pub alone is enough when the private key lives in ssh-agent (or on a hardware token behind it).
    for (const file of [path.join(sshDir, name), path.join(sshDir, `${name}.pub`)]) if (fs.existsSync(file)) return file;
  }
  throw new CliError(
    `no SSH key to sign with: none of ${DEFAULT_KEYS.map((k) => `~/.ssh/${k}`).join(', ')} exists. ` +
      `Pass --key FILE, or set $${SSH_KEY_ENV} (a private key, or a .pub whose key is in ssh-agent); create one with \`ssh-keygen -t ed25519\``,
    2,
  );
}

function run(command: string, args: string[], input: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // stdin carries the text; stderr is captured for the error message, and /dev/tty stays free for prompts.
    const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined); // ssh-keygen may exit before reading everything; its exit code says why
    child.stdin.end(input, 'utf8');
  });
}

/**
 * Signs `text` (its exact UTF-8 bytes: no newline is added) and returns the armored
 * `-----BEGIN SSH SIGNATURE-----` block. Throws a CliError (exit code 2) that says what to fix.
 */
export async function signText(text: string, opts: SignOptions = {}): Promise<string> {
  const keyFile = signingKeyFile(opts);
  const namespace = opts.namespace ?? SSH_SIGNATURE_NAMESPACE;
  const env = opts.env ?? process.env;
  let result: Awaited<ReturnType<typeof run>>;
  try {
    result = await run('ssh-keygen', ['-q', '-Y', 'sign', '-n', namespace, '-f', keyFile], text, env);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CliError('ssh-keygen not found: install openssh-client (Debian/Ubuntu: apt-get install openssh-client; macOS ships it) to sign with your SSH key', 2);
    }
    throw err;
  }
  const signature = result.stdout.trim();
  if (result.code === 0 && signature.startsWith('-----BEGIN SSH SIGNATURE-----')) return `${signature}\n`;
  const why = result.stderr.trim().split('\n').filter((l) => !/^Signing data on standard input/.test(l)).join('; ') || `exit code ${result.code}`;
  const hint = keyFile.endsWith('.pub')
    ? env.SSH_AUTH_SOCK
      ? ` (${keyFile} is a public key: its private key must be loaded in ssh-agent, \`ssh-add\`)`
      : ` (${keyFile} is a public key and no ssh-agent is running: SSH_AUTH_SOCK is not set; start one and \`ssh-add\` the key, or pass the private key)`
    : '';
  throw new CliError(`ssh-keygen could not sign with ${keyFile}: ${why}${hint}`, 2);
}
