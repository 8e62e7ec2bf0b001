/**
 * Names the extract takes from a spec: schemas and tables (`schema.table`, or `table` in `public`), and the
 * files it writes. A name is taken literally, as the catalog spells it (case-sensitive, never a pattern): it
 * reaches SQL quoted (`format('%I')`, escapeIdentifier) and pg_dump as a double-quoted pattern, so `Orders`
 * means the table "Orders", and `*` or `?` are refused rather than matching other tables.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../../api/activities';
import type { QualifiedTable } from '../../api/database';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

export interface TableName {
  schema: string;
  table: string;
  /** `schema.table`, as messages and results show it. */
  display: string;
}

export function isIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
}

/** `schema.table` or `table` (public); undefined when it is not two identifiers. */
export function parseTable(name: QualifiedTable): TableName | undefined {
  const parts = name.split('.');
  if (parts.length > 2 || !parts.every(isIdentifier)) return undefined;
  const [schema, table] = parts.length === 2 ? parts : ['public', parts[0]];
  return { schema, table, display: `${schema}.${table}` };
}

const IDENTIFIER_RULE = 'a letter or _ then letters, digits, _ or $, at most 63, taken as the catalog spells it';

/** Every problem of the named tables and schemas, for one InvalidInput listing them all. */
export function nameProblems(field: string, names: string[], kind: 'table' | 'schema'): string[] {
  const problems: string[] = [];
  for (const n of names) {
    if (kind === 'table' ? !parseTable(n) : !isIdentifier(n)) {
      problems.push(`${field}: '${n}' is not a ${kind === 'table' ? 'table name (schema.table or table, each part ' : 'schema name ('}${IDENTIFIER_RULE})`);
    }
  }
  return problems;
}

/** A file name inside the directory: no folder part, not hidden, no `..`. */
export function fileNameProblems(field: string, fileName: string): string[] {
  if (!fileName || fileName !== path.basename(fileName) || fileName.startsWith('.') || fileName.includes('\0')) {
    return [`${field}: '${fileName}' must be a plain file name inside the directory (no '/', not starting with '.')`];
  }
  return [];
}

export function invalidInput(what: string, problems: string[]): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`${what}: ${problems.join('; ')}`, FailureTypes.InvalidInput);
}

/** A directory the worker can write into, or a non-retryable InvalidConfig saying what is wrong with it. */
export async function checkWritableDirectory(field: string, directory: string): Promise<void> {
  if (!path.isAbsolute(directory)) {
    throw ApplicationFailure.nonRetryable(`${field} '${directory}' must be an absolute path on the workers`, FailureTypes.InvalidInput);
  }
  let stat;
  try {
    stat = await fs.promises.stat(directory);
  } catch (err) {
    throw ApplicationFailure.nonRetryable(
      `${field} '${directory}' does not exist on this worker (${(err as NodeJS.ErrnoException).code ?? String(err)}): create it, or mount the volume every worker shares there`,
      FailureTypes.InvalidConfig,
    );
  }
  if (!stat.isDirectory()) throw ApplicationFailure.nonRetryable(`${field} '${directory}' is not a directory`, FailureTypes.InvalidConfig);
  try {
    await fs.promises.access(directory, fs.constants.W_OK);
  } catch {
    throw ApplicationFailure.nonRetryable(`${field} '${directory}' is not writable by the worker's user (uid ${process.getuid?.() ?? '?'}): give it write permission`, FailureTypes.InvalidConfig);
  }
}
