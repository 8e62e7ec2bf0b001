/**
 * Route 53 activities for the DNS cutover: read the hosted zone (private or public), read and UPSERT one
 * weighted CNAME, wait for the change to reach INSYNC, and ask Route 53 what its authoritative servers
 * answer (TestDNSAnswer, public zones only).
 */
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListResourceRecordSetsCommand,
  TestDNSAnswerCommand,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import { callAws } from './aws-errors';
import { activityContext, pollUntil } from './waiting';
import type { AwsAccess, HostedZoneInfo, MutationResult, Route53Activities, WeightedCname } from '../api/activities';
import type { ChangeWait, DnsAnswerQuery, HostedZoneRef, WeightedCnameRef, WeightedCnameUpsert } from '../api/activities';
import { describeIdentity } from './location';

export interface Route53ActivitiesDeps {
  /** Route 53 is a global service (region us-east-1): one client per identity (the zone's account). */
  route53For: (access: AwsAccess | undefined) => Route53Client;
}

/** Route 53 answers fully qualified names with a trailing dot; callers may write either form. */
export function normaliseDnsName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** Change ids come back as "/change/C123"; keep the bare id (GetChange accepts both). */
function bareChangeId(id: string): string {
  return id.replace(/^\/change\//, '');
}

export function createRoute53Activities(deps: Route53ActivitiesDeps): Route53Activities {
  const client = (access: AwsAccess | undefined) => deps.route53For(access);
  const as = (access: AwsAccess | undefined) => describeIdentity(access ? { region: 'us-east-1', ...access } : undefined);

  async function describeHostedZone({ hostedZoneId, access }: HostedZoneRef): Promise<HostedZoneInfo> {
    const out = await callAws({ operation: `GetHostedZone ${hostedZoneId}`, as: as(access) }, () => client(access).send(new GetHostedZoneCommand({ Id: hostedZoneId })));
    return {
      hostedZoneId,
      name: normaliseDnsName(out.HostedZone?.Name ?? ''),
      privateZone: out.HostedZone?.Config?.PrivateZone ?? false,
      vpcs: (out.VPCs ?? []).flatMap((v) => (v.VPCId ? [{ region: v.VPCRegion ?? '', vpcId: v.VPCId }] : [])),
    };
  }

  async function getWeightedCname({ hostedZoneId, recordName, setIdentifier, access }: WeightedCnameRef): Promise<WeightedCname | undefined> {
    const out = await callAws({ operation: `ListResourceRecordSets ${recordName} in zone ${hostedZoneId}`, as: as(access) }, () =>
      client(access).send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: hostedZoneId,
          StartRecordName: recordName,
          StartRecordType: 'CNAME',
          StartRecordIdentifier: setIdentifier,
          MaxItems: 10,
        }),
      ),
    );
    // The listing starts at the given name but continues past it: match exactly.
    const wantedName = normaliseDnsName(recordName);
    const rr = (out.ResourceRecordSets ?? []).find(
      (r) => r.Type === 'CNAME' && r.SetIdentifier === setIdentifier && normaliseDnsName(r.Name ?? '') === wantedName,
    );
    if (!rr) return undefined;
    return {
      hostedZoneId,
      recordName,
      setIdentifier,
      weight: rr.Weight ?? 0,
      ttlSeconds: rr.TTL ?? 0,
      value: rr.ResourceRecords?.[0]?.Value ?? '',
    };
  }

  async function upsertWeightedCname({ record, access }: WeightedCnameUpsert): Promise<MutationResult & { changeId?: string }> {
    const current = await getWeightedCname({ hostedZoneId: record.hostedZoneId, recordName: record.recordName, setIdentifier: record.setIdentifier, access });
    const what = `${record.recordName} [${record.setIdentifier}] -> ${record.value} weight ${record.weight} ttl ${record.ttlSeconds}`;
    const inPlace =
      current !== undefined &&
      current.weight === record.weight &&
      current.ttlSeconds === record.ttlSeconds &&
      normaliseDnsName(current.value) === normaliseDnsName(record.value);
    // On a retry, a record already as wanted may be the change an earlier attempt sent and never heard back from, still
    // PENDING: ListResourceRecordSets "returns the most current version of the records. This includes records that are
    // PENDING, and that are not yet available on all Route 53 DNS servers". So a retry sends the UPSERT (idempotent)
    // again, for a change id to wait on until INSYNC; skipping the wait let a retried switch start its TTL wait early.
    // A first attempt finds nothing of its own in flight: it sends nothing (a record never switched needs no put-back).
    const retry = (activityContext()?.info.attempt ?? 1) > 1;
    if (inPlace && !retry) return { changed: false, detail: `CNAME ${what} already in place` };
    const out = await callAws({ operation: `UPSERT CNAME ${what} in zone ${record.hostedZoneId}`, as: as(access) }, () =>
      client(access).send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: record.hostedZoneId,
          ChangeBatch: {
            Comment: `rds-orchestrator: ${record.setIdentifier} weight ${record.weight}`,
            Changes: [
              {
                Action: 'UPSERT',
                ResourceRecordSet: {
                  Name: record.recordName,
                  Type: 'CNAME',
                  SetIdentifier: record.setIdentifier,
                  Weight: record.weight,
                  TTL: record.ttlSeconds,
                  ResourceRecords: [{ Value: record.value }],
                },
              },
            ],
          },
        }),
      ),
    );
    const changeId = out.ChangeInfo?.Id ? bareChangeId(out.ChangeInfo.Id) : undefined;
    if (inPlace) return { changed: false, detail: `CNAME ${what} already in place; sent again to wait until it is INSYNC (${out.ChangeInfo?.Status ?? 'submitted'})`, changeId };
    return { changed: true, detail: `UPSERT CNAME ${what} (${out.ChangeInfo?.Status ?? 'submitted'})`, changeId, action: 'route53:ChangeResourceRecordSets', resource: `${record.recordName} (${record.setIdentifier}) in ${record.hostedZoneId}`, requestId: out.$metadata?.requestId };
  }

  async function waitForChangeInsync({ changeId, access, poll }: ChangeWait): Promise<void> {
    await pollUntil(poll, async () => {
      const out = await callAws({ operation: `GetChange ${changeId}`, as: as(access) }, () => client(access).send(new GetChangeCommand({ Id: changeId })));
      const status = out.ChangeInfo?.Status;
      if (status === 'INSYNC') return { done: true, value: undefined };
      return { done: false, waitingFor: `Route 53 change ${changeId} is ${status ?? 'unknown'}; waiting for INSYNC` };
    });
  }

  /** Only for public zones: "This call only supports querying public hosted zones" (TestDNSAnswer reference). */
  async function testDnsAnswer({ hostedZoneId, recordName, access }: DnsAnswerQuery): Promise<{ recordData: string[]; responseCode: string }> {
    const out = await callAws({ operation: `TestDNSAnswer ${recordName} in zone ${hostedZoneId}`, as: as(access) }, () =>
      client(access).send(new TestDNSAnswerCommand({ HostedZoneId: hostedZoneId, RecordName: recordName, RecordType: 'CNAME' })),
    );
    return { recordData: out.RecordData ?? [], responseCode: out.ResponseCode ?? '' };
  }

  return { describeHostedZone, getWeightedCname, upsertWeightedCname, waitForChangeInsync, testDnsAnswer };
}
