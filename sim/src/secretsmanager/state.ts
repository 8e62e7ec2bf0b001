/** What Secrets Manager keeps in the simulator's state: secrets by account, Region and name. */
import type { Tag } from '../core/aws';
import type { StatePart } from '../core/state';

export interface Secret {
  account: string;
  region: string;
  name: string;
  /** arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 random characters> */
  arn: string;
  description?: string;
  /** The current version (AWSCURRENT): the simulator keeps one version per secret. */
  versionId: string;
  secretString: string;
  tags: Tag[];
  /** The service that manages the secret ("rds" for an RDS-managed master user secret). */
  owningService?: string;
  createdAt: number;
  lastChangedAt: number;
}

export interface SecretsManagerState {
  /** By regionalKey(account, region, name). */
  secrets: Record<string, Secret>;
}

export const SECRETS_MANAGER_STATE: StatePart<SecretsManagerState> = { empty: () => ({ secrets: {} }) };
