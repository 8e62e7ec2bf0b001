/**
 * What a person signs to act on a run. Each text names the run (its workflow id and first run id) and what
 * exactly is agreed to, so a signature cannot be reused: not for another campaign, not for another plan
 * (an approval names the plan and when it was asked: a window that moved asks again), not for another
 * answer, not twice (pause, resume and abort name how many human actions came before). The CLI builds the
 * text from the run's status, shows it and signs it with `ssh-keygen -Y sign -n rds-orchestrator`; the
 * workflow's update validator builds the same text from its own state and verifies the signature over it.
 *
 * Pure: update validators call it.
 */
import { sha256 } from '@noble/hashes/sha2';
import { encodeBase64Unpadded, utf8Encode } from './ssh-wire';

export type RunKind = 'campaign' | 'restore';

/** The run a signature is for. `runId` is the workflow's first run id (status.identity.runId). */
export interface RunRef {
  kind: RunKind;
  id: string;
  runId: string;
}

export type SignedAction =
  | { action: 'approve'; plan: string; askedAt: string }
  | { action: 'decide'; question: string; askedAt: string; decision: string }
  | { action: 'pause' | 'resume' | 'abort'; after: number };

/** One line per field; a value never spans lines (a newline in a comment or question becomes a space). */
function line(key: string, value: string | number): string {
  return `${key}: ${String(value).replace(/\s*[\r\n]+\s*/g, ' ').trim()}`;
}

/** The text for an action on a running campaign or restore. `comment` is signed too (it lands in the record). */
export function actionText(run: RunRef, a: SignedAction, comment?: string): string {
  const lines = [`rds-orchestrator ${a.action}`, line(run.kind, run.id), line('run', run.runId)];
  switch (a.action) {
    case 'approve':
      lines.push(line('plan', a.plan), line('asked', a.askedAt));
      break;
    case 'decide':
      lines.push(line('question', a.question), line('asked', a.askedAt), line('decision', a.decision));
      break;
    default:
      lines.push(line('after-human-actions', a.after));
  }
  if (comment !== undefined && comment.trim() !== '') lines.push(line(a.action === 'approve' || a.action === 'decide' ? 'comment' : 'reason', comment));
  return `${lines.join('\n')}\n`;
}

/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** `sha256:` + base64 of SHA-256 of the resolved spec's canonical JSON (without its signature). */
export function specDigest(resolvedSpec: object): string {
  const { signedStart: _ignored, ...rest } = resolvedSpec as { signedStart?: unknown };
  return `sha256:${encodeBase64Unpadded(sha256(utf8Encode(canonicalJson(rest))))}`;
}

/** The text a requester signs to start a run: the whole resolved spec (by digest) and when it was signed. */
export function startText(kind: RunKind, id: string, digest: string, signedAt: string, requester: string): string {
  return [`rds-orchestrator start`, line(kind, id), line('requester', requester), line('spec', digest), line('signed-at', signedAt)].join('\n') + '\n';
}

/** A signed start older (or newer) than this, against the workflow's start time, is refused: it may be a replay. */
export const START_SIGNATURE_MAX_AGE_MS = 60 * 60_000;
