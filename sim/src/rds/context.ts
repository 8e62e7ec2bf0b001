/** What RDS's model sees of the engine: its state, the durations of its statuses, and the engine catalogue. */
import type { ServiceContext, SimContext } from '../core/context';
import { serviceContext } from '../core/context';
import { Catalogue } from './catalogue';
import type { RdsState } from './state';
import { RDS_STATE } from './state';

/** How long each status lasts, in simulated seconds before `speed` divides them. */
export type RdsDurations = {
  modifying: number;
  upgrading: number;
  stopping: number;
  starting: number;
  creating: number;
  backingUp: number;
  /**
   * A blue/green switchover: from SwitchoverBlueGreenDeployment to SWITCHOVER_COMPLETED, the write outage of both
   * environments ("The switchover typically takes under a minute", User Guide, blue/green deployments overview).
   */
  blueGreenSwitchover: number;
};

export const RDS_DURATIONS: RdsDurations = { modifying: 5, upgrading: 30, stopping: 20, starting: 30, creating: 60, backingUp: 20, blueGreenSwitchover: 20 };

export interface RdsContext extends ServiceContext<RdsState, keyof RdsDurations> {
  /** The state's catalogue, read once per change of it. */
  catalogue(): Catalogue;
}

export function rdsContext(ctx: SimContext): RdsContext {
  const base = serviceContext<RdsState, keyof RdsDurations>(ctx, RDS_STATE);
  let cache: { source: RdsState['catalogue']; catalogue: Catalogue } | undefined;
  return {
    get state(): RdsState {
      return base.state;
    },
    now: base.now,
    durationMs: base.durationMs,
    markDirty: base.markDirty,
    catalogue(): Catalogue {
      if (cache?.source !== base.state.catalogue) cache = { source: base.state.catalogue, catalogue: new Catalogue(base.state.catalogue) };
      return cache.catalogue;
    },
  };
}
