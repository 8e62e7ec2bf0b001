/**
 * A batch of a fleet stage: some instances of one wave (or window group), each upgraded by a child workflow of its
 * own (fleet-instance.ts), started together. The campaign starts a batch per `instancesPerWorkflow` instances of a
 * wave instead of every instance itself, so that no workflow's history grows with the fleet: the campaign's grows
 * by a few events per batch, a batch's by about seven per instance.
 *
 * What the campaign did for its children a batch does for its own, and no more: pause and resume are passed on;
 * a cancellation (the campaign aborted, or its stage stopped) cancels every instance and waits for each to
 * compensate; each instance that ends is reported to the campaign (fleetBatchProgressSignal, at most one signal
 * per PROGRESS_INTERVAL_MS, so that the campaign's history grows with time, not with the instances), and the
 * batch's result names them all. Waves, the failure threshold, approvals and announcements stay the campaign's.
 */
import { CancellationScope, ChildWorkflowFailure, ParentClosePolicy, condition, getExternalWorkflowHandle, isCancellation, setHandler, sleep, startChild, workflowInfo, type ChildWorkflowHandle } from '@temporalio/workflow';
import { fleetBatchProgressSignal, fleetPauseSignal, type FleetBatchEnded, type FleetBatchInput, type FleetBatchMemberEnded, type FleetBatchMember, type FleetBatchResult, type FleetInstanceInput, type FleetInstanceResult, type FleetInstanceStart } from '../../api';
import { endedOf, memberEnded, memberInput, slimBatch, type BatchMemberId } from '../../domain/fleet-batch-input';
import { fleetBatchId, memberKey, type FleetEntry, type WindowGroup } from '../../domain/fleet';
import { BLUE_GREEN_FOLLOW_UP } from './blue-green';
import { describeWindow } from '../../domain/window-group';
import { describeError } from '../shared/failures';
import { upgradeFleetInstance } from './fleet-instance';
import type { StageRun } from './stage-run';

/** How often at most a batch tells the campaign of its failed instances, and how many times in all. */
export const PROGRESS_INTERVAL_MS = 60_000;
export const MAX_PROGRESS_SIGNALS = 3;

