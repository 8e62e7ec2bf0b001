/**
 * `rds-orchestrator`: drive campaigns and restores on a Temporal cluster, and run the worker. Temporal
 * connection from TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE (+ TLS / API key, see src/config.ts). Exit codes
 * in ./context.ts. (The demo and the AWS simulator are development tools: `npm start`, `npm run sim`.)
 */
import { Command, CommanderError } from 'commander';
import { campaignCommands } from './campaign';
import { cliContext, explain, type CliIo } from './context';
import { restoreCommands } from './restore';

export { CliError, type CliIo } from './context';

export function buildProgram(io: CliIo): Command {
  const ctx = cliContext(io);
  const program = new Command('rds-orchestrator')
    .description('PostgreSQL-on-RDS runbook as durable Temporal workflows')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  campaignCommands(program, ctx);
  restoreCommands(program, ctx);
  program
    .command('worker')
    .description('run a worker (TEMPORAL_*, AWS_*, ORCHESTRATOR_* from the environment)')
    .action(async () => {
      const { runWorker } = await import('../worker');
      await runWorker(ctx.config());
    });
  return program;
}

export async function runCli(argv: string[], io: CliIo = { out: (l) => console.log(l), err: (l) => console.error(l) }): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
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
