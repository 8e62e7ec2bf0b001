import assert from 'node:assert/strict';
import { DBInstanceNotFoundFault } from '@aws-sdk/client-rds';
import { ApplicationFailure } from '@temporalio/common';
import { ENDPOINT_FIELD, callAws, classifyAwsFailure, toActivityError } from '../../src/activities/aws-errors';
import { FailureTypes } from '../../src/api';
import { awsError, expectFailure } from './helpers';

describe('aws error mapping', () => {
  const ctx = { operation: 'ModifyDBInstance', where: 'eu-west-2', instanceId: 'orders-db' };

  it('maps both spellings of DBInstanceNotFound to InstanceNotFound naming region and id', () => {
    for (const err of [
      new DBInstanceNotFoundFault({ message: 'DBInstance orders-db not found.', $metadata: {} }),
      awsError('DBInstanceNotFound', 'DBInstance orders-db not found.', 404),
    ]) {
      const mapped = toActivityError(err, ctx);
      assert.ok(mapped instanceof ApplicationFailure);
      assert.equal(mapped.type, FailureTypes.InstanceNotFound);
      assert.equal(mapped.nonRetryable, true);
      assert.match(mapped.message, /'orders-db'/);
      assert.match(mapped.message, /eu-west-2/);
    }
  });

  for (const name of ['InvalidParameterCombination', 'InvalidParameterValue']) {
    it(`maps ${name} to non-retryable InvalidInput with the AWS message`, async () => {
      await expectFailure(callAws(ctx, () => Promise.reject(awsError(name, 'Cannot modify engine version'))), {
        type: FailureTypes.InvalidInput,
        nonRetryable: true,
        message: [new RegExp(name), /Cannot modify engine version/, /ModifyDBInstance/],
      });
    });
  }

  it('names the role and its account when a call made as an assumed role is refused', () => {
    const asRole = { ...ctx, where: { region: 'eu-west-2', roleArn: 'arn:aws:iam::222222222222:role/rds-orchestrator', sessionName: 'pg-minor-15-8-preview' } };
    const mapped = toActivityError(awsError('AccessDenied', 'not authorized to perform rds:ModifyDBInstance', 403), asRole) as ApplicationFailure;
    assert.equal(mapped.type, FailureTypes.Unauthorized);
    assert.match(mapped.message, /ModifyDBInstance in region eu-west-2 as role arn:aws:iam::222222222222:role\/rds-orchestrator \(account 222222222222\) was refused \(AccessDenied\).*Give that role/);
  });

  it('maps access denied to non-retryable Unauthorized', () => {
    const mapped = toActivityError(awsError('AccessDenied', 'User is not authorized to perform: rds:ModifyDBInstance', 403), ctx);
    assert.ok(mapped instanceof ApplicationFailure);
    assert.equal(mapped.type, FailureTypes.Unauthorized);
    assert.equal(mapped.nonRetryable, true);
  });

  it('turns throttling, 5xx and network errors into retryable AwsCallFailed saying what kind of failure it was', () => {
    const cases: [unknown, string, RegExp][] = [
      [awsError('Throttling', 'Rate exceeded'), 'aws', /ModifyDBInstance \(eu-west-2\) failed: AWS answered Throttling \(HTTP 400\): Rate exceeded/],
      [awsError('ServiceUnavailable', 'try later', 503), 'aws', /AWS answered ServiceUnavailable \(HTTP 503\)/],
      [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'network', /no answer: connection reset \(ECONNRESET\)/],
      [Object.assign(new Error('Request timed out'), { name: 'TimeoutError' }), 'timeout', /no answer in time/],
      ['not even an error', 'unknown', /failed: not even an error/],
    ];
    for (const [err, kind, message] of cases) {
      const mapped = toActivityError(err, ctx);
      assert.ok(mapped instanceof ApplicationFailure);
      assert.equal(mapped.type, FailureTypes.AwsCallFailed);
      assert.equal(mapped.nonRetryable, false);
      assert.match(mapped.message, message);
      assert.equal((mapped.details?.[0] as { kind: string }).kind, kind);
    }
  });

  it('names the endpoint recorded on the error', () => {
    const err = Object.assign(awsError('InternalFailure', 'boom', 500), { [ENDPOINT_FIELD]: 'https://rds.eu-west-2.amazonaws.com' });
    const mapped = toActivityError(err, ctx) as ApplicationFailure;
    assert.match(mapped.message, /^ModifyDBInstance against https:\/\/rds\.eu-west-2\.amazonaws\.com \(eu-west-2\) failed/);
  });

  it('says when the answer is not from AWS at all (an HTML page)', () => {
    const err = Object.assign(new Error('@aws-sdk XML parse error: mismatched tags <title> and </html>.\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.'), {
      $metadata: { httpStatusCode: 500 },
      $response: { statusCode: 500, headers: { 'content-type': 'text/html' } },
      $responseBodyText: '<html><title>500</html>',
    });
    assert.deepEqual(classifyAwsFailure(err), {
      kind: 'not-aws',
      httpStatus: 500,
      error: 'HTTP 500 with a response that is not an AWS answer (text/html): "<html><title>500</html>"; is the endpoint right, or is a proxy in the way?',
    });
  });

  it('passes ApplicationFailures through', () => {
    const f = ApplicationFailure.retryable('not yet', FailureTypes.NotReady);
    assert.equal(toActivityError(f, ctx), f);
  });

  it('returns the call result when it succeeds', async () => {
    assert.equal(await callAws(ctx, async () => 42), 42);
  });
});
