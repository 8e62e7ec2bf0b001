/**
 * One place (region and account) of a fleet stage read in one activity: the campaign's preflight calls it once
 * per place, and `campaign plan` reads its places the same way (src/cli/plan-fleet.ts).
 */
import type { Activities, FleetPlaceActivities, FleetPlaceFound, FleetPlaceSearch } from '../api';

export type FleetReaders = Pick<Activities, 'whoAmI' | 'findFleet' | 'listUpgradeTargets'>;

/** whoAmI (when asked), findFleet (every page), then the upgrade targets of each version found that is not the target. */
export async function readFleetPlaceWith(aws: FleetReaders, { where, query, withAccount, targetEngineVersion }: FleetPlaceSearch): Promise<FleetPlaceFound> {
  const identity = withAccount ? await aws.whoAmI({ where }) : undefined;
  const found = await aws.findFleet({ where, query });
  const targets: FleetPlaceFound['targets'] = [];
  for (const m of found.members) {
    if (m.engineVersion === targetEngineVersion || targets.some((t) => t.engine === m.engine && t.engineVersion === m.engineVersion)) continue;
    targets.push({ engine: m.engine, engineVersion: m.engineVersion, targets: await aws.listUpgradeTargets({ where, engine: m.engine, engineVersion: m.engineVersion }) });
  }
  return { ...(identity ? { identity } : {}), ...found, targets };
}

export function createFleetPlaceActivities(aws: FleetReaders): FleetPlaceActivities {
  return { readFleetPlace: (input) => readFleetPlaceWith(aws, input) };
}
