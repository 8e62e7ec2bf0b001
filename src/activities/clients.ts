/**
 * The AWS SDK clients the activities use: one per service, region and identity, reused. An identity is
 * the worker's own credentials (the SDK's default chain, or the simulator's dummy keys), a named local
 * profile, or a role assumed through STS with the SDK's own provider (`fromTemporaryCredentials`, which
 * signs, caches and refreshes before expiry: a campaign lasts weeks, a session an hour). Each client also
 * records on a failed request where it went and, for an error answer that is not XML, the start of its body
 * (so a failure says "against https://rds.eu-west-2.amazonaws.com: HTTP 502, page title ..."), and answers
 * an expired-token error by refreshing the credentials and sending the request once more.
 *
 * A mutation (any call that is not a read) is sent at most once per activity attempt: the activity read the
 * world just before it, and only a new attempt, which reads again, may send it again (./mutation-gate.ts).
 *
 * RDS clients also keep the orchestrator's RDS API budget (Config.aws.rdsBudget; bench/README.md "RDS API
 * budget"): RDS throttles per account and region, so every client of one account and region in this
 * process shares one pacer, and every HTTP attempt (the SDK's own retries included) waits for its turn.
 * A request that would wait longer than a short bound is not sent: it fails at once as
 * `RdsRequestBudgetExceeded` (a throttling error, src/activities/aws-errors.ts), so the activity backs off
 * through Temporal instead of holding its slot and its attempt timeout while it queues.
 *
 * CloudTrail clients are paced the same way, more tightly: LookupEvents allows "two per second, per account,
 * per Region" (CloudTrail API reference), shared with the console and every other tool of the account.
 */
import { Readable } from 'node:stream';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { EC2Client } from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import { fromIni, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsLocation, AwsWhere } from '../api/activities';
import type { Config } from '../config';
import { BODY_PREVIEW_FIELD, ENDPOINT_FIELD, THROTTLE_STREAK_FIELD, isAwsError, isThrottlingError } from './aws-errors';
import { accountOfRole, locationOf } from './location';
import { mutationGate } from './mutation-gate';

export { accountOfRole, describeIdentity, locationOf, regionOf } from './location';
export { isReadOnlyCall } from './mutation-gate';

/** Route 53 is a global service whose API lives in us-east-1. */
export const ROUTE53_REGION = 'us-east-1';
/** An hour, STS's default; the SDK refreshes a few minutes before the end. */
const ROLE_SESSION_SECONDS = 3600;
/** What AWS answers for credentials past their expiry (RDS, EC2, Route 53 / STS). */
const EXPIRED = ['ExpiredToken', 'ExpiredTokenException', 'RequestExpired'];

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

/** The credentials of a location: the worker's own (undefined: the client's default), a profile, or an assumed role. */
function credentialsFor(config: Config, loc: AwsLocation, env: NodeJS.ProcessEnv) {
  if (loc.profile) return fromIni({ profile: loc.profile });
  if (!loc.roleArn) return undefined;
  const base = awsClientConfig(config, loc.stsRegion ?? loc.region, env);
  return fromTemporaryCredentials({
    params: {
      RoleArn: loc.roleArn,
      RoleSessionName: loc.sessionName ?? 'rds-orchestrator',
      ...(loc.externalId ? { ExternalId: loc.externalId } : {}),
      DurationSeconds: ROLE_SESSION_SECONDS,
    },
    // STS is called with the worker's own credentials, at the same endpoint (the simulator's, in tests).
    clientConfig: base,
    ...('credentials' in base ? { masterCredentials: base.credentials } : {}),
  });
}

interface ClientLike {
  config: { credentials: (options?: { forceRefresh?: boolean }) => Promise<unknown> };
  middlewareStack: { add: (mw: unknown, options: { step: 'initialize' | 'build' | 'finalizeRequest' | 'deserialize'; name: string; priority?: 'low' }) => void };
}

