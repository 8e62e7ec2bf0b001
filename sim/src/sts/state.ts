/** What STS keeps in the simulator's state: IAM roles, seeded identities (long-term keys) and the sessions AssumeRole issued. */
import type { StatePart } from '../core/state';

export interface RoleTrust {
  /** Accounts whose principals may assume the role (a trust policy's `"AWS": "arn:aws:iam::<account>:root"`). */
  accounts?: string[];
  /** Principal ARNs (IAM users, roles: a role's sessions match its role ARN, or an assumed-role session ARN). */
  principals?: string[];
  /** When set, AssumeRole must pass this ExternalId (`"Condition": {"StringEquals": {"sts:ExternalId": …}}`). */
  externalId?: string;
}

export interface IamRole {
  account: string;
  name: string;
  arn: string;
  /** AROA…: the role's unique id, the first half of AssumedRoleId. */
  roleId: string;
  trust: RoleTrust;
  /** The role's MaxSessionDuration (3600..43200). */
  maxSessionSeconds: number;
}

/** A long-term access key and whom it belongs to. */
export interface BaseIdentity {
  accessKeyId: string;
  account: string;
  arn: string;
  userId: string;
}

/** Temporary credentials issued by AssumeRole. */
export interface StsSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  account: string;
  roleArn: string;
  sessionName: string;
  /** arn:aws:sts::<account>:assumed-role/<role>/<session> */
  arn: string;
  /** <roleId>:<session> */
  assumedRoleId: string;
  /** Who called AssumeRole. */
  sourceArn: string;
  /** Assumed with another role's session (role chaining). */
  chained: boolean;
  issuedAt: number;
  expiresAt: number;
}

export interface StsState {
  /** IAM roles by ARN (absent in state files written before accounts were modelled). */
  roles: Record<string, IamRole>;
  /** Seeded long-term access keys by access key id. */
  identities: Record<string, BaseIdentity>;
  /** Temporary credentials AssumeRole issued, by access key id. */
  stsSessions: Record<string, StsSession>;
}

export const STS_STATE: StatePart<StsState> = { empty: () => ({ roles: {}, identities: {}, stsSessions: {} }) };
