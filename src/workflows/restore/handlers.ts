/**
 * What people can ask of a running restore: approve the cutover, answer the question asked after a failed
 * switch (keep or roll back), abort. Validators reject a wrong request to the caller with the reason; with
 * the workers' allowed signers each request must carry its author's signature (shared/identity.ts).
 */
import type { ActorRequest, ApproveRequest, DecideRequest } from '../../api';
import { checkApprover, validApprovalCount } from '../../domain/approvals';
import type { SignedAction } from '../../domain/identity/signed-actions';
import { nowIso } from '../shared/clock';
import { authorOf, countedAction, decisionAction, provenAuthor } from '../shared/identity';
import { requireOpen } from '../shared/people';
import { TERMINAL, type RestoreRun } from './run';

/** The cutover needs one approval, by someone other than the requester (optionally from a list). */
export const MIN_APPROVALS = 1;

function requireRunning(r: RestoreRun): void {
  requireOpen(`restore ${r.status.restoreId}`, r.status.state, TERMINAL);
}

function approval(r: RestoreRun): SignedAction {
  if (!r.approvalPlan) throw new Error(`nothing is waiting for approval (state: ${r.status.state}); check \`restore status\``);
  return { action: 'approve', plan: r.approvalPlan, askedAt: r.status.waitingFor?.askedAt ?? '' };
}

export const approve = {
  handler(r: RestoreRun, req: ApproveRequest): string {
    const plan = r.approvalPlan!;
    const who = provenAuthor(r, req, approval(r));
    const by = who?.principal ?? req.by;
    r.status.approvals.push({ by, at: nowIso(), stage: 'cutover', plan, comment: req.comment, valid: true, fingerprint: who?.fingerprint });
    r.recordHuman(by, 'approve', `approved ${plan}`, req.comment, who);
    return `approval by ${by}${who ? ` (key ${who.fingerprint})` : ''} recorded for ${plan} (${validApprovalCount(r.status.approvals, plan)}/${MIN_APPROVALS})`;
  },
  validator(r: RestoreRun, req: ApproveRequest): void {
    requireRunning(r);
    const plan = r.approvalPlan;
    if (!plan) throw new Error(`nothing is waiting for approval (state: ${r.status.state}); check \`restore status\``);
    if (req?.plan !== undefined && req.plan !== plan) {
      throw new Error(`the plan changed: you approved "${req.plan}" but the restore now asks for "${plan}"; review it and approve again`);
    }
    const who = authorOf(r, req, approval(r));
    checkApprover({ requester: r.spec.requester, approvers: r.spec.cutover?.approvers ?? [], minApprovals: MIN_APPROVALS }, who?.principal ?? req.by, r.status.approvals, plan);
    if (who && r.identity.isRequesterKey(who, r.spec.requester)) {
      throw new Error(`key ${who.fingerprint} is a key of ${r.spec.requester}, the requester of this restore (the allowed signers give it to them): it cannot approve it, whatever name it signs as (four-eyes rule)`);
    }
  },
};

export const decide = {
  handler(r: RestoreRun, req: DecideRequest): string {
    const who = provenAuthor(r, req, decisionAction(r, req.decision));
    const by = who?.principal ?? req.by;
    r.decision = { ...req, by };
    r.recordHuman(by, 'decide', req.decision, req.comment, who);
    return req.decision === 'keep'
      ? `decision "keep" by ${by} recorded: ${r.spec.cutover?.recordName} stays on ${r.spec.targetInstanceId}`
      : `decision "roll-back" by ${by} recorded: rolling back. ${r.strandedWarning()}`;
  },
  validator(r: RestoreRun, req: DecideRequest): void {
    requireRunning(r);
    if (!r.decisionOpen) throw new Error(`no decision is being asked for (state: ${r.status.state})`);
    if (req?.decision !== 'keep' && req?.decision !== 'roll-back') {
      throw new Error(`decision must be "keep" or "roll-back" (restore decide --keep|--roll-back), got ${JSON.stringify(req?.decision)}`);
    }
    authorOf(r, req, decisionAction(r, req.decision));
  },
};

export const abort = {
  handler(r: RestoreRun, req: ActorRequest): string {
    const who = provenAuthor(r, req, countedAction(r, 'abort'));
    const by = who?.principal ?? req.by;
    r.abortRequest = { by, reason: req.reason ?? 'no reason given' };
    r.recordHuman(by, 'abort', undefined, req.reason, who);
    r.mainScope.cancel();
    if (r.switchSentMs !== undefined) {
      return `abort requested by ${by}; rolling back the cutover (CNAME back, old instance started). ${r.strandedWarning()}; the restored instance is kept`;
    }
    return r.cutoverStarted
      ? `abort requested by ${by}; rolling back the cutover (CNAME back, old instance started); the restored instance is kept`
      : `abort requested by ${by}; nothing is changed beyond the restore (the restored instance is kept)`;
  },
  validator(r: RestoreRun, req: ActorRequest): void {
    requireRunning(r);
    authorOf(r, req, countedAction(r, 'abort'));
    if (r.abortRequest) throw new Error(`abort already requested by ${r.abortRequest.by}`);
    if (r.status.state === 'rolling-back') throw new Error('the cutover is already being rolled back');
  },
};