interface RawResponse {
  statusCode?: number;
  headers?: Record<string, string>;
  body?: unknown;
  [BODY_PREVIEW_FIELD]?: string;
}

/** The middlewares of the module comment; returns the client. */
export function instrument<C>(client: C): C {
  const c = client as unknown as ClientLike;
  mutationGate(c);
  // `build` wraps signing: a second `next` signs again, with the refreshed credentials.
  c.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
      try {
        return await next(args);
      } catch (err) {
        if (!isAwsError(err, ...EXPIRED)) throw err;
        await c.config.credentials({ forceRefresh: true });
        return next(args);
      }
    },
    { step: 'build', name: 'rdsOrchestratorRefreshExpiredCredentials' },
  );
  c.middlewareStack.add(
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
  c.middlewareStack.add(
    (next: (args: unknown) => Promise<{ response: RawResponse }>, context: { commandName?: string }) => async (args: unknown) => {
      const out = await next(args);
      const res = out.response;
      const type = res?.headers?.['content-type'] ?? '';
      const status = res?.statusCode ?? 200;
      if (res && status >= 300 && !/xml/i.test(type) && res.body instanceof Readable) {
        const text = await readBody(res);
        res[BODY_PREVIEW_FIELD] = text.subarray(0, 2048).toString('utf8');
      } else if (res && status < 300 && res.body instanceof Readable) {
        // A 2xx that is not the action's answer (a proxy's or captive portal's page, an empty body) would read as an
        // empty answer: "no such instance". It is refused here, so the call fails as not an AWS answer and is retried.
        const text = await readBody(res);
        const problem = notTheAnswer(text, type, context.commandName);
        if (problem) throw notAnAwsAnswer(res, status, type, text, problem);
      }
      return out;
    },
    { step: 'deserialize', name: 'rdsOrchestratorKeepErrorBody', priority: 'low' },
  );
  return client;
}

async function readBody(res: RawResponse): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of res.body as Readable) chunks.push(Buffer.from(chunk as Uint8Array));
  const text = Buffer.concat(chunks);
  res.body = Readable.from([text]);
  return text;
}

/**
 * Why a 2xx body is not the answer to `commandName`, or undefined when it is: a JSON protocol's answer is a JSON
 * object; a query or REST-XML protocol's is an XML document whose root is `<ActionResponse` (RDS, EC2, STS,
 * Route 53 all answer so).
 */
export function notTheAnswer(body: Buffer, contentType: string, commandName: string | undefined): string | undefined {
  const text = body.toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (/json/i.test(contentType)) {
    if (text === '') return undefined; // some JSON actions answer 200 with no body
    try {
      const parsed: unknown = JSON.parse(text);
      return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? undefined : 'a JSON body that is not an object';
    } catch {
      return 'a body that is not JSON';
    }
  }
  if (!commandName) return undefined;
  const action = commandName.replace(/Command$/, '');
  const root = /^(?:<\?xml[^>]*\?>\s*)?(?:<!--[\s\S]*?-->\s*)*<([A-Za-z][\w.:-]*)/.exec(text)?.[1];
  if (root === undefined) return text === '' ? 'an empty body' : 'a body that is not XML';
  return root.replace(/^\w+:/, '') === `${action}Response` ? undefined : `<${root}> instead of <${action}Response>`;
}

function notAnAwsAnswer(res: RawResponse, status: number, type: string, body: Buffer, problem: string): Error {
  const err = new Error(`Deserialization error: HTTP ${status} with ${problem}${type ? ` (${type})` : ''}`);
  err.name = 'NotAnAwsAnswer';
  return Object.assign(err, { $metadata: { httpStatusCode: status }, $response: { statusCode: status, headers: res.headers ?? {}, [BODY_PREVIEW_FIELD]: body.subarray(0, 2048).toString('utf8') }, $responseBodyText: body.subarray(0, 2048).toString('utf8') });
}

