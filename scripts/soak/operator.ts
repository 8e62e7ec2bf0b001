/**
 * The people: follow every run the driver started and act on it through the CLI's own code (`runCli`, the
 * commands a person types: status read, action signed with their SSH key, update sent), at moments drawn from
 * the seed. Each action carries a marker in its comment or reason, so the checker can find it (or not) in the
 * histories; each is logged with whether the workflow accepted or refused it.
 *
 *   campaign   the approval, sent twice at once by the approver (a duplicate: one must be refused); a pause
 *              at a random moment of the apply-now stage and a resume a little later; a decision if asked
 *   restores   one approval signed with the wrong key in the approver's name (refused), then the right one;
 *              one restore aborted at a random moment (never approved); the others approved when they ask;
 *              the extract's write-back approved when it asks
 */
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { campaignStatusQuery, restoreStatusQuery, type CampaignStatus, type RestoreStatus } from '../../src/api';
import { runCli } from '../../src/cli';
import { keyOf, type Team } from '../../dev/people';
import { sleep } from '../../dev/time';
import type { SoakLog } from './log';
import type { Random } from './random';
import { APPROVER, OPERATOR, OUTSIDER, type Started } from './scenario';

export type Outcome = 'accepted' | 'refused' | 'unknown';

export interface OperatorAction {
  n: number;
  at: number;
  workflowId: string;
  run: string;
  command: string;
  /** What it is, in words ("duplicate approval", "approval signed with the wrong key", ...). */
  label: string;
  by: string;
  /** Whose key signed it. */
  keyOf: string;
  /** In the comment or reason: how the checker finds it in a history. */
  marker: string;
  expected: Outcome | 'either';
  outcome: Outcome;
  exitCode: number;
  answer: string;
}

export interface RunEnd {
  workflowId: string;
  status: string;
  closedAt?: number;
}

/** Which restores the operator treats differently, drawn from the seed. */
export interface OperatorPlan {
  abortRestore?: string;
  wrongKeyRestore?: string;
  /** Seconds after the restore started at which it is aborted. */
  abortAfterSeconds: number;
  /** Seconds after the approval is asked at which the wrong-key approval is sent. */
  wrongKeyAfterSeconds: number;
  /** Seconds after the apply-now stage starts at which the campaign is paused, and how long it stays paused. */
  pauseAfterSeconds: number;
  pausedForSeconds: number;
  /** Seconds after the start at which each restore is started (by restore id). */
  restoreStartsAt: Record<string, number>;
}

export function planOperator(rng: Random, cutoverIds: string[], restoreIds: string[], startWithinSeconds: number, short: boolean): OperatorPlan {
  const starts = rng.fork('restore-starts');
  const restoreStartsAt = Object.fromEntries(restoreIds.map((id) => [id, Math.round(starts.between(0, startWithinSeconds))]));
  const r = rng.fork('operator');
  const shuffled = cutoverIds.map((id) => ({ id, k: r.fraction() })).sort((a, b) => a.k - b.k).map((x) => x.id);
  return {
    abortRestore: shuffled[0],
    wrongKeyRestore: shuffled[1],
    abortAfterSeconds: Math.round(r.between(8, 40)),
    wrongKeyAfterSeconds: Math.round(r.between(0, 5)),
    pauseAfterSeconds: Math.round(short ? r.between(3, 15) : r.between(5, 60)),
    pausedForSeconds: Math.round(short ? r.between(8, 20) : r.between(10, 40)),
    restoreStartsAt,
  };
}

interface Followed {
  started: Started;
  handle: WorkflowHandle;
  end?: RunEnd;
  approvedPlans: Set<string>;
  approving: boolean;
  answeredQuestions: Set<string>;
  approvalSeenAt?: number;
  stageNowRunningAt?: number;
  paused?: 'sending' | 'accepted' | 'refused' | 'unknown';
  resumed?: boolean;
  abortSent?: boolean;
}

const CLI_TIMEOUT_MS = 60_000;