export async function upgradeFleetBatch(input: FleetBatchInput): Promise<FleetBatchResult> {
  let paused = input.paused ?? false;
  const running = new Map<string, ChildWorkflowHandle<typeof upgradeFleetInstance>>();
  // As the campaign reads them: by member when it asked so (FleetBatchInput.endsByMember), by workflow id before.
  const ended: (FleetBatchEnded | FleetBatchMemberEnded)[] = [];
  let unreported: (FleetBatchEnded | FleetBatchMemberEnded)[] = [];
  let starting = input.members.length;

  setHandler(fleetPauseSignal, ({ paused: p }) => {
    paused = p;
    for (const h of running.values()) void h.signal(fleetPauseSignal, { paused: p }).catch(() => undefined);
  });

  const end = (member: number, e: FleetBatchEnded) => {
    running.delete(e.workflowId);
    const told = input.endsByMember ? memberEnded(member, e) : e;
    ended.push(told);
    // Only failures are told early (the campaign's failure threshold counts them); the result tells the rest.
    if (e.state === 'failed') unreported.push(told);
  };
  /** Starts one instance and follows it to its end; never rejects (a start that fails ends the instance failed). */
  const start = async (m: FleetBatchMember, member: number): Promise<void> => {
    const sent = paused;
    const args = memberInput(input.common, m, sent);
    const texts = instanceTexts(args);
    let handle: ChildWorkflowHandle<typeof upgradeFleetInstance>;
    try {
      handle = await startChild(upgradeFleetInstance, {
        workflowId: m.workflowId,
        // A batch that closes (cancelled, terminated) asks its instances to stop and compensate.
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        staticSummary: texts.summary,
        staticDetails: texts.details,
        args: [args],
      });
    } catch (err) {
      end(member, { workflowId: m.workflowId, state: isCancellation(err) ? 'aborted' : 'failed', note: isCancellation(err) ? 'the campaign was aborted before it started' : `its workflow could not be started: ${describeError(err)}` });
      return;
    } finally {
      starting -= 1;
    }
    running.set(m.workflowId, handle);
    // A pause or resume that came while the start was in flight.
    if (paused !== sent) void handle.signal(fleetPauseSignal, { paused }).catch(() => undefined);
    await handle.result().then(
      (result) => end(member, { workflowId: m.workflowId, state: result.state, note: result.note, result: campaignPart(result) }),
      (err: unknown) =>
        end(member, {
          workflowId: m.workflowId,
          state: isCancellation(err) ? 'aborted' : 'failed',
          note: err instanceof ChildWorkflowFailure ? describeError(err.cause ?? err) : describeError(err),
        }),
    );
  };

  // The instances run in their own scope: a cancelled batch cancels them, then waits for each to compensate.
  const children = new CancellationScope();
  // All of the batch's children in one workflow task (awaiting each start would take a task per child).
  const all = children.run(() => Promise.all(input.members.map((m, i) => start(m, i))));
  all.catch(() => undefined);
  let done = false;
  const finished = CancellationScope.nonCancellable(async () => {
    // Every start settled (started, or failed, or dropped by a cancellation), and every started instance ended.
    await condition(() => starting === 0 && running.size === 0);
    done = true;
  });

  const campaign = getExternalWorkflowHandle(input.campaignWorkflowId);
  let signals = 0;
  try {
    while (!done) {
      await condition(() => done || (unreported.length > 0 && signals < MAX_PROGRESS_SIGNALS));
      if (done) break;
      const batch = unreported;
      unreported = [];
      signals += 1;
      await campaign.signal(fleetBatchProgressSignal, { ended: batch, ...(input.endsByMember ? { batch: workflowInfo().workflowId } : {}) }).catch(() => undefined);
      // Failures that follow soon go together with the next signal.
      await Promise.race([sleep(PROGRESS_INTERVAL_MS, { summary: `gather the failures of the next ${PROGRESS_INTERVAL_MS / 1000} s before telling the campaign again` }), finished]);
    }
  } catch (err) {
    // The batch was cancelled (the campaign aborted, or its stage stopped): its instances compensate.
    if (!isCancellation(err)) throw err;
    children.cancel();
    await finished;
  }
  return { ended };
}

// ---- the campaign's side -------------------------------------------------------------------------------------------

/**
 * What the campaign reads of an instance's result (fleet-waves.ts): its end, and of its follow-ups only those the
 * campaign repeats (a failed compensation, what a Blue/Green upgrade left running). The batch's result, in the
 * campaign's history, carries no more; the instance's own workflow keeps the whole result.
 */
function campaignPart(r: FleetInstanceResult): FleetInstanceResult {
  return { ...r, followUps: r.followUps.filter(repeatedByCampaign) };
}

/** The follow-ups of an instance the campaign repeats in its own status (fleet-waves.ts): a failed compensation, what Blue/Green left. */
export const repeatedByCampaign = (followUp: string): boolean => followUp.startsWith('Compensation failed') || followUp.startsWith(BLUE_GREEN_FOLLOW_UP);

/** What the Temporal UI says of an instance's workflow: its instance and wave, and the campaign it belongs to. */
function instanceTexts(input: FleetInstanceInput): { summary: string; details: string } {
  const s = input.stage;
  const w = input.window;
  return {
    summary: `${memberKey(s)} → ${input.targetEngineVersion}: ${s.name} wave ${input.wave}`,
    details: `campaign ${input.campaignId}, stage ${s.name} (${s.method}), wave ${input.wave}${w ? `, window ${describeWindow(w.startMs, w.endMs)}` : ''}`,
  };
}

