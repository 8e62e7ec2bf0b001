import assert from 'node:assert/strict';
import { DBInstanceNotFoundFault } from '@aws-sdk/client-rds';
import { ApplicationFailure } from '@temporalio/common';
import { callAws, toActivityError } from '../../src/activities/aws-errors';
import { FailureTypes } from '../../src/activities/types';
import { awsError, expectFailure } from './helpers';

describe('aws error mapping', () => {
  const ctx = { operation: 'ModifyDBInstance', region: 'eu-west-2', instanceId: 'orders-db' };

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

  it('maps access denied to non-retryable Unauthorized', () => {
    const mapped = toActivityError(awsError('AccessDenied', 'User is not authorized to perform: rds:ModifyDBInstance', 403), ctx);
    assert.ok(mapped instanceof ApplicationFailure);
    assert.equal(mapped.type, FailureTypes.Unauthorized);
    assert.equal(mapped.nonRetryable, true);
  });

  it('returns throttling, 5xx and network errors unchanged (retryable)', () => {
    for (const err of [
      awsError('Throttling', 'Rate exceeded'),
      awsError('ServiceUnavailable', 'try later', 503),
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      'not even an error',
    ]) {
      assert.equal(toActivityError(err, ctx), err);
    }
  });

  it('passes ApplicationFailures through', () => {
    const f = ApplicationFailure.retryable('not yet', FailureTypes.NotReady);
    assert.equal(toActivityError(f, ctx), f);
  });

  it('returns the call result when it succeeds', async () => {
    assert.equal(await callAws(ctx, async () => 42), 42);
  });
});
