/**
 * One translation from AWS SDK v3 errors to Temporal failures, shared by every AWS activity.
 *
 * The split follows one question: can waiting fix it? A missing instance, a bad parameter or missing
 * permissions will fail the same way on every retry, so they become non-retryable ApplicationFailures
 * whose message says what to fix. Everything else (throttling, 5xx, a refused connection, a body that is
 * not an AWS response at all) becomes a retryable `AwsCallFailed` failure that says, in words a person
 * can act on, which call failed against which endpoint and how: the workflows show it in their status
 * while they retry, and report it when they give up.
 *
 * Throttling is the one retryable case with a delay of its own: AWS says to retry it "with exponential
 * backoff", so its `AwsCallFailed` carries a `nextRetryDelay` that grows (×2 from 2 s to 2 min, jittered)
 * with the throttled answers in a row for that account and region (src/activities/clients.ts counts them)
 * or, failing that, with the attempt. Temporal retries the activity after that delay, not at the step's
 * retry interval; a waiter (which treats AwsCallFailed as the end of its attempt) hands it to the
 * workflow's visible retry rounds, which back off from 30 s (src/workflows/shared/aws-calls.ts).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory, CancelledFailure } from '@temporalio/common';
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
  // RDS Blue/Green: a source AWS cannot copy (e.g. a master password managed in Secrets Manager), a name taken
  'SourceDatabaseNotSupportedFault',
  'BlueGreenDeploymentAlreadyExistsFault',
]);
/**
 * What RDS refuses for good, with what a person does about it: RestoreDBInstanceToPointInTime's and CreateDBInstance's
 * client faults (API reference, "Errors"), under both their code and the SDK's exception name. A retry gets the same
 * answer, so retrying them looped for ever on a restore step, which has no round limit. InsufficientDBInstanceCapacity
 * is not here: capacity comes back.
 */
const REFUSED_FOR_GOOD: Record<string, string> = {
  PointInTimeRestoreNotEnabled: 'the source keeps no automated backups (BackupRetentionPeriod 0), and a point-in-time restore needs them',
  InvalidRestore: 'RDS cannot make this restore (its message says why: the time asked, or a VPC backup into an instance outside a VPC); check the restore time and the settings',
  StorageQuotaExceeded: "the account's RDS storage quota would be exceeded: raise it (Service Quotas) or free storage",
  InstanceQuotaExceeded: "the account's quota of DB instances would be exceeded: raise it (Service Quotas)",
  DBSubnetGroupNotFound: 'the DB subnet group named does not exist in this account and region',
  DBParameterGroupNotFound: 'the DB parameter group named does not exist in this account and region',
  OptionGroupNotFound: 'the option group named does not exist in this account and region',
  DBSecurityGroupNotFound: 'the DB security group named does not exist',
  KMSKeyNotAccessible: 'RDS cannot use the instance\'s KMS key: check the key policy and that the key is enabled',
  StorageTypeNotSupported: 'the storage type is not available for this instance class or engine',
  ProvisionedIopsNotAvailableInAZ: 'provisioned IOPS are not available in that Availability Zone',
  DBInstanceAutomatedBackupNotFound: 'no automated backup of the source was found',
  NetworkTypeNotSupported: 'the network type is not supported there',
  CertificateNotFound: 'the CA certificate named is not offered in this region (aws rds describe-certificates lists those that are)',
};
const refusedForGood = (name: string): string | undefined => REFUSED_FOR_GOOD[name] ?? REFUSED_FOR_GOOD[name.replace(/Fault$/, '')];

const UNAUTHORIZED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'AuthFailure',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
]);
/**
 * AWS's throttling codes for the services we call: RDS, STS and Route 53 `Throttling` (query/XML; the user
 * guide's sample shows botocore's `ThrottlingException`), Route 53 `PriorRequestNotComplete`, EC2
 * `RequestLimitExceeded`; plus our own budget's refusal (src/activities/clients.ts). The same codes the
 * AWS SDK v3's retry strategy treats as throttling (@smithy/core THROTTLING_ERROR_CODES).
 */
const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'PriorRequestNotComplete',
  'SlowDown',
  'RdsRequestBudgetExceeded',
]);
/** Set by the budget middleware (clients.ts) on a throttled answer: how many in a row for its account and region. */
export const THROTTLE_STREAK_FIELD = '$rdsOrchestratorThrottledInARow';
const THROTTLE_BACKOFF_FIRST_MS = 2_000;
const THROTTLE_BACKOFF_MAX_MS = 120_000;

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

/** AWS refused the caller the action (a missing IAM permission, or credentials it does not accept). */
export function isUnauthorizedError(err: unknown): boolean {
  const name = awsErrorName(err);
  return name !== undefined && UNAUTHORIZED.has(name);
}

export function isAwsError(err: unknown, ...names: string[]): boolean {
  const name = awsErrorName(err);
  return name !== undefined && names.includes(name);
}

/** A throttling answer (or HTTP 429), or our own RDS budget's refusal. */
export function isThrottlingError(err: unknown): boolean {
  const name = awsErrorName(err);
  if (name !== undefined && THROTTLING.has(name)) return true;
  return typeof err === 'object' && err !== null && (err as SdkErrorLike).$metadata?.httpStatusCode === 429;
}

/**
 * Exponential backoff with "equal jitter": the n-th throttle in a row waits between half and all of
 * 2 s × 2^(n-1), at most 2 min, and never less than `atLeastMs` (the budget's own estimate of its queue).
 */
