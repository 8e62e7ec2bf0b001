/**
 * What every simulated AWS service shares: the default account and Region, resource tags, and the account an
 * access key names before anyone says who it is.
 */
import { createHash } from 'node:crypto';

export const DEFAULT_ACCOUNT = '123456789012';
export const DEFAULT_REGION = 'us-east-1';

/** An AWS account id. */
export const ACCOUNT_RE = /^\d{12}$/;

/** A resource tag, as RDS and EC2 keep them. */
export interface Tag {
  Key: string;
  Value: string;
}

/** The account of an access key alone: a 12-digit key is that account (as moto does), anything else the default. */
export const accountOfAccessKey = (accessKeyId: string | undefined): string => (accessKeyId !== undefined && ACCOUNT_RE.test(accessKeyId) ? accessKeyId : DEFAULT_ACCOUNT);

/** Tags with each key once, the last value given winning (adding a tag that exists replaces its value). */
export const dedupeTags = (tags: Tag[]): Tag[] => [...new Map(tags.map((t) => [t.Key, { Key: t.Key, Value: t.Value }])).values()];

/** Tags given as a map (a seed's), as the list AWS keeps. */
export const tagList = (tags: Record<string, string> | undefined): Tag[] => Object.entries(tags ?? {}).map(([Key, Value]) => ({ Key, Value }));

/**
 * The ARN of an AWS managed KMS key (`aws/<service>`, e.g. `aws/secretsmanager`) of an account and Region: AWS makes
 * one per account, Region and service, and APIs name it by its key ARN (`arn:aws:kms:<region>:<account>:key/<key id>`,
 * a UUID), not by its alias. The simulator has no KMS: the key id is derived from the three, so it is stable across
 * restarts and differs between accounts and Regions.
 */
export function awsManagedKmsKeyArn(account: string, region: string, alias: string): string {
  const h = createHash('sha256').update(`${account}/${region}/${alias}`).digest('hex');
  // A version-4-shaped UUID (8-4-4-4-12), as KMS key ids are.
  const id = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return `arn:aws:kms:${region}:${account}:key/${id}`;
}