/** The error a request gets instead of being sent, when the budget's queue is longer than the wait allowed. */
export class RdsRequestBudgetExceeded extends Error {
  override name = 'RdsRequestBudgetExceeded';
  constructor(
    readonly retryAfterMs: number,
    readonly requestsPerSecond: number,
    readonly key: string,
  ) {
    super(
      `the worker's RDS request budget for ${key} (${requestsPerSecond} requests/s) is booked ${Math.ceil(retryAfterMs / 1000)} s ahead; ` +
        'the call is retried later (raise ORCHESTRATOR_RDS_REQUESTS_PER_SECOND only if the account has room: RDS throttles per account and region)',
    );
  }
}

/** A request waits at most this long for its turn; longer, and the activity backs off through Temporal. */
export const BUDGET_MAX_WAIT_MS = 10_000;

/**
 * A token bucket that queues instead of refusing (GCRA, virtual scheduling): `burst` requests may start at
 * once, then one every 1/`requestsPerSecond` s, in arrival order. Over any interval of T seconds at most
 * `burst + requestsPerSecond × T` start; with `burst` 1 the requests are evenly spaced, so no one-second
 * window holds more than the rate. Also counts throttled answers in a row (reset by any answer that is not
 * throttling), which the backoff of a throttled call grows with.
 */
export class RequestPacer {
  private readonly intervalMs: number;
  private readonly toleranceMs: number;
  /** Theoretical arrival time of the next request: when it could start were the bucket empty. */
  private tat = -Infinity;
  throttledInARow = 0;

  constructor(
    readonly requestsPerSecond: number,
    readonly burst: number,
    readonly key: string,
    private readonly maxWaitMs = BUDGET_MAX_WAIT_MS,
    private readonly now: () => number = Date.now,
  ) {
    if (!(requestsPerSecond > 0) || !(burst >= 1)) throw new Error(`RequestPacer: need requestsPerSecond > 0 and burst >= 1, got ${requestsPerSecond} and ${burst}`);
    this.intervalMs = 1000 / requestsPerSecond;
    this.toleranceMs = (Math.floor(burst) - 1) * this.intervalMs;
  }

  /** Books the next start; returns how long to wait for it (ms), or throws RdsRequestBudgetExceeded. */
  reserve(): number {
    const t = this.now();
    const tat = Math.max(this.tat, t);
    const at = Math.max(t, tat - this.toleranceMs);
    if (at - t > this.maxWaitMs) throw new RdsRequestBudgetExceeded(at - t, this.requestsPerSecond, this.key);
    this.tat = tat + this.intervalMs;
    return at - t;
  }
}

const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Adds the budget to an RDS client: each HTTP attempt waits for `pacer`; throttled answers are counted and marked. */
export function withRequestBudget<C>(client: C, pacer: RequestPacer): C {
  const c = client as unknown as ClientLike;
  // finalizeRequest, low priority: inside the SDK's retry middleware, so each attempt is paced and counted.
  c.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
      const wait = pacer.reserve();
      if (wait > 0) await sleepMs(wait);
      try {
        const out = await next(args);
        pacer.throttledInARow = 0;
        return out;
      } catch (err) {
        if (isThrottlingError(err)) {
          pacer.throttledInARow += 1;
          if (typeof err === 'object' && err !== null) (err as Record<string, unknown>)[THROTTLE_STREAK_FIELD] = pacer.throttledInARow;
        } else if (typeof err === 'object' && err !== null && '$metadata' in err) {
          pacer.throttledInARow = 0;
        }
        throw err;
      }
    },
    { step: 'finalizeRequest', name: 'rdsOrchestratorRequestBudget', priority: 'low' },
  );
  return client;
}

/** The budget's key: the account (a role's, or the worker's own credentials') and the region. */
export function budgetKey(loc: AwsLocation): string {
  const account = loc.roleArn ? (accountOfRole(loc.roleArn) ?? loc.roleArn) : loc.profile ? `profile ${loc.profile}` : "the worker's own account";
  return `${account} in ${loc.region}`;
}

