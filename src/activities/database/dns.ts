/**
 * Resolving a database host through named DNS servers, as a stub resolver does (CNAMEs followed, then an IPv4
 * address): the cutover's check through the CNAME as the applications resolve it (the VPC resolver), and
 * workers whose own resolver does not see the VPC's names (ORCHESTRATOR_DATABASE_RESOLVERS).
 */
import net from 'node:net';
import { Resolver } from 'node:dns/promises';
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../../api/activities';

/** CNAME hops followed before giving up (a loop, or a chain no resolver would follow). */
const MAX_HOPS = 8;

/** `host`'s IPv4 address through `resolvers` ("10.0.0.2" or "10.0.0.2:53"); an address is returned as it is. */
export async function resolveThrough(host: string, resolvers: string[]): Promise<string> {
  if (net.isIP(host)) return host;
  const resolver = new Resolver({ timeout: 2_000, tries: 2 });
  resolver.setServers(resolvers);
  let name = host;
  for (let hops = 0; hops < MAX_HOPS; hops++) {
    try {
      const [address] = await resolver.resolve4(name);
      if (address) return address;
    } catch {
      // No A record at this name: follow its CNAME below.
    }
    let next: string | undefined;
    try {
      [next] = await resolver.resolveCname(name);
    } catch (err) {
      throw ApplicationFailure.retryable(`${host} does not resolve through ${resolvers.join(', ')} (at ${name}: ${(err as { code?: string }).code ?? (err as Error).message})`, FailureTypes.DatabaseUnavailable);
    }
    if (!next) break;
    name = next;
  }
  throw ApplicationFailure.retryable(`${host} does not resolve to an address through ${resolvers.join(', ')} (stopped at ${name})`, FailureTypes.DatabaseUnavailable);
}
