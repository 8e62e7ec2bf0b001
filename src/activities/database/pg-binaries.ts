/**
 * The PostgreSQL client programs the extract runs (pg_dump), found on the worker: PG_DUMP, else Debian's
 * PostgreSQL 15 client, else the newest other Debian major, else `pg_dump` on PATH. Its absence is a
 * non-retryable InvalidConfig that says what to install: no retry installs a package.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../../api/activities';

export const CLIENT_MAJOR = 15;
const DEBIAN_ROOT = '/usr/lib/postgresql';
const INSTALL_HINT = `install the PostgreSQL client on the workers (Debian/Ubuntu: apt-get install -y postgresql-client-${CLIENT_MAJOR}), or set PG_DUMP to the pg_dump program`;

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Where `program` is: the env override, Debian's major 15, the newest Debian major, then PATH; undefined when absent. */
export function findPgProgram(program: 'pg_dump' | 'pg_restore', env: NodeJS.ProcessEnv = process.env, debianRoot = DEBIAN_ROOT): string | undefined {
  const preferred = path.join(debianRoot, String(CLIENT_MAJOR), 'bin', program);
  if (isExecutable(preferred)) return preferred;
  const majors = fs.existsSync(debianRoot) ? fs.readdirSync(debianRoot).filter((m) => /^\d+$/.test(m)) : [];
  const newest = majors.sort((a, b) => Number(b) - Number(a)).map((m) => path.join(debianRoot, m, 'bin', program)).find(isExecutable);
  if (newest) return newest;
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, program);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export interface PgDumpProgram {
  path: string;
  /** As it prints it: "pg_dump (PostgreSQL) 15.14 (Debian 15.14-1.pgdg12+1)". */
  version: string;
  major: number;
}

/** pg_dump and its version, or a non-retryable InvalidConfig saying what to install. */
export function requirePgDump(env: NodeJS.ProcessEnv = process.env, debianRoot = DEBIAN_ROOT): PgDumpProgram {
  const override = env.PG_DUMP;
  if (override && !isExecutable(override)) {
    throw ApplicationFailure.nonRetryable(`PG_DUMP names ${override}, which is not an executable file on this worker: ${INSTALL_HINT}`, FailureTypes.InvalidConfig);
  }
  const file = override || findPgProgram('pg_dump', env, debianRoot);
  if (!file) {
    throw ApplicationFailure.nonRetryable(`pg_dump was not found (PG_DUMP unset, nothing in ${debianRoot}/*/bin, none on PATH): ${INSTALL_HINT}`, FailureTypes.InvalidConfig);
  }
  const r = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const version = (r.stdout ?? '').trim();
  const major = Number(/\(PostgreSQL\)\s+(\d+)/.exec(version)?.[1]);
  if (r.status !== 0 || !Number.isFinite(major)) {
    throw ApplicationFailure.nonRetryable(
      `${file} --version did not say which PostgreSQL it is (${r.error?.message ?? `exit ${r.status}`}: ${(version || r.stderr || '').trim().slice(0, 200)}): ${INSTALL_HINT}`,
      FailureTypes.InvalidConfig,
    );
  }
  return { path: file, version, major };
}

/** pg_dump refuses a server of a newer major; say so before starting, with what to install. */
export function checkDumpsServer(program: PgDumpProgram, serverVersionNum: number): void {
  const serverMajor = Math.floor(serverVersionNum / 10_000);
  if (serverMajor > program.major) {
    throw ApplicationFailure.nonRetryable(
      `${program.path} is PostgreSQL ${program.major} and cannot dump a PostgreSQL ${serverMajor} server: install postgresql-client-${serverMajor} on the workers, or set PG_DUMP to a pg_dump of major ${serverMajor} or later`,
      FailureTypes.InvalidConfig,
    );
  }
}
