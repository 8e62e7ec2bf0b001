/**
 * What a campaign's status answer lists of each fleet stage's instances. The campaign keeps every instance in its
 * status; an answer (the status query, the result) names at most STATUS_LISTS_AT_MOST of a stage's instances:
 * Temporal refuses a payload over 2 MB (measured on the dev server: a 2.2 MB query answer fails, and a result that
 * large fails every workflow task), and a stage holds about 250 bytes an instance. The counts, the waves and each
 * window group's counts are always whole; a query may ask for a page, or for one instance.
 */
import type { CampaignStatus, CampaignStatusRequest, FleetInstanceReport, FleetListing, FleetReport } from '../api';
import { countStates } from './fleet';

/** The most instances of one fleet stage a status answer lists (a status query's page at most). */
export const STATUS_LISTS_AT_MOST = 1000;

/** Why a status request cannot be answered, or undefined. */
export function statusRequestProblem(req: unknown, atMost = STATUS_LISTS_AT_MOST): string | undefined {
  if (req === undefined || req === null) return undefined;
  if (typeof req !== 'object' || Array.isArray(req)) return 'a status request is an object: { instance?, stage?, page?: { from, size } }';
  const r = req as Record<string, unknown>;
  const unknown = Object.keys(r).filter((k) => !['instance', 'stage', 'page'].includes(k));
  if (unknown.length) return `a status request has no field ${unknown.join(', ')} (it takes instance, stage and page)`;
  if (r.instance !== undefined && (typeof r.instance !== 'string' || !r.instance.trim())) return 'instance names one instance: ID or REGION/ID';
  if (r.stage !== undefined && typeof r.stage !== 'string') return 'stage is the name of a fleet stage';
  if (r.stage !== undefined && r.instance === undefined) return 'stage goes with instance';
  if (r.page !== undefined) {
    if (r.instance !== undefined) return 'page and instance do not go together';
    const p = r.page as Record<string, unknown> | null;
    const whole = (x: unknown, min: number) => typeof x === 'number' && Number.isInteger(x) && x >= min;
    if (typeof p !== 'object' || p === null || !whole(p.from, 0) || !whole(p.size, 1) || (p.size as number) > atMost) {
      return `page is { from, size }: from a whole number from 0, size from 1 to ${atMost}`;
    }
  }
  return undefined;
}

/**
 * The status as an answer lists it: the status itself when every fleet stage lists all its instances (a stage of
 * at most `atMost`, and no request), otherwise a copy whose fleet stages list the page, the instance asked for, or
 * the instances that need attention, each saying so in `listed`. Throws an Error saying what is wrong with a bad
 * request (statusRequestProblem).
 */
export function statusAnswer(status: CampaignStatus, req?: CampaignStatusRequest, atMost = STATUS_LISTS_AT_MOST): CampaignStatus {
  const problem = statusRequestProblem(req, atMost);
  if (problem) throw new Error(`campaign status: ${problem}`);
  const asked = req && (req.instance !== undefined || req.page !== undefined) ? req : undefined;
  if (!asked && !status.stages.some((st) => st.fleet && st.fleet.instances.length > atMost)) return status;
  return { ...status, stages: status.stages.map((st) => (st.fleet ? { ...st, fleet: listedFleet(st.name, st.fleet, asked, atMost) } : st)) };
}

function listedFleet(stage: string, f: FleetReport, req: CampaignStatusRequest | undefined, atMost: number): FleetReport {
  if (!req && f.instances.length <= atMost) return f;
  let which: FleetListing['which'];
  let from: number | undefined;
  let instances: FleetInstanceReport[];
  if (req?.instance !== undefined) {
    which = 'matching';
    instances = req.stage !== undefined && req.stage !== stage ? [] : f.instances.filter(matcher(req.instance));
  } else if (req?.page) {
    which = 'page';
    from = req.page.from;
    instances = f.instances.slice(from, from + req.page.size);
  } else {
    which = 'attention';
    instances = f.instances.filter(needsAttention).slice(0, atMost);
  }
  const listed: FleetListing = { which, ...(from !== undefined ? { from } : {}), of: f.instances.length, fromVersions: versionsOf(f.instances) };
  return { ...f, instances, listed, ...(f.windowGroups ? { windowGroups: withGroupCounts(f) } : {}) };
}

/** How many instances a fleet stage has (an answer may list only some of them). */
export const instanceCount = (f: FleetReport): number => f.listed?.of ?? f.instances.length;

/** Failed, running, aborted or flagged: what `campaign status` shows of a stage without --all. */
export function needsAttention(i: FleetInstanceReport): boolean {
  return i.state === 'failed' || i.state === 'running' || i.state === 'aborted' || (i.flags?.length ?? 0) > 0;
}

/** The instances `ref` names (ID or REGION/ID, any case). */
export function matcher(ref: string): (i: { region: string; instanceId: string }) => boolean {
  const slash = ref.lastIndexOf('/');
  const region = slash >= 0 ? ref.slice(0, slash).toLowerCase() : undefined;
  const id = (slash >= 0 ? ref.slice(slash + 1) : ref).toLowerCase();
  return (i) => i.instanceId.toLowerCase() === id && (region === undefined || i.region.toLowerCase() === region);
}

/** The distinct versions instances run, sorted as versions ("15.5", "15.10"). */
export function versionsOf(instances: { fromVersion: string }[]): string[] {
  return [...new Set(instances.map((i) => i.fromVersion))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** Each window group with its own counts (group n is wave n + 1), from every instance. */
function withGroupCounts(f: FleetReport): NonNullable<FleetReport['windowGroups']> {
  const byWave = new Map<number, FleetInstanceReport[]>();
  for (const i of f.instances) {
    if (!i.wave) continue;
    const list = byWave.get(i.wave);
    if (list) list.push(i);
    else byWave.set(i.wave, [i]);
  }
  return f.windowGroups!.map((g, n) => ({ ...g, counts: countStates(byWave.get(n + 1) ?? []) }));
}
