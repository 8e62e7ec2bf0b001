/**
 * A fleet stage's batches (src/workflows/campaign/fleet-batch.ts): what the campaign gives a batch workflow, and
 * what the batch tells the campaign of its instances.
 */
import type { FleetInstanceInput, FleetInstanceResult } from './campaign';

/** One instance a batch starts: its workflow id, what the Temporal UI says of it, and its input. */
export interface FleetBatchMember {
  workflowId: string;
  summary: string;
  details: string;
  input: FleetInstanceInput;
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
  members: FleetBatchMember[];
  paused?: boolean;
}

/** What an instance of a batch ended with, as the campaign counts it. */
export interface FleetBatchEnded {
  workflowId: string;
  state: FleetInstanceResult['state'] | 'failed';
  note?: string;
  result?: FleetInstanceResult;
}

export interface FleetBatchResult {
  ended: FleetBatchEnded[];
}
