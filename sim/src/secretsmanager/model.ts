/**
 * Secrets Manager's secrets, as the simulator needs them: created by a seed (or by RDS for an instance with
 * ManageMasterUserPassword), read by GetSecretValue and DescribeSecret. Documents followed:
 * - https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html ("SecretId: The ARN
 *   or name of the secret to retrieve"; ResourceNotFoundException "Secrets Manager can't find the resource
 *   that you asked for"; without VersionId or VersionStage, the AWSCURRENT version)
 * - https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html
 * - https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html#iam-resources and
 *   https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot.html#ARN_secretnamehyphen (the ARN
 *   ends with a hyphen and six random characters; a partial ARN, without them, also names the secret)
 * - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html (RDS-managed master user
 *   secrets: named `rds!db-<id>`, JSON `{"username","password"}`, tagged with the instance's ARN, owned by RDS)
 * One version per secret (AWSCURRENT); no rotation, resource policies, KMS or deletion.
 */
import { randomUUID } from 'node:crypto';
import type { Tag } from '../core/aws';
import { DEFAULT_ACCOUNT } from '../core/aws';
import type { ServiceContext } from '../core/context';
import { SimError } from '../core/errors';
import { randomString, regionalKey } from '../core/ids';
import type { Secret, SecretsManagerState } from './state';

const ARN_SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** "The secret name can contain ASCII letters, numbers, and the following characters: /_+=.@-" (CreateSecret), 1..512; and `!`, in the names RDS gives its secrets (`rds!db-…`). */
export const SECRET_NAME_RE = /^[A-Za-z0-9/_+=.@!-]{1,512}$/;
const SECRET_ARN_RE = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):(\d{12}):secret:(.+)$/;

export type SecretsContext = ServiceContext<SecretsManagerState>;

export interface NewSecret {
  name: string;
  secretString: string;
  account?: string;
  region: string;
  description?: string;
  tags?: Tag[];
  owningService?: string;
}

export const resourceNotFound = (): SimError => new SimError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.", 400);

/** Creates the secret, or gives an existing one of that name a new current value (keeping its ARN). */
export function putSecret(ctx: SecretsContext, s: NewSecret): Secret {
  if (!SECRET_NAME_RE.test(s.name)) throw new SimError('InvalidParameterException', `Invalid name ${JSON.stringify(s.name)}: 1 to 512 of the characters A-Z a-z 0-9 / _ + = . @ -.`, 400);
  const account = s.account ?? DEFAULT_ACCOUNT;
  const key = regionalKey(account, s.region, s.name);
  const now = ctx.now();
  const existing = ctx.state.secrets[key];
  const secret: Secret = {
    account,
    region: s.region,
    name: s.name,
    arn: existing?.arn ?? `arn:aws:secretsmanager:${s.region}:${account}:secret:${s.name}-${randomString(6, ARN_SUFFIX_ALPHABET)}`,
    ...(s.description !== undefined ? { description: s.description } : existing?.description !== undefined ? { description: existing.description } : {}),
    versionId: randomUUID(),
    secretString: s.secretString,
    tags: s.tags ?? existing?.tags ?? [],
    ...(s.owningService ?? existing?.owningService ? { owningService: s.owningService ?? existing?.owningService } : {}),
    createdAt: existing?.createdAt ?? now,
    lastChangedAt: now,
  };
  ctx.state.secrets[key] = secret;
  ctx.markDirty();
  return secret;
}

/**
 * The secret a SecretId names in the caller's account and Region: its full ARN, its partial ARN (without the
 * six random characters), or its name. ResourceNotFoundException otherwise (also for another account's or
 * Region's ARN: the simulator models no resource policies).
 */
export function findSecret(ctx: SecretsContext, account: string, region: string, secretId: string): Secret {
  const arn = SECRET_ARN_RE.exec(secretId);
  if (arn) {
    if (arn[1] !== region || arn[2] !== account) throw resourceNotFound();
    const rest = arn[3] as string;
    const found = Object.values(ctx.state.secrets).find((s) => s.account === account && s.region === region && (s.arn === secretId || s.name === rest));
    if (!found) throw resourceNotFound();
    return found;
  }
  const byName = ctx.state.secrets[regionalKey(account, region, secretId)];
  if (!byName) throw resourceNotFound();
  return byName;
}

/**
 * The master user secret RDS creates for an instance with ManageMasterUserPassword: `rds!db-<uuid>`, JSON
 * `{"username","password"}`, tagged with the instance's ARN and owned by RDS. Returns its ARN
 * (DescribeDBInstances' MasterUserSecret.SecretArn). Called by the RDS side of the simulator.
 */
export function createRdsManagedSecret(
  ctx: SecretsContext,
  m: { instanceId: string; username: string; password: string; account: string; region: string },
): string {
  const instanceArn = `arn:aws:rds:${m.region}:${m.account}:db:${m.instanceId}`;
  const existing = Object.values(ctx.state.secrets).find(
    (s) => s.account === m.account && s.region === m.region && s.owningService === 'rds' && s.tags.some((t) => t.Key === 'aws:rds:primaryDBInstanceArn' && t.Value === instanceArn),
  );
  const secret = putSecret(ctx, {
    name: existing?.name ?? `rds!db-${randomUUID()}`,
    secretString: JSON.stringify({ username: m.username, password: m.password }),
    account: m.account,
    region: m.region,
    description: `Secret associated with primary RDS DB instance: ${instanceArn}`,
    tags: [
      { Key: 'aws:rds:primaryDBInstanceArn', Value: instanceArn },
      { Key: 'aws:secretsmanager:owningService', Value: 'rds' },
    ],
    owningService: 'rds',
  });
  return secret.arn;
}

/** The model the service and the seed use (the functions above, bound to the service's context). */
export class SecretsManagerModel {
  constructor(readonly ctx: SecretsContext) {}
  put(s: NewSecret): Secret {
    return putSecret(this.ctx, s);
  }
  find(account: string, region: string, secretId: string): Secret {
    return findSecret(this.ctx, account, region, secretId);
  }
  createRdsManagedSecret(m: Parameters<typeof createRdsManagedSecret>[1]): string {
    return createRdsManagedSecret(this.ctx, m);
  }
}
