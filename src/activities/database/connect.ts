/**
 * Connecting to an instance's database: its endpoint from RDS (DescribeDBInstances, or a host such as the
 * cutover's CNAME in its place), the login from the named source (./credentials.ts), TLS as the access says.
 *
 * Errors a person must fix (a wrong password, a database that does not exist, a certificate that cannot be
 * checked) are non-retryable `DatabaseAccess`/`InvalidConfig` failures that say what to fix; a database that does
 * not answer (refused, timed out, starting up, out of connections) is a retryable `DatabaseUnavailable`. Every
 * message names the instance, the database, the user and where the password comes from, never the password:
 * a message from the server or the driver is scrubbed of it before it is shown.
 */
import fs from 'node:fs';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ApplicationFailure } from '@temporalio/common';
import pg from 'pg';
import { FailureTypes, type AwsWhere } from '../../api/activities';
import type { DatabaseAccess, DatabaseTarget } from '../../api/database';
import { describeInstanceOf, readInstanceEndpoint, resolveLogin } from './credentials';
import { resolveThrough } from './dns';

export interface DatabaseDeps {
  rdsClientFor: (where: AwsWhere) => RDSClient;
  secretsClientFor: (where: AwsWhere) => SecretsManagerClient;
  /** Signs IAM database authentication tokens; default @aws-sdk/rds-signer with the credentials of `where`. */
  iamToken?: (where: AwsWhere, host: string, port: number, username: string) => Promise<string>;
  env?: NodeJS.ProcessEnv;
  /**
   * DNS servers database hosts are resolved through (ORCHESTRATOR_DATABASE_RESOLVERS): for workers whose own
   * resolver does not see the VPC's names. The connection goes to the address found; TLS still checks the name.
   */
  resolvers?: string[];
}

export interface ConnectionParams {
  host: string;
  /** The address `host` was resolved to through DatabaseDeps.resolvers (libpq's hostaddr); absent: the system resolves it. */
  hostAddress?: string;
  /**
   * The name TLS checks when it is not `host`: dialled through another name (the cutover's CNAME), the server still
   * presents the instance endpoint's certificate, so `verify-full` checks that name (and proves which server answered).
   */
  tlsName?: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** `caFile`: where `ca` was read from (RDS_CA_BUNDLE), for libpq's PGSSLROOTCERT. */
  ssl: false | { rejectUnauthorized: boolean; ca?: string; caFile?: string };
}

/** Connecting gives up after this long (a retryable DatabaseUnavailable). */
export const CONNECT_TIMEOUT_MS = 10_000;
/** No statement of an activity runs longer than this on the server (dumps and repairs set their own). */
export const STATEMENT_TIMEOUT_MS = 60_000;
export const APPLICATION_NAME = 'rds-orchestrator';

/** What the connection is, for messages: never the password. */
interface Described {
  target: DatabaseTarget;
  params: ConnectionParams;
  /** Where the password came from. */
  source: string;
}

/** The TLS settings of `access.tls`; verify-full reads the CA bundle named by RDS_CA_BUNDLE, else uses Node's roots. */
export function tlsFor(tls: DatabaseAccess['tls'], env: NodeJS.ProcessEnv = process.env): ConnectionParams['ssl'] {
  if (tls === 'disable') return false;
  if (tls === 'require') return { rejectUnauthorized: false };
  const caFile = env.RDS_CA_BUNDLE;
  if (!caFile) return { rejectUnauthorized: true };
  try {
    return { rejectUnauthorized: true, ca: fs.readFileSync(caFile, 'utf8'), caFile };
  } catch (err) {
    throw ApplicationFailure.nonRetryable(
      `RDS_CA_BUNDLE names ${caFile}, which the worker cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): ` +
        'put the RDS CA bundle there (https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem) or unset RDS_CA_BUNDLE',
      FailureTypes.InvalidConfig,
    );
  }
}

