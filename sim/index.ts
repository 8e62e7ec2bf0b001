/**
 * The AWS simulator's face to the rest of the repository (the demo, the bench, the tests): nothing outside
 * sim/ imports anything of it but this file, so its inside can be shaped as it needs. The product (src/)
 * imports none of it.
 */
export { startSimulator, credentialScope, type RunningSimulator, type SimulatorOptions } from './src/server';
export { SimAdminClient, SimAdminError, type ThrottleState } from './src/client';
export * from './src/seed';
export type * from './src/types';
export { formatMaintenanceWindow } from './src/window';
export { DAY, HOUR, MINUTE, ManualClock, SECOND, SystemClock, type Clock } from './src/clock';
export { RDS_DEFAULT_BUCKET, type TokenBucketSpec } from './src/throttle';
export { defaultCatalogue, type CatalogueMajor } from './src/catalogue';
export { parseBucket } from './src/main';
