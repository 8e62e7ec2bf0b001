/** `rds-orchestrator restore ...`: start, status, approve, decide, abort, record. */
import type { Command } from 'commander';
import { abortUpdate, decideUpdate, restoreStatusQuery } from '../api';
import { restoreHandle, startRestore } from '../client';
import { resolveRestoreSpec } from '../input';
import { actOn, keyOptions, type ActRequest } from './act';
import { CliError, addStartCommand, approveAskedPlan, asOption, type CliContext } from './context';
import { formatRestoreStatus } from './format';
import { recordCommand } from './record';

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
    .addOption(keyOptions()[0])
    .addOption(keyOptions()[1])
    .option('--comment <text>')
    .action(async (id: string, opts: ActRequest & { as: string }) => {
      await approveAskedPlan(io, restoreHandle(await ctx.client(), id), restoreStatusQuery, { kind: 'restore', id }, { ...opts, by: opts.as });
    });

  restore
    .command('decide <id>')
    .description('after a failed cutover once the CNAME was switched: keep the restored instance, or roll back')
    .addOption(asOption())
    .addOption(keyOptions()[0])
    .addOption(keyOptions()[1])
    .option('--keep', 'the restored instance keeps serving; nothing is rolled back')
    .option('--roll-back', 'CNAME back to the old instance, which is started again; writes made to the restored instance stay stranded there')
    .option('--comment <text>')
    .action(async (id: string, opts: ActRequest & { as: string; keep?: boolean; rollBack?: boolean }) => {
      if (Boolean(opts.keep) === Boolean(opts.rollBack)) throw new CliError('pass exactly one of --keep or --roll-back', 2);
      const decision = opts.keep ? ('keep' as const) : ('roll-back' as const);
      await actOn(io, restoreHandle(await ctx.client(), id), restoreStatusQuery, { kind: 'restore', id }, decideUpdate, (s) => ({
        action: { action: 'decide', question: s.waitingFor?.question ?? '', askedAt: s.waitingFor?.askedAt ?? '', decision },
        request: { by: opts.as, decision, comment: opts.comment },
      }), { ...opts, by: opts.as });
    });

  restore
    .command('abort <id>')
    .description('stop; after the approval this rolls the cutover back (the restored instance is kept)')
    .addOption(asOption())
    .addOption(keyOptions()[0])
    .addOption(keyOptions()[1])
    .option('--reason <text>')
    .action(async (id: string, opts: ActRequest & { as: string }) => {
      await actOn(io, restoreHandle(await ctx.client(), id), restoreStatusQuery, { kind: 'restore', id }, abortUpdate, (s) => ({
        action: { action: 'abort', after: s.humanActions.length },
        request: { by: opts.as, reason: opts.reason },
      }), { ...opts, by: opts.as });
    });

  recordCommand(restore, ctx, 'restore');
}
