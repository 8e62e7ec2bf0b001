/**
 * The commands that act on a running run (approve, decide, pause, resume, abort), one per action its kind
 * takes, built from the table the workflows register their updates from (src/api/operator-actions.ts). Each
 * reads the run's status, builds the exact action to sign (shown first), signs it when the run verifies
 * identities (./act.ts), and sends the update; the workflow's validator answers a wrong request.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import type { Command } from 'commander';
import { OPERATOR_ACTIONS, OPERATOR_UPDATES, type Decision, type OperatedKind, type OperatorAction } from '../api';
import { actOn, keyOptions, type ActableStatus, type ActRequest } from './act';
import { CliError, approveAskedPlan, asOption, type CliContext } from './context';

/** `--apply-in-window` → `applyInWindow`, as commander names the option's value. */
function optionKey(decision: Decision): string {
  return decision.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function orList(items: string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

type Opts = ActRequest & { as: string; plan?: string } & Record<string, unknown>;

export function operatorCommands(parent: Command, ctx: CliContext, kind: OperatedKind, handleOf: (id: string) => Promise<WorkflowHandle>, statusQuery: QueryDefinition<ActableStatus>): void {
  for (const action of OPERATOR_ACTIONS[kind]) {
    const cmd = parent.command(`${action.name} <id>`).description(action.description).addOption(asOption());
    for (const o of keyOptions()) cmd.addOption(o);
    for (const a of action.answers ?? []) cmd.option(`--${a.decision}`, a.help);
    cmd.option(action.note === 'comment' ? '--comment <text>' : '--reason <text>');
    if (action.name === 'approve') cmd.option('--plan <plan>', 'the exact plan string from `status` (guards against approving a changed plan)');
    cmd.action(async (id: string, opts: Opts) => {
      const run = { kind, id };
      const req = { ...opts, by: opts.as };
      const handle = await handleOf(id);
      if (action.name === 'approve') return approveAskedPlan(ctx.io, handle, statusQuery, run, req);
      if (action.name === 'decide') {
        const decision = chosenAnswer(action, opts);
        return actOn(ctx.io, handle, statusQuery, run, OPERATOR_UPDATES.decide, (s) => ({
          action: { action: 'decide', question: s.waitingFor?.question ?? '', askedAt: s.waitingFor?.askedAt ?? '', decision },
          request: { by: opts.as, decision, comment: opts.comment },
        }), req);
      }
      const name = action.name;
      return actOn(ctx.io, handle, statusQuery, run, OPERATOR_UPDATES[name], (s) => ({
        action: { action: name, after: s.humanActions.length },
        request: { by: opts.as, reason: opts.reason },
      }), req);
    });
  }
}

/** Exactly one of the answers' flags. */
function chosenAnswer(action: OperatorAction, opts: Record<string, unknown>): Decision {
  const answers = (action.answers ?? []).map((a) => a.decision);
  const given = answers.filter((d) => opts[optionKey(d)] === true);
  if (given.length !== 1) throw new CliError(`pass exactly one of ${orList(answers.map((d) => `--${d}`))} (the question says which it takes)`, 2);
  return given[0];
}
