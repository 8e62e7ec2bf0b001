/**
 * What a simulated AWS service registers to answer its API (sim/src/core/aws-http.ts runs every request
 * through the same steps: routing, who the caller is, faults, the service, the call log). A query-protocol
 * service (form-urlencoded `POST /` with `Action` and `Version`) names its API version; a REST service
 * recognises its paths; a JSON service its `X-Amz-Target`.
 */
import type { SimError } from './errors';
import type { Caller, CredentialsError } from './identity';
import type { Params } from './query';

/** A request recognised by a REST service: the operation, what the call log keeps of it, and the service's own routing. */
export interface RoutedRequest<R = unknown> {
  action: string;
  params: Record<string, string>;
  route: R;
}

/** One call, once its caller is known. */
export interface AwsCall<R = unknown> {
  action: string;
  /** The account served: the caller's. */
  account: string;
  region: string;
  caller: Caller;
  /** Query protocol: the form. */
  form: Params;
  body: string;
  method: string;
  url: URL;
  /** REST protocol: what routePath recognised. */
  route?: R;
}

export interface AwsReply {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

export interface AwsProtocol<R = unknown> {
  /** The service's name in the SigV4 credential scope and the call log. */
  readonly service: string;
  /** How the service is reached, for the answer to a request no service takes: "rds (2014-10-31)". */
  readonly reachedBy: string;
  readonly contentType: string;
  /** The actions that change something (the call log's isMutation; CloudTrail's ReadOnly). */
  readonly mutations: ReadonlySet<string>;
  /** Query protocol: the API version it answers. */
  readonly queryVersion?: string;
  /** REST protocol: the operation a method and path are, or undefined when they are not the service's. */
  routePath?(method: string, url: URL, body: string): RoutedRequest<R> | undefined;
  /** JSON protocol: the operation an `X-Amz-Target` names, or undefined when it is not the service's. */
  jsonTarget?(target: string | undefined): string | undefined;
  handle(call: AwsCall<R>): AwsReply;
  renderError(err: SimError): string;
  errorHeaders?(err: SimError): Record<string, string>;
  /** How the service answers refused credentials; default the generic refusal (InvalidClientTokenId, ExpiredToken). */
  refusal?(err: CredentialsError): SimError;
  /** What an injected throttling fault answers; default `Throttling` 400 "Rate exceeded". */
  throttled?(): SimError;
  /** The code of an injected server error; default `InternalFailure`. */
  readonly internalErrorCode?: string;
  /** Admission after authentication and before faults (RDS's token bucket): the error to answer, or undefined. */
  admit?(account: string, region: string): SimError | undefined;
}

/** A query-protocol answer: 200 and the body. */
export const ok = (body: string): AwsReply => ({ status: 200, body });
