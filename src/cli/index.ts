/**
 * `rds-orchestrator`: drive campaigns and restores on a Temporal cluster, run the worker or the simulator.
 * Temporal connection from TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE (+ TLS / API key, see src/config.ts).
 *
 * Exit codes a script can rely on:
 *   0 success · 1 unexpected error · 2 bad usage or invalid spec · 3 request rejected by the workflow
 *   (validator: wrong person, wrong state) · 4 workflow not found · 5 workflow ended failed/aborted (with --wait)
 */
import { Command, CommanderError, Option } from 'commander';
import {
  Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import {
  AWS_TROUBLE_MEMO,
  abortUpdate,
  approveUpdate,
  campaignStatusQuery,
  campaignWorkflowId,
  decideUpdate,
  pauseUpdate,
  restoreStatusQuery,
  restoreWorkflowId,
  resumeUpdate,
  type CampaignSpec,
  type RestoreSpec,
} from '../api';
import { loadConfig, type Config } from '../config';
import { SpecError, validateCampaignSpec, validateRestoreSpec } from '../spec';
import { loadSpecFile, SpecFileError } from '../spec-file';
import { connectClient } from '../temporal-connection';
import { formatCampaignStatus, formatRestoreStatus } from './format';
import { planCampaign, formatPlan } from './plan';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  config?: Config;
  /** Injected by tests; otherwise connects from config. */
  client?: Client;
}

function readSpec<T>(file: string, validate: (raw: unknown) => unknown): T {
  let raw: unknown;
  try {
    raw = loadSpecFile(file);
  } catch (err) {
    if (err instanceof SpecFileError) throw new CliError(err.message, 2);
    throw err;
  }
  try {
    validate(raw);
  } catch (err) {
    if (err instanceof SpecError) throw new CliError(`${file}: ${err.message}`, 2);
    throw err;
  }
  return raw as T;
}

function explain(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof WorkflowUpdateFailedError) {
    return new CliError(`rejected: ${(err.cause as Error | undefined)?.message ?? err.message}`, 3);
  }
  if (err instanceof WorkflowNotFoundError) return new CliError(`not found: ${err.message}`, 4);
  if (err instanceof WorkflowFailedError) {
    return new CliError(`workflow failed: ${(err.cause as Error | undefined)?.message ?? err.message}`, 5);
  }
  if (err instanceof SpecError) return new CliError(err.message, 2);
  const e = err as Error;
  if (/UNAVAILABLE|ECONNREFUSED|Failed to connect|tcp connect error/i.test(String(e?.message))) {
    return new CliError(`cannot reach Temporal: ${e.message}\nSet TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE / TLS options) to your cluster; the demo prints its address.`, 1);
  }
  return new CliError(e?.message ?? String(err), 1);
}

