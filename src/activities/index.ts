/**
 * All activities in one object for the worker: builds the AWS SDK clients from Config (one per service
 * and region, reused) and merges the per-system factories.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import type { Config } from '../config';
import { Readable } from 'node:stream';
import { BODY_PREVIEW_FIELD, ENDPOINT_FIELD } from './aws-errors';
import { createDnsActivities } from './dns';
import { createEc2Activities } from './ec2';
import { createNotifyActivities } from './notify';
import { createProbeActivities } from './probe';
import { createRdsActivities } from './rds';
import { createRoute53Activities } from './route53';
import { createStatuspageActivities } from './statuspage';
import type { Activities } from '../api/activities';

export * from '../api/activities';
export { createDnsActivities } from './dns';
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

interface ClientWithMiddleware {
  middlewareStack: { add: (mw: unknown, options: { step: 'finalizeRequest' | 'deserialize'; name: string; priority?: 'low' }) => void };
}

interface RawResponse {
  statusCode?: number;
  headers?: Record<string, string>;
  body?: unknown;
  [BODY_PREVIEW_FIELD]?: string;
}

/**
 * Two small SDK middlewares so a failed call can say what happened in words: where the request went
 * (scheme, host, port), and, for an error answer that is not XML (a proxy's HTML page, a plain-text
 * 503), the start of its body, which the SDK otherwise consumes and drops ("Unknown").
 */
export function recordEndpointOnErrors<C>(client: C): C {
  const stack = (client as unknown as ClientWithMiddleware).middlewareStack;
  stack.add(
    (next: (args: { request: unknown }) => Promise<unknown>) => async (args: { request: unknown }) => {
      try {
        return await next(args);
      } catch (err) {
        const req = args.request as { protocol?: string; hostname?: string; port?: number } | undefined;
        if (typeof err === 'object' && err !== null && req?.hostname) {
          (err as Record<string, unknown>)[ENDPOINT_FIELD] = `${req.protocol ?? 'https:'}//${req.hostname}${req.port ? `:${req.port}` : ''}`;
        }
        throw err;
      }
    },
    { step: 'finalizeRequest', name: 'rdsOrchestratorRecordEndpoint' },
  );
  // Runs inside the deserializer (priority low): sees the raw response before it is parsed.
  stack.add(
    (next: (args: unknown) => Promise<{ response: RawResponse }>) => async (args: unknown) => {
      const out = await next(args);
      const res = out.response;
      const type = res?.headers?.['content-type'] ?? '';
      if (res && (res.statusCode ?? 200) >= 300 && !/xml/i.test(type) && res.body instanceof Readable) {
        const chunks: Buffer[] = [];
        for await (const chunk of res.body) chunks.push(Buffer.from(chunk as Uint8Array));
        const text = Buffer.concat(chunks);
        res[BODY_PREVIEW_FIELD] = text.subarray(0, 2048).toString('utf8');
        res.body = Readable.from([text]);
      }
      return out;
    },
    { step: 'deserialize', name: 'rdsOrchestratorKeepErrorBody', priority: 'low' },
  );
  return client;
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
  const rdsClientFor = deps.rdsClientFor ?? perRegion((region) => recordEndpointOnErrors(new RDSClient(awsClientConfig(config, region, env))));
  const ec2ClientFor = deps.ec2ClientFor ?? perRegion((region) => recordEndpointOnErrors(new EC2Client(awsClientConfig(config, region, env))));
  const route53 = deps.route53 ?? recordEndpointOnErrors(new Route53Client(awsClientConfig(config, ROUTE53_REGION, env)));
  return {
    ...createRdsActivities({ rdsClientFor }),
    ...createEc2Activities({ ec2ClientFor }),
    ...createRoute53Activities({ route53 }),
    ...createDnsActivities(),
    ...createStatuspageActivities({ ...config.statuspage, fetch: deps.fetch }),
    ...createProbeActivities({ rdsClientFor, fetch: deps.fetch }),
    ...createNotifyActivities({ webhookUrl: config.notifyWebhookUrl, fetch: deps.fetch, log: deps.notifyLog }),
  };
}
