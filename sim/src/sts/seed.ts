/** What POST /_sim/seed creates in STS: IAM roles (who may assume them) and identities (long-term access keys). */
import type { SeedStep } from '../core/service';
import { seedStep } from '../core/service';
import type { StsModel } from './model';

/**
 * An IAM role that STS AssumeRole can issue credentials for (ARN `arn:aws:iam::<account>:role/<name>`).
 * `trust` is its trust policy: who may assume it. Absent: the role's own account, as the IAM console's
 * "This account" trusted entity.
 */
export interface SeedRole {
  account: string;
  name: string;
  trust?: {
    /** Account ids: every principal of these accounts may assume the role ("AWS": "arn:aws:iam::<id>:root"). */
    accounts?: string[];
    /** Principal ARNs: IAM users or roles (a role ARN admits that role's sessions: role chaining). */
    principals?: string[];
    /** AssumeRole must pass exactly this ExternalId (the `sts:ExternalId` condition). */
    externalId?: string;
  };
  /** MaxSessionDuration in seconds, 3600..43200 (default 3600). */
  maxSessionSeconds?: number;
}

/** A long-term access key: requests signed with it are this principal of this account. */
export interface SeedIdentity {
  /** 16..128 word characters, not ASIA… (the simulator issues those). */
  accessKeyId: string;
  account: string;
  /** Default `arn:aws:iam::<account>:user/simulator`. A `…:root` ARN may not assume roles, as in AWS. */
  arn?: string;
  /** GetCallerIdentity's UserId (default: AIDA… for a user, the account id for root). */
  userId?: string;
}

export interface StsSeedSpec {
  /** IAM roles, created or replaced (a replaced role keeps its unique id). */
  roles?: SeedRole[];
  /** Base identities (access keys), created or replaced. */
  identities?: SeedIdentity[];
}

export interface StsSeedResult {
  roles: Array<{ account: string; name: string; arn: string }>;
  identities: Array<{ accessKeyId: string; account: string; arn: string }>;
}

export function stsSeedSteps(sts: StsModel): SeedStep[] {
  return [
    seedStep<StsSeedSpec, StsSeedResult>('roles', (spec, result) => {
      for (const r of spec.roles ?? []) {
        const role = sts.putRole(r);
        result.roles.push({ account: role.account, name: role.name, arn: role.arn });
      }
    }),
    seedStep<StsSeedSpec, StsSeedResult>('identities', (spec, result) => {
      for (const i of spec.identities ?? []) {
        const identity = sts.putIdentity(i);
        result.identities.push({ accessKeyId: identity.accessKeyId, account: identity.account, arn: identity.arn });
      }
    }),
  ];
}