export function throttleBackoffMs(n: number, atLeastMs = 0, random: () => number = Math.random): number {
  const ceiling = Math.min(THROTTLE_BACKOFF_MAX_MS, THROTTLE_BACKOFF_FIRST_MS * 2 ** Math.max(0, Math.min(n, 30) - 1));
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  return Math.round(Math.min(THROTTLE_BACKOFF_MAX_MS, Math.max(atLeastMs, jittered)));
}

/** Which throttle in a row this is: the account's streak seen by the budget middleware, else the activity attempt. */
function throttleOrdinal(err: unknown): number {
  const streak = typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[THROTTLE_STREAK_FIELD] : undefined;
  if (typeof streak === 'number' && streak >= 1) return streak;
  try {
    return Context.current().info.attempt;
  } catch {
    return 1; // not inside an activity (a script, a test)
  }
}

/** The retryable AwsCallFailed for a throttled call, retried after a growing, jittered delay. */
export function awsThrottled(err: unknown, ctx: AwsErrorContext, random: () => number = Math.random): ApplicationFailure {
  const failed = awsCallFailed(err, ctx);
  const retryAfter = typeof err === 'object' && err !== null ? (err as { retryAfterMs?: unknown }).retryAfterMs : undefined;
  const delayMs = throttleBackoffMs(throttleOrdinal(err), typeof retryAfter === 'number' ? retryAfter : 0, random);
  return ApplicationFailure.create({
    type: FailureTypes.AwsCallFailed,
    message: `${failed.message}; throttled, next attempt in ${(delayMs / 1000).toFixed(1)} s`,
    details: failed.details ?? undefined,
    nonRetryable: false,
    nextRetryDelay: delayMs,
    cause: causeOf(err),
  });
}

function where(ctx: AwsErrorContext): string {
  return ctx.where !== undefined ? ` in region ${regionOf(ctx.where)}` : '';
}

function identity(ctx: AwsErrorContext): string {
  return ctx.as ?? describeIdentity(ctx.where);
}

/**
 * AWS's message without what it may echo of the signed request. A SignatureDoesNotMatch message can go on with
 * "The Canonical String for this request should have been …": every signed header with its value,
 * `x-amz-security-token` among them, which is the session token of the worker's (or an assumed role's)
 * credentials. The message becomes the failure's, and the failure goes to history, status, notifications and
 * the worker's logs; the request's shape helps nobody there, the token helps an attacker.
 */
export function redactAwsMessage(message: string): string {
  return message
    .replace(/\s*The Canonical String for this request should have been[\s\S]*$/i, ' (the canonical request and string to sign that AWS showed are left out: they carry the signed headers)')
    .replace(/(x-amz-security-token\s*[:=]\s*)[^\s'"&,]+/gi, '$1****');
}

/** `err` as the cause of a failure: itself, or when its message had to be redacted, a copy with the redacted message and the same stack frames. */
function causeOf(err: unknown): Error | undefined {
  if (!(err instanceof Error)) return undefined;
  const message = redactAwsMessage(err.message);
  if (message === err.message) return err;
  const copy = new Error(message);
  copy.name = err.name;
  copy.stack = [`${err.name}: ${message}`, ...(err.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line))].join('\n');
  return copy;
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
  const message = redactAwsMessage(typeof e.message === 'string' ? e.message : String(err));
  const httpStatus = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  const bodyText = typeof e.$responseBodyText === 'string' ? e.$responseBodyText : e.$response?.[BODY_PREVIEW_FIELD];
  const contentType = e.$response?.headers?.['content-type'];
  // The SDK could not read the body as the service's protocol: "@aws-sdk XML parse error", or a bare
  // "Unknown" error for an error status whose body carries no AWS error code.
  // (RDS's client says "Unknown", Route 53's "UnknownError".)
  const unparseable = /XML parse error|Deserialization error/i.test(message) || (e.name === 'Unknown' && (message === 'Unknown' || message === 'UnknownError'));
  if (unparseable && httpStatus !== undefined) {
    const title = bodyText ? /<title>([^<]*)<\/title>/i.exec(bodyText)?.[1]?.trim() : undefined;
    const body = title ? `, page title "${oneLine(redactAwsMessage(title), 80)}"` : bodyText ? `: "${oneLine(redactAwsMessage(bodyText), 120)}"` : '';
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
  // An attempt Temporal cancelled (./clients.ts mutationGate) ends as cancelled, not as a failed AWS call.
  if (err instanceof ApplicationFailure || err instanceof CancelledFailure) return err;
  const name = awsErrorName(err);
  const awsMessage = redactAwsMessage(err instanceof Error ? err.message : String(err));
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
  const refused = name ? refusedForGood(name) : undefined;
  if (name && refused) {
    return ApplicationFailure.nonRetryable(`${ctx.operation}${where(ctx)} was refused (${name}): ${awsMessage}. ${refused}; retrying will not help.`, FailureTypes.InvalidState);
  }
  if (name && UNAUTHORIZED.has(name)) {
    const who = identity(ctx);
    return ApplicationFailure.nonRetryable(
      `${ctx.operation}${where(ctx)}${who} was refused (${name}): ${awsMessage}. ${who ? `Give that role (or profile) the permission for this call, or let it be assumed (its trust policy).` : "Give the worker's AWS credentials the permission for this call."}`,
      FailureTypes.Unauthorized,
    );
  }
  if (isThrottlingError(err)) return awsThrottled(err, ctx);
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
    cause: causeOf(err),
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