export class Operator {
  readonly actions: OperatorAction[] = [];
  private n = 0;
  private readonly followed: Followed[] = [];
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly deps: { client: Client; team: Team; log: SoakLog; runTag: string; plan: OperatorPlan },
  ) {}

  follow(started: Started): void {
    this.followed.push({ started, handle: this.deps.client.workflow.getHandle(started.workflowId), approvedPlans: new Set(), approving: false, answeredQuestions: new Set() });
  }

  get ends(): RunEnd[] {
    return this.followed.map((f) => f.end ?? { workflowId: f.started.workflowId, status: 'RUNNING' });
  }

  /** One action through the CLI: `args` after `<kind> <action> <id>`; returns the recorded action. */
  private async act(f: Followed, action: string, label: string, opts: { by: string; key: string; expected: OperatorAction['expected']; extra?: string[] }): Promise<OperatorAction> {
    const n = ++this.n;
    const marker = `soak ${this.deps.runTag} action ${n}: ${label}`;
    const kind = f.started.kind === 'campaign' ? 'campaign' : 'restore';
    const note = action === 'approve' || action === 'decide' ? '--comment' : '--reason';
    const args = [kind, action, f.started.id, '--as', opts.by, '--key', keyOf(this.deps.team, opts.key)!, note, marker, ...(opts.extra ?? [])];
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), client: this.deps.client };
    const at = Date.now();
    const exitCode = await Promise.race([runCli(args, io), sleep(CLI_TIMEOUT_MS).then(() => -1)]);
    const answer = exitCode === -1 ? `no answer within ${CLI_TIMEOUT_MS / 1000} s` : (lines.filter((l) => !/^signing|^ {4}/.test(l)).pop() ?? '');
    const outcome: Outcome = exitCode === 0 ? 'accepted' : exitCode === 3 ? 'refused' : 'unknown';
    const rec: OperatorAction = { n, at, workflowId: f.started.workflowId, run: `${kind} ${f.started.id}`, command: `${kind} ${action}`, label, by: opts.by, keyOf: opts.key, marker, expected: opts.expected, outcome, exitCode, answer };
    this.actions.push(rec);
    const as = opts.key === opts.by ? '' : ` (signed with ${opts.key}'s key)`;
    this.deps.log.line('operator', `#${n} ${label}: ${kind} ${action} ${f.started.id} --as ${opts.by}${as} → ${outcome.toUpperCase()} (exit ${exitCode}): ${answer.slice(0, 220)}`);
    return rec;
  }

  private background(p: Promise<unknown>): void {
    const q = p.catch((err: Error) => this.deps.log.line('operator', `error: ${err.message}`));
    this.pending.add(q);
    void q.finally(() => this.pending.delete(q));
  }

  private async approveCampaign(f: Followed, plan: string): Promise<void> {
    // The approver sends the approval twice at once (two terminals, or a retry): exactly one may be taken.
    const [a, b] = await Promise.all([
      this.act(f, 'approve', 'approval', { by: APPROVER, key: APPROVER, expected: 'either' }),
      this.act(f, 'approve', 'duplicate approval (sent at the same time)', { by: APPROVER, key: APPROVER, expected: 'either' }),
    ]);
    if (a.outcome === 'accepted' || b.outcome === 'accepted') {
      f.approvedPlans.add(plan);
      // Exactly one of the two is taken; the other must be refused. Mark which was the duplicate for the checker.
      for (const x of [a, b]) x.expected = x.outcome === 'accepted' ? 'accepted' : 'refused';
      if (a.outcome === 'accepted' && b.outcome === 'accepted') a.expected = b.expected = 'refused';
    }
  }

  private async approveRestore(f: Followed, plan: string): Promise<void> {
    const p = this.deps.plan;
    if (f.started.id === p.wrongKeyRestore && !this.actions.some((x) => x.workflowId === f.started.workflowId && x.keyOf === OUTSIDER)) {
      await sleep(p.wrongKeyAfterSeconds * 1000);
      await this.act(f, 'approve', 'approval signed with the wrong key', { by: APPROVER, key: OUTSIDER, expected: 'refused' });
    }
    const what = f.started.kind === 'extract' ? 'approval of the write-back' : 'approval of the cutover';
    const rec = await this.act(f, 'approve', what, { by: APPROVER, key: APPROVER, expected: 'accepted' });
    if (rec.outcome === 'accepted') f.approvedPlans.add(plan);
  }

  private async onCampaign(f: Followed, s: CampaignStatus): Promise<void> {
    const p = this.deps.plan;
    const w = s.waitingFor;
    if (s.state === 'waiting-for-approval' && w?.plan && !f.approvedPlans.has(w.plan) && !f.approving) {
      f.approving = true;
      this.background(this.approveCampaign(f, w.plan).finally(() => (f.approving = false)));
    }
    if (s.state === 'waiting-for-decision' && w?.question && !f.answeredQuestions.has(`${w.askedAt}`)) {
      f.answeredQuestions.add(`${w.askedAt}`);
      this.background(this.act(f, 'decide', `decision asked (${w.question.slice(0, 80)}): continue`, { by: APPROVER, key: APPROVER, expected: 'accepted', extra: ['--continue'] }));
    }
    const now = s.stages.find((x) => x.name === 'now');
    if (now?.status === 'running' && f.stageNowRunningAt === undefined) f.stageNowRunningAt = Date.now();
    if (f.stageNowRunningAt !== undefined && f.paused === undefined && Date.now() >= f.stageNowRunningAt + p.pauseAfterSeconds * 1000) {
      f.paused = 'sending';
      this.background(
        this.act(f, 'pause', 'pause of the campaign', { by: OPERATOR, key: OPERATOR, expected: 'accepted' }).then((r) => {
          f.paused = r.outcome;
          if (r.outcome === 'refused') f.resumed = true;
        }),
      );
    }
    const pauseAt = this.actions.find((x) => x.workflowId === f.started.workflowId && x.command === 'campaign pause')?.at;
    if (f.paused && f.paused !== 'sending' && !f.resumed && pauseAt !== undefined && Date.now() >= pauseAt + p.pausedForSeconds * 1000) {
      f.resumed = true;
      this.background(this.act(f, 'resume', 'resume of the campaign', { by: OPERATOR, key: OPERATOR, expected: f.paused === 'accepted' ? 'accepted' : 'either' }));
    }
  }

  private async onRestore(f: Followed, s: RestoreStatus): Promise<void> {
    const p = this.deps.plan;
    const w = s.waitingFor;
    if (f.started.id === p.abortRestore) {
      if (!f.abortSent && Date.now() >= f.started.startedAt + p.abortAfterSeconds * 1000) {
        f.abortSent = true;
        // Sent again when no answer came (the server restarting): then the first may have been taken, and the second refused.
        const again = this.actions.some((x) => x.workflowId === f.started.workflowId && x.command === 'restore abort');
        this.background(
          this.act(f, 'abort', again ? 'abort of a restore, sent again' : 'abort of a restore', { by: OPERATOR, key: OPERATOR, expected: again ? 'either' : 'accepted' }).then((r) => {
            if (r.outcome === 'unknown') f.abortSent = false;
          }),
        );
      }
      return;
    }
    if (s.state === 'waiting-for-approval' && w?.plan && !f.approvedPlans.has(w.plan) && !f.approving) {
      f.approving = true;
      this.background(this.approveRestore(f, w.plan).finally(() => (f.approving = false)));
    }
    if (s.state === 'waiting-for-decision' && w?.question && !f.answeredQuestions.has(`${w.askedAt}`)) {
      f.answeredQuestions.add(`${w.askedAt}`);
      this.background(this.act(f, 'decide', `decision asked (${w.question.slice(0, 80)}): roll back`, { by: APPROVER, key: APPROVER, expected: 'accepted', extra: ['--roll-back'] }));
    }
  }

  /** Follows every run until `expected` runs are followed and all have closed, or `deadline` passes. */
  async run(deadline: number, expected: () => number): Promise<void> {
    for (;;) {
      const open = this.followed.filter((f) => !f.end);
      if ((open.length === 0 && this.followed.length >= expected()) || Date.now() > deadline) break;
      await Promise.all(
        open.map(async (f) => {
          try {
            const d = await f.handle.describe();
            if (d.status.name !== 'RUNNING') {
              f.end = { workflowId: f.started.workflowId, status: d.status.name, closedAt: d.closeTime?.getTime() };
              this.deps.log.line('operator', `${f.started.kind} ${f.started.id} closed: ${d.status.name}`);
              return;
            }
            if (f.started.kind === 'campaign') await this.onCampaign(f, await withTimeout(f.handle.query(campaignStatusQuery)));
            else await this.onRestore(f, await withTimeout(f.handle.query(restoreStatusQuery)));
          } catch (err) {
            // Gone: nothing more to follow (the checker reports it lost).
            if (err instanceof WorkflowNotFoundError) {
              f.end = { workflowId: f.started.workflowId, status: 'NOT_FOUND' };
              this.deps.log.line('operator', `${f.started.kind} ${f.started.id}: NOT FOUND in Temporal`);
            }
            // Otherwise the server restarting, no worker polling yet: the next round reads again.
          }
        }),
      );
      await sleep(3000);
    }
    await Promise.all([...this.pending]);
  }
}

function withTimeout<T>(p: Promise<T>, ms = 10_000): Promise<T> {
  return Promise.race([p, sleep(ms).then(() => Promise.reject(new Error(`no answer within ${ms} ms`)))]);
}
