/** What POST /_sim/seed creates in Route 53: hosted zones (private ones in seeded VPCs) and their records, already live. */
import { DEFAULT_ACCOUNT } from '../core/aws';
import type { SeedStep } from '../core/service';
import { seedStep } from '../core/service';
import type { Route53Model } from './model';

export interface SeedRecord {
  name: string;
  type: string;
  ttl?: number;
  values: string[];
  setIdentifier?: string;
  weight?: number;
}

export interface SeedHostedZone {
  account?: string;
  /** Without the /hostedzone/ prefix; generated when absent. */
  id?: string;
  name: string;
  /** Implied by `vpcs`; a private zone needs at least one VPC, as in Route 53. */
  privateZone?: boolean;
  /** Private zones: the VPCs the zone is associated with (each must be seeded, or a region's default VPC). */
  vpcs?: Array<{ region: string; vpcId: string }>;
  comment?: string;
  records?: SeedRecord[];
}

export interface Route53SeedSpec {
  hostedZones?: SeedHostedZone[];
}

export interface Route53SeedResult {
  hostedZones: Array<{ account: string; id: string; name: string }>;
}

export function route53SeedSteps(r53: Route53Model): SeedStep[] {
  return [
    seedStep<Route53SeedSpec, Route53SeedResult>('hostedZones', (spec, result, now) => {
      for (const z of spec.hostedZones ?? []) {
        const account = z.account ?? DEFAULT_ACCOUNT;
        if (z.privateZone && !z.vpcs?.length) {
          throw new Error(`seed: hosted zone ${z.name} is private but has no vpcs: Route 53 associates a private zone with at least one VPC`);
        }
        const { zone } = r53.createZone(account, {
          id: z.id,
          name: z.name,
          callerReference: `sim-seed-${z.id ?? z.name}-${now}`,
          comment: z.comment,
          vpcs: z.vpcs,
        });
        if (z.records?.length) {
          r53.changeRecords(
            account,
            zone.id,
            z.records.map((r) => ({
              action: 'UPSERT',
              record: { name: r.name, type: r.type, ttl: r.ttl ?? 300, values: r.values, setIdentifier: r.setIdentifier, weight: r.weight },
            })),
          );
        }
        // Seeded records are already live: published without waiting for INSYNC.
        r53.publishNow(account, zone, now);
        result.hostedZones.push({ account, id: zone.id, name: zone.name });
      }
    }),
  ];
}
