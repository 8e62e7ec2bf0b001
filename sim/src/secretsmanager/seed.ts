/** What POST /_sim/seed creates in Secrets Manager: secrets with a string value. */
import { DEFAULT_ACCOUNT, DEFAULT_REGION, tagList } from '../core/aws';
import type { SeedStep } from '../core/service';
import { seedStep } from '../core/service';
import type { SecretsManagerModel } from './model';

/** A secret (created, or given a new value when one of that name exists in that account and Region). */
export interface SeedSecret {
  name: string;
  /** The value: a password, or JSON such as `{"username":"app","password":"…"}`. */
  secretString: string;
  /** Default 123456789012. */
  account?: string;
  /** Default us-east-1. */
  region?: string;
  description?: string;
  tags?: Record<string, string>;
}

export interface SecretsManagerSeedSpec {
  secrets?: SeedSecret[];
}

export interface SecretsManagerSeedResult {
  secrets: Array<{ name: string; arn: string; account: string; region: string }>;
}

export function secretsManagerSeedSteps(model: SecretsManagerModel): SeedStep[] {
  return [
    seedStep<SecretsManagerSeedSpec, SecretsManagerSeedResult>('secrets', (spec, result) => {
      for (const s of spec.secrets ?? []) {
        const secret = model.put({
          name: s.name,
          secretString: s.secretString,
          account: s.account ?? DEFAULT_ACCOUNT,
          region: s.region ?? DEFAULT_REGION,
          description: s.description,
          tags: s.tags ? tagList(s.tags) : undefined,
        });
        result.secrets.push({ name: secret.name, arn: secret.arn, account: secret.account, region: secret.region });
      }
    }),
  ];
}
