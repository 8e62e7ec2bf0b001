/**
 * Validates raw answers of a JSON-protocol service (CloudTrail: botocore's `cloudtrail/2013-11-01`, protocol `json`,
 * jsonVersion 1.1) against its botocore model; test/conformance/service-model.ts does the XML protocols.
 *
 * Checked, as botocore's JSON parser and the AWS SDKs read them:
 *   - the envelope: HTTP status, `Content-Type: application/x-amz-json-<jsonVersion>`, an `x-amzn-RequestId` header;
 *   - success: the body is the output shape: no unknown members, required members present, scalars of their type
 *     (string and enum, integer/long in range, boolean, timestamp as epoch seconds unless the model says otherwise,
 *     double, blob as base64), lists and maps;
 *   - errors: a `__type` naming an error modelled for the operation (anything before `#` is a namespace) or a
 *     common one, a string `message`/`Message`, the modelled HTTP status (400 when the model has none).
 */
import type { Finding, RawResponse, ServiceModel, Shape, ShapeRef } from '../../test/conformance/service-model';

/** Errors any JSON-protocol operation may answer (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/CommonErrors.html). */
const COMMON_ERRORS = new Set(['AccessDeniedException', 'ExpiredTokenException', 'IncompleteSignature', 'InternalFailure', 'InvalidClientTokenId', 'ServiceUnavailable', 'ThrottlingException', 'ValidationError', 'UnrecognizedClientException']);
const INT32 = 2 ** 31;

export function validateJson(model: ServiceModel, operation: string, res: RawResponse): Finding[] {
  const json = model.json as unknown as { metadata: { jsonVersion?: string }; operations: Record<string, { output?: ShapeRef; errors?: ShapeRef[] }>; shapes: Record<string, Shape> };
  const findings: Finding[] = [];
  const add = (path: string, problem: string): void => void findings.push({ operation, path, problem });
  const op = json.operations[operation];
  if (!op) {
    add('(request)', `the model has no operation ${operation}`);
    return findings;
  }
  const headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const wantType = `application/x-amz-json-${json.metadata.jsonVersion ?? '1.1'}`;
  if (!(headers['content-type'] ?? '').startsWith(wantType)) add('(headers)', `Content-Type is "${headers['content-type']}", expected ${wantType}`);
  if (!headers['x-amzn-requestid']) add('(headers)', 'no x-amzn-RequestId header');
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch (err) {
    add('(body)', `not JSON: ${(err as Error).message}`);
    return findings;
  }

  const walk = (ref: ShapeRef, v: unknown, where: string): void => {
    const shape = json.shapes[ref.shape];
    if (!shape) return add(where, `model has no shape ${ref.shape}`);
    const bad = (what: string): void => add(where, `${JSON.stringify(v)} is not ${what} (shape ${ref.shape})`);
    switch (shape.type) {
      case 'structure': {
        if (!v || typeof v !== 'object' || Array.isArray(v)) return bad('an object');
        const members = shape.members ?? {};
        for (const [k, x] of Object.entries(v)) {
          const m = members[k];
          if (!m) add(`${where}.${k}`, `unknown member ${k} (expected one of: ${Object.keys(members).join(', ')})`);
          else if (x !== null) walk(m, x, `${where}.${k}`);
        }
        for (const r of shape.required ?? []) if ((v as Record<string, unknown>)[r] === undefined) add(`${where}.${r}`, `missing required member ${r}`);
        return;
      }
      case 'list':
        if (!Array.isArray(v)) return bad('a list');
        return v.forEach((x, i) => walk(shape.member as ShapeRef, x, `${where}[${i}]`));
      case 'map':
        if (!v || typeof v !== 'object' || Array.isArray(v)) return bad('a map');
        return Object.entries(v).forEach(([k, x]) => walk(shape.value as ShapeRef, x, `${where}.${k}`));
      case 'string':
        if (typeof v !== 'string') return bad('a string');
        if (shape.enum && !shape.enum.includes(v)) add(where, `"${v}" is not a value of enum ${ref.shape} (${shape.enum.join(', ')})`);
        return;
      case 'integer':
      case 'long':
        if (typeof v !== 'number' || !Number.isInteger(v) || (shape.type === 'integer' && (v < -INT32 || v >= INT32))) bad(`an ${shape.type}`);
        return;
      case 'boolean':
        if (typeof v !== 'boolean') bad('a boolean');
        return;
      case 'double':
      case 'float':
        if (typeof v !== 'number') bad(`a ${shape.type}`);
        return;
      case 'timestamp': {
        const format = ref.timestampFormat ?? shape.timestampFormat ?? 'unixTimestamp';
        if (format === 'unixTimestamp' ? typeof v !== 'number' : typeof v !== 'string' || Number.isNaN(Date.parse(v))) bad(`a ${format} timestamp`);
        return;
      }
      case 'blob':
        if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) bad('base64');
        return;
      default:
        add(where, `shape ${ref.shape} has type ${shape.type}, which this validator does not know`);
    }
  };

  if (res.status < 300) {
    if (res.status !== 200) add('(status)', `HTTP ${res.status}, expected 200`);
    if (op.output) walk(op.output, body, op.output.shape);
    return findings;
  }
  if (res.status < 400) add('(status)', `HTTP ${res.status} for an error`);
  const err = body as { __type?: unknown; message?: unknown; Message?: unknown };
  if (typeof err?.__type !== 'string') {
    add('__type', 'an error without a __type');
    return findings;
  }
  const code = err.__type.split('#').pop() as string;
  const modelled = (op.errors ?? []).map((e) => ({ name: e.shape, shape: json.shapes[e.shape] as Shape })).find((e) => (e.shape.error?.code ?? e.name) === code);
  if (!modelled && !COMMON_ERRORS.has(code)) add('__type', `error "${code}" is not modelled for ${operation} (model lists: ${(op.errors ?? []).map((e) => e.shape).join(', ')}) nor a common error`);
  const status = modelled?.shape.error?.httpStatusCode ?? (COMMON_ERRORS.has(code) ? undefined : 400);
  if (status !== undefined && res.status !== status) add('(status)', `HTTP ${res.status} for ${code}, expected ${status}`);
  const message = err.message ?? err.Message;
  if (typeof message !== 'string') add('message', 'an error without a string message');
  const members = modelled?.shape.members ?? {};
  for (const [k, x] of Object.entries(err)) {
    if (k === '__type' || k.toLowerCase() === 'message') continue;
    const m = members[k];
    if (!m) add(k, `unknown member ${k} of error ${code}`);
    else walk(m, x, `${code}.${k}`);
  }
  return findings;
}
