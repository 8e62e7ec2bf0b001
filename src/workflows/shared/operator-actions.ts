/**
 * What people ask of a running run, answered: approve the plan it waits for, answer its question, pause,
 * resume, abort. Each is an update whose validator rejects a wrong request to the caller with the reason
 * (the workflow never fails because of one); the handler records who did it and changes the run. With the
 * workers' allowed signers each request carries its author's SSH signature over the exact text of what they
 * agree to (src/domain/identity/signed-actions.ts), checked by the validator (shared/identity.ts).
 *
 * Which actions a kind of run takes is the table in src/api/operator-actions.ts: each workflow's entry calls
 * registerOperatorActions once, and the CLI builds its commands from the same table.
 */
import type { UpdateDefinition } from '@temporalio/common';
import { setHandler } from '@temporalio/workflow';
import { OPERATOR_ACTIONS, OPERATOR_UPDATES, type ActorRequest, type ApproveRequest, type DecideRequest, type OperatorActionName, type OperatedStatus } from '../../api';
import { checkApprover, validApprovalCount } from '../../domain/approvals';
import type { SignedAction } from '../../domain/identity/signed-actions';
import { nowIso } from './clock';
import { authorOf, countedAction, decisionAction, provenAuthor } from './identity';
import type { OperatedRun } from './operated-run';
import { requireOpen } from './people';

