/** STS plugged into the engine: its state, seeding, its query API, and who every AWS request is. */
import { serviceContext } from '../core/context';
import type { SimEngine } from '../core/engine';
import { StsModel } from './model';
import { stsProtocol } from './protocol';
import { stsSeedSteps } from './seed';
import { STS_STATE } from './state';

export function registerSts(engine: SimEngine): StsModel {
  const sts = new StsModel(serviceContext(engine, STS_STATE));
  engine.register({ name: 'sts', state: STS_STATE, seed: { results: ['roles', 'identities'], steps: stsSeedSteps(sts) }, protocols: [stsProtocol(sts)], identity: sts });
  return sts;
}
