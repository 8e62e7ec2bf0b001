/**
 * What people can ask of a running restore: approve the cutover, answer the question asked after a failed
 * switch (keep or roll back), abort. Validators reject a wrong request to the caller with the reason.
 */
import type { ActorRequest, ApproveRequest, DecideRequest } from '../../api';
import { checkApprover, requireActorName, validApprovalCount } from '../../domain/approvals';
import { nowIso } from '../shared/clock';
import { requireOpen } from '../shared/people';
import { TERMINAL, type RestoreRun } from './run';

/** The cutover needs one approval, by someone other than the requester (optionally from a list). */
export const MIN_APPROVALS = 1;

function requireRunning(r: RestoreRun, req: { by?: unknown } | undefined): void {
  requireOpen(`restore ${r.status.restoreId}`, r.status.state, TERMINAL);
  requireActorName(req?.by);
}

export const approve = {
  handler(r: RestoreRun, req: ApproveRequest): string {
    const plan = r.approvalPlan!;
    r.status.approvals.push({ by: req.by, at: nowIso(), stage: 'cutover', plan, comment: req.comment, valid: true });
    r.recordHuman(req.by, 'approve', `approved ${plan}`, req.comment);
    return `approval by ${req.by} recorded for ${plan} (${validApprovalCount(r.status.approvals, plan)}/${MIN_APPROVALS})`;
  },
  validator(r: RestoreRun, req: ApproveRequest): void {
    requireRunning(r, req);
    const plan = r.approvalPlan;
    if (!plan) throw new Error(`nothing is waiting for approval (state: ${r.status.state}); check \`restore status\``);
    if (req.plan !== undefined && req.plan !== plan) {
      throw new Error(`the plan changed: you approved "${req.plan}" but the restore now asks for "${plan}"; review it and approve again`);
    }
    checkApprover({ requester: r.spec.requester, approvers: r.spec.cutover?.approvers ?? [], minApprovals: MIN_APPROVALS }, req.by, r.status.approvals, plan);
  },
};

export const decide = {
  handler(r: RestoreRun, req: DecideRequest): string {
    r.decision = req;
    r.recordHuman(req.by, 'decide', req.decision, req.comment);
    return req.decision === 'keep'
      ? `decision "keep" by ${req.by} recorded: ${r.spec.cutover?.recordName} stays on ${r.spec.targetInstanceId}`
      : `decision "roll-back" by ${req.by} recorded: rolling back. ${r.strandedWarning()}`;
  },
  validator(r: RestoreRun, req: DecideRequest): void {
    requireRunning(r, req);
    if (!r.decisionOpen) throw new Error(`no decision is being asked for (state: ${r.status.state})`);
    if (req.decision !== 'keep' && req.decision !== 'roll-back') {
      throw new Error(`decision must be "keep" or "roll-back" (restore decide --keep|--roll-back), got ${JSON.stringify(req.decision)}`);
    }
  },
};

export const abort = {
  handler(r: RestoreRun, req: ActorRequest): string {
    r.abortRequest = { by: req.by, reason: req.reason ?? 'no reason given' };
    r.recordHuman(req.by, 'abort', undefined, req.reason);
    r.mainScope.cancel();
    if (r.switchSentMs !== undefined) {
      return `abort requested by ${req.by}; rolling back the cutover (CNAME back, old instance started). ${r.strandedWarning()}; the restored instance is kept`;
    }
    return r.cutoverStarted
      ? `abort requested by ${req.by}; rolling back the cutover (CNAME back, old instance started); the restored instance is kept`
      : `abort requested by ${req.by}; nothing is changed beyond the restore (the restored instance is kept)`;
  },
  validator(r: RestoreRun, req: ActorRequest): void {
    requireRunning(r, req);
    if (r.abortRequest) throw new Error(`abort already requested by ${r.abortRequest.by}`);
    if (r.status.state === 'rolling-back') throw new Error('the cutover is already being rolled back');
  },
};
