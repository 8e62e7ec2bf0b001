/**
 * Custom search attributes that make campaigns and restores findable in the Temporal UI and with
 * `temporal workflow list --query`. Registered on the dev server by the demo and the test harness;
 * on a real cluster see README "Search attributes".
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const RDS_OPERATION = defineSearchAttributeKey('RdsOperation', SearchAttributeType.KEYWORD);
export const RDS_CAMPAIGN_ID = defineSearchAttributeKey('RdsCampaignId', SearchAttributeType.KEYWORD);
export const RDS_STAGE = defineSearchAttributeKey('RdsStage', SearchAttributeType.KEYWORD);
export const RDS_INSTANCES = defineSearchAttributeKey('RdsInstances', SearchAttributeType.KEYWORD_LIST);
export const RDS_STATE = defineSearchAttributeKey('RdsState', SearchAttributeType.KEYWORD);

export const ALL_SEARCH_ATTRIBUTES = [RDS_OPERATION, RDS_CAMPAIGN_ID, RDS_STAGE, RDS_INSTANCES, RDS_STATE];
