/**
 * The extract's activities (dump, compare, write) on connect.ts's connections: the endpoint from RDS, the password
 * from where the access names it. The worker registers them with `...createExtractActivities(database)`.
 */
import { connectDatabase, connectionParams, type DatabaseDeps } from './connect';
import { createDumpActivities } from './dump';
import { createRepairActivities } from './repair';

export function createExtractActivities(deps: DatabaseDeps & { heartbeatIntervalMs?: number }) {
  const extract = {
    connect: (target: Parameters<typeof connectDatabase>[1]) => connectDatabase(deps, target),
    params: (target: Parameters<typeof connectionParams>[1]) => connectionParams(deps, target),
    env: deps.env,
    heartbeatIntervalMs: deps.heartbeatIntervalMs,
  };
  return { ...createDumpActivities(extract), ...createRepairActivities(extract) };
}
