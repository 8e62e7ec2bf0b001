/**
 * A fleet stage's batches (src/workflows/campaign/fleet-batch.ts): what the campaign gives a batch workflow, and
 * what the batch tells the campaign of its instances.
 */
import type { FleetInstanceInput, FleetInstanceResult, ResolvedStage } from './campaign';

/** One instance's workflow as the campaign starts it itself (runs before batches): its id, what the Temporal UI says of it, its input. */
export interface FleetInstanceStart {
  workflowId: string;
  summary: string;
  details: string;
  input: FleetInstanceInput;
}

/**
 * What every instance of a batch is given alike: its input (the stage with the first instance's own fields), all
 * but the window and the pause. Each member carries only what differs (FleetBatchMember), so that a batch of 500
 * holds the stage's settings once in the campaign's history, not 500 times.
 */
export type FleetBatchCommon = Omit<FleetInstanceInput, 'window' | 'paused'>;

/** One instance of a batch: its workflow id, and what its input has of its own (src/domain/fleet-batch-input.ts). */
export interface FleetBatchMember {
  workflowId: string;
  /** The fields of its stage that differ from the common stage's (its region, instance, account...). */
  stage: Partial<ResolvedStage>;
  /** Fields of the common stage its own stage does not have. */
  unset?: string[];
  /** A stage that requires approval: its approved window. */
  window?: { startMs: number; endMs: number };
}

/**
 * What the campaign gives a batch (`upgradeFleetBatch`): some instances of one wave or window group, started
 * together, each in a workflow of its own, as the campaign started them itself before batches.
 */
export interface FleetBatchInput {
  campaignId: string;
  /** The campaign's workflow, which hears of each instance that ends (fleetBatchProgressSignal). */
  campaignWorkflowId: string;
  stage: string;
  wave: number;
  /** This batch's number within its wave, and how many the wave has. */
  batch: number;
  batches: number;
  common: FleetBatchCommon;
  members: FleetBatchMember[];
  paused?: boolean;
  /**
   * The campaign reads each end by the member's place in `members` (FleetBatchMemberEnded), without the ids it
   * already has. Set by campaigns since it; a batch without it answers as before (FleetBatchEnded).
   */
  endsByMember?: boolean;
}

/** What an instance of a batch ended with, as the campaign counts it. */
export interface FleetBatchEnded {
  workflowId: string;
  state: FleetInstanceResult['state'] | 'failed';
  note?: string;
  result?: FleetInstanceResult;
}

/**
 * An instance's end as a batch told `endsByMember` reports it: its place in the batch's `members`, and of its
 * result what the campaign does not know already (not its workflow id, instance or region: about 150 bytes less
 * per instance in the campaign's history, 1.5 MB at 10,000 instances).
 */
export interface FleetBatchMemberEnded {
  member: number;
  state: FleetBatchEnded['state'];
  note?: string;
  result?: Omit<FleetInstanceResult, 'instanceId' | 'region'>;
}

export interface FleetBatchResult {
  ended: (FleetBatchEnded | FleetBatchMemberEnded)[];
}