export function buildProgram(io: CliIo): Command {
  let client: Client | undefined = io.client;
  const config = () => io.config ?? loadConfig();
  const getClient = async () => (client ??= await connectClient(config().temporal));
  const asOption = () => new Option('--as <name>', 'who you are (recorded in the timeline)').makeOptionMandatory();

  const program = new Command('rds-orchestrator')
    .description('PostgreSQL-on-RDS runbook as durable Temporal workflows')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  // ---------------------------------------------------------------- campaign
  const campaign = program.command('campaign').description('staged minor-version upgrade campaigns');

  campaign
    .command('start')
    .description('start a campaign from a spec file (YAML or JSON)')
    .requiredOption('--spec <file>', 'campaign spec')
    .option('--wait', 'wait for the campaign to end')
    .action(async (opts: { spec: string; wait?: boolean }) => {
      const spec = readSpec<CampaignSpec>(opts.spec, validateCampaignSpec);
      const resolved = validateCampaignSpec(spec);
      const c = await getClient();
      const workflowId = campaignWorkflowId(resolved.campaignId);
      try {
        const handle = await c.workflow.start('upgradeCampaign', { args: [spec], taskQueue: config().temporal.taskQueue, workflowId });
        io.out(`started campaign ${resolved.campaignId} (workflow ${workflowId}, run ${handle.firstExecutionRunId})`);
        io.out(`follow it: rds-orchestrator campaign status ${resolved.campaignId}`);
        if (opts.wait) {
          const result = await handle.result();
          io.out(`campaign ${resolved.campaignId} ${result.state}`);
          if (result.state !== 'completed') throw new CliError(`campaign ${result.state}`, 5);
        }
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          throw new CliError(`campaign ${resolved.campaignId} is already running (workflow ${workflowId}); set campaignId in the spec to run another`, 3);
        }
        throw err;
      }
    });

  campaign
    .command('plan')
    .description('dry run: validate against AWS and print every date the campaign would use; changes nothing')
    .requiredOption('--spec <file>', 'campaign spec')
    .option('--json', 'machine-readable output')
    .action(async (opts: { spec: string; json?: boolean }) => {
      const spec = readSpec<CampaignSpec>(opts.spec, validateCampaignSpec);
      const plan = await planCampaign(spec, config());
      io.out(opts.json ? JSON.stringify(plan, null, 2) : formatPlan(plan));
      if (plan.problems.length > 0) throw new CliError(`the campaign would fail its preflight (${plan.problems.length} problem(s))`, 2);
    });

  campaign
    .command('status <id>')
    .description('show a campaign: stages, what it waits for, timeline')
    .option('--json', 'the whole state as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const status = await (await getClient()).workflow.getHandle(campaignWorkflowId(id)).query(campaignStatusQuery);
      io.out(opts.json ? JSON.stringify(status, null, 2) : formatCampaignStatus(status));
    });

  campaign
    .command('list')
    .description('list campaigns (newest first)')
    .option('--query <visibility>', 'extra visibility filter, e.g. "RdsState=\'waiting-for-approval\'"')
    .action(async (opts: { query?: string }) => {
      const c = await getClient();
      const query = [`WorkflowType = 'upgradeCampaign'`, opts.query].filter(Boolean).join(' AND ');
      let n = 0;
      for await (const wf of c.workflow.list({ query })) {
        const sa = wf.typedSearchAttributes;
        const state = sa.getAll().find((p) => p.key.name === 'RdsState')?.value ?? wf.status.name;
        const stage = sa.getAll().find((p) => p.key.name === 'RdsStage')?.value ?? '';
        const trouble = wf.memo?.[AWS_TROUBLE_MEMO];
        io.out(`${wf.workflowId.replace(/^campaign-/, '').padEnd(28)} ${String(state).padEnd(22)} ${String(stage).padEnd(12)} started ${wf.startTime.toISOString()}`);
        if (typeof trouble === 'string') io.out(`  ! AWS call failing: ${trouble}`);
        n += 1;
      }
      if (n === 0) io.out('no campaigns');
    });

  campaign
    .command('approve <id>')
    .description('approve the plan the campaign is waiting for (not by the requester)')
    .addOption(asOption())
    .option('--comment <text>')
    .option('--plan <plan>', 'the exact plan string from `status` (guards against approving a changed plan)')
    .action(async (id: string, opts: { as: string; comment?: string; plan?: string }) => {
      const handle = (await getClient()).workflow.getHandle(campaignWorkflowId(id));
      let plan = opts.plan;
      if (!plan) {
        const s = await handle.query(campaignStatusQuery);
        plan = s.waitingFor?.plan;
        if (!plan) throw new CliError(`campaign ${id} is not waiting for an approval (state: ${s.state})`, 3);
        io.out(`approving: ${s.waitingFor!.description}`);
      }
      io.out(await handle.executeUpdate(approveUpdate, { args: [{ by: opts.as, plan, comment: opts.comment }] }));
    });

  campaign
    .command('decide <id>')
    .description('answer a question the campaign asks (continue or abort)')
    .addOption(asOption())
    .option('--continue', 'go on')
    .option('--abort', 'stop and compensate')
    .option('--comment <text>')
    .action(async (id: string, opts: { as: string; continue?: boolean; abort?: boolean; comment?: string }) => {
      if (Boolean(opts.continue) === Boolean(opts.abort)) throw new CliError('pass exactly one of --continue or --abort', 2);
      const handle = (await getClient()).workflow.getHandle(campaignWorkflowId(id));
      io.out(await handle.executeUpdate(decideUpdate, { args: [{ by: opts.as, decision: opts.continue ? 'continue' : 'abort', comment: opts.comment }] }));
    });

  for (const [name, update, text] of [
    ['pause', pauseUpdate, 'hold before the next change to AWS'],
    ['resume', resumeUpdate, 'continue a paused campaign'],
    ['abort', abortUpdate, 'stop and compensate (flags reverted, announcement cancelled)'],
  ] as const) {
    campaign
      .command(`${name} <id>`)
      .description(text)
      .addOption(asOption())
      .option('--reason <text>')
      .action(async (id: string, opts: { as: string; reason?: string }) => {
        const handle = (await getClient()).workflow.getHandle(campaignWorkflowId(id));
        io.out(await handle.executeUpdate(update, { args: [{ by: opts.as, reason: opts.reason }] }));
      });
  }

  // ---------------------------------------------------------------- restore
  const restore = program.command('restore').description('point-in-time restore, then optional approved DNS cutover');

  restore
    .command('start')
    .requiredOption('--spec <file>', 'restore spec')
    .option('--wait', 'wait for the workflow to end')
    .action(async (opts: { spec: string; wait?: boolean }) => {
      const spec = readSpec<RestoreSpec>(opts.spec, validateRestoreSpec);
      const resolved = validateRestoreSpec(spec);
      const workflowId = restoreWorkflowId(resolved.restoreId);
      const c = await getClient();
      try {
        const handle = await c.workflow.start('restoreAndCutover', { args: [spec], taskQueue: config().temporal.taskQueue, workflowId });
        io.out(`started restore ${resolved.restoreId} (workflow ${workflowId})`);
        io.out(`follow it: rds-orchestrator restore status ${resolved.restoreId}`);
        if (opts.wait) {
          const result = await handle.result();
          io.out(`restore ${resolved.restoreId} ${result.state}`);
          if (result.state !== 'completed') throw new CliError(`restore ${result.state}`, 5);
        }
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) throw new CliError(`restore ${resolved.restoreId} is already running`, 3);
        throw err;
      }
    });

  restore
    .command('status <id>')
    .option('--json', 'the whole state as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const status = await (await getClient()).workflow.getHandle(restoreWorkflowId(id)).query(restoreStatusQuery);
      io.out(opts.json ? JSON.stringify(status, null, 2) : formatRestoreStatus(status));
    });

  restore
    .command('approve <id>')
    .description('approve the cutover (not by the requester)')
    .addOption(asOption())
    .option('--comment <text>')
    .action(async (id: string, opts: { as: string; comment?: string }) => {
      const handle = (await getClient()).workflow.getHandle(restoreWorkflowId(id));
      const s = await handle.query(restoreStatusQuery);
      const plan = s.waitingFor?.plan;
      if (!plan) throw new CliError(`restore ${id} is not waiting for an approval (state: ${s.state})`, 3);
      io.out(`approving: ${s.waitingFor!.description}`);
      io.out(await handle.executeUpdate(approveUpdate, { args: [{ by: opts.as, plan, comment: opts.comment }] }));
    });

  restore
    .command('decide <id>')
    .description('after a failed cutover once the CNAME was switched: keep the restored instance, or roll back')
    .addOption(asOption())
    .option('--keep', 'the restored instance keeps serving; nothing is rolled back')
    .option('--roll-back', 'CNAME back to the old instance, which is started again; writes made to the restored instance stay stranded there')
    .option('--comment <text>')
    .action(async (id: string, opts: { as: string; keep?: boolean; rollBack?: boolean; comment?: string }) => {
      if (Boolean(opts.keep) === Boolean(opts.rollBack)) throw new CliError('pass exactly one of --keep or --roll-back', 2);
      const handle = (await getClient()).workflow.getHandle(restoreWorkflowId(id));
      io.out(await handle.executeUpdate(decideUpdate, { args: [{ by: opts.as, decision: opts.keep ? 'keep' : 'roll-back', comment: opts.comment }] }));
    });

  restore
    .command('abort <id>')
    .addOption(asOption())
    .option('--reason <text>')
    .action(async (id: string, opts: { as: string; reason?: string }) => {
      const handle = (await getClient()).workflow.getHandle(restoreWorkflowId(id));
      io.out(await handle.executeUpdate(abortUpdate, { args: [{ by: opts.as, reason: opts.reason }] }));
    });

  // ---------------------------------------------------------------- processes
  program
    .command('worker')
    .description('run a worker (TEMPORAL_*, AWS_*, ORCHESTRATOR_* from the environment)')
    .action(async () => {
      const { runWorker } = await import('../worker');
      await runWorker(config());
    });

  program
    .command('sim')
    .description('run the AWS simulator: --port N (4599), --state FILE, --speed X, --seed-demo')
    .allowUnknownOption()
    .helpOption(false)
    .argument('[args...]')
    .action(async (args: string[]) => {
      const { runSimulatorCli } = await import('../sim/main');
      await runSimulatorCli(args);
      await new Promise<never>(() => undefined); // until SIGINT/SIGTERM (the simulator handles them)
    });

  program
    .command('demo')
    .description('the main job: embedded Temporal dev server + simulator + worker, running a whole campaign')
    .allowUnknownOption()
    .helpOption(false)
    .argument('[args...]')
    .action(async (args: string[]) => {
      const { demoMain } = await import('../demo');
      const code = await demoMain(args);
      if (code !== 0) throw new CliError('demo failed', code);
    });

  return program;
}

export async function runCli(argv: string[], io: CliIo = { out: (l) => console.log(l), err: (l) => console.error(l) }): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : 2;
    }
    const e = explain(err);
    io.err(`error: ${e.message}`);
    return e.exitCode;
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
