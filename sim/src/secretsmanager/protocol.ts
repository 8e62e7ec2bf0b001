/**
 * Secrets Manager over the JSON 1.1 protocol of botocore's `secretsmanager/2017-10-17` model: `POST /`,
 * `X-Amz-Target: secretsmanager.<Operation>` (the model's targetPrefix), `Content-Type: application/x-amz-json-1.1`,
 * SigV4 service `secretsmanager`. Errors are `{"__type": "<Code>", "Message": …}` with HTTP 400 and `x-amzn-ErrorType`.
 * Operations: GetSecretValue and DescribeSecret (https://docs.aws.amazon.com/secretsmanager/latest/apireference/).
 * A secret's value is never written to the call log: reads are not mutations, whose answers alone are kept.
 */
import type { AwsProtocol } from '../core/aws-protocol';
import { ok } from '../core/aws-protocol';
import { SimError } from '../core/errors';
import type { SecretsManagerModel } from './model';
import type { Secret } from './state';

export const SECRETS_MANAGER_CONTENT_TYPE = 'application/x-amz-json-1.1';

/** The operation an `X-Amz-Target` names, or undefined when it is not Secrets Manager's. */
export function secretsManagerAction(target: string | undefined): string | undefined {
  const m = /^secretsmanager\.(\w*)$/.exec(target ?? '');
  return m ? (m[1] as string) : undefined;
}

const invalidParameter = (message: string): SimError => new SimError('InvalidParameterException', message, 400);

function parseBody(body: string): Record<string, unknown> {
  try {
    const v = JSON.parse(body.trim() === '' ? '{}' : body) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new SimError('SerializationException', 'The request body is not a JSON object.', 400);
}

function secretIdOf(input: Record<string, unknown>): string {
  const id = input.SecretId;
  if (typeof id !== 'string' || id.length < 1 || id.length > 2048) throw invalidParameter('SecretId must be the ARN or name of a secret (1 to 2048 characters).');
  return id;
}

const seconds = (ms: number): number => ms / 1000;

function getSecretValue(secret: Secret, input: Record<string, unknown>): Record<string, unknown> {
  // One version per secret: asking for another version or stage finds nothing, as for a version AWS does not have.
  if (input.VersionId !== undefined && input.VersionId !== secret.versionId) throw new SimError('ResourceNotFoundException', "Secrets Manager can't find the specified secret value for VersionId: " + String(input.VersionId), 400);
  if (input.VersionStage !== undefined && input.VersionStage !== 'AWSCURRENT') throw new SimError('ResourceNotFoundException', "Secrets Manager can't find the specified secret value for staging label: " + String(input.VersionStage), 400);
  return {
    ARN: secret.arn,
    Name: secret.name,
    VersionId: secret.versionId,
    SecretString: secret.secretString,
    VersionStages: ['AWSCURRENT'],
    CreatedDate: seconds(secret.lastChangedAt),
  };
}

function describeSecret(secret: Secret): Record<string, unknown> {
  return {
    ARN: secret.arn,
    Name: secret.name,
    ...(secret.description !== undefined ? { Description: secret.description } : {}),
    LastChangedDate: seconds(secret.lastChangedAt),
    ...(secret.tags.length ? { Tags: secret.tags } : {}),
    VersionIdsToStages: { [secret.versionId]: ['AWSCURRENT'] },
    ...(secret.owningService ? { OwningService: secret.owningService } : {}),
    CreatedDate: seconds(secret.createdAt),
  };
}

/** Handles one action; returns the JSON body (status 200) or throws a SimError. */
export function handleSecretsManager(model: SecretsManagerModel, action: string, body: string, account: string, region: string): string {
  const input = parseBody(body);
  switch (action) {
    case 'GetSecretValue':
      return JSON.stringify(getSecretValue(model.find(account, region, secretIdOf(input)), input));
    case 'DescribeSecret':
      return JSON.stringify(describeSecret(model.find(account, region, secretIdOf(input))));
    default:
      throw new SimError('UnknownOperationException', `The simulator's Secrets Manager implements GetSecretValue and DescribeSecret, not ${action || '(no X-Amz-Target)'}.`, 400);
  }
}

export function secretsManagerProtocol(model: SecretsManagerModel): AwsProtocol {
  return {
    service: 'secretsmanager',
    reachedBy: 'secretsmanager (JSON 1.1, X-Amz-Target secretsmanager.…)',
    contentType: SECRETS_MANAGER_CONTENT_TYPE,
    mutations: new Set<string>(),
    jsonTarget: secretsManagerAction,
    handle: (call) => ok(handleSecretsManager(model, call.action, call.body, call.account, call.region)),
    renderError: (err) => JSON.stringify({ __type: err.code, Message: err.message }),
    errorHeaders: (err) => ({ 'x-amzn-ErrorType': err.code }),
    refusal: (err) => (err.code === 'ExpiredToken' ? new SimError('ExpiredTokenException', err.message, 403) : err),
    throttled: () => new SimError('ThrottlingException', 'Rate exceeded', 400),
    internalErrorCode: 'InternalServiceError',
  };
}
