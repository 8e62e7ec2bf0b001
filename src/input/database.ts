/**
 * Reading how a spec names a database (src/api/database.ts: DatabaseAccessSpec) and the tables it names.
 * Only where the password is is read here; the password itself is read by the activity that connects.
 */
import type { DatabaseAccess, DatabaseAccessSpec } from '../api/database';
import { isMissing, readObject, readString, readStringList, type Problems } from './fields';

/** PostgreSQL identifiers as people write them unquoted: letters, digits, _ and $, not starting with a digit; at most 63 bytes. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
/** `table` or `schema.table`. */
const QUALIFIED_TABLE = /^([A-Za-z_][A-Za-z0-9_$]{0,62}\.)?[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
/** A shell-style environment variable name. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const TLS_MODES: readonly DatabaseAccess['tls'][] = ['require', 'verify-full', 'disable'];

const PASSWORD_EXAMPLE = 'master-secret (the instance\'s RDS-managed secret), { secretArn: "arn:aws:secretsmanager:…" }, { env: "NOTIFY_DB_PASSWORD" } or iam';

export function readDatabaseAccess(p: Problems, value: unknown, path: string): DatabaseAccess | undefined {
  if (isMissing(value)) {
    p.add(path, `is required, e.g. { name: "notify", password: "master-secret" }`);
    return undefined;
  }
  const o = readObject(p, value, path, ['name', 'user', 'password', 'tls'] satisfies (keyof DatabaseAccessSpec)[]);
  if (!o) return undefined;
  const database = readString(p, o.name, `${path}.name`, { required: true, example: '"notify"' });
  if (database && database.length > 63) p.add(`${path}.name`, `is ${database.length} characters; PostgreSQL names are at most 63`);
  const username = readString(p, o.user, `${path}.user`, { required: false, example: '"notify_admin"' });
  const tlsText = readString(p, o.tls, `${path}.tls`, { required: false, example: '"require"' }) ?? 'require';
  if (!TLS_MODES.includes(tlsText as DatabaseAccess['tls'])) p.add(`${path}.tls`, `must be ${TLS_MODES.join(', ')}; got "${tlsText}"`);
  const credentials = readPassword(p, o.password, `${path}.password`, username);
  if (!credentials) return undefined;
  const access: DatabaseAccess = { database, credentials, tls: tlsText as DatabaseAccess['tls'] };
  if (username) access.username = username;
  return access;
}

function readPassword(p: Problems, value: unknown, path: string, username: string | undefined): DatabaseAccess['credentials'] | undefined {
  if (isMissing(value)) {
    p.add(path, `is required: where the worker reads the password, ${PASSWORD_EXAMPLE}`);
    return undefined;
  }
  if (value === 'master-secret') return { kind: 'master-secret' };
  if (value === 'iam') {
    if (!username) p.add(path, 'iam needs user: the database user the IAM authentication token is signed for');
    return { kind: 'iam' };
  }
  if (typeof value === 'string') {
    // The value is not echoed: it may be the password itself.
    p.add(path, `is not a password source; give ${PASSWORD_EXAMPLE} (never the password itself: it would be kept in the workflow's history)`);
    return undefined;
  }
  const o = readObject(p, value, path, ['secretArn', 'env']);
  if (!o) return undefined;
  if (!isMissing(o.secretArn) && !isMissing(o.env)) {
    p.add(path, 'give secretArn or env, not both');
    return undefined;
  }
  if (!isMissing(o.env)) {
    const variable = readString(p, o.env, `${path}.env`, { required: true, example: '"NOTIFY_DB_PASSWORD"' });
    if (variable && !ENV_NAME.test(variable)) p.add(`${path}.env`, `"${variable}" is not an environment variable name`);
    if (!username) p.add(path, 'env needs user: the database user whose password the variable holds');
    return { kind: 'env', variable };
  }
  const secretArn = readString(p, o.secretArn, `${path}.secretArn`, { required: true, example: '"arn:aws:secretsmanager:eu-west-2:111122223333:secret:notify-db-AbCdEf"' });
  if (secretArn && !SECRET_ARN.test(secretArn)) p.add(`${path}.secretArn`, `"${secretArn}" is not a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)`);
  return { kind: 'secret', secretArn };
}

/** A list of tables, `table` (in public) or `schema.table`, unquoted identifiers. */
export function readTables(p: Problems, value: unknown, path: string): string[] {
  const list = readStringList(p, value, path, '["public.orders", "audit_log"]') ?? [];
  list.forEach((t, i) => {
    if (!QUALIFIED_TABLE.test(t)) p.add(`${path}[${i}]`, `"${t}" is not a table name: \`table\` or \`schema.table\`, unquoted identifiers (letters, digits, _), e.g. "public.orders"`);
  });
  const seen = new Set<string>();
  list.forEach((t, i) => {
    const key = qualified(t);
    if (seen.has(key)) p.add(`${path}[${i}]`, `"${t}" is named twice`);
    seen.add(key);
  });
  return list.map(qualified);
}

/** Schema names, folded to lower case as PostgreSQL folds unquoted names (the same rule as tables). */
export function readSchemas(p: Problems, value: unknown, path: string): string[] {
  const list = readStringList(p, value, path, '["audit"]') ?? [];
  list.forEach((s, i) => {
    if (!IDENTIFIER.test(s)) p.add(`${path}[${i}]`, `"${s}" is not a schema name (an unquoted identifier: letters, digits, _)`);
  });
  return list.map((s) => s.toLowerCase());
}

/** `Orders` → `public.orders`: unquoted names fold to lower case, as PostgreSQL (and pg_dump's patterns) fold them. */
function qualified(table: string): string {
  const lower = table.toLowerCase();
  return lower.includes('.') ? lower : `public.${lower}`;
}
