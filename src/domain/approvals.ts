/**
 * Who may approve a change. Shared by the campaign and the restore-cutover workflows; pure, so the
 * update validators (which must be synchronous and side-effect free) can call it.
 */
import type { Approval } from '../api';

export interface ApprovalPolicy {
  requester: string;
  /** Empty: anyone but the requester. */
  approvers: string[];
  minApprovals: number;
}

/** Every human action names its author (update validators throw to reject the request). */
/**
 * How often people who have been asked (an approval, a question, a change in Terraform) are reminded, when the
 * run's input does not say: the campaign's `approval.reminderInterval`, the restore's `cutover.reminderInterval`.
 * Runs whose input predates the field use it (their histories reminded at this interval).
 */
export const DEFAULT_REMINDER_INTERVAL_MS = 24 * 3600_000;

/** "one of A, B" or "anyone but the requester": who an approval may come from, in words. */
export function whoMayApprove(policy: { requester: string; approvers: string[] }): string {
  return policy.approvers.length ? `one of ${policy.approvers.join(', ')}` : `anyone but ${policy.requester}`;
}

export function requireActorName(by: unknown): void {
  if (typeof by !== 'string' || by.trim() === '') throw new Error('say who you are: pass --as NAME');
}

export function normaliseIdentity(who: string): string {
  return who.trim().toLowerCase();
}

/** Throws an Error whose message tells the caller why the approval is refused. */
export function checkApprover(policy: ApprovalPolicy, by: string, existing: Approval[], plan: string): void {
  if (typeof by !== 'string' || by.trim() === '') {
    throw new Error('approval needs a name: pass --as NAME');
  }
  const who = normaliseIdentity(by);
  if (who === normaliseIdentity(policy.requester)) {
    throw new Error(`${by} requested this change and cannot approve it; ask someone else (four-eyes rule)`);
  }
  if (policy.approvers.length > 0 && !policy.approvers.some((a) => normaliseIdentity(a) === who)) {
    throw new Error(`${by} is not on the approver list (${policy.approvers.join(', ')})`);
  }
  if (existing.some((a) => a.valid && a.plan === plan && normaliseIdentity(a.by) === who)) {
    throw new Error(`${by} has already approved this plan; another person must approve`);
  }
}

export function validApprovalCount(approvals: Approval[], plan: string): number {
  const people = new Set(approvals.filter((a) => a.valid && a.plan === plan).map((a) => normaliseIdentity(a.by)));
  return people.size;
}

/** Marks approvals given for another plan as no longer valid; returns how many were invalidated. */
export function invalidateOtherPlans(approvals: Approval[], stage: string, plan: string): number {
  let n = 0;
  for (const a of approvals) {
    if (a.stage === stage && a.valid && a.plan !== plan) {
      a.valid = false;
      n += 1;
    }
  }
  return n;
}
