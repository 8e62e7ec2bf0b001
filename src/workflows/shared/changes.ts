/**
 * The change record's raw material: every mutation an activity reports as made (`changed: true`) is
 * appended to `status.changes` with where it was made and AWS's request id. Status only: no command.
 */
import type { ChangeMade, MutationResult } from '../../api';
import { nowIso } from './clock';

export interface ChangePlace {
  stage?: string;
  step: string;
  account?: string;
  region?: string;
}

function isMutation(x: unknown): x is MutationResult {
  return typeof x === 'object' && x !== null && (x as MutationResult).changed === true && typeof (x as MutationResult).action === 'string';
}

export function recordChange(changes: ChangeMade[], result: unknown, place: ChangePlace): void {
  if (!isMutation(result)) return;
  changes.push({
    at: nowIso(),
    stage: place.stage,
    step: place.step,
    action: result.action!,
    resource: result.resource ?? '',
    detail: result.detail,
    account: place.account,
    region: result.action!.startsWith('route53:') || result.action!.startsWith('statuspage:') ? undefined : place.region,
    requestId: result.requestId,
  });
}
