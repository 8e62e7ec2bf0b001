/**
 * Every patch a run takes, decided with one marker instead of one each.
 *
 * SDK core writes each `patched()` the run takes as two events (a marker, and an upsert of the
 * TemporalChangeVersion search attribute that lists every patch so far), so the eleven patches below cost a
 * campaign 16 events and their bytes in its first workflow task, and each fleet instance 8 of its 46. A run
 * started since EVERY_PATCH_OF_2026_12_07 takes all of them with that one marker; a run started before it
 * finds no such marker, and asks each patch as it always did, so its history replays unchanged.
 *
 * The decision is asked once per run, by the first patch the run asks (in its first workflow task: every patch
 * here is decided when the run starts) and kept for the rest of the run: a missing marker during replay is
 * not the SDK's final answer, and a run started before must not take it later, when it goes live again.
 * A workflow's module state is its own (the SDK evaluates the workflow bundle's modules for each run).
 *
 * A patch added after this one is not in COVERED_BY_ONE_MARKER: it gets its own marker (or a next marker of
 * the same kind, covering the patches of its day).
 */
import { patched } from '@temporalio/workflow';

/** patched() id: a run started since this change takes every patch in COVERED_BY_ONE_MARKER with this one marker. */
export const EVERY_PATCH_OF_2026_12_07 = 'every-patch-of-2026-12-07-in-one-marker';

/** The patches EVERY_PATCH_OF_2026_12_07 stands for (their ids; the constants live where they are used). */
export const COVERED_BY_ONE_MARKER: readonly string[] = [
  'campaign-estate-guard',
  'campaign-upsert-search-attributes-on-change',
  'campaign-window-groups-named-by-start-and-end',
  'fleet-batches',
  'fleet-places-read-together',
  'fleet-status-lists-a-part',
  'notify-as-local-activity',
  'signed-human-actions',
  'restore-notify-before-stopping-old-instance',
  'restore-own-security-group-private-zone-decide-after-switch',
  'restore-bastion-account-checked',
];

let takesEveryPatch: boolean | undefined;

/** Whether this run takes the patch `id`: `patched(id)`, answered by the one marker in runs started since it. */
export function takesPatch(id: string): boolean {
  takesEveryPatch ??= patched(EVERY_PATCH_OF_2026_12_07);
  if (takesEveryPatch && COVERED_BY_ONE_MARKER.includes(id)) return true;
  return patched(id);
}
