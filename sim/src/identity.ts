/**
 * Who a request is and where it is served: region and service from the SigV4 credential scope
 * (`Authorization: AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request`), the caller from the
 * access key id and `X-Amz-Security-Token` (sim/src/sts-model.ts), the account from the caller. Signatures
 * are not checked.
 *
 * Refused credentials are answered the way each service does:
 * - an unknown key: `InvalidClientTokenId` 403 "The security token included in the request is invalid."
 *   (RDS, STS, Route 53; https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/CommonErrors.html), and on
 *   EC2 `AuthFailure` 401 "AWS was not able to validate the provided access credentials"
 *   (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html);
 * - an expired session: `ExpiredToken` 403 "The security token included in the request is expired" (RDS,
 *   STS, Route 53: the wire code AWS sends, which the common-errors pages call ExpiredTokenException), and on
 *   EC2 `RequestExpired` 400 ("If you're using temporary security credentials, this error can also occur if
 *   the credentials have expired", errors-overview);
 * - CloudTrail (JSON protocol): `InvalidClientTokenId` 403 and `ExpiredTokenException` 403, the names of its common
 *   errors (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/CommonErrors.html), in a JSON body.
 */
import type http from 'node:http';
import type { SimEngine } from './engine';
import { SimError } from './errors';
import { DEFAULT_ACCOUNT, DEFAULT_REGION } from './model';
import type { Caller } from './sts-model';
import { CredentialsError, defaultCaller } from './sts-model';

export interface Scope {
  /** The account of the access key alone (12 digits: that account, else the default), before seeded identities. */
  account: string;
  region: string;
  service?: string;
  accessKeyId?: string;
}

/** Region, service and access key id from the Authorization header's credential scope. */
export function credentialScope(authorization: string | undefined): Scope {
  const m = /Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization ?? '');
  if (!m) return { account: DEFAULT_ACCOUNT, region: DEFAULT_REGION };
  const accessKeyId = m[1] as string;
  return { account: defaultCaller(accessKeyId).account, region: m[3] as string, service: m[4] as string, accessKeyId };
}

export type AwsService = 'rds' | 'ec2' | 'route53' | 'sts' | 'cloudtrail';

export interface RequestIdentity {
  /** Set when the credentials are accepted. */
  caller?: Caller;
  /** Set when they are refused: the error to answer, already in the service's own code. */
  refusal?: SimError;
  /** For the call log: the caller when known (an expired session is known), else '-'. */
  account: string;
  principal?: string;
}

/** The caller of a request, or the refusal its service answers. */
export function requestIdentity(engine: SimEngine, service: AwsService, scope: Scope, req: http.IncomingMessage, url: URL): RequestIdentity {
  const header = req.headers['x-amz-security-token'];
  const token = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('X-Amz-Security-Token') ?? undefined;
  try {
    const caller = engine.sts.resolve(scope.accessKeyId, token);
    return { caller, account: caller.account, principal: caller.arn };
  } catch (err) {
    if (!(err instanceof CredentialsError)) throw err;
    const refusal =
      service === 'cloudtrail' && err.code === 'ExpiredToken'
        ? new SimError('ExpiredTokenException', err.message, 403)
        : service !== 'ec2'
          ? err
          : err.code === 'ExpiredToken'
            ? new SimError('RequestExpired', 'Request has expired.', 400)
            : new SimError('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);
    return { refusal, account: err.caller?.account ?? '-', principal: err.caller?.arn };
  }
}
