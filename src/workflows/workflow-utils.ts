/** Small pieces both workflows share: activity options, failure inspection, time formatting. */
import { ActivityFailure, TimeoutFailure, type ActivityOptions } from '@temporalio/workflow';

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
];

/**
 * One AWS activity attempt: a few SDK calls, each with its own request timeout (src/activities/index.ts).
 * Short, so that an attempt lost with a crashed worker is retried on another within a minute.
 */
export const AWS_ATTEMPT_TIMEOUT = '45 seconds';

export const AWS_RETRY: ActivityOptions['retry'] = {
  initialInterval: '2s',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
};

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A waiter gave up at its deadline: a timeout, or retries ended by the schedule-to-close limit. */
export function isActivityTimeout(err: unknown): boolean {
  return err instanceof ActivityFailure && (err.cause instanceof TimeoutFailure || err.retryState === 'TIMEOUT');
}

/** The message a person needs: the activity's own failure rather than the wrapper's. */
export function describeError(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return describeError(err.cause);
  return err instanceof Error ? err.message : String(err);
}
