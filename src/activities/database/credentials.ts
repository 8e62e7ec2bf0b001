/**
 * Where a database password comes from when a worker connects (src/api/database.ts DatabaseCredentials): the
 * instance's RDS-managed master secret, another Secrets Manager secret, an environment variable of the workers,
 * or an IAM database authentication token. The password is read here, at the moment of connecting, and returned
 * only to the code that opens the connection: no message, log line or result carries it (every message names
 * the instance, the database, the user and where the password comes from instead).
 */
import { DescribeDBInstancesCommand, type DBInstance, type RDSClient } from '@aws-sdk/client-rds';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Signer } from '@aws-sdk/rds-signer';
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes, type AwsWhere } from '../../api/activities';
import type { DatabaseCredentials, DatabaseTarget } from '../../api/database';
import { awsErrorName, toActivityError } from '../aws-errors';
import { describeIdentity, locationOf, regionOf } from '../location';

export interface CredentialsDeps {
  rdsClientFor: (where: AwsWhere) => RDSClient;
  secretsClientFor: (where: AwsWhere) => SecretsManagerClient;
  /** Signs IAM database authentication tokens; default @aws-sdk/rds-signer with the credentials of `where`. */
  iamToken?: (where: AwsWhere, host: string, port: number, username: string) => Promise<string>;
  env?: NodeJS.ProcessEnv;
}

/** What connecting needs to know of the instance (DescribeDBInstances). */
export interface InstanceEndpoint {
  host: string;
  port: number;
  masterUsername?: string;
  masterSecretArn?: string;
  iamAuthentication: boolean;
}

/** A login: the user, its password (or IAM token), and where the password came from, for messages. */
export interface Login {
  user: string;
  password: string;
  /** e.g. "the RDS-managed master secret arn:…", "environment variable NOTIFY_DB_PASSWORD of the workers". */
  source: string;
}

/** "instance 'notify-db' in eu-west-2 (as role …)", for messages. */
export function describeInstanceOf(target: DatabaseTarget): string {
  return `instance '${target.instanceId}' in ${regionOf(target.where)}${describeIdentity(target.where)}`;
}

/** Where the password comes from, in words (known before reading it). */
export function describeSource(credentials: DatabaseCredentials, masterSecretArn?: string): string {
  switch (credentials.kind) {
    case 'master-secret':
      return `the instance's RDS-managed master secret${masterSecretArn ? ` ${masterSecretArn}` : ''}`;
    case 'secret':
      return `Secrets Manager secret ${credentials.secretArn}`;
    case 'env':
      return `environment variable ${credentials.variable} of the workers`;
    case 'iam':
      return 'an IAM database authentication token';
  }
}

const accessFailure = (message: string): ApplicationFailure => ApplicationFailure.nonRetryable(message, FailureTypes.DatabaseAccess);

/** The instance's endpoint and what its credentials need; NotReady while it has no endpoint yet (being created). */
export async function readInstanceEndpoint(rdsClientFor: CredentialsDeps['rdsClientFor'], target: DatabaseTarget): Promise<InstanceEndpoint> {
  const { where, instanceId } = target;
  let db: DBInstance | undefined;
  try {
    db = (await rdsClientFor(where).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceId }))).DBInstances?.[0];
  } catch (err) {
    throw toActivityError(err, { operation: "DescribeDBInstances (the database's endpoint)", where, instanceId });
  }
  if (!db) throw ApplicationFailure.nonRetryable(`RDS instance '${instanceId}' not found in ${regionOf(where)}${describeIdentity(where)}`, FailureTypes.InstanceNotFound);
  const host = db.Endpoint?.Address;
  const port = db.Endpoint?.Port;
  if (!host || !port) {
    throw ApplicationFailure.retryable(`${describeInstanceOf(target)} has no endpoint yet (status ${db.DBInstanceStatus ?? 'unknown'}); its database cannot be reached before it has one`, FailureTypes.NotReady);
  }
  return {
    host,
    port,
    masterUsername: db.MasterUsername,
    masterSecretArn: db.MasterUserSecret?.SecretArn,
    iamAuthentication: db.IAMDatabaseAuthenticationEnabled === true,
  };
}

/** The region of a Secrets Manager ARN (a secret is read in its own region, with the identity of `where`). */
function secretRegion(arn: string): string | undefined {
  return /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):/.exec(arn)?.[1];
}

