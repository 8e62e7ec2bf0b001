/**
 * What every command group needs: where output goes, the configuration, a lazily connected Temporal
 * client, the errors with the exit codes a script relies on, and reading a spec file into a resolved spec.
 *
 * Exit codes: 0 success · 1 unexpected error · 2 bad usage or invalid spec · 3 request rejected by the
 * workflow (validator: wrong person, wrong state) · 4 workflow not found · 5 workflow ended failed/aborted.
 */
import { Option, type Command } from 'commander';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import { approveUpdate } from '../api';
import type { RunKind } from '../domain/identity/signed-actions';
import { loadConfig, type Config } from '../config';
import { SpecError } from '../input';
import { SpecFileError, loadSpecFile } from '../input/file';
import { connectClient } from '../temporal-connection';
import type { CliIo } from './io';
import { actOn, keyOptions, signStart, type ActRequest, type ActableStatus, type KeyOptions } from './act';

export { CliError } from './io';
import { CliError } from './io';

export type { CliIo } from './io';

export interface CliContext {
  io: CliIo;
  config(): Config;
  client(): Promise<Client>;
}

export function cliContext(io: CliIo): CliContext {
  let client = io.client;
  let config = io.config;
  return {
    io,
    config: () => (config ??= loadConfig()),
    client: async () => (client ??= await connectClient((config ??= loadConfig()).temporal)),
  };
}

/** `--as NAME`: who is acting (recorded in the timeline). */
export function asOption(): Option {
  return new Option('--as <name>', 'who you are (recorded in the timeline)').makeOptionMandatory();
}

/** Reads a YAML/JSON spec file and resolves it (every problem named, exit code 2). */
export function readSpecFile<T>(file: string, resolve: (raw: unknown) => T): T {
  let raw: unknown;
  try {
    raw = loadSpecFile(file);
  } catch (err) {
    if (err instanceof SpecFileError) throw new CliError(err.message, 2);
    throw err;
  }
  try {
    return resolve(raw);
  } catch (err) {
    if (err instanceof SpecError) throw new CliError(`${file}: ${err.message}`, 2);
    throw err;
  }
}

/** Maps any failure to the message and exit code a person (or a script) needs. */
export function explain(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof WorkflowUpdateFailedError) return new CliError(`rejected: ${(err.cause as Error | undefined)?.message ?? err.message}`, 3);
  if (err instanceof WorkflowNotFoundError) return new CliError(`not found: ${err.message}`, 4);
  if (err instanceof WorkflowFailedError) return new CliError(`workflow failed: ${(err.cause as Error | undefined)?.message ?? err.message}`, 5);
  if (err instanceof SpecError) return new CliError(err.message, 2);
  const e = err as Error;
  if (/UNAVAILABLE|ECONNREFUSED|Failed to connect|tcp connect error/i.test(String(e?.message))) {
    return new CliError(`cannot reach Temporal: ${e.message}\nSet TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE / TLS options) to your cluster; the demo prints its address.`, 1);
  }
  return new CliError(e?.message ?? String(err), 1);
}

/**
 * `approve`: approves the plan the run is waiting for, exactly as its status names it (or the plan the
 * person passed with --plan, refused here if it changed meanwhile), signed when the run verifies identities.
 */
export async function approveAskedPlan(
  io: CliIo,
  handle: WorkflowHandle,
  statusQuery: QueryDefinition<ActableStatus>,
  run: { kind: RunKind; id: string },
  req: ActRequest & { plan?: string },
): Promise<void> {
  await actOn(
    io,
    handle,
    statusQuery,
    run,
    approveUpdate,
    (s) => {
      const w = s.waitingFor;
      if (!w?.plan) throw new CliError(`${run.kind} ${run.id} is not waiting for an approval (state: ${s.state})`, 3);
      if (req.plan !== undefined && req.plan !== w.plan) {
        throw new CliError(`rejected: the plan changed: you reviewed "${req.plan}" but the ${run.kind} now asks for "${w.plan}"; review it and approve again`, 3);
      }
      io.out(`approving: ${w.description}`);
      return { action: { action: 'approve', plan: w.plan, askedAt: w.askedAt ?? '' }, request: { by: req.by, plan: w.plan, comment: req.comment } };
    },
    req,
  );
}

/**
 * `start --spec FILE [--wait]`: resolves the spec (every problem named, exit 2), starts the run, says how to
 * follow it, and with --wait ends with exit 5 unless it completed.
 */
export function addStartCommand<S>(
  group: Command,
  ctx: CliContext,
  o: { kind: RunKind; resolve: (raw: unknown) => S; idOf: (spec: S) => string; start: (client: Client, spec: S, taskQueue: string) => Promise<WorkflowHandle>; ifRunning: string },
): void {
  const command = group
    .command('start')
    .description(`start a ${o.kind} from a spec file (YAML or JSON); sign it as its requester with --key or --sign`)
    .requiredOption('--spec <file>', `${o.kind} spec`)
    .option('--wait', `wait for the ${o.kind} to end`);
  for (const k of keyOptions()) command.addOption(k);
  command.action(async (opts: { spec: string; wait?: boolean } & KeyOptions) => {
      const resolved = readSpecFile(opts.spec, o.resolve);
      const id = o.idOf(resolved);
      const spec = await signStart(ctx.io, o.kind, id, resolved as S & { requester: string }, opts);
      try {
        const handle = await o.start(await ctx.client(), spec, ctx.config().temporal.taskQueue);
        ctx.io.out(`started ${o.kind} ${id} (workflow ${handle.workflowId})`);
        ctx.io.out(`follow it: rds-orchestrator ${o.kind} status ${id}`);
        if (!opts.wait) return;
        const result = (await handle.result()) as { state: string };
        ctx.io.out(`${o.kind} ${id} ${result.state}`);
        if (result.state !== 'completed') throw new CliError(`${o.kind} ${result.state}`, 5);
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) throw new CliError(`${o.kind} ${id} is already running; ${o.ifRunning}`, 3);
        throw err;
      }
    });
}
