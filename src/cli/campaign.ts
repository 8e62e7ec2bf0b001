/** `rds-orchestrator campaign ...`: start, plan, status, list, record, and the operator actions (./operate.ts). */
import path from 'node:path';
import type { Command } from 'commander';
import { AWS_TROUBLE_MEMO, campaignStatusQuery } from '../api';
import { createActivities } from '../activities';
import { campaignHandle, campaignIdOf, campaignListQuery, startCampaign } from '../client';
import { resolveCampaignSpec } from '../input';
import { CliError, addStartCommand, readSpecFile, type CliContext } from './context';
import { operatorCommands } from './operate';
import { queryFleetInstance, findFleetInstance, statusFor, wholeCampaignStatus } from './fleet-instance';
import { STATUS_LISTS_AT_MOST } from '../domain/fleet-status';
import { SHOWN_BY_DEFAULT, formatCampaignStatus, formatFleetInstanceStatus } from './format';
import { formatPlaceRead, formatPlan, formatStageRead, planCampaign, planIdentities, writePlanFile } from './plan';
import { PLACES_AT_ONCE, type FleetReadProgress, type PlaceRead } from './plan-fleet';
import { recordCommand } from './record';

export function campaignCommands(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  const campaign = program.command('campaign').description('staged minor-version upgrade campaigns');

  addStartCommand(campaign, ctx, {
    kind: 'campaign',
    resolve: resolveCampaignSpec,
    idOf: (spec) => spec.campaignId,
    start: (client, spec, taskQueue) => startCampaign(client, spec, { taskQueue }),
    ifRunning: 'set campaignId in the spec to run another',
  });

  campaign
    .command('plan')
    .description('dry run: validate against AWS and print every date the campaign would use; changes nothing')
    .requiredOption('--spec <file>', 'campaign spec')
    .option('--json', 'machine-readable output (every instance of a fleet stage)')
    .option('--all', `list every instance of a fleet stage (default: the waves and at most ${SHOWN_BY_DEFAULT} instances, blocked and flagged ones first)`)
    .option('--out <file>', 'also write the whole plan as JSON to FILE (every instance of every fleet stage, as --json prints it), even when it has problems')
    .option('--progress', `print each place (region × account) of a fleet stage on stderr as it is read, ${PLACES_AT_ONCE} at a time (default: when stderr is a terminal; otherwise one line per fleet stage when its places are read)`)
    .option('--no-progress', 'only the one line per fleet stage on stderr')
    .action(async (opts: { spec: string; json?: boolean; all?: boolean; out?: string; progress?: boolean }) => {
      const spec = readSpecFile(opts.spec, resolveCampaignSpec);
      const eachPlace = opts.progress ?? Boolean(process.stderr.isTTY);
      const progress: FleetReadProgress = { stage: (r) => io.err(formatStageRead(r)), ...(eachPlace ? { place: (r: PlaceRead) => io.err(formatPlaceRead(r)) } : {}) };
      const plan = await planCampaign(spec, createActivities({ config: ctx.config() }), Date.now(), { progress });
      plan.identities = planIdentities(ctx.config().allowedSignersFile, plan.problems, spec.allowedSigners);
      io.out(opts.json ? JSON.stringify(plan, null, 2) : formatPlan(plan, { all: opts.all }));
      if (opts.out !== undefined) {
        const said = `The whole plan (${writePlanFile(opts.out, plan)}) is written to ${path.resolve(opts.out)}`;
        // Beside the summary; on stderr when stdout is the JSON.
        if (opts.json) io.err(said);
        else io.out(`\n${said}`);
      }
      if (plan.problems.length > 0) throw new CliError(`the campaign would fail its preflight (${plan.problems.length} problem(s))`, 2);
    });

  campaign
    .command('status <id>')
    .description("show a campaign: stages, what it waits for, timeline; a fleet stage's counts, waves, failed and running instances")
    .option('--json', `the whole state as JSON (a fleet stage of more than ${STATUS_LISTS_AT_MOST} instances: those needing attention, unless --all; with --instance: that instance's workflow's)`)
    .option('--all', `list every instance of a fleet stage (default: counts, and at most ${SHOWN_BY_DEFAULT} failed, running and flagged ones)`)
    .option('--instance <instance>', "one instance of a fleet stage (ID or REGION/ID): its own workflow's status and whole timeline")
    .option('--stage <name>', 'with --instance: the fleet stage to look in, when the instance is in more than one')
    .action(async (id: string, opts: { json?: boolean; all?: boolean; instance?: string; stage?: string }) => {
      const client = await ctx.client();
      const handle = campaignHandle(client, id);
      if (opts.instance === undefined) {
        if (opts.stage !== undefined) throw new CliError('--stage goes with --instance', 2);
        // A large fleet stage's answer lists only the instances that need attention; --all reads every page.
        const status = opts.all ? await wholeCampaignStatus(handle) : await handle.query(campaignStatusQuery);
        io.out(opts.json ? JSON.stringify(status, null, 2) : formatCampaignStatus(status, Date.now(), { all: opts.all }));
        return;
      }
      if (!opts.instance.trim()) throw new CliError('--instance names one instance of a fleet stage: ID or REGION/ID', 2);
      const status = await statusFor(handle, opts.instance, opts.stage);
      const found = findFleetInstance(status, opts.instance, opts.stage);
      const child = await queryFleetInstance(client, found);
      io.out(opts.json ? JSON.stringify(child, null, 2) : formatFleetInstanceStatus(found.stage, found.instance, child));
    });

  campaign
    .command('list')
    .description('list campaigns (newest first)')
    .option('--query <visibility>', 'extra visibility filter, e.g. "RdsState=\'waiting-for-approval\'"')
    .action(async (opts: { query?: string }) => {
      let n = 0;
      for await (const wf of (await ctx.client()).workflow.list({ query: campaignListQuery(opts.query) })) {
        const attrs = wf.typedSearchAttributes.getAll();
        const state = attrs.find((p) => p.key.name === 'RdsState')?.value ?? wf.status.name;
        const stage = attrs.find((p) => p.key.name === 'RdsStage')?.value ?? '';
        io.out(`${campaignIdOf(wf.workflowId).padEnd(28)} ${String(state).padEnd(22)} ${String(stage).padEnd(12)} started ${wf.startTime.toISOString()}`);
        const trouble = wf.memo?.[AWS_TROUBLE_MEMO];
        if (typeof trouble === 'string') io.out(`  ! AWS call failing: ${trouble}`);
        n += 1;
      }
      if (n === 0) io.out('no campaigns');
    });

  operatorCommands(campaign, ctx, 'campaign', async (id) => campaignHandle(await ctx.client(), id), campaignStatusQuery);

  recordCommand(campaign, ctx, 'campaign');
}
