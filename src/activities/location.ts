/** Reading an AWS location: a plain region (runs started before accounts existed) or a region and identity. */
import type { AwsLocation, AwsWhere } from '../api/activities';
import { accountOfRole } from '../domain/aws-identity';

export { accountOfRole };

export function locationOf(where: AwsWhere): AwsLocation {
  return typeof where === 'string' ? { region: where } : where;
}

export function regionOf(where: AwsWhere): string {
  return typeof where === 'string' ? where : where.region;
}


/** " as role arn:aws:iam::222222222222:role/x (account 222222222222)", for messages; empty for the worker's own identity. */
export function describeIdentity(where: AwsWhere | undefined): string {
  if (where === undefined) return '';
  const loc = locationOf(where);
  if (loc.roleArn) return ` as role ${loc.roleArn} (account ${accountOfRole(loc.roleArn) ?? '?'})`;
  if (loc.profile) return ` as profile ${loc.profile}`;
  return '';
}
