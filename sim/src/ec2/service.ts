/** EC2 plugged into the engine: its state, seeding and query API. */
import { serviceContext } from '../core/context';
import type { SimEngine } from '../core/engine';
import { Ec2Model } from './model';
import { ec2Protocol } from './protocol';
import { ec2SeedSteps } from './seed';
import { EC2_STATE } from './state';

export function registerEc2(engine: SimEngine): Ec2Model {
  const ec2 = new Ec2Model(serviceContext(engine, EC2_STATE));
  engine.register({ name: 'ec2', state: EC2_STATE, seed: { results: ['securityGroups', 'vpcs'], steps: ec2SeedSteps(ec2) }, protocols: [ec2Protocol(ec2)] });
  return ec2;
}