async function resolve(deps: DatabaseDeps, target: DatabaseTarget, override?: { host?: string; port?: number }): Promise<Described> {
  const instance = await readInstanceEndpoint(deps.rdsClientFor, target);
  const login = await resolveLogin(deps, target, instance);
  const host = override?.host ?? instance.host;
  const params: ConnectionParams = {
    host,
    ...(host !== instance.host ? { tlsName: instance.host } : {}),
    ...(deps.resolvers?.length ? { hostAddress: await resolveThrough(host, deps.resolvers) } : {}),
    port: override?.port ?? instance.port,
    user: login.user,
    password: login.password,
    database: target.access.database,
    ssl: tlsFor(target.access.tls, deps.env ?? process.env),
  };
  return { target, params, source: login.source };
}

/** Reads the instance's endpoint (DescribeDBInstances) and its credentials; host/port override the endpoint (a CNAME). */
export async function connectionParams(deps: DatabaseDeps, target: DatabaseTarget, override?: { host?: string; port?: number }): Promise<ConnectionParams> {
  return (await resolve(deps, target, override)).params;
}

/** `text` with every occurrence of `secret` replaced (a driver or server message must never show a password or token). */
export function redact(text: string, secret: string): string {
  return secret.length >= 4 ? text.split(secret).join('****') : text;
}

/** The pg.Client options of `p`: connect timeout, statement timeout, application_name. */
export function clientConfig(p: ConnectionParams, opts: { connectTimeoutMs?: number; statementTimeoutMs?: number } = {}): pg.ClientConfig {
  const { caFile: _caFile, ...tls } = p.ssl || {};
  // Connected by address or through another name, TLS still checks (and sends SNI for) the instance's name.
  const tlsName = p.tlsName ?? (p.hostAddress ? p.host : undefined);
  const ssl = tlsName && p.ssl ? { ...tls, servername: tlsName } : tls;
  return {
    host: p.hostAddress ?? p.host,
    port: p.port,
    user: p.user,
    password: p.password,
    database: p.database,
    ssl: p.ssl ? ssl : false,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    // A worker that dies mid-transaction is noticed by the server within minutes, not the OS's two hours.
    keepAlive: true,
    keepAliveInitialDelayMillis: 30_000,
    statement_timeout: opts.statementTimeoutMs ?? STATEMENT_TIMEOUT_MS,
    application_name: APPLICATION_NAME,
  };
}

/** SQLSTATEs that no retry fixes: the login or the database name is wrong. */
const LOGIN_REFUSED = new Set(['28P01', '28000']);
/** SQLSTATEs of a server that cannot take the connection now: starting, shutting down, recovering, full. */
const NOT_NOW = new Set(['57P01', '57P02', '57P03', '53300', '53000', '08006', '08001', '08004']);
/** Node's TLS verification codes: the certificate cannot be checked with the CA bundle the worker has. */
const CERTIFICATE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/;

