/**
 * Signing what a person does on the command line. When the workers verify identities (status.identity.mode
 * is "verified"), each action carries an SSH signature over the exact text the workflow will check
 * (src/domain/identity/signed-actions.ts): the CLI prints the text, signs it with the person's key (./sign.ts) and
 * sends both. A start is signed when the person gives a key (--key, --sign or $RDS_ORCHESTRATOR_SSH_KEY):
 * the workers' allowed signers decide whether an unsigned start is accepted.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { QueryDefinition, UpdateDefinition } from '@temporalio/common';
import { Option } from 'commander';
import type { IdentityStatus, SignedStart, WaitingFor } from '../api';
import { actionText, specDigest, startText, type RunKind, type SignedAction } from '../domain/identity/signed-actions';
import type { CliIo } from './io';
import { SSH_KEY_ENV, signText } from './sign';

export interface KeyOptions {
  /** --key FILE: a private key, or a .pub whose key is in ssh-agent. */
  key?: string;
  /** --sign: sign with the default key (~/.ssh/id_ed25519, id_ecdsa, id_rsa). */
  sign?: boolean;
}

export function keyOptions(): Option[] {
  return [
    new Option('--key <file>', `your SSH key: signs the request (a private key, or a .pub whose key is in ssh-agent; default $${SSH_KEY_ENV}, then ~/.ssh/id_ed25519)`),
    new Option('--sign', 'sign with your default SSH key'),
  ];
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

async function sign(io: CliIo, text: string, opts: KeyOptions, env: NodeJS.ProcessEnv): Promise<string> {
  io.out(`signing (ssh-keygen -Y sign -n rds-orchestrator):\n${indent(text)}`);
  return signText(text, { keyFile: opts.key, env });
}

/** The spec with the requester's signature, when a key is given; unchanged otherwise. */
export async function signStart<S extends { requester: string; signedStart?: SignedStart }>(
  io: CliIo,
  kind: RunKind,
  id: string,
  spec: S,
  opts: KeyOptions,
  env: NodeJS.ProcessEnv = process.env,
  nowMs: number = Date.now(),
): Promise<S> {
  if (!opts.key && !opts.sign && !env[SSH_KEY_ENV]) return spec;
  const signedAt = new Date(nowMs).toISOString();
  const text = startText(kind, id, specDigest(spec), signedAt, spec.requester);
  const signature = await sign(io, text, opts, env);
  return { ...spec, signedStart: { signature, signedAt } };
}

/**
 * The signature for `action` on a running run, or undefined when the run does not verify identities
 * (then a key given is not used, and the person is told).
 */
export async function signAction(
  io: CliIo,
  run: { kind: RunKind; id: string; identity?: IdentityStatus },
  action: SignedAction,
  comment: string | undefined,
  opts: KeyOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  if (run.identity?.mode !== 'verified') {
    if (opts.key || opts.sign) io.out(`note: ${run.kind} ${run.id} does not verify identities (its workers have no allowed signers); sent without a signature`);
    return undefined;
  }
  return sign(io, actionText({ kind: run.kind, id: run.id, runId: run.identity.runId }, action, comment), opts, env);
}

/** What the CLI reads of a run's status to build the text to sign. */
export interface ActableStatus {
  state: string;
  waitingFor?: WaitingFor;
  humanActions: { length: number };
  identity?: IdentityStatus;
}

/** A person's request as the CLI sends it. */
export interface ActRequest extends KeyOptions {
  by: string;
  comment?: string;
  reason?: string;
}

/**
 * Sends a human action: reads the status, builds the action (`build` throws a CliError when the run is
 * not asking for it), signs it when the run verifies identities, and executes the update.
 */
export async function actOn<Req extends object>(
  io: CliIo,
  handle: WorkflowHandle,
  statusQuery: QueryDefinition<ActableStatus>,
  run: { kind: RunKind; id: string },
  update: UpdateDefinition<string, [Req]>,
  build: (s: ActableStatus) => { action: SignedAction; request: Req },
  req: ActRequest,
): Promise<void> {
  const status = await handle.query(statusQuery);
  const { action, request } = build(status);
  const signature = await signAction(io, { ...run, identity: status.identity }, action, req.comment ?? req.reason, req);
  io.out(await handle.executeUpdate(update, { args: [{ ...request, ...(signature ? { signature } : {}) }] }));
}
