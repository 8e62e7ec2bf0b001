/**
 * CloudTrail events made from the simulator's call log: each AWS call that passed authentication is a management
 * event of the caller's account, in the Region it was made to. Route 53 is a global service: its events are in
 * us-east-1 (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-concepts.html#cloudtrail-concepts-global-service-events;
 * global services' events "are recorded in the Region in which they were created, the US East (N. Virginia) Region",
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-create-and-update-a-trail-by-using-the-aws-cli-update-trail.html).
 * STS calls are made to the SDK's regional endpoint and stay in that Region.
 * The record (CloudTrailEvent) has the fields of
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html and a
 * userIdentity as https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html
 * describes it (IAMUser, AssumedRole with sessionContext.sessionIssuer, Root); failed calls carry errorCode and
 * errorMessage. LookupEvents' Username is the IAM user's name, the role session's name, or `root`.
 */
import { createHash } from 'node:crypto';
import type { CallDetails, CallLog, CallRecord } from '../core/call-log';
import { jsonParameters, queryParameters, xmlBodyJson } from './params';

export const TRAIL_SERVICES: Record<string, string> = {
  rds: 'rds.amazonaws.com',
  ec2: 'ec2.amazonaws.com',
  route53: 'route53.amazonaws.com',
  sts: 'sts.amazonaws.com',
  cloudtrail: 'cloudtrail.amazonaws.com',
};
const GLOBAL_SERVICES = new Set(['route53']);

export interface TrailResource {
  ResourceType: string;
  ResourceName: string;
}

/** What LookupEvents filters on; the full record is built only for the events it returns. */
export interface TrailEvent {
  call: CallRecord;
  details: CallDetails;
  eventId: string;
  eventName: string;
  eventSource: string;
  region: string;
  readOnly: boolean;
  accessKeyId?: string;
  username: string;
  resources: TrailResource[];
  timeMs: number;
}

/** A stable event id (a UUID's shape) for a call, so repeated lookups agree. */
const eventIdOf = (call: CallRecord): string => {
  const h = createHash('sha256').update(`cloudtrail-event:${call.requestId ?? call.seq}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

const sessionOf = (d: CallDetails): NonNullable<CallDetails['session']> | undefined => d.session;

function username(call: CallRecord, d: CallDetails): string {
  const session = sessionOf(d);
  if (session) return session.sessionName;
  const arn = call.principal ?? '';
  if (/:root$/.test(arn)) return 'root';
  return arn.split('/').pop() ?? arn;
}

/** The resources a call names, as LookupEvents lists them. */
function resourcesOf(call: CallRecord, d: CallDetails): TrailResource[] {
  const params = new Map(d.form ?? Object.entries(call.params));
  const out: TrailResource[] = [];
  const add = (type: string, name: string | undefined): void => {
    if (name && !out.some((r) => r.ResourceType === type && r.ResourceName === name)) out.push({ ResourceType: type, ResourceName: name });
  };
  if (call.service === 'rds') {
    for (const k of ['DBInstanceIdentifier', 'SourceDBInstanceIdentifier', 'TargetDBInstanceIdentifier', 'ResourceIdentifier', 'ResourceName']) add('AWS::RDS::DBInstance', params.get(k));
  } else if (call.service === 'ec2') {
    for (const [k, v] of params) if (/^GroupId(\.\d+)?$/.test(k)) add('AWS::EC2::SecurityGroup', v);
    add('AWS::EC2::VPC', params.get('VpcId'));
  } else if (call.service === 'route53') {
    add('AWS::Route53::HostedZone', call.params.HostedZoneId);
  } else if (call.service === 'sts') {
    add('AWS::IAM::Role', params.get('RoleArn'));
  }
  return out;
}

/**
 * The call as a CloudTrail event, or undefined when CloudTrail has none (not AWS, refused credentials, or an
 * injected timeout or reset: httpStatus 0, the request never reached the service).
 */
export function trailEvent(log: CallLog, call: CallRecord): TrailEvent | undefined {
  const eventSource = TRAIL_SERVICES[call.service];
  if (!eventSource || call.account === '-' || !call.principal || call.httpStatus === 0) return undefined;
  const details = log.detailsOf(call) ?? {};
  return {
    call,
    details,
    eventId: eventIdOf(call),
    eventName: call.action,
    eventSource,
    region: GLOBAL_SERVICES.has(call.service) ? 'us-east-1' : call.region,
    readOnly: !call.isMutation,
    accessKeyId: call.accessKeyId,
    username: username(call, details),
    resources: resourcesOf(call, details),
    timeMs: Date.parse(call.at),
  };
}

function userIdentity(e: TrailEvent): Record<string, unknown> {
  const { call, details } = e;
  const arn = call.principal as string;
  const base = { arn, accountId: call.account, accessKeyId: call.accessKeyId };
  const session = sessionOf(details);
  if (session) {
    const roleName = session.roleArn.split('/').pop();
    return {
      type: 'AssumedRole',
      principalId: session.assumedRoleId,
      ...base,
      sessionContext: {
        sessionIssuer: { type: 'Role', principalId: session.assumedRoleId.split(':')[0], arn: session.roleArn, accountId: call.account, userName: roleName },
        webIdFederationData: {},
        attributes: { creationDate: isoSeconds(session.issuedAt), mfaAuthenticated: 'false' },
      },
    };
  }
  if (/:root$/.test(arn)) return { type: 'Root', principalId: call.account, ...base };
  return { type: 'IAMUser', principalId: details.userId, ...base, userName: e.username };
}

const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function requestParameters(e: TrailEvent): Record<string, unknown> | null {
  const { call, details } = e;
  if (call.service === 'cloudtrail') return jsonParameters(details.body ?? '');
  if (call.service === 'route53') {
    const fromPath: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(call.params)) if (k !== 'body') fromPath[k === 'Id' ? 'id' : k === 'HostedZoneId' ? 'hostedZoneId' : k] = v;
    const fromBody = details.body ? xmlBodyJson(details.body, 'route53') : null;
    const all = { ...fromPath, ...fromBody };
    return Object.keys(all).length > 0 ? all : null;
  }
  return queryParameters(details.form ?? Object.entries(call.params), call.service);
}

/** The CloudTrail record of the event (LookupEvents' CloudTrailEvent, as JSON). */
export function trailRecord(e: TrailEvent): Record<string, unknown> {
  const { call, details } = e;
  const failed = call.httpStatus >= 300;
  return {
    eventVersion: '1.09',
    userIdentity: userIdentity(e),
    eventTime: isoSeconds(e.timeMs),
    eventSource: e.eventSource,
    eventName: e.eventName,
    awsRegion: e.region,
    sourceIPAddress: details.sourceIp ?? '127.0.0.1',
    userAgent: details.userAgent ?? '',
    ...(failed ? { errorCode: call.errorCode, errorMessage: details.errorMessage } : {}),
    requestParameters: requestParameters(e),
    responseElements: !failed && details.response ? xmlBodyJson(details.response, call.service) : null,
    requestID: call.requestId,
    eventID: e.eventId,
    readOnly: e.readOnly,
    ...(call.service === 'sts' && e.resources.length > 0 ? { resources: e.resources.map((r) => ({ accountId: call.account, type: r.ResourceType, ARN: r.ResourceName })) } : {}),
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: call.account,
    eventCategory: 'Management',
  };
}
