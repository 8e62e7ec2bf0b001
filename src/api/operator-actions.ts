/**
 * What people can ask of a running run, per kind of run: one table, read twice. Each workflow's entry
 * registers one update per action with a loop over it (src/workflows/shared/operator-actions.ts), and the
 * CLI builds one command per action from it (src/cli/operate.ts): a new action, or a new answer to a
 * question, is one line here and appears in both. A fleet instance's run takes none: the campaign acts on it.
 */
import type { DecideRequest } from './common';
import { abortUpdate, approveUpdate, decideUpdate, pauseUpdate, resumeUpdate } from './messages';

export type OperatedKind = 'campaign' | 'restore';
export type OperatorActionName = 'approve' | 'decide' | 'pause' | 'resume' | 'abort';
export type Decision = DecideRequest['decision'];

/** The update each action is sent as (the names are part of the contract: running workflows use them). */
export const OPERATOR_UPDATES = {
  approve: approveUpdate,
  decide: decideUpdate,
  pause: pauseUpdate,
  resume: resumeUpdate,
  abort: abortUpdate,
} as const;

export interface OperatorAction {
  name: OperatorActionName;
  /** What it does, for `--help`. */
  description: string;
  /** What a person adds to the record: a comment on an approval or an answer, a reason for the others. */
  note: 'comment' | 'reason';
  /** decide: every answer a question of this kind may take (each question says which of them it takes). */
  answers?: readonly { decision: Decision; help: string }[];
}

export const OPERATOR_ACTIONS: Record<OperatedKind, readonly OperatorAction[]> = {
  campaign: [
    { name: 'approve', note: 'comment', description: 'approve the plan the campaign is waiting for (not by the requester)' },
    {
      name: 'decide',
      note: 'comment',
      description: 'answer a question the campaign asks (continue or abort; when RDS moved its automatic target, apply-in-window, retarget or abort)',
      answers: [
        { decision: 'continue', help: 'go on' },
        { decision: 'abort', help: 'stop and compensate' },
        { decision: 'apply-in-window', help: "RDS's automatic target moved: the campaign applies the campaign's target itself when the window opens" },
        { decision: 'retarget', help: "RDS's automatic target moved: end this campaign (compensated) and start one for the new version" },
      ],
    },
    { name: 'pause', note: 'reason', description: 'hold before the next change to AWS' },
    { name: 'resume', note: 'reason', description: 'continue a paused campaign' },
    { name: 'abort', note: 'reason', description: 'stop and compensate (flags reverted, announcement cancelled)' },
  ],
  restore: [
    { name: 'approve', note: 'comment', description: 'approve the cutover (not by the requester)' },
    {
      name: 'decide',
      note: 'comment',
      description: 'after a failed cutover once the CNAME was switched: keep the restored instance, or roll back',
      answers: [
        { decision: 'keep', help: 'the restored instance keeps serving; nothing is rolled back' },
        { decision: 'roll-back', help: 'CNAME back to the old instance, which is started again; writes made to the restored instance stay stranded there' },
      ],
    },
    { name: 'abort', note: 'reason', description: 'stop; after the approval this rolls the cutover back (the restored instance is kept)' },
  ],
};

/** The answers a question takes when it does not say: go on, or stop. */
export const CONTINUE_OR_ABORT: readonly Decision[] = ['continue', 'abort'];
