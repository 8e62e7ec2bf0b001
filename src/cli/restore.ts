/** `rds-orchestrator restore ...`: start, status, approve, decide, abort. */
import type { Command } from 'commander';
import { abortUpdate, decideUpdate, restoreStatusQuery } from '../api';
import { restoreHandle, startRestore } from '../client';
import { resolveRestoreSpec } from '../spec';
import { CliError, addStartCommand, approveAskedPlan, asOption, type CliContext } from './context';
import { formatRestoreStatus } from './format';

export function restoreCommands(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  const restore = program.command('restore').description('point-in-time restore, then optional approved DNS cutover');

  addStartCommand(restore, ctx, {
    kind: 'restore',
    resolve: resolveRestoreSpec,
    idOf: (spec) => spec.restoreId,
    start: (client, spec, taskQueue) => startRestore(client, spec, { taskQueue }),
    ifRunning: 'give the spec another restoreId to run another',
  });

  restore
    .command('status <id>')
    .description('show a restore: what it waits for, the cutover checks, rollback, follow-ups')
    .option('--json', 'the whole state as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const status = await restoreHandle(await ctx.client(), id).query(restoreStatusQuery);
      io.out(opts.json ? JSON.stringify(status, null, 2) : formatRestoreStatus(status));
    });

  restore
    .command('approve <id>')
    .description('approve the cutover (not by the requester)')
    .addOption(asOption())
    .option('--comment <text>')
    .action(async (id: string, opts: { as: string; comment?: string }) => {
      await approveAskedPlan(io, restoreHandle(await ctx.client(), id), restoreStatusQuery, `restore ${id}`, { by: opts.as, comment: opts.comment });
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
      const handle = restoreHandle(await ctx.client(), id);
      io.out(await handle.executeUpdate(decideUpdate, { args: [{ by: opts.as, decision: opts.keep ? 'keep' : 'roll-back', comment: opts.comment }] }));
    });

  restore
    .command('abort <id>')
    .description('stop; after the approval this rolls the cutover back (the restored instance is kept)')
    .addOption(asOption())
    .option('--reason <text>')
    .action(async (id: string, opts: { as: string; reason?: string }) => {
      io.out(await restoreHandle(await ctx.client(), id).executeUpdate(abortUpdate, { args: [{ by: opts.as, reason: opts.reason }] }));
    });
}