/** One instance's workflow as the campaign (or its batch) starts it: its id, what the Temporal UI says of it, its input. */
export function fleetMember(st: StageRun, wave: number, e: FleetEntry, workflowId: string, window?: WindowGroup['window']): FleetInstanceStart {
  const input: FleetInstanceInput = {
    campaignId: st.settings.campaignId,
    parentWorkflowId: workflowInfo().workflowId,
    targetEngineVersion: st.target,
    requester: st.settings.requester,
    stage: e.stage,
    wave,
    blackouts: st.settings.blackouts,
    pollIntervalMs: st.settings.pollIntervalMs,
    window: window ? { startMs: window.startMs, endMs: window.endMs } : undefined,
    paused: st.run.people.paused || undefined,
  };
  return { workflowId, ...instanceTexts(input), input };
}

/**
 * Starts one batch of a wave. `ended` resolves, once the batch has ended, with every member's end: those the batch
 * reported, and the ones it never started (cancelled first: aborted) or lost with it (the batch failed: failed).
 */
export async function startFleetBatch(
  st: StageRun,
  b: { wave: number; batch: number; batches: number; members: FleetInstanceStart[]; ids: BatchMemberId[]; paused?: boolean },
): Promise<{ id: string; handle?: ChildWorkflowHandle<typeof upgradeFleetBatch>; ended: Promise<FleetBatchEnded[]> }> {
  const s = st.stage;
  const id = fleetBatchId(workflowInfo().workflowId, s.name, b.wave, b.batch);
  const names = b.members.slice(0, 10).map((m) => `${m.input.stage.region}/${m.input.stage.instanceId}`);
  /** Every member's end: those the batch reported; any other ends as `missing` says. */
  const complete = (ended: FleetBatchEnded[], missing: Omit<FleetBatchEnded, 'workflowId'>): FleetBatchEnded[] => {
    const seen = new Set(ended.map((e) => e.workflowId));
    return [...ended, ...b.members.filter((m) => !seen.has(m.workflowId)).map((m): FleetBatchEnded => ({ workflowId: m.workflowId, ...missing }))];
  };
  const lost = (err: unknown, what: string): Omit<FleetBatchEnded, 'workflowId'> =>
    isCancellation(err)
      ? { state: 'aborted', note: 'the campaign was aborted before it started' }
      : { state: 'failed', note: `its batch ${id} ${what}: ${err instanceof ChildWorkflowFailure ? describeError(err.cause ?? err) : describeError(err)}` };
  let handle: ChildWorkflowHandle<typeof upgradeFleetBatch>;
  try {
    handle = await startChild(upgradeFleetBatch, {
    workflowId: id,
    // A campaign that closes (terminated by hand) asks its batches, and so their instances, to stop and compensate.
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    staticSummary: `${s.name} wave ${b.wave}${b.batches > 1 ? ` (batch ${b.batch}/${b.batches})` : ''}: ${b.members.length} instance(s) → ${st.target}`,
    staticDetails: `campaign ${st.settings.campaignId}, stage ${s.name} (${s.method}): ${names.join(', ')}${b.members.length > names.length ? ` and ${b.members.length - names.length} more` : ''}`,
    args: [{ campaignId: st.settings.campaignId, campaignWorkflowId: workflowInfo().workflowId, stage: s.name, wave: b.wave, batch: b.batch, batches: b.batches, ...slimBatch(b.members), paused: b.paused || undefined, endsByMember: true }],
    });
  } catch (err) {
    // Never started (a cancellation first, or the server refused it): its instances end here, counted by the campaign.
    return { id, ended: Promise.resolve(complete([], lost(err, 'could not be started'))) };
  }
  const ended = handle.result().then(
    (result) => complete(result.ended.flatMap((e) => endedOf(e, b.ids) ?? []), { state: 'failed', note: `its batch ${id} did not report it` }),
    (err: unknown) => complete([], lost(err, 'failed')),
  );
  // A pause or resume that came while the batch's start was in flight.
  if (st.run.people.paused !== (b.paused ?? false)) void handle.signal(fleetPauseSignal, { paused: st.run.people.paused }).catch(() => undefined);
  return { id, handle, ended };
}
