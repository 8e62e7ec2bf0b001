/**
 * A batch's input, small (src/workflows/campaign/fleet-batch.ts): the campaign gives a batch what its instances'
 * inputs share once (FleetBatchCommon) and, per instance, only what differs (FleetBatchMember); the batch puts each
 * instance's input together again, equal to the one the campaign would have given it. The batch's start event is
 * in the campaign's history: a whole input per instance (about 1.5 KB) made 10,000 instances 15 MB there.
 */
import type { FleetBatchCommon, FleetBatchEnded, FleetBatchMember, FleetBatchMemberEnded, FleetInstanceInput, FleetInstanceStart, ResolvedStage } from '../api';

/** The common part of `starts` (the first one's input) and each instance's own part. */
export function slimBatch(starts: readonly FleetInstanceStart[]): { common: FleetBatchCommon; members: FleetBatchMember[] } {
  if (starts.length === 0) throw new RangeError('a batch has at least one instance');
  // Neither window nor pause is common: each member carries its window; the batch says whether it is paused.
  const { window: _window, paused: _paused, ...common } = starts[0].input;
  const template = common.stage as unknown as Record<string, unknown>;
  // Written once, compared with each member's (a batch of 500 wrote the common part 500 times).
  const shared = JSON.stringify(omitStage(common));
  const templateText = new Map(Object.entries(template).map(([k, v]) => [k, JSON.stringify(v)]));
  const members = starts.map(({ workflowId, input }): FleetBatchMember => {
    const { window, paused: _p, stage, ...rest } = input;
    if (JSON.stringify(rest) !== shared) {
      throw new RangeError(`instance ${workflowId}: its input differs from the batch's beyond its stage and window`);
    }
    const own = stage as unknown as Record<string, unknown>;
    const differs: Record<string, unknown> = {};
    // The same value (a primitive, or the stage spec's own object every member shares) needs no text to compare.
    for (const [k, v] of Object.entries(own)) if (v !== undefined && v !== template[k] && JSON.stringify(v) !== templateText.get(k)) differs[k] = v;
    const unset = Object.keys(template).filter((k) => template[k] !== undefined && own[k] === undefined);
    return { workflowId, stage: differs as Partial<ResolvedStage>, ...(unset.length ? { unset } : {}), ...(window ? { window } : {}) };
  });
  return { common, members };
}

function omitStage(c: FleetBatchCommon): Omit<FleetBatchCommon, 'stage'> {
  const { stage: _stage, ...rest } = c;
  return rest;
}

/** A member's whole input again (the batch's side). */
export function memberInput(common: FleetBatchCommon, m: FleetBatchMember, paused: boolean): FleetInstanceInput {
  const stage = { ...common.stage, ...m.stage } as unknown as Record<string, unknown>;
  for (const k of m.unset ?? []) delete stage[k];
  return { ...common, stage: stage as unknown as ResolvedStage, ...(m.window ? { window: m.window } : {}), ...(paused ? { paused: true } : {}) };
}

/** Who a batch's member is, as the campaign knows it: enough to read an end reported by member (FleetBatchMemberEnded). */
export interface BatchMemberId {
  workflowId: string;
  region: string;
  instanceId: string;
}

export function batchMemberIds(starts: readonly FleetInstanceStart[]): BatchMemberId[] {
  return starts.map((s) => ({ workflowId: s.workflowId, region: s.input.stage.region, instanceId: s.input.stage.instanceId }));
}

/** An end as the campaign counts it: one reported by member gets its ids back; one from a batch before it is as it was. */
export function endedOf(e: FleetBatchEnded | FleetBatchMemberEnded, members: readonly BatchMemberId[]): FleetBatchEnded | undefined {
  if (!('member' in e)) return e;
  const m = members[e.member];
  if (!m) return undefined;
  const ended: FleetBatchEnded = { workflowId: m.workflowId, state: e.state };
  if (e.note !== undefined) ended.note = e.note;
  if (e.result) ended.result = { instanceId: m.instanceId, region: m.region, ...e.result };
  return ended;
}

/** An end reported by member (the batch's side): its place, and its result without the ids the campaign has. */
export function memberEnded(member: number, e: FleetBatchEnded): FleetBatchMemberEnded {
  const out: FleetBatchMemberEnded = { member, state: e.state };
  if (e.note !== undefined) out.note = e.note;
  if (e.result) {
    const { instanceId: _i, region: _r, ...own } = e.result;
    out.result = own;
  }
  return out;
}
