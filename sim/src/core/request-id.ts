/**
 * One request id per AWS request, as AWS gives one: the same id in the `x-amzn-RequestId` header, in the
 * body's RequestId (RDS, STS, Route 53 errors) or requestId (EC2), and in the call log, so a change record
 * can name the request of each change and a test can match it with the log.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

const current = new AsyncLocalStorage<string>();

/** Runs `fn` as one request, with a fresh id. */
export function withRequestId<T>(fn: () => T): T {
  return current.run(randomUUID(), fn);
}

/** The id of the request being answered (a fresh one outside a request, e.g. admin answers). */
export function requestId(): string {
  return current.getStore() ?? randomUUID();
}
