/**
 * The AWS simulator's face to the rest of the repository (the demo, the bench, the tests): nothing outside
 * sim/ imports anything of it but this file, so its inside can be shaped as it needs. The product (src/)
 * imports none of it.
 */
export { startSimulator, credentialScope, type RunningSimulator, type SimulatorOptions } from './src/server';
export { SimAdminClient, SimAdminError, type ThrottleState } from './src/client';
export * from './src/demo-fleet';
export type * from './src/api';
export { formatMaintenanceWindow } from './src/rds/window';
export { DAY, HOUR, MINUTE, ManualClock, SECOND, SystemClock, type Clock } from './src/core/clock';
export { nextRandom } from './src/core/faults';
export { RDS_DEFAULT_BUCKET } from './src/rds/throttle';
export type { TokenBucketSpec } from './src/core/throttle';
export { defaultCatalogue, type CatalogueMajor } from './src/rds/catalogue';
export { defaultVpcId } from './src/ec2/model';
export { parseBucket } from './src/main';
export { findPostgresBinDir, freePort, PostgresServer, PostgresUnavailableError, requirePostgresBinDir } from './src/postgres/server';
export { postgresAddress } from './src/rds-postgres';
