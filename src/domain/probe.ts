/** What an availability probe hits, in words: the status URL (as before SQL probes existed), or `SELECT 1` on the instance's database. */
import type { ResolvedStage } from '../api';

export function probeTarget(probe: NonNullable<ResolvedStage['probe']>): string {
  return probe.postgres ? `SELECT 1 on database ${probe.postgres.database} of the instance (a new connection each time)` : probe.url ?? '?';
}
