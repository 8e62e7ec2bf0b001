/**
 * Accounts and who a request is: IAM roles with trust policies, base identities (long-term access keys),
 * and the temporary credentials STS AssumeRole issues. Documents followed:
 * - https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html (RoleSessionName, DurationSeconds
 *   "from 900 seconds (15 minutes) up to the maximum session duration setting for the role", role chaining
 *   "limits your … session to a maximum of one hour", the assumed-role ARN and AssumedRoleId)
 * - https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html (Account, Arn, UserId)
 * - https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-user.html and
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html (a trust
 *   policy names accounts or principals; an account principal trusts every principal of that account)
 * - https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios_third-party.html (the
 *   `sts:ExternalId` condition: a request without the matching ExternalId is refused)
 * - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html (unique id prefixes: AIDA a
 *   user, AROA a role, AKIA a long-term access key, ASIA a temporary one) and
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_use-resources.html (temporary
 *   credentials are used with their session token)
 * Errors use generic codes here (InvalidClientTokenId, ExpiredToken); the server renders them the way each
 * service answers (sim/src/core/identity.ts and each service's protocol).
 */
import { createHash, randomBytes } from 'node:crypto';
import { ACCOUNT_RE, accountOfAccessKey } from '../core/aws';
import type { ServiceContext } from '../core/context';
import { SimError } from '../core/errors';
import type { Caller, IdentityProvider } from '../core/identity';
import { CredentialsError } from '../core/identity';
import { randomString } from '../core/ids';
import type { BaseIdentity, IamRole, RoleTrust, StsSession, StsState } from './state';

/** An IAM role ARN (with an optional path); the name is the last segment. */
export const ROLE_ARN_RE = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
/** IAM's MaxSessionDuration bounds (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html). */
export const MAX_SESSION_BOUNDS = [3600, 43200] as const;
const KEEP_SESSIONS = 2000;

const hashId = (prefix: string, seed: string): string => {
  const digest = createHash('sha256').update(seed).digest();
  let out = prefix;
  for (let i = 0; out.length < 21; i++) out += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[(digest[i] as number) % 32];
  return out;
};

/** The identity of a request whose key nobody seeded: an IAM user of the key's account (not root, which may not assume roles). */
export function defaultCaller(accessKeyId: string | undefined): Caller {
  const account = accountOfAccessKey(accessKeyId);
  return { account, arn: `arn:aws:iam::${account}:user/simulator`, userId: hashId('AIDA', account), accessKeyId };
}

