/**
 * One place (region and account) of a fleet stage read in one activity: the campaign's preflight calls it once
 * per place, and `campaign plan` reads its places the same way (src/cli/plan-fleet.ts).
 */
import { ApplicationFailure } from '@temporalio/common';
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

/**
 * The largest answer one place's read may give (JSON bytes): Temporal refuses an activity result over 2 MB, and
 * an activity whose result is refused is retried until it times out, over and over. An instance weighs about
 * 400 bytes (its tags kept, its pending maintenance), so about 3,500 instances in one account and region.
 */
export const PLACE_ANSWER_MAX_BYTES = 1_500_000;

/** A place's read whose answer is too large for Temporal: refused, non-retryably, with what to do. */
export function placeTooLarge(search: FleetPlaceSearch, found: FleetPlaceFound, maxBytes = PLACE_ANSWER_MAX_BYTES): ApplicationFailure | undefined {
  const bytes = Buffer.byteLength(JSON.stringify(found));
  if (bytes <= maxBytes) return undefined;
  const { where } = search;
  const place = typeof where === 'string' ? where : `${where.region}${where.roleArn ? ` as ${where.roleArn}` : where.profile ? ` (profile ${where.profile})` : ''}`;
  return ApplicationFailure.nonRetryable(
    `${place}: the selection found ${found.members.length} instance(s), ${(bytes / 1e6).toFixed(1)} MB to hand to the campaign; one place's read holds at most ${(maxBytes / 1e6).toFixed(1)} MB (Temporal refuses a result over 2 MB): narrow the selection in this place (tags, engineVersion) or split it over several campaigns`,
    'FleetPlaceTooLarge',
  );
}

export function createFleetPlaceActivities(aws: FleetReaders): FleetPlaceActivities {
  return {
    readFleetPlace: async (input) => {
      const found = await readFleetPlaceWith(aws, input);
      const tooLarge = placeTooLarge(input, found);
      if (tooLarge) throw tooLarge;
      return found;
    },
  };
}
