/** Where an RDS instance answers: `<id>.<per account and region>.<region>.rds.amazonaws.com`, as real endpoints read. */
import { endpointSuffix } from '../core/ids';

export const endpointAddress = (id: string, account: string, region: string): string => `${id}.${endpointSuffix(account, region)}.${region}.rds.amazonaws.com`;

/** Route 53 hosted zone ids of RDS endpoints, per region (a few real ones; others get a fixed fake). */
export function endpointHostedZoneId(region: string): string {
  const known: Record<string, string> = {
    'us-east-1': 'Z2R2ITUGPM61AM',
    'eu-west-1': 'Z29XKXDKYMONMX',
    'eu-west-2': 'Z1TTGA775OQIYO',
  };
  return known[region] ?? 'Z2SIMRDSENDPNT';
}
