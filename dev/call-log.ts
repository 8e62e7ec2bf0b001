/**
 * Reading the simulator's call log the way the durability suites check it: each AWS mutation as one
 * line (action, target, and what changed where that tells two calls apart), and the lines seen more than
 * once. "Each mutation exactly once" means `repeatedMutations(mutationSummary(calls))` is empty.
 */
import type { CallRecord } from '../sim';

export function mutationSummary(calls: CallRecord[]): string[] {
  return calls.map((c) => {
    const p = c.params;
    const target = p.DBInstanceIdentifier ?? p.ResourceIdentifier ?? p.TargetDBInstanceIdentifier ?? p.GroupId ?? p.HostedZoneId ?? '';
    const what =
      c.action === 'ModifyDBInstance'
        ? ` AutoMinorVersionUpgrade=${p.AutoMinorVersionUpgrade}`
        : c.action === 'ChangeResourceRecordSets'
          ? ` ${/<Value>([^<]+)<\/Value>/.exec(p.body ?? '')?.[1]} TTL ${/<TTL>(\d+)<\/TTL>/.exec(p.body ?? '')?.[1]}`
          : '';
    return `${c.action} ${target}${what}`.trim();
  });
}

/** The mutations made more than once, with their counts. */
export function repeatedMutations(mutations: string[]): [string, number][] {
  const seen = new Map<string, number>();
  for (const m of mutations) seen.set(m, (seen.get(m) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1);
}
