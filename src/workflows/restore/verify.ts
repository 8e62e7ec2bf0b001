/**
 * Verifying the switch. Route 53's TestDNSAnswer "only supports querying public hosted zones", and the
 * runbook's zone is private, so the check uses what Route 53 guarantees for any zone (the change INSYNC,
 * the record as ListResourceRecordSets returns it), TestDNSAnswer for a public zone only, and a real
 * lookup through the resolvers the spec names (for a private zone, the VPC's resolver).
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { DatabaseAccess } from '../../api';
import { iso } from '../shared/clock';
import { sameHost, type RestoreRun } from './run';

/** An answer that names the new endpoint and not the old one. */
function answersNew(values: string[], newEndpoint: string, oldEndpoint: string): boolean {
  return values.some((d) => sameHost(d, newEndpoint)) && !values.some((d) => sameHost(d, oldEndpoint));
}

/** Returns one line per check made; throws VerificationFailed on the first that disagrees. */
export async function verifyCutover(r: RestoreRun, newEndpoint: string, oldEndpoint: string, insyncMs: number): Promise<string[]> {
  const c = r.spec.cutover!;
  const zone = r.zone!;
  const checks = [`change INSYNC at ${iso(insyncMs)}`];
  const fail = (what: string) => ApplicationFailure.nonRetryable(`verification of ${c.recordName}: ${what}, expected ${newEndpoint}`, 'VerificationFailed');

  const listed = await r.aws('verify-record', () => r.a.getWeightedCname({ hostedZoneId: c.hostedZoneId, recordName: c.recordName, setIdentifier: c.setIdentifier, access: r.zoneAccess() }));
  if (!listed || !sameHost(listed.value, newEndpoint)) throw fail(`Route 53 lists ${listed ? listed.value : 'no record'} for set ${c.setIdentifier}`);
  checks.push(`Route 53 lists ${c.recordName} [${c.setIdentifier}] → ${listed.value}`);

  if (!zone.privateZone) {
    const answer = await r.aws('verify-dns', () => r.a.testDnsAnswer({ hostedZoneId: c.hostedZoneId, recordName: c.recordName, access: r.zoneAccess() }));
    if (answer.responseCode !== 'NOERROR' || !answersNew(answer.recordData, newEndpoint, oldEndpoint)) {
      throw fail(`TestDNSAnswer gave ${answer.responseCode} ${JSON.stringify(answer.recordData)}`);
    }
    checks.push(`TestDNSAnswer: ${answer.recordData.join(', ')}`);
  }

  if (c.resolvers.length) {
    const found = await r.aws('verify-lookup', () => r.a.lookupCname({ name: c.recordName, resolvers: c.resolvers }));
    if (found.responseCode !== 'NOERROR' || !answersNew(found.cnames, newEndpoint, oldEndpoint)) {
      throw fail(`the resolver ${c.resolvers.join(', ')} answered ${found.responseCode} ${JSON.stringify(found.cnames)}`);
    }
    checks.push(`lookup through ${c.resolvers.join(', ')}: ${found.cnames.join(', ')}`);
  } else if (zone.privateZone) {
    checks.push(`no DNS lookup (private zone ${zone.name}; give cutover.resolvers, e.g. the VPC resolver, to check what the applications resolve)`);
  }
  if (c.database) checks.push(await verifyDataPath(r, c.database));
  return checks;
}

/**
 * The data path: connected through the CNAME (resolved as the applications resolve it), the database that
 * answers is the restored instance's server. The system identifier alone cannot tell (a point-in-time restore
 * keeps its source's); the address and port the server answered on can, compared with a direct connection to
 * the restored instance's endpoint.
 */
async function verifyDataPath(r: RestoreRun, access: DatabaseAccess): Promise<string> {
  const c = r.spec.cutover!;
  const target = r.database(r.spec.targetInstanceId, access);
  const direct = await r.aws('verify-database', () => r.a.describeDatabase({ target }));
  const port = r.targetInfo?.endpoint?.port;
  const through = await r.aws('verify-database-through-cname', () =>
    r.a.describeDatabase({ target, host: c.recordName, ...(port ? { port } : {}), ...(c.resolvers.length ? { resolvers: c.resolvers } : {}) }),
  );
  const same = through.systemIdentifier === direct.systemIdentifier && (!direct.address || through.address === direct.address);
  if (!same) {
    throw ApplicationFailure.nonRetryable(
      `verification of ${c.recordName}: connected through it, database ${access.database} answered from ${through.address ?? '?'} (system identifier ${through.systemIdentifier}), not from ${r.spec.targetInstanceId} at ${direct.address ?? '?'} (system identifier ${direct.systemIdentifier})`,
      'VerificationFailed',
    );
  }
  return `connected through ${c.recordName}: database ${access.database} of ${r.spec.targetInstanceId} answers (server ${through.address ?? '?'}, system identifier ${through.systemIdentifier}, PostgreSQL ${through.serverVersion})`;
}

/** Runs started before LEAST_ACCESS_AND_SAFE_CUTOVER_PATCH: TestDNSAnswer only (wrong for private zones). */
export async function verifyWithTestDnsAnswer(r: RestoreRun, newEndpoint: string, oldEndpoint: string): Promise<void> {
  const c = r.spec.cutover!;
  const answer = await r.aws('verify-dns', () => r.a.testDnsAnswer({ hostedZoneId: c.hostedZoneId, recordName: c.recordName, access: r.zoneAccess() }));
  const data = answer.recordData;
  if (answer.responseCode !== 'NOERROR' || !answersNew(data, newEndpoint, oldEndpoint)) {
    throw ApplicationFailure.nonRetryable(`TestDNSAnswer for ${c.recordName} gave ${answer.responseCode} ${JSON.stringify(data)}, expected ${newEndpoint}`, 'VerificationFailed');
  }
  r.step('dns-verified', `${c.recordName} answers ${data.join(', ')}`);
}
