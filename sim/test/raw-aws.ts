/**
 * Raw AWS requests in a given Region, signed in form only (the simulator reads the credential scope, never the
 * signature), for checking the bytes against botocore's models: query protocol (RDS) and JSON 1.1 (CloudTrail).
 */
import type { RawResponse } from '../../test/conformance/service-model';
import type { Creds } from './sts-helpers';

const authorization = (creds: Creds, region: string, service: string): string =>
  `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/20250106/${region}/${service}/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=${'0'.repeat(64)}`;

async function post(url: string, headers: Record<string, string>, creds: Creds, body: string): Promise<RawResponse> {
  if (creds.sessionToken) headers['x-amz-security-token'] = creds.sessionToken;
  const res = await fetch(url, { method: 'POST', headers: { 'x-amz-date': '20250106T120000Z', ...headers }, body });
  return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
}

export function rawQueryIn(url: string, service: 'rds' | 'ec2' | 'sts', creds: Creds, region: string, form: Record<string, string>): Promise<RawResponse> {
  const headers = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', authorization: authorization(creds, region, service) };
  return post(url, headers, creds, new URLSearchParams(form).toString());
}

export const CLOUDTRAIL_TARGET = 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101';

/** A CloudTrail JSON 1.1 request: `X-Amz-Target: <prefix>.<operation>`. */
export function rawCloudTrail(url: string, creds: Creds, region: string, operation: string, input: unknown): Promise<RawResponse> {
  const headers = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${CLOUDTRAIL_TARGET}.${operation}`, authorization: authorization(creds, region, 'cloudtrail') };
  return post(url, headers, creds, JSON.stringify(input));
}
