/**
 * The workflows of `bench/campaign-scale/run.ts`: the real campaign and batch workflows, and in place of the real
 * instance workflow a stand-in that ends at once with the result a real one gives. What is measured is the history
 * of the workflows that grow with the fleet (the campaign and its batches); an instance's own history does not.
 */
import type { FleetInstanceInput, FleetInstanceResult } from '../../src/api';

export { upgradeCampaign, upgradeFleetBatch } from '../../src/workflows';

export async function upgradeFleetInstance(input: FleetInstanceInput): Promise<FleetInstanceResult> {
  const s = input.stage;
  const w = input.window;
  return {
    instanceId: s.instanceId,
    region: s.region,
    state: 'completed',
    fromVersion: '15.5',
    toVersion: input.targetEngineVersion,
    ...(s.method === 'apply-now' ? { downtimeSeconds: 6 } : {}),
    ...(w ? { window: { start: new Date(w.startMs).toISOString(), end: new Date(w.endMs).toISOString() } } : {}),
    followUps: [],
  };
}