/** GetSecretValue: `{"username","password"}` JSON or a plain-string password. Never puts the value in a message. */
async function readSecret(deps: CredentialsDeps, target: DatabaseTarget, secretArn: string, what: string): Promise<{ username?: string; password: string }> {
  const loc = locationOf(target.where);
  const where: AwsWhere = { ...loc, region: secretRegion(secretArn) ?? loc.region };
  const context = `the password of database '${target.access.database}' on ${describeInstanceOf(target)}`;
  let out;
  try {
    out = await deps.secretsClientFor(where).send(new GetSecretValueCommand({ SecretId: secretArn }));
  } catch (err) {
    const name = awsErrorName(err);
    if (name === 'ResourceNotFoundException') {
      throw accessFailure(`${what} does not exist${describeIdentity(target.where)} (or is scheduled for deletion), so ${context} cannot be read. Name an existing secret, or another source of the password.`);
    }
    if (name === 'DecryptionFailure') {
      throw accessFailure(`${what} cannot be decrypted${describeIdentity(target.where)}: allow kms:Decrypt on the secret's KMS key to the workers' identity, so ${context} can be read.`);
    }
    if (name === 'InvalidRequestException' || name === 'InvalidParameterException') {
      throw accessFailure(`${what} cannot be read (${name}, e.g. it is marked for deletion), so ${context} cannot be read. Restore the secret or name another one.`);
    }
    throw toActivityError(err, { operation: `secretsmanager:GetSecretValue of ${what} (${context})`, where });
  }
  const text = out.SecretString;
  if (text === undefined || text === '') {
    throw accessFailure(`${what} holds no SecretString (a binary secret, or empty), so ${context} cannot be read from it. Store the password as a string or as JSON {"username","password"}.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: the whole string is the password. (The parser's message would quote the value: never shown.)
    return { password: text };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { password: text };
  const o = parsed as Record<string, unknown>;
  if (typeof o.password !== 'string' || o.password === '') {
    throw accessFailure(`${what} is a JSON object without a string "password" member (it has: ${Object.keys(o).join(', ') || 'nothing'}), so ${context} cannot be read from it.`);
  }
  return { password: o.password, ...(typeof o.username === 'string' && o.username ? { username: o.username } : {}) };
}

/** The default IAM token signer: @aws-sdk/rds-signer with the credentials of the RDS client of `where` (its role, refreshed). */
export function defaultIamToken(rdsClientFor: CredentialsDeps['rdsClientFor']): NonNullable<CredentialsDeps['iamToken']> {
  return (where, host, port, username) =>
    new Signer({ hostname: host, port, username, region: regionOf(where), credentials: rdsClientFor(where).config.credentials }).getAuthToken();
}

function requireUsername(target: DatabaseTarget, source: string): string {
  const user = target.access.username;
  if (!user) {
    throw ApplicationFailure.nonRetryable(
      `database '${target.access.database}' on ${describeInstanceOf(target)}: access.username is required when the password comes from ${source}`,
      FailureTypes.InvalidInput,
    );
  }
  return user;
}

/** Reads the login for `target` from its named source (see the module comment). */
export async function resolveLogin(deps: CredentialsDeps, target: DatabaseTarget, instance: InstanceEndpoint): Promise<Login> {
  const { access } = target;
  const creds = access.credentials;
  const source = describeSource(creds, instance.masterSecretArn);
  switch (creds.kind) {
    case 'master-secret': {
      if (!instance.masterSecretArn && target.masterSecretOf) {
        // A restored instance without a secret of its own: its source's, whose password it has as of the restore time.
        const of = await readInstanceEndpoint(deps.rdsClientFor, { ...target, instanceId: target.masterSecretOf });
        if (of.masterSecretArn) {
          const fallback = `the RDS-managed master user secret of ${target.masterSecretOf} (${of.masterSecretArn}; ${target.instanceId}, restored from it, has none of its own)`;
          const s = await readSecret(deps, target, of.masterSecretArn, fallback);
          const user = access.username ?? s.username ?? instance.masterUsername;
          if (!user) throw accessFailure(`${fallback} has no username and the access names none for database '${access.database}' on ${describeInstanceOf(target)}: set access.username.`);
          return { user, password: s.password, source: fallback };
        }
      }
      if (!instance.masterSecretArn) {
        throw accessFailure(
          `${describeInstanceOf(target)} has no RDS-managed master user secret (DescribeDBInstances shows no MasterUserSecret), so the password of database '${access.database}' cannot be read from it. ` +
            'Turn on ManageMasterUserPassword for the instance (ModifyDBInstance, or manage_master_user_password in Terraform), or name another source of the password (a secret ARN, an environment variable of the workers, or iam).',
        );
      }
      const s = await readSecret(deps, target, instance.masterSecretArn, source);
      const user = access.username ?? s.username ?? instance.masterUsername;
      if (!user) throw accessFailure(`${source} has no username and the access names none for database '${access.database}' on ${describeInstanceOf(target)}: set access.username.`);
      return { user, password: s.password, source };
    }
    case 'secret': {
      const s = await readSecret(deps, target, creds.secretArn, source);
      const user = access.username ?? s.username;
      if (!user) throw accessFailure(`${source} is a plain password with no username, and the access names none for database '${access.database}' on ${describeInstanceOf(target)}: set access.username.`);
      return { user, password: s.password, source };
    }
    case 'env': {
      const user = requireUsername(target, source);
      const password = (deps.env ?? process.env)[creds.variable];
      if (password === undefined || password === '') {
        throw accessFailure(
          `${source} is ${password === undefined ? 'not set' : 'empty'}, so user '${user}' cannot log in to database '${access.database}' on ${describeInstanceOf(target)}. ` +
            `Set ${creds.variable} on every worker (and restart them), or name another source of the password.`,
        );
      }
      return { user, password, source };
    }
    case 'iam': {
      const user = requireUsername(target, source);
      if (!instance.iamAuthentication) {
        throw accessFailure(
          `${describeInstanceOf(target)} does not enable IAM database authentication (IAMDatabaseAuthenticationEnabled is false), so user '${user}' cannot log in to database '${access.database}' with ${source}. ` +
            'Turn on EnableIAMDatabaseAuthentication for the instance (and GRANT rds_iam TO the user), or name another source of the password.',
        );
      }
      const sign = deps.iamToken ?? defaultIamToken(deps.rdsClientFor);
      let token: string;
      try {
        // Signed for the instance's own endpoint: RDS checks the token against it, whatever name was dialled.
        token = await sign(target.where, instance.host, instance.port, user);
      } catch (err) {
        throw toActivityError(err, { operation: `signing ${source} for user '${user}' of ${describeInstanceOf(target)}`, where: target.where });
      }
      return { user, password: token, source };
    }
  }
}
