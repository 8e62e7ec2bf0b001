/** `rds-orchestrator restore ...`: start, status, record, and the operator actions (./operate.ts). */
import type { Command } from 'commander';
import { restoreStatusQuery } from '../api';
import { restoreHandle, startRestore } from '../client';
import { resolveRestoreSpec } from '../input';
import { addStartCommand, type CliContext } from './context';
import { operatorCommands } from './operate';
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

  operatorCommands(restore, ctx, 'restore', async (id) => restoreHandle(await ctx.client(), id), restoreStatusQuery);

  recordCommand(restore, ctx, 'restore');
}
