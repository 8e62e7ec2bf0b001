/**
 * All activities in one object for the worker: builds the AWS SDK clients from Config (one per service
 * and region, reused) and merges the per-system factories.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import type { Config } from '../config';
import { createEc2Activities } from './ec2';
import { createNotifyActivities } from './notify';
import { createProbeActivities } from './probe';
import { createRdsActivities } from './rds';
import { createRoute53Activities } from './route53';
import { createStatuspageActivities } from './statuspage';
import type { Activities } from './types';

export * from './types';
export { createEc2Activities } from './ec2';
export { createNotifyActivities } from './notify';
export { createProbeActivities } from './probe';
export { createRdsActivities } from './rds';
export { createRoute53Activities } from './route53';
export { createStatuspageActivities } from './statuspage';

/** Route 53 is a global service whose API lives in us-east-1. */
export const ROUTE53_REGION = 'us-east-1';

export interface ActivitiesDeps {
  config: Config;
  fetch?: typeof fetch;
  rdsClientFor?: (region: string) => RDSClient;
  ec2ClientFor?: (region: string) => EC2Client;
  route53?: Route53Client;
  /** Defaults to process.env; only consulted for whether AWS credentials are present. */
  env?: NodeJS.ProcessEnv;
  /** Where notifications go when no webhook is configured (default console.log). */
  notifyLog?: (line: string) => void;
}

/** Settings shared by every SDK client: the simulator endpoint when configured, real AWS otherwise. */
export function awsClientConfig(config: Config, region: string, env: NodeJS.ProcessEnv = process.env) {
  const endpoint = config.aws.endpoint;
  // A hung request must not hold a whole activity attempt (45 s): cut it and let the SDK retry it.
  // (Without throwOnRequestTimeout the SDK only logs a warning when requestTimeout passes.)
  const requestHandler = { connectionTimeout: 5_000, requestTimeout: 20_000, throwOnRequestTimeout: true };
  if (!endpoint) return { region, requestHandler };
  // The simulator does not check signatures; dummy keys let it run on a machine with no AWS profile.
  // Real credentials in the environment still win, so a shared endpoint (e.g. a VPC endpoint) works too.
  const hasEnvCredentials = Boolean(env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE);
  return hasEnvCredentials
    ? { region, endpoint, requestHandler }
    : { region, endpoint, requestHandler, credentials: { accessKeyId: 'simulator', secretAccessKey: 'simulator' } };
}

/** Memoises one client per region. */
export function perRegion<C>(make: (region: string) => C): (region: string) => C {
  const clients = new Map<string, C>();
  return (region: string) => {
    let client = clients.get(region);
    if (!client) {
      client = make(region);
      clients.set(region, client);
    }
    return client;
  };
}

export function createActivities(deps: ActivitiesDeps): Activities {
  const { config } = deps;
  const env = deps.env ?? process.env;
  const rdsClientFor = deps.rdsClientFor ?? perRegion((region) => new RDSClient(awsClientConfig(config, region, env)));
  const ec2ClientFor = deps.ec2ClientFor ?? perRegion((region) => new EC2Client(awsClientConfig(config, region, env)));
  const route53 = deps.route53 ?? new Route53Client(awsClientConfig(config, ROUTE53_REGION, env));
  return {
    ...createRdsActivities({ rdsClientFor }),
    ...createEc2Activities({ ec2ClientFor }),
    ...createRoute53Activities({ route53 }),
    ...createStatuspageActivities({ ...config.statuspage, fetch: deps.fetch }),
    ...createProbeActivities({ rdsClientFor, fetch: deps.fetch }),
    ...createNotifyActivities({ webhookUrl: config.notifyWebhookUrl, fetch: deps.fetch, log: deps.notifyLog }),
  };
}
