/**
 * What people can ask of a running campaign: approve the plan it waits for, answer its question, pause,
 * resume, abort. Each is an update whose validator rejects a wrong request to the caller with the reason
 * (the workflow never fails because of one); the handler records who did it and changes the run's state.
 * With the workers' allowed signers, each request carries its author's SSH signature over the exact text
 * of what they agree to (src/domain/identity/signed-actions.ts), checked by the validator; the handler records the
 * proven principal, the key and the text (shared/identity.ts).
 */
import type { ActorRequest, ApproveRequest, DecideRequest } from '../../api';
import { checkApprover, validApprovalCount } from '../../domain/approvals';
import type { SignedAction } from '../../domain/identity/signed-actions';
import { iso, nowIso } from '../shared/clock';
import { authorOf, countedAction, decisionAction, provenAuthor } from '../shared/identity';
import { requireOpen } from '../shared/people';
import { TERMINAL, type CampaignRun } from './run';

function requireRunning(c: CampaignRun): void {
  requireOpen(`campaign ${c.status.campaignId}`, c.status.state, TERMINAL);
}

function approval(c: CampaignRun): SignedAction {
  const plan = c.approvalPlan;
  if (!plan) throw new Error(`nothing is waiting for approval (state: ${c.status.state}); check \`campaign status\``);
  return { action: 'approve', plan: plan.plan, askedAt: plan.askedAt };
}

export const approve = {
  handler(c: CampaignRun, req: ApproveRequest): string {
    const plan = c.approvalPlan!;
    const who = provenAuthor(c, req, approval(c));
    const by = who?.principal ?? req.by;
    c.status.approvals.push({ by, at: nowIso(), stage: plan.stage, plan: plan.plan, comment: req.comment, valid: true, fingerprint: who?.fingerprint });
    c.recordHuman(by, 'approve', `approved ${plan.plan}`, req.comment, who);
    const have = validApprovalCount(c.status.approvals, plan.plan);
    return `approval by ${by}${who ? ` (key ${who.fingerprint})` : ''} recorded for ${plan.stage} window ${iso(plan.windowStartMs)} (${have}/${c.spec.approval.minApprovals})`;
  },
  validator(c: CampaignRun, req: ApproveRequest): void {
    requireRunning(c);
    const plan = c.approvalPlan;
    if (!plan) throw new Error(`nothing is waiting for approval (state: ${c.status.state}); check \`campaign status\``);
    if (req?.plan !== undefined && req.plan !== plan.plan) {
      throw new Error(`the plan changed: you approved "${req.plan}" but the campaign now asks for "${plan.plan}"; review it and approve again`);
    }
    const who = authorOf(c, req, approval(c));
    const policy = { requester: c.spec.requester, approvers: c.spec.approval.approvers, minApprovals: c.spec.approval.minApprovals };
    checkApprover(policy, who?.principal ?? req.by, c.status.approvals, plan.plan);
    if (who && c.identity.isRequesterKey(who, c.spec.requester)) {
      throw new Error(`key ${who.fingerprint} is a key of ${c.spec.requester}, the requester of this campaign (the allowed signers give it to them): it cannot approve it, whatever name it signs as (four-eyes rule)`);
    }
  },
};

export const decide = {
  handler(c: CampaignRun, req: DecideRequest): string {
    const who = provenAuthor(c, req, decisionAction(c, req.decision));
    const by = who?.principal ?? req.by;
    c.decision = { ...req, by };
    c.recordHuman(by, 'decide', req.decision, req.comment, who);
    return `decision "${req.decision}" by ${by} recorded`;
  },
  validator(c: CampaignRun, req: DecideRequest): void {
    requireRunning(c);
    if (!c.decisionOpen) throw new Error(`no decision is being asked for (state: ${c.status.state})`);
    const options = c.decisionOptions;
    if (!options.includes(req?.decision)) throw new Error(`decision must be ${options.map((o) => `"${o}"`).join(', ').replace(/, ([^,]*)$/, ' or $1')}, got ${JSON.stringify(req?.decision)}`);
    authorOf(c, req, decisionAction(c, req.decision));
  },
};

export const pause = {
  handler(c: CampaignRun, req: ActorRequest): string {
    const who = provenAuthor(c, req, countedAction(c, 'pause'));
    const by = who?.principal ?? req.by;
    c.paused = true;
    c.recordHuman(by, 'pause', undefined, req.reason, who);
    return `campaign paused by ${by}; it holds before its next change to AWS (AWS itself still runs windows already armed)`;
  },
  validator(c: CampaignRun, req: ActorRequest): void {
    requireRunning(c);
    authorOf(c, req, countedAction(c, 'pause'));
    if (c.paused) throw new Error('campaign is already paused');
  },
};

export const resume = {
  handler(c: CampaignRun, req: ActorRequest): string {
    const who = provenAuthor(c, req, countedAction(c, 'resume'));
    const by = who?.principal ?? req.by;
    c.paused = false;
    c.recordHuman(by, 'resume', undefined, req.reason, who);
    return `campaign resumed by ${by}`;
  },
  validator(c: CampaignRun, req: ActorRequest): void {
    requireRunning(c);
    authorOf(c, req, countedAction(c, 'resume'));
    if (!c.paused) throw new Error('campaign is not paused');
  },
};

export const abort = {
  handler(c: CampaignRun, req: ActorRequest): string {
    const who = provenAuthor(c, req, countedAction(c, 'abort'));
    const by = who?.principal ?? req.by;
    c.abortRequest = { by, reason: req.reason ?? 'no reason given' };
    c.recordHuman(by, 'abort', undefined, req.reason, who);
    c.mainScope.cancel();
    return `abort requested by ${by}; compensating (flags reverted, announcement cancelled)`;
  },
  validator(c: CampaignRun, req: ActorRequest): void {
    requireRunning(c);
    authorOf(c, req, countedAction(c, 'abort'));
    if (c.abortRequest) throw new Error(`abort already requested by ${c.abortRequest.by}`);
  },
};
