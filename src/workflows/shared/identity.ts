/**
 * Who may act on a run (src/domain/identity/identity.ts): the team's allowed signers, read by a worker at the run's
 * start and again before each wait for people; the requester proven by the start signature; each human
 * action checked against the exact text it must sign. Without a list on the workers, identities are the
 * names typed with `--as`, and the run says so.
 *
 * Runs started before SIGNED_ACTIONS_PATCH never read a list: they stay unverified, as they were.
 */
import { ApplicationFailure, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import { takesPatch } from './patches';
import type { Activities, AllowedSignersFile, HumanAction, IdentityStatus, SignedStart, TimelineEntry, WaitingFor } from '../../api';
import { SPEC_ONLY_NOTE, UNVERIFIED_NOTE, combineSigners, keysOf, readSigners, verifyActor, type Signers, type VerifiedActor } from '../../domain/identity/identity';
import { START_SIGNATURE_MAX_AGE_MS, actionText, specDigest, startText, type RunKind, type RunRef, type SignedAction } from '../../domain/identity/signed-actions';
import { SSH_SIGNATURE_NAMESPACE, type SignatureCheck } from '../../domain/identity/ssh-signature';
import { requireActorName } from '../../domain/approvals';
import { iso, nowIso, nowMs } from './clock';
import { describeError } from './failures';

/** patched() id: since this change a run reads the workers' allowed signers and checks signatures. */
export const SIGNED_ACTIONS_PATCH = 'signed-human-actions';

const reader = proxyLocalActivities<Pick<Activities, 'readAllowedSigners'>>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['InvalidConfig'] },
});

export class IdentityGate {
  readonly status: IdentityStatus;
  private signers?: Signers;
  private teamSigners?: Signers;
  private runSigners?: Signers;
  private readonly reads: boolean;
  /** False until the list was read at the start (requests wait for it rather than slip in unsigned). */
  private ready: boolean;

  constructor(readonly run: RunRef) {
    this.reads = takesPatch(SIGNED_ACTIONS_PATCH);
    this.ready = !this.reads;
    this.status = { mode: 'unverified', runId: run.runId, namespace: SSH_SIGNATURE_NAMESPACE, note: UNVERIFIED_NOTE };
  }

  get verified(): boolean {
    return this.signers !== undefined;
  }

  /**
   * At the start: reads the list (a broken one fails the run before any change) and, when there is one,
   * checks the requester's signature over the spec. Throws a non-retryable failure saying what to fix.
   */
  async start(spec: { requester: string; signedStart?: SignedStart; allowedSigners?: AllowedSignersFile }): Promise<void> {
    if (!this.reads) return;
    let file: AllowedSignersFile | undefined;
    try {
      file = await reader.readAllowedSigners();
    } catch (err) {
      throw ApplicationFailure.nonRetryable(describeError(err), 'InvalidConfig');
    }
    if (spec.allowedSigners) {
      try {
        this.runSigners = readSigners(spec.allowedSigners);
      } catch (err) {
        throw ApplicationFailure.nonRetryable(`the spec's allowedSigners: ${(err as Error).message}`, 'InvalidSpec');
      }
    }
    this.use(file);
    this.ready = true;
    if (!this.signers) return;
    const source = this.signers.source;
    const signed = spec.signedStart;
    if (!signed) {
      throw ApplicationFailure.nonRetryable(
        `this orchestrator accepts only signed starts (allowed signers: ${source}): start it again with the CLI and your SSH key (--key FILE or $RDS_ORCHESTRATOR_SSH_KEY) as ${spec.requester}`,
        'Unsigned',
      );
    }
    const startedMs = workflowInfo().runStartTime.getTime();
    const signedMs = Date.parse(signed.signedAt);
    if (!Number.isFinite(signedMs) || Math.abs(startedMs - signedMs) > START_SIGNATURE_MAX_AGE_MS) {
      throw ApplicationFailure.nonRetryable(
        `the start was signed at ${signed.signedAt}, more than an hour from the run's start (${iso(startedMs)}): a signed start cannot be replayed; sign and start again`,
        'Unsigned',
      );
    }
    const text = startText(this.run.kind, this.run.id, specDigest(spec), signed.signedAt, spec.requester);
    let who: VerifiedActor;
    try {
      who = verifyActor(this.signers!, spec.requester, signed.signature, text, startedMs);
    } catch (err) {
      throw ApplicationFailure.nonRetryable(`start refused: ${(err as Error).message}`, 'Unsigned');
    }
    this.status.requester = { principal: who.principal, fingerprint: who.fingerprint, keyType: who.keyType, signedAt: signed.signedAt };
  }

