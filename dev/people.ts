/**
 * People with real SSH keys, for the demo and the history recorder: keys made by the machine's ssh-keygen,
 * the team's allowed-signers file the workers read (ORCHESTRATOR_ALLOWED_SIGNERS), and starts signed the
 * way the CLI signs them (`--key`). Actions are sent with the CLI's own code (src/cli/act.ts), so what the
 * demo shows is exactly what a person's terminal does.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { SignedStart } from '../src/api';
import { signStart } from '../src/cli/act';
import type { CliIo } from '../src/cli/io';
import type { RunKind } from '../src/domain/identity/signed-actions';
import { writeFileAtomically } from '../src/workflow-bundle';

export interface Person {
  name: string;
  /** The private key file (what `--key` takes). */
  keyFile: string;
  fingerprint: string;
}

export interface Team {
  /** The allowed-signers file: give it to the workers as ORCHESTRATOR_ALLOWED_SIGNERS. */
  allowedSignersFile: string;
  /** Everyone with a key, listed or not. */
  people: Map<string, Person>;
}

export function hasSshKeygen(): boolean {
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // `ssh-keygen -?` exits 1 after printing its usage: it exists. ENOENT: it does not.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

function fingerprintOf(pubFile: string): string {
  return execFileSync('ssh-keygen', ['-lf', pubFile], { encoding: 'utf8' }).trim().split(/\s+/)[1];
}

/**
 * `name`'s key pair in `dir` (`name`, `name.pub`), made once and reused. Several processes may ask at once (on a
 * fresh clone `npm test` starts three demos side by side, each making the demo's keys): each makes a pair aside
 * and the first to link its public key in place publishes its pair; the others wait for it and use it. A pair is
 * whole once the private key is there (published after the public one).
 */
function ensureKeyPair(dir: string, name: string): string {
  const keyFile = path.join(dir, name);
  if (fs.existsSync(keyFile)) return keyFile;
  const aside = fs.mkdtempSync(path.join(dir, `.${name}-`));
  try {
    const made = path.join(aside, name);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', made]);
    try {
      fs.linkSync(`${made}.pub`, `${keyFile}.pub`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // Another process published first (or left a public key alone): wait for its private key.
      const deadline = Date.now() + 10_000;
      while (!fs.existsSync(keyFile)) {
        if (Date.now() > deadline) throw new Error(`${keyFile}.pub exists without ${keyFile}; remove ${dir} and start again`);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      }
      return keyFile;
    }
    fs.renameSync(made, keyFile);
    return keyFile;
  } finally {
    fs.rmSync(aside, { recursive: true, force: true });
  }
}

/**
 * Keys for `members` (listed in the allowed signers) and `outsiders` (keys nobody listed) in `dir`, made
 * once and reused; the allowed-signers file written beside them (whole: a worker may be reading it).
 */
export function makeTeam(dir: string, members: string[], outsiders: string[] = []): Team {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const people = new Map<string, Person>();
  const lines: string[] = [];
  for (const name of [...members, ...outsiders]) {
    const keyFile = ensureKeyPair(dir, name);
    people.set(name, { name, keyFile, fingerprint: fingerprintOf(`${keyFile}.pub`) });
    if (members.includes(name)) {
      const [type, key] = fs.readFileSync(`${keyFile}.pub`, 'utf8').trim().split(/\s+/);
      lines.push(`${name} namespaces="rds-orchestrator" ${type} ${key}`);
    }
  }
  const allowedSignersFile = path.join(dir, 'allowed_signers');
  writeFileAtomically(allowedSignersFile, `${lines.join('\n')}\n`);
  return { allowedSignersFile, people };
}

export function keyOf(team: Team | undefined, name: string): string | undefined {
  if (!team) return undefined;
  const p = team.people.get(name);
  if (!p) throw new Error(`${name} has no key in this team (have: ${[...team.people.keys()].join(', ')})`);
  return p.keyFile;
}

const silent: CliIo = { out: () => undefined, err: () => undefined };

/** The spec signed by its requester, as `start --key` sends it; unchanged without a team. */
export function signedBy<S extends { requester: string; signedStart?: SignedStart }>(team: Team | undefined, kind: RunKind, id: string, spec: S): Promise<S> {
  const key = keyOf(team, spec.requester);
  return key ? signStart(silent, kind, id, spec, { key }, {}) : Promise.resolve(spec);
}