/** What a kind of run says of an abort (a restore says what it rolls back, and refuses one while rolling back). */
export interface AbortPolicy {
  /** The answer to the person who aborts. */
  answer(by: string): string;
  /** Why an abort cannot be taken now, if it cannot. */
  refusal?(): string | undefined;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any kind of run: the handlers read only what every operated run has
type AnyRun = OperatedRun<string, OperatedStatus<any>>;

interface Action<Req> {
  validator(run: AnyRun, req: Req, abort: AbortPolicy): void;
  handler(run: AnyRun, req: Req, abort: AbortPolicy): string;
}

function requireRunning(run: AnyRun): void {
  requireOpen(`${run.kind} ${run.id}`, run.status.state, run.opts.terminal);
}

/**
 * A request is an object, and what a person adds to the record (comment, reason) is text. Anything may reach a
 * validator (an update sent without the CLI): unchecked, a comment `{}` was recorded as "[object Object]", and
 * `{ toString: 1 }` made the handler throw while recording it, failing the workflow task on every retry.
 */
function requireRequest(req: unknown): void {
  if (typeof req !== 'object' || req === null || Array.isArray(req)) {
    throw new Error(`expected a request such as { by: "alice", comment: "…" }, got ${req === null ? 'null' : Array.isArray(req) ? 'a list' : typeof req}`);
  }
  for (const note of ['comment', 'reason'] as const) {
    const value = (req as Record<string, unknown>)[note];
    if (value !== undefined && value !== null && typeof value !== 'string') throw new Error(`${note} must be text, got ${Array.isArray(value) ? 'a list' : typeof value}`);
  }
}

function approvalAsked(run: AnyRun): SignedAction {
  const a = run.people.approval;
  if (!a) throw new Error(`nothing is waiting for approval (state: ${run.status.state}); check \`${run.kind} status\``);
  return { action: 'approve', plan: a.plan, askedAt: a.askedAt };
}

const approve: Action<ApproveRequest> = {
  validator(run, req) {
    requireRunning(run);
    requireRequest(req);
    const asked = approvalAsked(run);
    const a = run.people.approval!;
    if (req?.plan !== undefined && req.plan !== a.plan) {
      throw new Error(`the plan changed: you approved "${req.plan}" but the ${run.kind} now asks for "${a.plan}"; review it and approve again`);
    }
    const who = authorOf(run, req, asked);
    checkApprover(a.policy, who?.principal ?? req.by, run.status.approvals, a.plan);
    if (who && run.identity.isRequesterKey(who, a.policy.requester)) {
      throw new Error(
        `key ${who.fingerprint} is a key of ${a.policy.requester}, the requester of this ${run.kind} (the allowed signers give it to them): it cannot approve it, whatever name it signs as (four-eyes rule)`,
      );
    }
  },
  handler(run, req) {
    const a = run.people.approval!;
    const who = provenAuthor(run, req, approvalAsked(run));
    const by = who?.principal ?? req.by;
    run.status.approvals.push({ by, at: nowIso(), stage: a.stage, plan: a.plan, comment: req.comment, valid: true, fingerprint: who?.fingerprint });
    run.recordHuman(by, 'approve', `approved ${a.plan}`, req.comment, who);
    const have = validApprovalCount(run.status.approvals, a.plan);
    return `approval by ${by}${who ? ` (key ${who.fingerprint})` : ''} recorded for ${a.what} (${have}/${a.policy.minApprovals})`;
  },
};

const decide: Action<DecideRequest> = {
  validator(run, req) {
    requireRunning(run);
    requireRequest(req);
    const q = run.people.question;
    if (!q) throw new Error(`no decision is being asked for (state: ${run.status.state})`);
    if (!q.options.includes(req?.decision)) {
      const flags = q.options.map((o) => `--${o}`).join('|');
      throw new Error(`decision must be ${q.options.map((o) => `"${o}"`).join(', ').replace(/, ([^,]*)$/, ' or $1')} (\`${run.kind} decide ${flags}\`), got ${JSON.stringify(req?.decision)}`);
    }
    authorOf(run, req, decisionAction(run, req.decision));
  },
  handler(run, req) {
    const who = provenAuthor(run, req, decisionAction(run, req.decision));
    const by = who?.principal ?? req.by;
    const decision = { ...req, by };
    const answered = run.people.question?.answered;
    run.people.decision = decision;
    run.recordHuman(by, 'decide', req.decision, req.comment, who);
    return answered?.(decision) ?? `decision "${req.decision}" by ${by} recorded`;
  },
};

function counted(name: 'pause' | 'resume' | 'abort', check: (run: AnyRun, abort: AbortPolicy) => void, act: (run: AnyRun, by: string, req: ActorRequest, abort: AbortPolicy) => string): Action<ActorRequest> {
  return {
    validator(run, req, abort) {
      requireRunning(run);
      requireRequest(req);
      authorOf(run, req, countedAction(run, name));
      check(run, abort);
    },
    handler(run, req, abort) {
      const who = provenAuthor(run, req, countedAction(run, name));
      const by = who?.principal ?? req.by;
      const answer = act(run, by, req, abort);
      run.recordHuman(by, name, undefined, req.reason, who);
      // Cancelled once recorded: the compensation that follows reads who aborted, and why.
      if (name === 'abort') run.mainScope.cancel();
      return answer;
    },
  };
}

const pause = counted(
  'pause',
  (run) => {
    if (run.people.paused) throw new Error(`${run.kind} is already paused`);
  },
  (run, by) => {
    run.people.paused = true;
    return `${run.kind} paused by ${by}; it holds before its next change to AWS (AWS itself still runs windows already armed)`;
  },
);

const resume = counted(
  'resume',
  (run) => {
    if (!run.people.paused) throw new Error(`${run.kind} is not paused`);
  },
  (run, by) => {
    run.people.paused = false;
    return `${run.kind} resumed by ${by}`;
  },
);

const abort = counted(
  'abort',
  (run, policy) => {
    if (run.people.abortRequest) throw new Error(`abort already requested by ${run.people.abortRequest.by}`);
    const refusal = policy.refusal?.();
    if (refusal) throw new Error(refusal);
  },
  (run, by, req, policy) => {
    run.people.abortRequest = { by, reason: req.reason ?? 'no reason given' };
    return policy.answer(by);
  },
);

const ACTIONS: { [N in OperatorActionName]: Action<N extends 'approve' ? ApproveRequest : N extends 'decide' ? DecideRequest : ActorRequest> } = { approve, decide, pause, resume, abort };

/** One update per action the run's kind takes (src/api/operator-actions.ts), each with its validator. */
export function registerOperatorActions(run: AnyRun, abortPolicy: AbortPolicy): void {
  for (const { name } of OPERATOR_ACTIONS[run.kind]) {
    const action = ACTIONS[name] as Action<unknown>;
    setHandler(OPERATOR_UPDATES[name] as UpdateDefinition<string, [unknown]>, (req) => action.handler(run, req, abortPolicy), { validator: (req) => action.validator(run, req, abortPolicy) });
  }
}
