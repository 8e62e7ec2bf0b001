/**
 * STS Query API (API version 2011-06-15): AssumeRole and GetCallerIdentity, as
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html and
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html describe them, with the
 * element names of botocore's `sts/2011-06-15` model. Errors are
 * `<ErrorResponse xmlns=…><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
 */
import type { AwsProtocol } from '../core/aws-protocol';
import { ok } from '../core/aws-protocol';
import { SimError } from '../core/errors';
import type { Caller } from '../core/identity';
import type { Params } from '../core/query';
import { str } from '../core/query';
import { requestId } from '../core/request-id';
import { leaf, node } from '../core/xml';
import type { StsModel } from './model';

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

/** STS calls change no resource in any account, so none counts as a mutation in the call log. */
export const STS_MUTATIONS = new Set<string>();

export function stsError(err: SimError): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${NS}"><Error><Type>${err.type}</Type>${leaf('Code', err.code)}${leaf('Message', err.message)}</Error><RequestId>${requestId()}</RequestId></ErrorResponse>`;
}

const stsResponse = (action: string, result: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${NS}"><${action}Result>${result}</${action}Result><ResponseMetadata>${leaf('RequestId', requestId())}</ResponseMetadata></${action}Response>`;

/** AWS states STS instants to the second: 2019-11-09T13:34:41Z. */
const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Input constraints of botocore's model, reported the way STS reports them:
 * "1 validation error detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must …".
 */
class Violations {
  readonly found: string[] = [];

  check(field: string, value: string | undefined, rules: { min?: number; max?: number; pattern?: RegExp; patternText?: string }): void {
    if (value === undefined) return;
    const at = `Value '${value}' at '${field}' failed to satisfy constraint: Member must`;
    if (rules.pattern && !rules.pattern.test(value)) this.found.push(`${at} satisfy regular expression pattern: ${rules.patternText}`);
    if (rules.min !== undefined && value.length < rules.min) this.found.push(`${at} have length greater than or equal to ${rules.min}`);
    if (rules.max !== undefined && value.length > rules.max) this.found.push(`${at} have length less than or equal to ${rules.max}`);
  }

  required(field: string, value: string | undefined): void {
    if (value === undefined) this.found.push(`Value null at '${field}' failed to satisfy constraint: Member must not be null`);
  }

  range(field: string, value: number | undefined, min: number, max: number): void {
    if (value === undefined) return;
    if (value < min) this.found.push(`Value '${value}' at '${field}' failed to satisfy constraint: Member must have value greater than or equal to ${min}`);
    if (value > max) this.found.push(`Value '${value}' at '${field}' failed to satisfy constraint: Member must have value less than or equal to ${max}`);
  }

  throwIfAny(): void {
    const n = this.found.length;
    if (n > 0) throw new SimError('ValidationError', `${n} validation error${n > 1 ? 's' : ''} detected: ${this.found.join('; ')}`, 400);
  }
}

function durationSeconds(p: Params): number | undefined {
  const v = str(p, 'DurationSeconds');
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw new SimError('ValidationError', `1 validation error detected: Value '${v}' at 'durationSeconds' failed to satisfy constraint: Member must be an integer`, 400);
  return Number(v);
}

function assumeRole(sts: StsModel, p: Params, caller: Caller): string {
  const roleArn = str(p, 'RoleArn');
  const sessionName = str(p, 'RoleSessionName');
  const externalId = str(p, 'ExternalId');
  const duration = durationSeconds(p);
  // The model's constraints (sts/2011-06-15: arnType 20..2048, roleSessionNameType 2..64 [\w+=,.@-]*,
  // roleDurationSecondsType 900..43200, externalIdType 2..1224 [\w+=,.@:\/-]*).
  const v = new Violations();
  v.required('roleArn', roleArn);
  v.required('roleSessionName', sessionName);
  v.check('roleArn', roleArn, { min: 20, max: 2048 });
  v.check('roleSessionName', sessionName, { min: 2, max: 64, pattern: /^[\w+=,.@-]*$/, patternText: '[\\w+=,.@-]*' });
  v.check('externalId', externalId, { min: 2, max: 1224, pattern: /^[\w+=,.@:/-]*$/, patternText: '[\\w+=,.@:\\/-]*' });
  v.range('durationSeconds', duration, 900, 43200);
  v.throwIfAny();
  // A string that is no role ARN at all; STS answers "<value> is invalid" (as moto, LocalStack and others reproduce).
  if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/\S+$/.test(roleArn as string)) throw new SimError('ValidationError', `${roleArn} is invalid`, 400);
  const s = sts.assumeRole(caller, { roleArn: roleArn as string, sessionName: sessionName as string, durationSeconds: duration, externalId });
  return stsResponse(
    'AssumeRole',
    node(
      'Credentials',
      leaf('AccessKeyId', s.accessKeyId),
      leaf('SecretAccessKey', s.secretAccessKey),
      leaf('SessionToken', s.sessionToken),
      leaf('Expiration', isoSeconds(s.expiresAt)),
    ) +
      node('AssumedRoleUser', leaf('AssumedRoleId', s.assumedRoleId), leaf('Arn', s.arn)) +
      leaf('SourceIdentity', str(p, 'SourceIdentity')),
  );
}

/** One STS action for `caller`: the XML body of its answer (status 200), or a thrown SimError. */
type StsAction = (sts: StsModel, p: Params, caller: Caller) => string;

const ACTIONS: Record<string, StsAction> = {
  AssumeRole: assumeRole,
  // "No permissions are required to perform this operation."
  GetCallerIdentity: (_sts, _p, caller) => stsResponse('GetCallerIdentity', leaf('UserId', caller.userId) + leaf('Account', caller.account) + leaf('Arn', caller.arn)),
};

export function handleSts(sts: StsModel, action: string, p: Params, caller: Caller): string {
  const handler = ACTIONS[action];
  if (!handler) throw new SimError('InvalidAction', `Could not find operation ${action} for version 2011-06-15 (the simulator implements ${Object.keys(ACTIONS).join(', ')})`, 400);
  return handler(sts, p, caller);
}

export function stsProtocol(sts: StsModel): AwsProtocol {
  return {
    service: 'sts',
    reachedBy: 'sts (2011-06-15)',
    queryVersion: '2011-06-15',
    contentType: 'text/xml',
    mutations: STS_MUTATIONS,
    handle: (call) => ok(handleSts(sts, call.action, call.form, call.caller)),
    renderError: stsError,
  };
}
