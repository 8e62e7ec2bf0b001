/**
 * One translation from AWS SDK v3 errors to Temporal failures, shared by every AWS activity.
 *
 * The split follows one question: can waiting fix it? A missing instance, a bad parameter or missing
 * permissions will fail the same way on every retry, so they become non-retryable ApplicationFailures
 * whose message says what to fix. Everything else (throttling, 5xx, a refused connection, a body that is
 * not an AWS response at all) becomes a retryable `AwsCallFailed` failure that says, in words a person
 * can act on, which call failed against which endpoint and how: the workflows show it in their status
 * while they retry, and report it when they give up.
 */
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { FailureTypes, type AwsCallProblem, type AwsWhere } from '../api/activities';
import { describeIdentity, regionOf } from './location';

/** What the failing call was about, so the message can name it. */
export interface AwsErrorContext {
  /** e.g. "ModifyDBInstance" or "upsert CNAME app.example.com" */
  operation: string;
  /** Where the call went: its region, and the role or profile it was made as. */
  where?: AwsWhere;
  /** For a global service (Route 53): only the identity. */
  as?: string;
  instanceId?: string;
}

const INSTANCE_NOT_FOUND = new Set(['DBInstanceNotFound', 'DBInstanceNotFoundFault']);
const INVALID_INPUT = new Set([
  'InvalidParameterCombination',
  'InvalidParameterValue',
  'InvalidParameterValueException',
  'MissingParameter',
  'ValidationError',
  'ValidationException',
  'InvalidVPCNetworkStateFault',
  'InvalidVPCNetworkState',
  // Route 53
  'InvalidInput',
  'InvalidChangeBatch',
  'NoSuchHostedZone',
  'NoSuchChange',
  // EC2
  'InvalidGroup.NotFound',
  'InvalidGroupId.Malformed',
  'InvalidVpcID.NotFound',
  'InvalidParameter',
]);
const UNAUTHORIZED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'AuthFailure',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
]);
const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
};

/** Set by the endpoint-recording middleware (index.ts): where the failed request went. */
export const ENDPOINT_FIELD = '$rdsOrchestratorEndpoint';
/** Set on the raw response by the same middleware: the start of an error answer that is not XML. */
export const BODY_PREVIEW_FIELD = '$rdsOrchestratorBodyPreview';

interface SdkErrorLike {
  name?: unknown;
  Code?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number; headers?: Record<string, string>; [BODY_PREVIEW_FIELD]?: string };
  $responseBodyText?: unknown;
  [ENDPOINT_FIELD]?: string;
}

/** The AWS error code of an SDK v3 error (`name`, or `Code` for a few unmodelled query-protocol errors). */
export function awsErrorName(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as SdkErrorLike;
  if (typeof e.Code === 'string') return e.Code;
  return typeof e.name === 'string' ? e.name : undefined;
}

export function isAwsError(err: unknown, ...names: string[]): boolean {
  const name = awsErrorName(err);
  return name !== undefined && names.includes(name);
}

function where(ctx: AwsErrorContext): string {
  return ctx.where !== undefined ? ` in region ${regionOf(ctx.where)}` : '';
}

function identity(ctx: AwsErrorContext): string {
  return ctx.as ?? describeIdentity(ctx.where);
}

