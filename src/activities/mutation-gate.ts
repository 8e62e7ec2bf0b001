/**
 * The gate every AWS client of the activities has (./clients.ts `instrument`): a mutation is sent at most once per
 * activity attempt, and never from an attempt Temporal has given up on. Reads are left to the SDK's own retries.
 */
import { Context } from '@temporalio/activity';
import { isThrottlingError } from './aws-errors';

/** The part of an SDK client the gate needs: its middleware stack. */
interface StackOwner {
  middlewareStack: { add: (mw: unknown, options: { step: 'initialize' | 'finalizeRequest' | 'deserialize'; name: string; priority?: 'low' }) => void };
}

/** A call that changes nothing in AWS (its name says so); every other call is a mutation. */
export function isReadOnlyCall(commandName: string | undefined): boolean {
  return /^(Describe|List|Get|Test|Lookup|AssumeRole)/.test(commandName ?? '');
}

/** The cancellation of the activity attempt running this code, or undefined outside an activity (the CLI, tests). */
function attemptCancellation(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}

/** Where the SDK keeps a call's context shared by its middlewares (the retry middleware reads its abortSignal). */
const SMITHY_CONTEXT = '__smithy_context';
/** The gate's controller of one call, kept in the call's context. */
const GATE = Symbol('rdsOrchestratorMutationGate');

interface CallContext {
  commandName?: string;
  [SMITHY_CONTEXT]?: { abortSignal?: AbortSignal };
  [GATE]?: AbortController;
}

/**
 * Whether a failed HTTP attempt may have changed something: no answer at all (a timeout, a reset, a lost answer) or
 * a server error. An answer in the 4xx range (throttling, an expired token, a refusal) says AWS did not apply it,
 * and EC2's throttling (503 RequestLimitExceeded) is throttling all the same.
 */
export function mayHaveBeenApplied(err: unknown): boolean {
  if (isThrottlingError(err)) return false;
  const status = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  return !(status !== undefined && status >= 400 && status < 500);
}

/**
 * Sends a mutation at most once per activity attempt, and never from an attempt Temporal has given up on.
 *
 * Found by the soak (docs/soak.md): an attempt timed out on its heartbeat while the Temporal server restarted
 * kept running; its SDK, after its own request timeout, sent the held ModifyDBInstance again, after the next
 * attempt had read the instance and made the change. So for a mutation:
 * - right before each HTTP attempt, an activity attempt that is cancelled (its heartbeat refused: timed out, or
 *   the workflow no longer wants it) sends nothing and ends as cancelled;
 * - after an attempt that may have been applied (no answer: a timeout, a reset connection, a lost answer; or a 5xx),
 *   the SDK's retry is stopped (through the abort signal its retry middleware reads), and the
 *   error goes back to Temporal, whose next attempt reads the world before it changes anything. A request answered
 *   4xx (throttled, an expired token refreshed by ./clients.ts, refused) was not applied, so the SDK and our
 *   credential refresh may send it again.
 */
export function mutationGate(c: StackOwner): void {
  // initialize: once per call, before the retry middleware reads the call's abort signal.
  c.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: CallContext) => async (args: unknown) => {
      if (isReadOnlyCall(context.commandName)) return next(args);
      const gate = new AbortController();
      const smithy = (context[SMITHY_CONTEXT] ??= {});
      const given = smithy.abortSignal;
      const follow = (signal: AbortSignal | undefined) => {
        if (!signal) return;
        if (signal.aborted) gate.abort(signal.reason);
        else signal.addEventListener('abort', () => gate.abort(signal.reason), { once: true });
      };
      follow(given);
      follow(attemptCancellation());
      smithy.abortSignal = gate.signal;
      context[GATE] = gate;
      return next(args);
    },
    { step: 'initialize', name: 'rdsOrchestratorMutationGateCall' },
  );
  // finalizeRequest (inside the retry middleware): an attempt that may have reached AWS is not sent again by the SDK.
  c.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: CallContext) => async (args: unknown) => {
      try {
        return await next(args);
      } catch (err) {
        if (context[GATE] && mayHaveBeenApplied(err)) context[GATE].abort(err);
        throw err;
      }
    },
    { step: 'finalizeRequest', name: 'rdsOrchestratorMutationOnce' },
  );
  // deserialize, low priority: the last moment before the request leaves.
  c.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: CallContext) => async (args: unknown) => {
      const cancelled = context[GATE] && attemptCancellation();
      if (cancelled?.aborted) {
        context[GATE]!.abort(cancelled.reason);
        throw cancelled.reason instanceof Error ? cancelled.reason : new Error(`activity attempt cancelled (${String(cancelled.reason)}): ${context.commandName} not sent`);
      }
      return next(args);
    },
    { step: 'deserialize', name: 'rdsOrchestratorMutationNotFromACancelledAttempt', priority: 'low' },
  );
}