  /** Before a wait for people: reads the list again; a failure keeps the list in force and shows in the timeline. */
  async refresh(timeline: TimelineEntry[], stage?: string): Promise<void> {
    if (!this.reads || !this.signers) return;
    try {
      const file = await reader.readAllowedSigners();
      if (file || !this.teamSigners) this.use(file);
      else timeline.push({ at: nowIso(), stage, step: 'allowed-signers-kept', detail: 'the workers no longer have an allowed-signers list; this run keeps requiring signatures' });
    } catch (err) {
      timeline.push({ at: nowIso(), stage, step: 'allowed-signers-kept', detail: `reading the allowed signers again failed (${describeError(err)}); the list read before stays in force` });
    }
  }

  /**
   * For validators and handlers: the verified signer of `text`, or undefined when identities are unverified
   * (then only a name is required). Throws an Error whose message says what to fix.
   */
  check(by: unknown, signature: unknown, text: () => string, check: SignatureCheck = 'full'): VerifiedActor | undefined {
    if (!this.ready) throw new Error('the run is still reading its allowed signers; try again in a few seconds');
    if (!this.signers) {
      requireActorName(by);
      return undefined;
    }
    return verifyActor(this.signers, by, signature, text(), nowMs(), check);
  }

  /** The key that signed the start, when it was signed. */
  get requesterFingerprint(): string | undefined {
    return this.status.requester?.fingerprint;
  }

  /**
   * Whether `who` signed with a key of the requester's: the key that signed the start, or any key the list
   * gives the requester's principal (a second key, a line naming two principals). Such a key may never
   * approve the requester's change, whatever principal it signs as.
   */
  isRequesterKey(who: VerifiedActor, requester: string): boolean {
    if (who.fingerprint === this.status.requester?.fingerprint) return true;
    return this.signers !== undefined && keysOf(this.signers, this.status.requester?.principal ?? requester).has(who.fingerprint);
  }

  /** The workers' list (when they have one) combined with the run's own. */
  private use(file: AllowedSignersFile | undefined): void {
    if (file) this.teamSigners = readSigners(file);
    this.signers = combineSigners(this.teamSigners, this.runSigners);
    if (!this.signers) return;
    this.status.mode = 'verified';
    this.status.note = this.teamSigners ? undefined : SPEC_ONLY_NOTE;
    this.status.allowedSigners = { source: this.signers.source, principals: this.signers.principals, readAt: nowIso() };
  }
}

/** A run people act on: its gate, and the state the texts to sign are built from. */
export interface HumanGated {
  identity: IdentityGate;
  status: { humanActions: HumanAction[]; waitingFor?: WaitingFor };
}

/** A request a person sends: who they say they are, their signature, what they add to the record. */
export interface Signable {
  by: string;
  signature?: string;
  comment?: string;
  reason?: string;
}

/** The question being asked, answered with `decision`. */
export function decisionAction(g: HumanGated, decision: string): SignedAction {
  const w = g.status.waitingFor;
  return { action: 'decide', question: w?.question ?? '', askedAt: w?.askedAt ?? '', decision };
}

/** Pause, resume, abort: valid only as the next human action (a signature cannot be sent twice). */
export function countedAction(g: HumanGated, action: 'pause' | 'resume' | 'abort'): SignedAction {
  return { action, after: g.status.humanActions.length };
}

/** Validators: the author proven by their signature over the action's text (or, unverified, named). Throws. */
export function authorOf(g: HumanGated, req: Signable | undefined, a: SignedAction, check: SignatureCheck = 'full'): VerifiedActor | undefined {
  return g.identity.check(req?.by, req?.signature, () => actionText(g.identity.run, a, req?.comment ?? req?.reason), check);
}

/**
 * Handlers: the same check as the validator's, on the same state (deterministic); never fatal. A handler runs only
 * for an update its validator accepted, on the state it accepted it in (the same activation), and on replay for
 * an update whose acceptance history records: so the signature's arithmetic, proven then, is not done again
 * (`math-proven`), and a replay no longer pays it. Who signed (the key, the principal the list gives it, its
 * validity at that time) is still read, as before.
 */
export function provenAuthor(g: HumanGated, req: Signable, a: SignedAction): VerifiedActor | undefined {
  try {
    return authorOf(g, req, a, 'math-proven');
  } catch {
    return undefined;
  }
}

export function runRef(kind: RunKind, id: string): RunRef {
  return { kind, id, runId: workflowInfo().firstExecutionRunId };
}
