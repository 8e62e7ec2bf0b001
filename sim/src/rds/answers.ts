/**
 * What every RDS action's answer is made of (sim/src/rds/protocol.ts and sim/src/rds/blue-green-actions.ts): the
 * `<XResponse><XResult>` envelope, the `<ErrorResponse>` of a refusal, and Describe paging.
 */
import { SimError } from '../core/errors';
import type { Params } from '../core/query';
import { int, str } from '../core/query';
import { requestId } from '../core/request-id';
import { leaf } from '../core/xml';
import type { RdsModel } from './model';

const NS = 'http://rds.amazonaws.com/doc/2014-10-31/';

/** One RDS action: the XML body of its answer (status 200), or a thrown SimError. */
export type RdsAction = (rds: RdsModel, p: Params, account: string, region: string) => string;

export function rdsResponse(action: string, result: string | undefined): string {
  const inner = result === undefined ? '' : `<${action}Result>${result}</${action}Result>`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${NS}">${inner}<ResponseMetadata><RequestId>${requestId()}</RequestId></ResponseMetadata></${action}Response>`;
}

export function rdsError(err: SimError): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${NS}"><Error><Type>${err.type}</Type>${leaf('Code', err.code)}${leaf('Message', err.message)}</Error><RequestId>${requestId()}</RequestId></ErrorResponse>`;
}

/** RDS paging: MaxRecords (20..100, default 100) and an opaque Marker (here: the next index). */
export function paginate<T>(p: Params, items: T[]): { page: T[]; marker?: string } {
  const max = int(p, 'MaxRecords') ?? 100;
  if (max < 20 || max > 100) throw new SimError('InvalidParameterValue', `MaxRecords must be between 20 and 100, got ${max}`);
  const markerIn = str(p, 'Marker');
  const start = markerIn === undefined ? 0 : Number(markerIn);
  if (!Number.isInteger(start) || start < 0) throw new SimError('InvalidParameterValue', `Invalid Marker '${markerIn}'`);
  const page = items.slice(start, start + max);
  return { page, marker: start + max < items.length ? String(start + max) : undefined };
}
