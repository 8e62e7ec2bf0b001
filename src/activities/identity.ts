/**
 * The team's allowed-signers list, read from the worker's own disk (ORCHESTRATOR_ALLOWED_SIGNERS): the
 * workflows ask for it at a run's start and before each wait for people, so a key removed from the list
 * stops counting at the next approval. A list that cannot be read or has a bad line fails the call with
 * the file and line: a typo must never quietly let nobody, or anybody, in.
 */
import fs from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/activity';
import { FailureTypes, type IdentityActivities } from '../api/activities';
import { readSigners } from '../domain/identity/identity';

export function createIdentityActivities(deps: { allowedSignersFile?: string }): IdentityActivities {
  return {
    async readAllowedSigners() {
      const source = deps.allowedSignersFile;
      if (!source) return undefined;
      let text: string;
      try {
        text = await fs.readFile(source, 'utf8');
      } catch (err) {
        throw ApplicationFailure.nonRetryable(
          `ORCHESTRATOR_ALLOWED_SIGNERS=${source} cannot be read on worker (${(err as Error).message}); fix the file or the setting on every worker`,
          FailureTypes.InvalidConfig,
        );
      }
      try {
        readSigners({ source, text });
      } catch (err) {
        throw ApplicationFailure.nonRetryable(`the allowed signers are refused:\n${(err as Error).message}`, FailureTypes.InvalidConfig);
      }
      return { source, text };
    },
  };
}
