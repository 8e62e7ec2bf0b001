/**
 * Helpers for the STS and accounts tests: real SDK clients (`@aws-sdk/client-sts` for STS) signed with given
 * credentials, and raw query requests for checking the bytes against botocore's models.
 */
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { EC2Client } from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import type { RawResponse } from '../../test/conformance/service-model';
import { parseXml } from '../../test/conformance/service-model';
import { REGION } from './helpers';

export interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AwsClients {
  rds: RDSClient;
  ec2: EC2Client;
  route53: Route53Client;
  sts: STSClient;
}

/** Real SDK clients signed with `creds`; `destroyAll` closes every set made. */
export class ClientPool {
  private readonly made: AwsClients[] = [];

  constructor(private readonly url: string) {}

  with(credentials: Creds, extra: { maxAttempts?: number } = {}): AwsClients {
    const config = { endpoint: this.url, region: REGION, credentials, ...extra };
    const c: AwsClients = { rds: new RDSClient(config), ec2: new EC2Client(config), route53: new Route53Client(config), sts: new STSClient(config) };
    this.made.push(c);
    return c;
  }

  /** AssumeRole through the SDK, returning the temporary credentials as the SDK parsed them. */
  async assume(base: Creds, input: AssumeRoleCommandInput): Promise<Creds & { sessionToken: string; expiration: Date; arn: string; assumedRoleId: string }> {
    const out = await this.with(base).sts.send(new AssumeRoleCommand(input));
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration || !out.AssumedRoleUser?.Arn || !out.AssumedRoleUser.AssumedRoleId) {
      throw new Error(`AssumeRole answered without credentials: ${JSON.stringify(out)}`);
    }
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration, arn: out.AssumedRoleUser.Arn, assumedRoleId: out.AssumedRoleUser.AssumedRoleId };
  }

  destroyAll(): void {
    for (const c of this.made.splice(0)) for (const client of Object.values(c)) (client as { destroy(): void }).destroy();
  }
}

/**
 * One query-protocol request signed (in form only: the simulator reads the credential scope and the
 * session token, never the signature) with `creds` for `service`.
 */
export async function rawQuery(url: string, service: 'sts' | 'rds' | 'ec2', creds: Creds, form: Record<string, string>): Promise<RawResponse> {
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    'x-amz-date': '20250106T120000Z',
    authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/20250106/${REGION}/${service}/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=${'0'.repeat(64)}`,
  };
  if (creds.sessionToken) headers['x-amz-security-token'] = creds.sessionToken;
  const res = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(form).toString() });
  return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
}

/** GET for Route 53 (REST/XML), signed in form only. */
export async function rawRoute53(url: string, path: string, creds: Creds): Promise<RawResponse> {
  const headers: Record<string, string> = { 'x-amz-date': '20250106T120000Z', authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/20250106/us-east-1/route53/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}` };
  if (creds.sessionToken) headers['x-amz-security-token'] = creds.sessionToken;
  const res = await fetch(`${url}${path}`, { headers });
  return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
}

export interface CallerIdentity {
  Account: string;
  Arn: string;
  UserId: string;
}

/**
 * GetCallerIdentity through the SDK, checked against the same answer read from the raw XML
 * (`GetCallerIdentityResponse > GetCallerIdentityResult`), so both the parse and the bytes are what AWS sends.
 */
export async function getCallerIdentity(pool: ClientPool, url: string, creds: Creds): Promise<CallerIdentity> {
  const out = await pool.with(creds).sts.send(new GetCallerIdentityCommand({}));
  const raw = await rawQuery(url, 'sts', creds, { Action: 'GetCallerIdentity', Version: '2011-06-15' });
  const result = parseXml(raw.body).children.find((c) => c.name === 'GetCallerIdentityResult');
  const field = (name: string): string => result?.children.find((c) => c.name === name)?.text ?? '';
  const sdk = { Account: out.Account ?? '', Arn: out.Arn ?? '', UserId: out.UserId ?? '' };
  const bytes = { Account: field('Account'), Arn: field('Arn'), UserId: field('UserId') };
  if (JSON.stringify(sdk) !== JSON.stringify(bytes)) throw new Error(`the SDK parsed ${JSON.stringify(sdk)} from ${raw.body}`);
  return sdk;
}

/** The `<Code>` of an error body. */
export const errorCode = (raw: RawResponse): string | undefined => /<Code>([^<]*)<\/Code>/.exec(raw.body)?.[1];
