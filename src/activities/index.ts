/**
 * All activities in one object for the worker: the AWS SDK clients from Config (one per service, region and
 * identity, reused: ./clients.ts) and the per-system factories merged.
 */
import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { Route53Client } from '@aws-sdk/client-route-53';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { STSClient } from '@aws-sdk/client-sts';
import type { Activities, AwsAccess, AwsWhere } from '../api/activities';
import type { Config } from '../config';
import { ROUTE53_REGION, createAwsClients } from './clients';
import { createBlueGreenActivities } from './blue-green';
import { createCloudTrailActivities } from './cloudtrail';
import { createDatabaseIdentityActivities } from './database/identity';
import { createSqlProbeActivities } from './database/probe';
import { createExtractActivities } from './database/extract';
import { createDnsActivities } from './dns';
import { createEc2Activities } from './ec2';
import { createIdentityActivities } from './identity';
import { createNotifyActivities } from './notify';
import { createOnCallActivities } from './pagerduty';
import { createProbeActivities } from './probe';
import { createFleetPlaceActivities } from './fleet-place';
import { createRdsActivities } from './rds';
import { createRoute53Activities } from './route53';
import { createStatuspageActivities } from './statuspage';
import { createStsActivities } from './sts';
import { acceptingPositional } from './positional';
import { withKeepAlive } from './waiting';

export * from '../api/activities';
export { createBlueGreenActivities } from './blue-green';
export { createCloudTrailActivities } from './cloudtrail';
export { createDatabaseIdentityActivities } from './database/identity';
export { createSqlProbeActivities } from './database/probe';
export { createDnsActivities } from './dns';
export { createEc2Activities } from './ec2';
export { createIdentityActivities } from './identity';
export { createNotifyActivities } from './notify';
export { createOnCallActivities } from './pagerduty';
export { createProbeActivities } from './probe';
export { createRdsActivities } from './rds';
export { createRoute53Activities } from './route53';
export { createStatuspageActivities } from './statuspage';
export { createStsActivities } from './sts';
export { KEEP_ALIVE_EVERY_MS, pollUntil, withKeepAlive } from './waiting';
export { LEGACY_POSITIONAL, acceptingPositional, inputOf } from './positional';
export { awsClientConfig, createAwsClients, instrument, ROUTE53_REGION } from './clients';

export interface ActivitiesDeps {
  config: Config;
  fetch?: typeof fetch;
  /** Injected by tests (SDK mocks); otherwise one client per service, region and identity. */
  rdsClientFor?: (where: AwsWhere) => RDSClient;
  ec2ClientFor?: (where: AwsWhere) => EC2Client;
  route53For?: (access: AwsAccess | undefined) => Route53Client;
  stsClientFor?: (where: AwsWhere) => STSClient;
  cloudTrailClientFor?: (where: AwsWhere) => CloudTrailClient;
  secretsClientFor?: (where: AwsWhere) => SecretsManagerClient;
  /** Signs IAM database authentication tokens (tests); default @aws-sdk/rds-signer. */
  iamToken?: (where: AwsWhere, host: string, port: number, username: string) => Promise<string>;
  /** Defaults to process.env; consulted for whether AWS credentials are present, database passwords named by variable and RDS_CA_BUNDLE. */
  env?: NodeJS.ProcessEnv;
  /** Where notifications go when no webhook is configured, and pages when no routing key is (default console.log). */
  notifyLog?: (line: string) => void;
}

export function createActivities(deps: ActivitiesDeps): Activities {
  const { config } = deps;
  const clients = createAwsClients(config, deps.env ?? process.env);
  const rdsClientFor = deps.rdsClientFor ?? clients.rds;
  const ec2ClientFor = deps.ec2ClientFor ?? clients.ec2;
  const route53For = deps.route53For ?? ((access: AwsAccess | undefined) => clients.route53({ region: ROUTE53_REGION, ...access }));
  const stsClientFor = deps.stsClientFor ?? clients.sts;
  const cloudTrailClientFor = deps.cloudTrailClientFor ?? clients.cloudTrail;
  const secretsClientFor = deps.secretsClientFor ?? clients.secretsManager;
  // How every database activity reaches a database: its endpoint from RDS, its password from where the access names it.
  const database = { rdsClientFor, secretsClientFor, iamToken: deps.iamToken, env: deps.env ?? process.env, resolvers: config.databaseResolvers };
  const base: Omit<Activities, 'readFleetPlace'> = {
    ...createRdsActivities({ rdsClientFor }),
    ...createBlueGreenActivities({ rdsClientFor }),
    ...createStsActivities({ stsClientFor }),
    ...createCloudTrailActivities({ cloudTrailClientFor }),
    ...createEc2Activities({ ec2ClientFor }),
    ...createRoute53Activities({ route53For }),
    ...createDnsActivities(),
    ...createStatuspageActivities({ ...config.statuspage, fetch: deps.fetch }),
    ...createProbeActivities({ rdsClientFor, fetch: deps.fetch }),
    ...createNotifyActivities({ webhookUrl: config.notifyWebhookUrl, fetch: deps.fetch, log: deps.notifyLog }),
    ...createOnCallActivities({ ...config.pagerDuty, fetch: deps.fetch, log: deps.notifyLog, env: deps.env ?? process.env }),
    ...createIdentityActivities({ allowedSignersFile: config.allowedSignersFile }),
    ...createSqlProbeActivities(database),
    ...createDatabaseIdentityActivities(database),
    ...createExtractActivities(database),
  };
  const activities: Activities = { ...base, ...createFleetPlaceActivities(base) };
  // Histories scheduled before every activity took one object still hold positional arguments (./positional.ts).
  return keptAlive(acceptingPositional(activities));
}

/**
 * The probes and the dump heartbeat their own progress (a bare keep-alive heartbeat would overwrite those
 * details); compare and write keep the automatic one.
 */
const HEARTBEATS_ITSELF = new Set<string>(['runAvailabilityProbe', 'runSqlAvailabilityProbe', 'dumpDatabase']);

/** Every activity heartbeats while it runs (./waiting.ts), so a crash is noticed within its heartbeat timeout. */
export function keptAlive(activities: Activities): Activities {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities) as [string, (...args: unknown[]) => Promise<unknown>][]) {
    out[name] = HEARTBEATS_ITSELF.has(name) ? fn : withKeepAlive(fn);
  }
  return out as unknown as Activities;
}
