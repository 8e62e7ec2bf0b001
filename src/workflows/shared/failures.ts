/** Reading failures in a workflow: which a retry cannot fix, which are a waiter's deadline, and what to tell people. */
import { ActivityFailure, TimeoutFailure } from '@temporalio/workflow';

/** ApplicationFailure types a retry cannot fix: a human must. */
export const NON_RETRYABLE_TYPES = [
  'InstanceNotFound',
  'InvalidInput',
  'InvalidState',
  'IdentifierTaken',
  'RestoreTimeOutOfRange',
  'Unauthorized',
  'InvalidSpec',
  'PreflightFailed',
  'UpgradeDependency',
  'InstanceStuck',
];

/** A waiter gave up at its deadline: a timeout, or retries ended by the schedule-to-close limit. */
export function isActivityTimeout(err: unknown): boolean {
  return err instanceof ActivityFailure && (err.cause instanceof TimeoutFailure || err.retryState === 'TIMEOUT');
}

/** The message a person needs: the activity's own failure rather than the wrapper's. */
export function describeError(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return describeError(err.cause);
  return err instanceof Error ? err.message : String(err);
}