/** The UserId GetCallerIdentity reports for a principal ARN (IAM user: AIDA…, root: the account id). */
export function userIdFor(arn: string, account: string): string {
  return /:root$/.test(arn) ? account : hashId(/:role\//.test(arn) ? 'AROA' : 'AIDA', arn);
}

// The session token carries its key and expiry, so a key pruned from the state (or from before a restart of
// an in-memory simulator) still answers ExpiredToken once it is past its expiry, as AWS's tokens do.
const encodeToken = (accessKeyId: string, expiresAt: number): string =>
  `SIMSTS${Buffer.from(`${accessKeyId}:${expiresAt}`).toString('base64url')}.${randomBytes(96).toString('base64')}`;

function decodeToken(token: string): { accessKeyId: string; expiresAt: number } | undefined {
  const m = /^SIMSTS([\w-]+)\./.exec(token);
  const parts = m ? Buffer.from(m[1] as string, 'base64url').toString('utf8').split(':') : [];
  return parts.length === 2 && /^\d+$/.test(parts[1] as string) ? { accessKeyId: parts[0] as string, expiresAt: Number(parts[1]) } : undefined;
}

export interface AssumeRoleInput {
  roleArn: string;
  sessionName: string;
  durationSeconds?: number;
  externalId?: string;
}

export class StsModel implements IdentityProvider {
  constructor(private readonly ctx: ServiceContext<StsState>) {}

  private get roles(): Record<string, IamRole> {
    return this.ctx.state.roles;
  }

  private get identities(): Record<string, BaseIdentity> {
    return this.ctx.state.identities;
  }

  private get sessions(): Record<string, StsSession> {
    return this.ctx.state.stsSessions;
  }

  role(arn: string): IamRole | undefined {
    return this.roles[arn];
  }

  /** Creates or replaces a role (a re-seed keeps its unique id, like UpdateAssumeRolePolicy). */
  putRole(input: { account: string; name: string; trust?: RoleTrust; maxSessionSeconds?: number }): IamRole {
    const { account, name } = input;
    if (!ACCOUNT_RE.test(account)) throw new Error(`seed: roles[${name}].account must be 12 digits, got ${JSON.stringify(account)}`);
    const arn = `arn:aws:iam::${account}:role/${name}`;
    if (!ROLE_ARN_RE.test(arn)) throw new Error(`seed: roles[${name}]: ${arn} is not a valid role ARN (names are [\\w+=,.@-]{1,64})`);
    const max = input.maxSessionSeconds ?? 3600;
    if (!Number.isInteger(max) || max < MAX_SESSION_BOUNDS[0] || max > MAX_SESSION_BOUNDS[1]) {
      throw new Error(`seed: roles[${name}].maxSessionSeconds must be an integer from 3600 to 43200 (IAM MaxSessionDuration), got ${max}`);
    }
    const trust = input.trust ?? { accounts: [account] };
    for (const a of trust.accounts ?? []) if (!ACCOUNT_RE.test(a)) throw new Error(`seed: roles[${name}].trust.accounts: ${JSON.stringify(a)} is not a 12-digit account id`);
    for (const p of trust.principals ?? []) if (!/^arn:aws[a-z-]*:(iam|sts)::\d{12}:/.test(p)) throw new Error(`seed: roles[${name}].trust.principals: ${JSON.stringify(p)} is not an IAM or STS principal ARN`);
    const role: IamRole = { account, name, arn, roleId: this.roles[arn]?.roleId ?? `AROA${randomString(17)}`, trust: structuredClone(trust), maxSessionSeconds: max };
    this.roles[arn] = role;
    this.ctx.markDirty();
    return role;
  }

  putIdentity(input: { accessKeyId: string; account: string; arn?: string; userId?: string }): BaseIdentity {
    const { accessKeyId, account } = input;
    if (!/^\w{16,128}$/.test(accessKeyId) || accessKeyId.startsWith('ASIA')) {
      throw new Error(`seed: identities: access key id ${JSON.stringify(accessKeyId)} must be 16..128 word characters and not start with ASIA (the simulator issues those)`);
    }
    if (!ACCOUNT_RE.test(account)) throw new Error(`seed: identities[${accessKeyId}].account must be 12 digits, got ${JSON.stringify(account)}`);
    const arn = input.arn ?? `arn:aws:iam::${account}:user/simulator`;
    if (!new RegExp(`^arn:aws[a-z-]*:(iam|sts)::${account}:.+`).test(arn)) throw new Error(`seed: identities[${accessKeyId}].arn ${arn} must be an IAM or STS ARN of account ${account}`);
    const identity: BaseIdentity = { accessKeyId, account, arn, userId: input.userId ?? userIdFor(arn, account) };
    this.identities[accessKeyId] = identity;
    this.ctx.markDirty();
    return identity;
  }

  /**
   * Who a request is, from its access key id and session token. Seeded keys are their identity; keys AssumeRole
   * issued are their role's session (refused once expired, or with another token); any other ASIA… key is
   * unknown; anything else is an IAM user of the default account, or of the key's account when the key is 12
   * digits (as moto does).
   */
  resolve(accessKeyId: string | undefined, sessionToken: string | undefined): Caller {
    if (accessKeyId === undefined) return defaultCaller(undefined);
    const identity = this.identities[accessKeyId];
    if (identity) return { account: identity.account, arn: identity.arn, userId: identity.userId, accessKeyId };
    const session = this.sessions[accessKeyId];
    if (session) {
      const caller: Caller = { account: session.account, arn: session.arn, userId: session.assumedRoleId, accessKeyId, session };
      if (sessionToken !== session.sessionToken) throw new CredentialsError('InvalidClientTokenId');
      if (this.ctx.now() >= session.expiresAt) throw new CredentialsError('ExpiredToken', caller);
      return caller;
    }
    if (accessKeyId.startsWith('ASIA')) {
      const token = sessionToken === undefined ? undefined : decodeToken(sessionToken);
      throw new CredentialsError(token?.accessKeyId === accessKeyId && token.expiresAt <= this.ctx.now() ? 'ExpiredToken' : 'InvalidClientTokenId');
    }
    return defaultCaller(accessKeyId);
  }

  /** Whether the role's trust policy lets `caller` assume it (ExternalId aside). */
  trusts(role: IamRole, caller: Caller): boolean {
    const { accounts = [], principals = [] } = role.trust;
    if (accounts.includes(caller.account)) return true;
    const names = [caller.arn, ...(caller.session ? [caller.session.roleArn] : [])];
    return principals.some((p) => names.includes(p) || p === `arn:aws:iam::${caller.account}:root`);
  }

  /** AssumeRole once its parameters are valid: refusals are AccessDenied or ValidationError, as STS answers. */
  assumeRole(caller: Caller, input: AssumeRoleInput): StsSession {
    const denied = (): SimError => new SimError('AccessDenied', `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${input.roleArn}`, 403);
    if (/^arn:aws[a-z-]*:iam::\d{12}:root$/.test(caller.arn)) throw new SimError('AccessDenied', 'Roles may not be assumed by root accounts.', 403);
    const role = this.roles[input.roleArn];
    if (!role || !this.trusts(role, caller)) throw denied();
    if (role.trust.externalId !== undefined && input.externalId !== role.trust.externalId) throw denied();
    const duration = input.durationSeconds ?? 3600;
    if (caller.session && duration > 3600) throw new SimError('ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.', 400);
    if (duration > role.maxSessionSeconds) throw new SimError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.', 400);
    // AWS states Expiration to the second.
    const issuedAt = Math.floor(this.ctx.now() / 1000) * 1000;
    const expiresAt = issuedAt + duration * 1000;
    const accessKeyId = `ASIA${randomString(16)}`;
    const session: StsSession = {
      accessKeyId,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: encodeToken(accessKeyId, expiresAt),
      account: role.account,
      roleArn: role.arn,
      sessionName: input.sessionName,
      arn: `arn:aws:sts::${role.account}:assumed-role/${role.name}/${input.sessionName}`,
      assumedRoleId: `${role.roleId}:${input.sessionName}`,
      sourceArn: caller.arn,
      chained: caller.session !== undefined,
      issuedAt,
      expiresAt,
    };
    this.prune();
    this.sessions[accessKeyId] = session;
    this.ctx.markDirty();
    return session;
  }

  /** Keeps the state bounded: past KEEP_SESSIONS, the sessions that expired first go (their tokens still say ExpiredToken). */
  private prune(): void {
    const all = Object.values(this.sessions);
    if (all.length < KEEP_SESSIONS) return;
    const now = this.ctx.now();
    for (const s of all.filter((x) => x.expiresAt <= now).sort((a, b) => a.expiresAt - b.expiresAt).slice(0, all.length - KEEP_SESSIONS + 1)) {
      delete this.sessions[s.accessKeyId];
    }
  }
}