/** The worker keeps to half of CloudTrail's LookupEvents limit (2/s per account and region), split between its worker processes. */
export const CLOUDTRAIL_LOOKUPS_PER_SECOND = 1;
/** A lookup waits at most this long for its turn (an attempt is 45 s, and a lookup reads a few pages); longer, and it is reported unavailable. */
export const CLOUDTRAIL_MAX_WAIT_MS = 8_000;

/** Memoises one client per key. */
export function memoised<K, C>(keyOf: (k: K) => string, make: (k: K) => C): (k: K) => C {
  const clients = new Map<string, C>();
  return (k: K) => {
    const key = keyOf(k);
    let client = clients.get(key);
    if (!client) {
      client = make(k);
      clients.set(key, client);
    }
    return client;
  };
}

const identityKey = (loc: AwsLocation) => [loc.region, loc.roleArn ?? '', loc.externalId ?? '', loc.profile ?? '', loc.stsRegion ?? '', loc.sessionName ?? ''].join('|');

export interface AwsClients {
  rds(where: AwsWhere): RDSClient;
  ec2(where: AwsWhere): EC2Client;
  /** Route 53 is global: the location's region is ignored, its identity used. */
  route53(where: AwsWhere): Route53Client;
  sts(where: AwsWhere): STSClient;
  /** Paced per account and region (CLOUDTRAIL_LOOKUPS_PER_SECOND). */
  cloudTrail(where: AwsWhere): CloudTrailClient;
  /** Read when a worker connects to a database (its password's secret). */
  secretsManager(where: AwsWhere): SecretsManagerClient;
}

export function createAwsClients(config: Config, env: NodeJS.ProcessEnv = process.env): AwsClients {
  const make =
    <C>(Client: new (cfg: object) => C, fixedRegion?: string) =>
    (loc: AwsLocation): C => {
      const region = fixedRegion ?? loc.region;
      const credentials = credentialsFor(config, { ...loc, region }, env);
      return instrument(new Client({ ...awsClientConfig(config, region, env), ...(credentials ? { credentials } : {}) }));
    };
  // One pacer per account and region, shared by every RDS client of it in this process (all activities).
  const budget = config.aws.rdsBudget;
  const pacers = memoised(budgetKey, (loc: AwsLocation) => new RequestPacer(budget!.requestsPerSecond / budget!.workers, Math.max(1, budget!.burst / budget!.workers), budgetKey(loc)));
  const makeRds = make(RDSClient);
  const rds = memoised(identityKey, (loc: AwsLocation) => (budget ? withRequestBudget(makeRds(loc), pacers(loc)) : makeRds(loc)));
  const ec2 = memoised(identityKey, make(EC2Client));
  const route53 = memoised((loc: AwsLocation) => identityKey({ ...loc, region: ROUTE53_REGION }), make(Route53Client, ROUTE53_REGION));
  const sts = memoised(identityKey, make(STSClient));
  // The worker count says how many processes share an account's limits; CloudTrail's is split that way, RDS budget or not.
  const workers = config.aws.workers ?? budget?.workers ?? 1;
  const trailPacers = memoised(budgetKey, (loc: AwsLocation) => new RequestPacer(CLOUDTRAIL_LOOKUPS_PER_SECOND / workers, 1, budgetKey(loc), CLOUDTRAIL_MAX_WAIT_MS));
  const makeCloudTrail = make(CloudTrailClient);
  const cloudTrail = memoised(identityKey, (loc: AwsLocation) => withRequestBudget(makeCloudTrail(loc), trailPacers(loc)));
  const secretsManager = memoised(identityKey, make(SecretsManagerClient));
  return {
    rds: (where) => rds(locationOf(where)),
    ec2: (where) => ec2(locationOf(where)),
    route53: (where) => route53(locationOf(where)),
    sts: (where) => sts(locationOf(where)),
    cloudTrail: (where) => cloudTrail(locationOf(where)),
    secretsManager: (where) => secretsManager(locationOf(where)),
  };
}
