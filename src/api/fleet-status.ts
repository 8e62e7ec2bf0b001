/**
 * What a campaign's status answer lists of a large fleet stage, and what a status query may ask (src/domain/fleet-status.ts
 * decides; the CLI reads pages and single instances through them).
 */
/** Which of a fleet stage's instances a status answer lists (FleetReport.listed). */
export interface FleetListing {
  /**
   * attention: the failed, running, aborted and flagged ones (a stage of more than STATUS_LISTS_AT_MOST instances,
   * when the query asks nothing); page: `from` onwards, in the stage's order; matching: those the query named.
   */
  which: 'attention' | 'page' | 'matching';
  /** page: the position (0-based) of the first listed instance in the stage's whole list. */
  from?: number;
  /** How many instances the stage has in all (as many as its counts add up to). */
  of: number;
  /** The versions its instances run (what the stage upgrades from), sorted. */
  fromVersions: string[];
}

/**
 * What a status query may ask (its one optional argument; workers before it ignore it and answer every instance).
 * Without it, a fleet stage of at most STATUS_LISTS_AT_MOST instances lists them all, a larger one only those that
 * need attention (`listed`): Temporal refuses an answer over 2 MB, about 250 bytes an instance.
 */
export interface CampaignStatusRequest {
  /** One instance of a fleet stage (ID or REGION/ID, any case): each fleet stage lists only the instances it names. */
  instance?: string;
  /** With `instance`: only this fleet stage lists its match. */
  stage?: string;
  /** Each fleet stage lists its instances from `from` (0-based), at most `size` (1 to STATUS_LISTS_AT_MOST). */
  page?: { from: number; size: number };
}
