/**
 * The updates and the query of both workflows (names are part of the contract: running workflows and
 * recorded histories use them).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CampaignStatus } from './campaign';
import type { CampaignStatusRequest } from './fleet-status';
import type { FleetBatchEnded, FleetBatchMemberEnded } from './fleet-batch';
import type { ActorRequest, ApproveRequest, DecideRequest } from './common';
import type { RestoreStatus } from './restore';

export const campaignStatusQuery = defineQuery<CampaignStatus>('status');
/**
 * The same query with its optional request: a page of each fleet stage's instances, or one instance
 * (CampaignStatusRequest). A worker from before it answers every instance, whatever is asked.
 */
export const campaignStatusOfQuery = defineQuery<CampaignStatus, [CampaignStatusRequest?]>('status');
export const approveUpdate = defineUpdate<string, [ApproveRequest]>('approve');
export const decideUpdate = defineUpdate<string, [DecideRequest]>('decide');
export const pauseUpdate = defineUpdate<string, [ActorRequest]>('pause');
export const resumeUpdate = defineUpdate<string, [ActorRequest]>('resume');
export const abortUpdate = defineUpdate<string, [ActorRequest]>('abort');

export const restoreStatusQuery = defineQuery<RestoreStatus>('status');

/** Parent campaign → the child workflow of one fleet instance: hold at the next checkpoint, or go on. */
export const fleetPauseSignal = defineSignal<[{ paused: boolean }]>('fleet-pause');
/** A batch of a fleet stage tells its campaign which of its instances ended since it last said (coalesced). */
/** `batch`: the batch's workflow id, with ends by member (FleetBatchInput.endsByMember). */
export const fleetBatchProgressSignal = defineSignal<[{ ended: (FleetBatchEnded | FleetBatchMemberEnded)[]; batch?: string }]>('fleet-batch-progress');
