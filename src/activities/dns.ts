/**
 * A real DNS lookup, asked of the resolvers the spec names (for a private hosted zone, the VPC's resolver
 * at the VPC CIDR base + 2, or any resolver that forwards to it), not of the worker's own: the cutover
 * verifies what the applications' resolver answers, which Route 53's API cannot tell for a private zone.
 */
import { Resolver } from 'node:dns/promises';
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes, type DnsActivities, type DnsLookupResult } from '../api/activities';
import type { CnameLookup } from '../api/activities';

/** Answers that are an answer (the name has no CNAME, or does not exist); anything else is a failed lookup. */
const ANSWER_CODES: Record<string, string> = { ENODATA: 'NODATA', ENOTFOUND: 'NXDOMAIN' };

export interface DnsActivitiesDeps {
  /** Per-query timeout (default 2 s) and tries per resolver (default 2). */
  timeoutMs?: number;
  tries?: number;
}

export function createDnsActivities(deps: DnsActivitiesDeps = {}): DnsActivities {
  async function lookupCname({ name, resolvers }: CnameLookup): Promise<DnsLookupResult> {
    const resolver = new Resolver({ timeout: deps.timeoutMs ?? 2_000, tries: deps.tries ?? 2 });
    resolver.setServers(resolvers);
    try {
      const cnames = await resolver.resolveCname(name);
      return { cnames, responseCode: 'NOERROR', resolvers };
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'UNKNOWN';
      if (ANSWER_CODES[code]) return { cnames: [], responseCode: ANSWER_CODES[code], resolvers };
      // No answer (timeout, refused, SERVFAIL): the resolver may come back; the workflow retries a few times.
      throw ApplicationFailure.create({
        type: FailureTypes.AwsCallFailed,
        message: `DNS lookup of ${name} (CNAME) against ${resolvers.join(', ')} failed: ${code} (${(err as Error).message})`,
        details: [{ operation: `DNS lookup ${name} CNAME`, endpoint: resolvers.join(', '), kind: 'network', error: `${code}: ${(err as Error).message}` }],
        nonRetryable: false,
      });
    }
  }
  return { lookupCname };
}
