/**
 * RDS API request throttling, as AWS documents it
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-api-throttling.html): "Amazon RDS throttles
 * API requests for each AWS account in each AWS Region" with a token bucket; "By default, you can make up
 * to 300 requests in a burst and a sustained 12 requests per second", from any source. So: one bucket per
 * account and region (sim/src/core/throttle.ts), shared by every RDS action.
 *
 * The refusal is the query-protocol error RDS sends: code `Throttling`, HTTP 400, message "Rate exceeded",
 * type Sender (as reported against the real service, e.g. aws/aws-cli#8604 and boto/boto3#860: "An error
 * occurred (Throttling) when calling the DescribeDBInstances operation ... Rate exceeded"; the user guide's
 * sample shows botocore's `ThrottlingException` wording). `Throttling` is one of the codes the AWS SDK v3's
 * retry strategy classifies as throttling (@smithy/core `THROTTLING_ERROR_CODES`), as botocore's does.
 */
import { SimError } from '../core/errors';
import type { TokenBucketSpec } from '../core/throttle';

/** AWS's documented defaults for the RDS API. */
export const RDS_DEFAULT_BUCKET: TokenBucketSpec = { burst: 300, ratePerSecond: 12 };

export const throttlingError = (): SimError => new SimError('Throttling', 'Rate exceeded', 400);
