/**
 * What people can ask of a running campaign: approve the plan it waits for, answer its question, pause,
 * resume, abort. Each is an update whose validator rejects a wrong request to the caller with the reason
 * (the workflow never fails because of one); the handler records who did it and changes the run's state.
 */
import type { ActorRequest, ApproveRequest, DecideRequest } from '../../api';
import { checkApprover, requireActorName, validApprovalCount } from '../../domain/approvals';
import { iso, nowIso } from '../shared/clock';
import { requireOpen } from '../shared/people';
import { TERMINAL, type CampaignRun } from './run';

function requireRunning(c: CampaignRun, req: { by?: unknown } | undefined): void {
  requireOpen(`campaign ${c.status.campaignId}`, c.status.state, TERMINAL);
  requireActorName(req?.by);
}

export const approve = {
  handler(c: CampaignRun, req: ApproveRequest): string {
    const plan = c.approvalPlan!;
    c.status.approvals.push({ by: req.by, at: nowIso(), stage: plan.stage, plan: plan.plan, comment: req.comment, valid: true });
    c.recordHuman(req.by, 'approve', `approved ${plan.plan}`, req.comment);
    const have = validApprovalCount(c.status.approvals, plan.plan);
    return `approval by ${req.by} recorded for ${plan.stage} window ${iso(plan.windowStartMs)} (${have}/${c.spec.approval.minApprovals})`;
  },
  validator(c: CampaignRun, req: ApproveRequest): void {
    requireRunning(c, req);
    const plan = c.approvalPlan;
    if (!plan) throw new Error(`nothing is waiting for approval (state: ${c.status.state}); check \`campaign status\``);
    if (req.plan !== undefined && req.plan !== plan.plan) {
      throw new Error(`the plan changed: you approved "${req.plan}" but the campaign now asks for "${plan.plan}"; review it and approve again`);
    }
    checkApprover({ requester: c.spec.requester, approvers: c.spec.approval.approvers, minApprovals: c.spec.approval.minApprovals }, req.by, c.status.approvals, plan.plan);
  },
};

export const decide = {
  handler(c: CampaignRun, req: DecideRequest): string {
    c.decision = req;
    c.recordHuman(req.by, 'decide', req.decision, req.comment);
    return `decision "${req.decision}" by ${req.by} recorded`;
  },
  validator(c: CampaignRun, req: DecideRequest): void {
    requireRunning(c, req);
    if (!c.decisionOpen) throw new Error(`no decision is being asked for (state: ${c.status.state})`);
    if (req.decision !== 'continue' && req.decision !== 'abort') throw new Error(`decision must be "continue" or "abort", got ${JSON.stringify(req.decision)}`);
  },
};

export const pause = {
  handler(c: CampaignRun, req: ActorRequest): string {
    c.paused = true;
    c.recordHuman(req.by, 'pause', undefined, req.reason);
    return `campaign paused by ${req.by}; it holds before its next change to AWS (AWS itself still runs windows already armed)`;
  },
  validator(c: CampaignRun, req: ActorRequest): void {
    requireRunning(c, req);
    if (c.paused) throw new Error('campaign is already paused');
  },
};

export const resume = {
  handler(c: CampaignRun, req: ActorRequest): string {
    c.paused = false;
    c.recordHuman(req.by, 'resume', undefined, req.reason);
    return `campaign resumed by ${req.by}`;
  },
  validator(c: CampaignRun, req: ActorRequest): void {
    requireRunning(c, req);
    if (!c.paused) throw new Error('campaign is not paused');
  },
};

export const abort = {
  handler(c: CampaignRun, req: ActorRequest): string {
    c.abortRequest = { by: req.by, reason: req.reason ?? 'no reason given' };
    c.recordHuman(req.by, 'abort', undefined, req.reason);
    c.mainScope.cancel();
    return `abort requested by ${req.by}; compensating (flags reverted, announcement cancelled)`;
  },
  validator(c: CampaignRun, req: ActorRequest): void {
    requireRunning(c, req);
    if (c.abortRequest) throw new Error(`abort already requested by ${c.abortRequest.by}`);
  },
};
