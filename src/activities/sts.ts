/**
 * Which account and identity a location's credentials are: STS GetCallerIdentity, after assuming the
 * location's role. Preflight calls it for every stage, so a role that cannot be assumed (missing, a trust
 * policy that refuses, a wrong ExternalId) fails the run before any change anywhere, naming role and account.
 */
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import type { AwsWhere, CallerIdentity, StsActivities } from '../api/activities';
import type { IdentityQuery } from '../api/activities';
import { callAws } from './aws-errors';

export interface StsActivitiesDeps {
  stsClientFor: (where: AwsWhere) => STSClient;
}

export function createStsActivities(deps: StsActivitiesDeps): StsActivities {
  async function whoAmI({ where }: IdentityQuery): Promise<CallerIdentity> {
    const out = await callAws({ operation: 'AssumeRole and GetCallerIdentity', where }, () => deps.stsClientFor(where).send(new GetCallerIdentityCommand({})));
    return { account: out.Account ?? '', arn: out.Arn ?? '' };
  }
  return { whoAmI };
}