function oneLine(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/**
 * Says what kind of failure `err` is, in words: an answer from AWS, an answer that is not from AWS (an
 * HTML error page from a proxy, an unparseable body), no answer at all, or a timeout.
 */
export function classifyAwsFailure(err: unknown): Pick<AwsCallProblem, 'kind' | 'error' | 'httpStatus'> {
  if (typeof err !== 'object' || err === null) return { kind: 'unknown', error: String(err) };
  const e = err as SdkErrorLike;
  const message = typeof e.message === 'string' ? e.message : String(err);
  const httpStatus = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  const bodyText = typeof e.$responseBodyText === 'string' ? e.$responseBodyText : e.$response?.[BODY_PREVIEW_FIELD];
  const contentType = e.$response?.headers?.['content-type'];
  // The SDK could not read the body as the service's protocol: "@aws-sdk XML parse error", or a bare
  // "Unknown" error for an error status whose body carries no AWS error code.
  // (RDS's client says "Unknown", Route 53's "UnknownError".)
  const unparseable = /XML parse error|Deserialization error/i.test(message) || (e.name === 'Unknown' && (message === 'Unknown' || message === 'UnknownError'));
  if (unparseable && httpStatus !== undefined) {
    const title = bodyText ? /<title>([^<]*)<\/title>/i.exec(bodyText)?.[1]?.trim() : undefined;
    const body = title ? `, page title "${oneLine(title, 80)}"` : bodyText ? `: "${oneLine(bodyText, 120)}"` : '';
    return {
      kind: 'not-aws',
      httpStatus,
      error: `HTTP ${httpStatus} with a response that is not an AWS answer${contentType ? ` (${contentType})` : ''}${body}; is the endpoint right, or is a proxy in the way?`,
    };
  }
  if (typeof e.code === 'string' && NETWORK_CODES[e.code]) {
    return { kind: 'network', error: `no answer: ${NETWORK_CODES[e.code]} (${e.code}): ${oneLine(message)}` };
  }
  if (e.name === 'TimeoutError' || e.name === 'RequestTimeout' || /timed? ?out/i.test(message)) {
    return { kind: 'timeout', httpStatus, error: `no answer in time: ${oneLine(message)}` };
  }
  const name = awsErrorName(err);
  if (name && httpStatus !== undefined) {
    return { kind: 'aws', httpStatus, error: `AWS answered ${name} (HTTP ${httpStatus}): ${oneLine(message)}` };
  }
  return { kind: 'unknown', httpStatus, error: oneLine(message) };
}

/**
 * Returns the error to throw for `err`: a non-retryable ApplicationFailure for what a human must fix,
 * otherwise a retryable `AwsCallFailed` naming the call, the endpoint and what went wrong.
 */
export function toActivityError(err: unknown, ctx: AwsErrorContext): unknown {
  if (err instanceof ApplicationFailure) return err;
  const name = awsErrorName(err);
  const awsMessage = err instanceof Error ? err.message : String(err);
  if (name && INSTANCE_NOT_FOUND.has(name)) {
    const id = ctx.instanceId ? `'${ctx.instanceId}' ` : '';
    return ApplicationFailure.nonRetryable(
      `RDS instance ${id}not found${where(ctx)}${identity(ctx)} (${ctx.operation}). Check the instance identifier, the region and the account; AWS said: ${awsMessage}`,
      FailureTypes.InstanceNotFound,
    );
  }
  if (name && INVALID_INPUT.has(name)) {
    return ApplicationFailure.nonRetryable(
      `${ctx.operation}${where(ctx)} was rejected as invalid (${name}): ${awsMessage}. Fix the input; retrying will not help.`,
      FailureTypes.InvalidInput,
    );
  }
  if (name && UNAUTHORIZED.has(name)) {
    const who = identity(ctx);
    return ApplicationFailure.nonRetryable(
      `${ctx.operation}${where(ctx)}${who} was refused (${name}): ${awsMessage}. ${who ? `Give that role (or profile) the permission for this call, or let it be assumed (its trust policy).` : "Give the worker's AWS credentials the permission for this call."}`,
      FailureTypes.Unauthorized,
    );
  }
  return awsCallFailed(err, ctx);
}

/** The retryable failure for a call that did not get a usable answer. */
export function awsCallFailed(err: unknown, ctx: AwsErrorContext): ApplicationFailure {
  const endpoint = (typeof err === 'object' && err !== null && (err as SdkErrorLike)[ENDPOINT_FIELD]) || undefined;
  const problem: AwsCallProblem = { operation: ctx.operation, endpoint, region: ctx.where !== undefined ? regionOf(ctx.where) : undefined, ...classifyAwsFailure(err) };
  return ApplicationFailure.create({
    type: FailureTypes.AwsCallFailed,
    message: describeAwsCallProblem(problem),
    details: [problem],
    nonRetryable: false,
    cause: err instanceof Error ? err : undefined,
  });
}

export function describeAwsCallProblem(p: AwsCallProblem): string {
  const at = p.endpoint ? ` against ${p.endpoint}` : '';
  const region = p.region ? ` (${p.region})` : '';
  return `${p.operation}${at}${region} failed: ${p.error}`;
}

/** Runs one AWS call and translates its failure with toActivityError. */
export async function callAws<T>(ctx: AwsErrorContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toActivityError(err, ctx);
  }
}

/**
 * "Not there yet" from a waiter: retried at the poll interval until the workflow's deadline. Benign, so
 * the worker logs each poll at DEBUG instead of as a failed activity at WARN.
 */
export function notReady(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: FailureTypes.NotReady, nonRetryable: false, category: ApplicationFailureCategory.BENIGN });
}
