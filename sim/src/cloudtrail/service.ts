/** CloudTrail plugged into the engine: LookupEvents over the engine's call log. */
import type { SimEngine } from '../core/engine';
import { cloudTrailProtocol } from './protocol';

export function registerCloudTrail(engine: SimEngine): void {
  engine.register({ name: 'cloudtrail', protocols: [cloudTrailProtocol({ log: engine.callLog, now: () => engine.now() })] });
}
