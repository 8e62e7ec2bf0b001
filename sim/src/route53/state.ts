/** What Route 53 keeps in the simulator's state: hosted zones and changes, keyed `${account}/${id}` (a global service). */
import type { StatePart } from '../core/state';

export interface ResourceRecordSet {
  name: string;
  type: string;
  ttl?: number;
  values: string[];
  setIdentifier?: string;
  weight?: number;
  aliasTarget?: { hostedZoneId: string; dnsName: string; evaluateTargetHealth: boolean };
}

export interface VpcAssociation {
  region: string;
  vpcId: string;
}

export interface HostedZone {
  account: string;
  id: string;
  name: string;
  callerReference: string;
  comment?: string;
  privateZone: boolean;
  /** Private zones: the VPCs the zone is associated with (absent in state files written before VPCs existed). */
  vpcs?: VpcAssociation[];
  nameServers: string[];
  records: ResourceRecordSet[];
  /** What the authoritative servers answer (TestDNSAnswer): records as of the last INSYNC change. */
  published: ResourceRecordSet[];
  createdAt: number;
}

export interface Route53Change {
  account: string;
  id: string;
  zoneId?: string;
  submittedAt: number;
  insyncAt: number;
  comment?: string;
  /** Zone records after this change, published once it is INSYNC. */
  recordsAfter?: ResourceRecordSet[];
  published: boolean;
}

export interface Route53State {
  hostedZones: Record<string, HostedZone>;
  changes: Record<string, Route53Change>;
}

export const ROUTE53_STATE: StatePart<Route53State> = { empty: () => ({ hostedZones: {}, changes: {} }) };
