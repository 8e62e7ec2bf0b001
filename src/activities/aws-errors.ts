/**
 * One translation from AWS SDK v3 errors to Temporal failures, shared by every AWS activity.
 *
 * The split follows one question: can waiting fix it? A missing instance, a bad parameter or missing
 * permissions will fail the same way on every retry, so they become non-retryable ApplicationFailures
 * whose message says what to fix. Throttling, 5xx and network errors are left untouched: Temporal treats
 * a plain Error as retryable and the activity's retry policy backs off.
 */
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { FailureTypes } from './types';

/** What the failing call was about, so the message can name it. */
export interface AwsErrorContext {
  /** e.g. "ModifyDBInstance" or "upsert CNAME app.example.com" */
  operation: string;
  region?: string;
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
  // Route 53
  'InvalidInput',
  'InvalidChangeBatch',
  'NoSuchHostedZone',
  'NoSuchChange',
  // EC2
  'InvalidGroup.NotFound',
  'InvalidGroupId.Malformed',
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

/** The AWS error code of an SDK v3 error (`name`, or `Code` for a few unmodelled query-protocol errors). */
export function awsErrorName(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { name?: unknown; Code?: unknown };
  if (typeof e.Code === 'string') return e.Code;
  return typeof e.name === 'string' ? e.name : undefined;
}

export function isAwsError(err: unknown, ...names: string[]): boolean {
  const name = awsErrorName(err);
  return name !== undefined && names.includes(name);
}

function where(ctx: AwsErrorContext): string {
  return ctx.region ? ` in region ${ctx.region}` : '';
}

/**
 * Returns the error to throw for `err`: a non-retryable ApplicationFailure for what a human must fix,
 * otherwise `err` itself (retryable).
 */
export function toActivityError(err: unknown, ctx: AwsErrorContext): unknown {
  if (err instanceof ApplicationFailure) return err;
  const name = awsErrorName(err);
  if (!name) return err;
  const awsMessage = err instanceof Error ? err.message : String(err);
  if (INSTANCE_NOT_FOUND.has(name)) {
    const id = ctx.instanceId ? `'${ctx.instanceId}' ` : '';
    return ApplicationFailure.nonRetryable(
      `RDS instance ${id}not found${where(ctx)} (${ctx.operation}). Check the instance identifier and the region; AWS said: ${awsMessage}`,
      FailureTypes.InstanceNotFound,
    );
  }
  if (INVALID_INPUT.has(name)) {
    return ApplicationFailure.nonRetryable(
      `${ctx.operation}${where(ctx)} was rejected as invalid (${name}): ${awsMessage}. Fix the input; retrying will not help.`,
      FailureTypes.InvalidInput,
    );
  }
  if (UNAUTHORIZED.has(name)) {
    return ApplicationFailure.nonRetryable(
      `${ctx.operation}${where(ctx)} was refused (${name}): ${awsMessage}. Give the worker's AWS credentials the permission for this call.`,
      FailureTypes.Unauthorized,
    );
  }
  return err;
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
