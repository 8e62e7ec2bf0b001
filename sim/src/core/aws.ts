/**
 * What every simulated AWS service shares: the default account and Region, resource tags, and the account an
 * access key names before anyone says who it is.
 */

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

/** Tags given as a map (a seed's), as the list AWS keeps. */
export const tagList = (tags: Record<string, string> | undefined): Tag[] => Object.entries(tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