/** Turns a failure to connect into what the module comment says (exported for the other database activities). */
export function connectFailure(err: unknown, d: Described): ApplicationFailure {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const said = redact(typeof e?.message === 'string' ? e.message : String(err), d.params.password);
  const { database, user, host, port } = d.params;
  const what = `user '${user}' to database '${database}' on ${describeInstanceOf(d.target)} at ${host}:${port} (password from ${d.source})`;
  if (code && LOGIN_REFUSED.has(code)) {
    // The source's secret read for a restored instance: rotated since the restore time, it no longer matches.
    const rotated = d.target.masterSecretOf && d.source.includes(`of ${d.target.masterSecretOf} (`)
      ? ` The password is ${d.target.masterSecretOf}'s as of now, and ${d.target.instanceId} has it as of its restore time: if the secret was rotated since, turn on ManageMasterUserPassword for ${d.target.instanceId} ` +
        `(\`aws rds modify-db-instance --db-instance-identifier ${d.target.instanceId} --manage-master-user-password --apply-immediately\`) and the retry reads its own secret.`
      : '';
    return ApplicationFailure.nonRetryable(
      `Connecting ${what} was refused (SQLSTATE ${code}: ${said}). Check the user and the password at its source` +
        `${d.target.access.credentials.kind === 'iam' ? ' (the user needs GRANT rds_iam, and the workers rds-db:connect)' : ''}, or the server's pg_hba rules.${rotated}`,
      FailureTypes.DatabaseAccess,
    );
  }
  if (code === '3D000') {
    return ApplicationFailure.nonRetryable(`Connecting ${what}: database '${database}' does not exist (SQLSTATE 3D000: ${said}). Check access.database.`, FailureTypes.DatabaseAccess);
  }
  if (code === '42501') {
    return ApplicationFailure.nonRetryable(`Connecting ${what}: permission denied (SQLSTATE 42501: ${said}). GRANT CONNECT on the database to the user.`, FailureTypes.DatabaseAccess);
  }
  if (/does not support SSL/i.test(said)) {
    return ApplicationFailure.nonRetryable(`Connecting ${what}: the server does not accept TLS (${said}); set access.tls to disable for this database, or turn on ssl on the server.`, FailureTypes.InvalidConfig);
  }
  if (code && CERTIFICATE.test(code)) {
    return ApplicationFailure.nonRetryable(
      `Connecting ${what}: its TLS certificate cannot be verified (${code}: ${said}). Point RDS_CA_BUNDLE at the RDS CA bundle (https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem), ` +
        'connect by the instance endpoint (a CNAME is not in the certificate), or use tls: require.',
      FailureTypes.InvalidConfig,
    );
  }
  const retryable = code === undefined || NOT_NOW.has(code) || /^E[A-Z]+$/.test(code) || /timeout|terminated|closed/i.test(said);
  return ApplicationFailure.create({
    message: `Could not connect ${what}: ${code ? `${code}: ` : ''}${said}`,
    type: retryable ? FailureTypes.DatabaseUnavailable : FailureTypes.DatabaseAccess,
    nonRetryable: !retryable,
  });
}

/** Opens a pg.Client for already resolved params; a failure is translated as connectFailure says. */
export async function openClient(
  d: Described,
  opts: { connectTimeoutMs?: number; statementTimeoutMs?: number; onError?: (err: Error) => void } = {},
): Promise<pg.Client> {
  const client = new pg.Client(clientConfig(d.params, opts));
  // A connection the server ends later (a restart) emits 'error'; unheard, it would crash the worker.
  client.on('error', opts.onError ?? (() => undefined));
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw connectFailure(err, d);
  }
  return client;
}

/** Resolves the connection (endpoint, login, TLS) and what to say about it in messages. */
export const describeConnection = resolve;
export type { Described as DescribedConnection };

/** A connected pg.Client (connect timeout, statement timeout, application_name 'rds-orchestrator'). */
export async function connectDatabase(deps: DatabaseDeps, target: DatabaseTarget, override?: { host?: string; port?: number }): Promise<pg.Client> {
  return openClient(await resolve(deps, target, override));
}

/** The env for pg_dump/psql: PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE (+ PGSSLROOTCERT). */
export function libpqEnv(p: ConnectionParams): NodeJS.ProcessEnv {
  const sslmode = !p.ssl ? 'disable' : p.ssl.rejectUnauthorized ? 'verify-full' : 'require';
  return {
    // libpq dials hostaddr and checks the certificate against host.
    PGHOST: p.hostAddress && p.tlsName ? p.tlsName : p.host,
    ...(p.hostAddress ? { PGHOSTADDR: p.hostAddress } : {}),
    PGPORT: String(p.port),
    PGUSER: p.user,
    PGPASSWORD: p.password,
    PGDATABASE: p.database,
    PGSSLMODE: sslmode,
    PGAPPNAME: APPLICATION_NAME,
    PGCONNECT_TIMEOUT: String(Math.ceil(CONNECT_TIMEOUT_MS / 1000)),
    ...(p.ssl && p.ssl.caFile ? { PGSSLROOTCERT: p.ssl.caFile } : {}),
  };
}
