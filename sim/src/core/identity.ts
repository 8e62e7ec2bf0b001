/**
 * Who a request is and where it is served: region and service from the SigV4 credential scope
 * (`Authorization: AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request`), the caller from the
 * access key id and `X-Amz-Security-Token` (resolved by the identity provider, STS: sim/src/sts/model.ts), the
 * account from the caller. Signatures are not checked.
 *
 * Refused credentials are `InvalidClientTokenId` 403 "The security token included in the request is invalid."
 * and, for an expired session, `ExpiredToken` 403 "The security token included in the request is expired" (RDS,
 * STS, Route 53; https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/CommonErrors.html; the wire code AWS
 * sends, which the common-errors pages call ExpiredTokenException). A service that answers them otherwise says
 * so in its protocol (AwsProtocol.refusal: EC2, CloudTrail).
 */
import type http from 'node:http';
import { DEFAULT_REGION, accountOfAccessKey } from './aws';
import { SimError } from './errors';

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
  if (!m) return { account: accountOfAccessKey(undefined), region: DEFAULT_REGION };
  const accessKeyId = m[1] as string;
  return { account: accountOfAccessKey(accessKeyId), region: m[3] as string, service: m[4] as string, accessKeyId };
}

/** The temporary credentials a caller signed with, as far as the call log and CloudTrail tell them. */
export interface SessionInfo {
  roleArn: string;
  sessionName: string;
  assumedRoleId: string;
  issuedAt: number;
}

/** Who made a request. */
export interface Caller {
  account: string;
  arn: string;
  userId: string;
  accessKeyId?: string;
  session?: SessionInfo;
}

/** A request whose credentials were refused; `caller` is known when the credentials were ours but expired. */
export class CredentialsError extends SimError {
  constructor(
    code: 'InvalidClientTokenId' | 'ExpiredToken',
    readonly caller?: Caller,
  ) {
    super(code, code === 'ExpiredToken' ? 'The security token included in the request is expired' : 'The security token included in the request is invalid.', 403);
  }
}

/** Who a request is, from its access key id and session token; throws CredentialsError when they are refused. */
export interface IdentityProvider {
  resolve(accessKeyId: string | undefined, sessionToken: string | undefined): Caller;
}

export interface RequestIdentity {
  /** Set when the credentials are accepted. */
  caller?: Caller;
  /** Set when they are refused: the error to answer, already in the service's own code. */
  refusal?: SimError;
  /** For the call log: the caller when known (an expired session is known), else '-'. */
  account: string;
  principal?: string;
}

/** The caller of a request, or the refusal its service answers (`refuse` turns the generic refusal into the service's). */
export function requestIdentity(provider: IdentityProvider, refuse: (err: CredentialsError) => SimError, scope: Scope, req: http.IncomingMessage, url: URL): RequestIdentity {
  const header = req.headers['x-amz-security-token'];
  const token = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('X-Amz-Security-Token') ?? undefined;
  try {
    const caller = provider.resolve(scope.accessKeyId, token);
    return { caller, account: caller.account, principal: caller.arn };
  } catch (err) {
    if (!(err instanceof CredentialsError)) throw err;
    return { refusal: refuse(err), account: err.caller?.account ?? '-', principal: err.caller?.arn };
  }
}
