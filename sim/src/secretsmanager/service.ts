/** Secrets Manager plugged into the engine: its state, seeding, and its JSON API (GetSecretValue, DescribeSecret). */
import { serviceContext } from '../core/context';
import type { SimEngine } from '../core/engine';
import { SecretsManagerModel } from './model';
import { secretsManagerProtocol } from './protocol';
import { secretsManagerSeedSteps } from './seed';
import { SECRETS_MANAGER_STATE } from './state';

export function registerSecretsManager(engine: SimEngine): SecretsManagerModel {
  const model = new SecretsManagerModel(serviceContext(engine, SECRETS_MANAGER_STATE));
  engine.register({ name: 'secretsmanager', state: SECRETS_MANAGER_STATE, seed: { results: ['secrets'], steps: secretsManagerSeedSteps(model) }, protocols: [secretsManagerProtocol(model)] });
  return model;
}
