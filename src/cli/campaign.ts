/** `rds-orchestrator campaign ...`: start, plan, status, list, approve, decide, pause, resume, abort. */
import type { Command } from 'commander';
import { AWS_TROUBLE_MEMO, abortUpdate, campaignStatusQuery, decideUpdate, pauseUpdate, resumeUpdate } from '../api';
import { createActivities } from '../activities';
import { campaignHandle, campaignIdOf, campaignListQuery, startCampaign } from '../client';
import { resolveCampaignSpec } from '../spec';
import { CliError, addStartCommand, approveAskedPlan, asOption, readSpecFile, type CliContext } from './context';
import { formatCampaignStatus } from './format';
import { formatPlan, planCampaign } from './plan';

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
    .option('--json', 'machine-readable output')
    .action(async (opts: { spec: string; json?: boolean }) => {
      const spec = readSpecFile(opts.spec, resolveCampaignSpec);
      const plan = await planCampaign(spec, createActivities({ config: ctx.config() }));
      io.out(opts.json ? JSON.stringify(plan, null, 2) : formatPlan(plan));
      if (plan.problems.length > 0) throw new CliError(`the campaign would fail its preflight (${plan.problems.length} problem(s))`, 2);
    });

  campaign
    .command('status <id>')
    .description('show a campaign: stages, what it waits for, timeline')
    .option('--json', 'the whole state as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const status = await campaignHandle(await ctx.client(), id).query(campaignStatusQuery);
      io.out(opts.json ? JSON.stringify(status, null, 2) : formatCampaignStatus(status));
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

  campaign
    .command('approve <id>')
    .description('approve the plan the campaign is waiting for (not by the requester)')
    .addOption(asOption())
    .option('--comment <text>')
    .option('--plan <plan>', 'the exact plan string from `status` (guards against approving a changed plan)')
    .action(async (id: string, opts: { as: string; comment?: string; plan?: string }) => {
      await approveAskedPlan(io, campaignHandle(await ctx.client(), id), campaignStatusQuery, `campaign ${id}`, { by: opts.as, comment: opts.comment, plan: opts.plan });
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
      const handle = campaignHandle(await ctx.client(), id);
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
        io.out(await campaignHandle(await ctx.client(), id).executeUpdate(update, { args: [{ by: opts.as, reason: opts.reason }] }));
      });
  }
}
