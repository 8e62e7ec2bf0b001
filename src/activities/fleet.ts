/**
 * The fleet activity: which instances of one region and account a fleet stage takes, with what RDS lists
 * as pending for each. The selection rules are ../domain/fleet-selection.ts (shared with the workflow tests' fake).
 */
import {
  DescribeDBInstancesCommand,
  DescribePendingMaintenanceActionsCommand,
  type DBInstance,
  type Filter,
  type RDSClient,
} from '@aws-sdk/client-rds';
import type { AwsWhere, FleetFound, PendingMaintenanceAction } from '../api/activities';
import type { FleetSearch } from '../api/activities';
import { callAws } from './aws-errors';
import { dbInstanceIdOf } from '../domain/aws-identity';
import { listedIds, selectFleet, toFleetMember, type FleetCandidate } from '../domain/fleet-selection';
import { regionOf } from './location';
import { instanceBasics, toPendingAction } from './rds-shapes';

/**
 * RDS pages: MaxRecords "Default: 100. Constraints: Minimum 20, maximum 100"
 * (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBInstances.html,
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribePendingMaintenanceActions.html).
 */
const PAGE_SIZE = 100;
/**
 * The most identifiers one `db-instance-id` filter is given. The API reference states no limit, but RDS
 * refuses more than 100 values in its identifier filters ("Only up to 100 unique filter DB Cluster
 * Identifiers may be specified per filter", DescribeDBClusters, cloud-custodian/cloud-custodian#10133);
 * longer lists are read from the listing of the whole region instead.
 */
const MAX_ID_FILTER_VALUES = 100;

function toFleetCandidate(region: string, db: DBInstance): FleetCandidate {
  return instanceBasics(region, db);
}

/**
 * A fleet stage's instances (selection rules: ../domain/fleet-selection.ts). One DescribeDBInstances listing, every page:
 * - no server-side `engine` filter: an instance the tags (or the list) name but of another engine must be
 *   reported in `excluded`, so it has to be seen. RDS has no tag filter at all (Filters: db-cluster-id,
 *   db-instance-id, dbi-resource-id, domain, engine; a `tag:` filter is refused with InvalidParameterValue,
 *   boto/boto3#3119, aws/aws-sdk#177): tags are read from each instance's TagList;
 * - listed instances: a `db-instance-id` filter with the lower-cased identifiers (filter values are
 *   case-sensitive, identifiers are stored lower-case), or the whole region when more than
 *   MAX_ID_FILTER_VALUES are listed.
 * Then, only when there are members, one DescribePendingMaintenanceActions for the whole region (no
 * ResourceIdentifier, no filter), every page, matched to members by the instance ResourceIdentifier names
 * (its ARN; ../domain/aws-identity.ts dbInstanceIdOf, the rule listPendingMaintenance uses too).
 * Both are plain reads: a failure (AccessDenied, throttling, ...) goes through the shared error mapping,
 * and a retry starts over. The worker's keep-alive heartbeats cover the pages (./index.ts keptAlive).
 */
export function fleetFinder(deps: { rdsClientFor: (where: AwsWhere) => RDSClient }): (input: FleetSearch) => Promise<FleetFound> {
  return async function findFleet({ where, query }: FleetSearch): Promise<FleetFound> {
    const region = regionOf(where);
    const listed = listedIds(query);
    if (listed?.length === 0) return { members: [], missing: [], excluded: [] };
    const filters: Filter[] | undefined =
      listed && listed.length <= MAX_ID_FILTER_VALUES ? [{ Name: 'db-instance-id', Values: listed }] : undefined;
    const candidates: FleetCandidate[] = [];
    let marker: string | undefined;
    do {
      const out = await callAws({ operation: 'DescribeDBInstances (fleet)', where }, () =>
        deps.rdsClientFor(where).send(new DescribeDBInstancesCommand({ Filters: filters, MaxRecords: PAGE_SIZE, Marker: marker })),
      );
      for (const db of out.DBInstances ?? []) if (db.DBInstanceIdentifier) candidates.push(toFleetCandidate(region, db));
      marker = out.Marker;
    } while (marker);

    const { chosen, missing, excluded } = selectFleet(candidates, query);
    const pendingById = new Map<string, PendingMaintenanceAction[]>();
    if (chosen.length > 0) {
      marker = undefined;
      do {
        const out = await callAws({ operation: 'DescribePendingMaintenanceActions (fleet)', where }, () =>
          deps.rdsClientFor(where).send(new DescribePendingMaintenanceActionsCommand({ MaxRecords: PAGE_SIZE, Marker: marker })),
        );
        for (const resource of out.PendingMaintenanceActions ?? []) {
          // One region of one account: the instance's name identifies it (a cluster's ARN names none).
          const id = dbInstanceIdOf(resource.ResourceIdentifier ?? '');
          if (id === undefined) continue;
          const actions = pendingById.get(id) ?? [];
          for (const a of resource.PendingMaintenanceActionDetails ?? []) {
            const action = toPendingAction(a);
            if (action) actions.push(action);
          }
          pendingById.set(id, actions);
        }
        marker = out.Marker;
      } while (marker);
    }
    return {
      members: chosen.map((c) => toFleetMember(c, query, pendingById.get(c.instanceId.toLowerCase()) ?? [])),
      missing,
      excluded,
    };
  };
}
