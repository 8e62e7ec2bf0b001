/**
 * Who did it. With an allowed-signers list on the workers (ORCHESTRATOR_ALLOWED_SIGNERS) a person is the
 * principal whose listed SSH key signed the exact text of what they agree to (signed-actions.ts); the list
 * is the team's, read by the workers, never taken from the request or the spec. Without one, a person is
 * the name typed with `--as`, and status, plan and record say the identities are unverified.
 *
 * Pure: the update validators and the workflows call it.
 */
import type { AllowedSignersFile } from '../../api';
import { describeProblems, matchesPatternList, parseAllowedSigners, type AllowedSigners } from './allowed-signers';
import { SSH_SIGNATURE_NAMESPACE, type SignatureCheck } from './ssh-signature';

export interface Signers {
  source: string;
  list: AllowedSigners;
  /** The principals the list names (patterns as written), for status and messages. */
  principals: string[];
  /** The run's own list (its spec's allowedSigners), which a signature must satisfy as well: it narrows. */
  also?: Signers;
}

/** Said in status and record when the only list is the run's own. */
export const SPEC_ONLY_NOTE =
  "the allowed signers come from the run's own spec: whoever starts a run names them; set ORCHESTRATOR_ALLOWED_SIGNERS on the workers so that the team, not the spec's author, decides who may sign";

/**
 * The lists in force for a run: the team's (the workers'), narrowed by the run's own (its spec's) when both
 * exist; either alone; or none (identities unverified).
 */
export function combineSigners(team: Signers | undefined, run: Signers | undefined): Signers | undefined {
  if (team && run) return { ...team, source: `${team.source}, narrowed by ${run.source}`, principals: run.principals, also: run };
  return team ?? run;
}

/** A person proven by a signature. */
export interface VerifiedActor {
  principal: string;
  fingerprint: string;
  keyType: string;
  /** The exact text they signed. */
  signed: string;
}

export const UNVERIFIED_NOTE =
  'identities are unverified: names typed with --as (set ORCHESTRATOR_ALLOWED_SIGNERS on the workers to require SSH signatures)';

/** Parses the team's list; throws an Error naming every bad line (a typo must never quietly drop a person). */
export function readSigners(file: AllowedSignersFile): Signers {
  const parsed = parseAllowedSigners(file.text);
  if (!parsed.ok) throw new Error(describeProblems(parsed.problems, file.source));
  const principals = [...new Set(parsed.entries.flatMap((e) => e.principals.filter((p) => !p.startsWith('!'))))];
  return { source: file.source, list: parsed, principals };
}

/**
 * Checks that `signature` is `by`'s signature over `text`, by a key the list gives `by`, valid at `atMs`.
 * Throws an Error whose message says what to do.
 */
export function verifyActor(signers: Signers, by: unknown, signature: unknown, text: string, atMs: number, check: SignatureCheck = 'full'): VerifiedActor {
  if (typeof by !== 'string' || by.trim() === '') {
    throw new Error(`say who you are: pass --as PRINCIPAL (your name in the allowed signers: ${signers.principals.join(', ')})`);
  }
  if (typeof signature !== 'string' || signature.trim() === '') {
    throw new Error(
      `this orchestrator accepts only signed requests (allowed signers: ${signers.source}): sign with your SSH key (--key FILE or $RDS_ORCHESTRATOR_SSH_KEY; the CLI runs ssh-keygen -Y sign -n ${SSH_SIGNATURE_NAMESPACE})`,
    );
  }
  const v = signers.list.verifyFor(by.trim(), SSH_SIGNATURE_NAMESPACE, text, signature, atMs, check);
  if (!v.ok) throw new Error(`refused for ${by.trim()}: ${v.message}`);
  if (signers.also) {
    // The arithmetic passed just above for this very signature and text: the run's own list only says who may sign.
    const narrowed = signers.also.list.verifyFor(by.trim(), SSH_SIGNATURE_NAMESPACE, text, signature, atMs, 'math-proven');
    if (!narrowed.ok) throw new Error(`refused for ${by.trim()}: the team's list accepts this key, but this run's own list (${signers.also.source}) does not: ${narrowed.message}`);
  }
  return { principal: v.principal, fingerprint: v.fingerprint, keyType: v.keyType, signed: text };
}

/**
 * The fingerprints of every key the list lets sign as `principal` (wildcard lines included): for the
 * four-eyes rule, any of them is the requester's, whatever other principal the same line also names.
 */
export function keysOf(signers: Signers, principal: string): Set<string> {
  const lists = [signers.list, ...(signers.also ? [signers.also.list] : [])];
  return new Set(lists.flatMap((l) => l.entries.filter((e) => matchesPatternList(principal, e.principals)).map((e) => e.key.fingerprint)));
}
