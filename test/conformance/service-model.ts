/**
 * Validates raw AWS responses against AWS's published service models: the botocore JSON models that
 * ship on PyPI (installed into .tools/venv by scripts/install-tools.js). Our simulator encodes our own
 * reading of AWS; these models are a reference nobody here wrote (DESIGN.md, "Fidelity").
 *
 * What is checked, per response body (XML, three protocols):
 *   - the envelope: root element, result wrapper (query), request id, XML namespace, HTTP status, and for
 *     errors the protocol's error envelope and that the code is modelled for the operation (or common);
 *   - every element is a member of its shape (unknown elements are findings), non-list members appear once,
 *     required members are present;
 *   - scalar values: enum membership, integer/long (and their ranges), boolean, timestamp (ISO 8601 unless
 *     the model says otherwise), double/float, blob (base64); no text in structures, no children in scalars;
 *   - lists (wrapped or flattened, with the member's locationName or `member`) and maps.
 * Not checked: string length/pattern/min/max constraints (the models state them for input), element order
 * (no SDK depends on it), header members beyond the presence of required ones, values' meaning.
 * This file does the protocol envelopes and operation lookup; shape-walker.ts walks shapes.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Finding, Shape, ShapeRef, XmlElement } from './shape-walker';
import { Walker, parseXml } from './shape-walker';

export type { Finding, Shape, ShapeRef, XmlElement } from './shape-walker';
export { parseXml } from './shape-walker';

/** The botocore release whose models we validate against; keep in step with scripts/install-tools.js. */
export const PINNED_BOTOCORE = '1.44.8';

export type Protocol = 'query' | 'ec2' | 'rest-xml';

export interface Operation {
  name: string;
  http: { method: string; requestUri: string; responseCode?: number };
  input?: ShapeRef;
  output?: ShapeRef;
  errors?: ShapeRef[];
}

export interface ModelJson {
  metadata: { protocol: Protocol; apiVersion: string; xmlNamespace?: string; serviceId: string };
  operations: Record<string, Operation>;
  shapes: Record<string, Shape>;
}

/** The raw HTTP response the validator reads. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

// ---------------------------------------------------------------------------------------------------
// Locating and loading the models

/** botocore's data directory and version, asked of the venv's Python (BOTOCORE_DATA_DIR overrides). */
export function locateBotocore(): { dataDir: string; version: string } {
  if (process.env.BOTOCORE_DATA_DIR) return { dataDir: process.env.BOTOCORE_DATA_DIR, version: 'unknown (BOTOCORE_DATA_DIR)' };
  const python = process.env.BOTOCORE_PYTHON ?? path.resolve(__dirname, '../../.tools/venv/bin/python');
  const r = spawnSync(python, ['-c', 'import botocore,os;print(os.path.dirname(botocore.__file__));print(botocore.__version__)'], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(
      `Cannot find botocore's service models: ${python} failed (${r.error?.message ?? r.stderr.trim()}). ` +
        'Run `node scripts/install-tools.js` (it installs botocore into .tools/venv), or set BOTOCORE_DATA_DIR.',
    );
  }
  const [dir, version] = r.stdout.trim().split('\n');
  return { dataDir: path.join(dir as string, 'data'), version: version ?? 'unknown' };
}

/** Reads `<dataDir>/<service>/<newest api version>/service-2.json(.gz)`. */
export function loadServiceModel(service: string, dataDir: string): ServiceModel {
  const versions = fs.readdirSync(path.join(dataDir, service)).filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d)).sort();
  const dir = path.join(dataDir, service, versions[versions.length - 1] ?? '');
  const gz = path.join(dir, 'service-2.json.gz');
  const text = fs.existsSync(gz) ? zlib.gunzipSync(fs.readFileSync(gz)).toString('utf8') : fs.readFileSync(path.join(dir, 'service-2.json'), 'utf8');
  return new ServiceModel(JSON.parse(text) as ModelJson);
}

// ---------------------------------------------------------------------------------------------------
// Errors AWS documents for every operation, which the models do not list per operation. Kept short on
// purpose: any other code must be in the operation's `errors` in the model.

const COMMON_ERRORS: Record<Protocol, Record<string, string>> = {
  // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/CommonErrors.html
  query: {
    Throttling: "RDS's wire code for request throttling; any operation, the SDK retries it",
    AccessDenied: 'IAM refused the call; any operation',
    InvalidParameterValue: 'common error: a parameter value is invalid or out of range',
    InvalidParameterCombination: 'common error: parameters that cannot be used together',
    MissingParameter: 'common error: a required parameter is missing',
    ValidationError: 'common error: the input fails a constraint of the service',
    InvalidClientTokenId: 'common error: the access key id does not exist (an unknown or revoked session)',
    ExpiredToken: "the credentials' session expired (the wire code of the common error ExpiredTokenException)",
  },
  // https://docs.aws.amazon.com/Route53/latest/APIReference/CommonErrors.html
  'rest-xml': {
    Throttling: 'Route 53 rate limiting (5 requests/s per account); any operation',
    AccessDenied: 'IAM refused the call; any operation',
    InvalidInput: 'Route 53 validation failure; modelled for most operations, documented for all',
    InvalidClientTokenId: 'common error: the access key id does not exist (an unknown or revoked session)',
    ExpiredToken: "the credentials' session expired (the wire code of the common error ExpiredTokenException)",
  },
  // The EC2 model lists no errors at all; EC2's codes are documented on
  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html. Only those our calls can meet:
  ec2: {
    'InvalidPermission.Duplicate': 'AuthorizeSecurityGroupIngress of a rule that already exists',
    'InvalidGroup.NotFound': 'a security group id or name that does not exist',
    'InvalidGroup.Duplicate': 'CreateSecurityGroup with a name already used in that VPC',
    'InvalidGroupId.Malformed': 'a security group id that is not sg-<hex>',
    'InvalidVpcID.NotFound': 'a VPC id that does not exist',
    MissingParameter: 'common client error: a required parameter is missing',
    InvalidParameterValue: 'common client error: a parameter value is invalid (e.g. an unknown filter name)',
    InvalidParameterCombination: 'common client error: parameters that cannot be used together',
    InvalidAction: 'common client error: an action the endpoint does not know',
    RequestLimitExceeded: "EC2's throttling code; any operation",
    UnauthorizedOperation: 'IAM refused the call; any operation',
    AuthFailure: 'the credentials could not be validated (an unknown access key); any operation',
    RequestExpired: 'the request or its credentials expired; any operation',
  },
};

// ---------------------------------------------------------------------------------------------------

export class ServiceModel {
  readonly protocol: Protocol;
  /** The namespace AWS puts on response roots (from metadata, or Route 53's request bodies). */
  private readonly namespace?: string;

  constructor(readonly json: ModelJson) {
    this.protocol = json.metadata.protocol;
    this.namespace =
      json.metadata.xmlNamespace ?? Object.values(json.operations).map((o) => o.input?.xmlNamespace?.uri).find((u): u is string => u !== undefined);
  }

  get serviceId(): string {
    return this.json.metadata.serviceId;
  }

  operation(name: string): Operation | undefined {
    return this.json.operations[name];
  }

  /**
   * Which operation a request is: `Action=` in the form body (query, ec2), or for rest-xml the operation
   * whose method matches and whose `requestUri` template matches the path with the most literal segments.
   */
  operationFor(method: string, url: string, body: string): string | undefined {
    const u = new URL(url, 'http://x');
    if (this.protocol !== 'rest-xml') {
      const action = new URLSearchParams(body).get('Action') ?? u.searchParams.get('Action');
      return action && this.json.operations[action] ? action : undefined;
    }
    const segments = u.pathname.replace(/\/+$/, '').split('/');
    let best: { name: string; literals: number } | undefined;
    for (const op of Object.values(this.json.operations)) {
      if (op.http.method !== method) continue;
      const template = (op.http.requestUri.split('?')[0] as string).replace(/\/+$/, '').split('/');
      let literals = 0;
      let ok = true;
      for (let i = 0; ok && i < template.length; i++) {
        const t = template[i] as string;
        if (/^\{.+\+\}$/.test(t)) {
          ok = segments.length > i;
          break; // a greedy label takes the rest of the path
        }
        if (i === template.length - 1 && segments.length !== template.length) ok = false;
        else if (/^\{.+\}$/.test(t)) ok = (segments[i] ?? '') !== '';
        else if (t === segments[i]) literals++;
        else ok = false;
      }
      if (ok && (!best || literals > best.literals)) best = { name: op.name, literals };
    }
    return best?.name;
  }

  /** Every finding for one response of `operationName` (an empty list means it conforms). */
  validate(operationName: string, res: RawResponse): Finding[] {
    const op = this.json.operations[operationName];
    const w = new Walker(this.json.shapes, operationName);
    if (!op) {
      w.add('(request)', `the model has no operation ${operationName}`);
      return w.findings;
    }
    const contentType = Object.entries(res.headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
    const isError = res.status >= 300;
    if (res.body.trim() === '' && !isError && !op.output) return w.findings;
    if (!/xml/i.test(contentType)) w.add('(headers)', `Content-Type is "${contentType}", expected an XML type (text/xml)`);
    let root: XmlElement;
    try {
      root = parseXml(res.body);
    } catch (err) {
      w.add('(body)', (err as Error).message);
      return w.findings;
    }
    if (isError) this.validateError(op, res, root, w);
    else this.validateOutput(op, res, root, w);
    return w.findings;
  }

  private checkNamespace(root: XmlElement, w: Walker): void {
    if (!this.namespace) return;
    const got = root.attrs.xmlns;
    if (got === undefined || got.replace(/\/$/, '') !== this.namespace.replace(/\/$/, '')) {
      w.add(root.name, `xmlns is ${got === undefined ? 'missing' : `"${got}"`}, expected "${this.namespace}"`);
    }
  }

  private validateOutput(op: Operation, res: RawResponse, root: XmlElement, w: Walker): void {
    const wantStatus = op.http.responseCode ?? 200;
    if (res.status !== wantStatus) w.add('(status)', `HTTP ${res.status}, the model says ${wantStatus}`);
    if (root.name === 'ErrorResponse' || root.name === 'Response') return w.add(root.name, `an error envelope <${root.name}> with HTTP ${res.status}`);
    const output = op.output;
    if (this.protocol === 'query') {
      if (root.name !== `${op.name}Response`) w.add(root.name, `root element <${root.name}>, expected <${op.name}Response>`);
      this.checkNamespace(root, w);
      const wrapper = output?.resultWrapper;
      const spec: Record<string, { required: boolean }> = { ResponseMetadata: { required: true } };
      if (wrapper) spec[wrapper] = { required: true };
      const found = w.children(root, root.name, spec);
      const meta = found.get('ResponseMetadata')?.[0];
      if (meta) w.children(meta, 'ResponseMetadata', { RequestId: { required: true } });
      const result = wrapper ? found.get(wrapper)?.[0] : undefined;
      if (output && wrapper && result) w.structure(output.shape, result, wrapper);
      return;
    }
    if (this.protocol === 'ec2') {
      if (root.name !== `${op.name}Response`) w.add(root.name, `root element <${root.name}>, expected <${op.name}Response>`);
      this.checkNamespace(root, w);
      if (output) w.structure(output.shape, root, root.name, { requestId: { required: true } });
      else w.children(root, root.name, { requestId: { required: true }, return: { required: false } });
      return;
    }
    // rest-xml: header members come from the HTTP headers; the body is the payload member or the output shape.
    if (!output) return;
    const shape = this.json.shapes[output.shape] as Shape;
    const headers = new Set(Object.keys(res.headers).map((k) => k.toLowerCase()));
    for (const [name, ref] of Object.entries(shape.members ?? {})) {
      if (ref.location === 'header' && (shape.required ?? []).includes(name) && !headers.has((ref.locationName ?? name).toLowerCase())) {
        w.add(`(headers).${ref.locationName ?? name}`, `missing required header member ${name}`);
      }
    }
    const payload = shape.payload ? shape.members?.[shape.payload] : undefined;
    const bodyRef = payload ?? output;
    const bodyShape = this.json.shapes[bodyRef.shape] as Shape;
    if (bodyShape.type !== 'structure') return; // a blob/string payload is opaque
    const rootName = payload ? (payload.locationName ?? bodyShape.locationName ?? shape.payload) : (bodyShape.locationName ?? output.shape);
    if (root.name !== rootName) w.add(root.name, `root element <${root.name}>, expected <${rootName}>`);
    this.checkNamespace(root, w);
    w.structure(bodyRef.shape, root, root.name);
  }

  private validateError(op: Operation, res: RawResponse, root: XmlElement, w: Walker): void {
    if (res.status < 400) w.add('(status)', `HTTP ${res.status} for an error; AWS answers errors with 4xx/5xx`);
    let error: XmlElement | undefined;
    if (this.protocol === 'ec2') {
      if (root.name !== 'Response') return w.add(root.name, 'root element of an EC2 error must be <Response><Errors><Error>…');
      const top = w.children(root, 'Response', { Errors: { required: true }, RequestID: { required: true } });
      const errors = top.get('Errors')?.[0];
      if (errors) w.children(errors, 'Response.Errors', { Error: { required: true, repeats: true } });
      error = errors?.children.find((c) => c.name === 'Error');
      if (error) w.children(error, 'Response.Errors.Error[0]', { Code: { required: true }, Message: { required: true } });
    } else {
      if (root.name !== 'ErrorResponse') return w.add(root.name, 'root element of an error must be <ErrorResponse><Error>…');
      this.checkNamespace(root, w);
      const top = w.children(root, 'ErrorResponse', { Error: { required: true }, RequestId: { required: true } });
      error = top.get('Error')?.[0];
    }
    const code = error?.children.find((c) => c.name === 'Code')?.text ?? '';
    const modelled = (op.errors ?? []).map((e) => ({ name: e.shape, shape: this.json.shapes[e.shape] as Shape })).find((e) => (e.shape.error?.code ?? e.name) === code);
    if (error && this.protocol !== 'ec2') {
      // The envelope's Type/Code/Message, plus whatever members the modelled error shape declares.
      const spec: Record<string, { required: boolean }> = { Type: { required: true }, Code: { required: true }, Message: { required: true } };
      for (const [name, ref] of Object.entries(modelled?.shape.members ?? {})) {
        const element = ref.locationName ?? name;
        if (element.toLowerCase() !== 'message') spec[element] = { required: (modelled?.shape.required ?? []).includes(name) };
      }
      w.children(error, 'ErrorResponse.Error', spec);
      const type = error.children.find((c) => c.name === 'Type')?.text;
      if (type !== undefined && type !== 'Sender' && type !== 'Receiver') w.add('ErrorResponse.Error.Type', `"${type}" is not Sender or Receiver`);
      const fault = modelled?.shape.error?.senderFault;
      if (type !== undefined && fault !== undefined && (type === 'Sender') !== fault) w.add('ErrorResponse.Error.Type', `"${type}", the model says ${fault ? 'Sender' : 'Receiver'} for ${code}`);
    }
    const where = this.protocol === 'ec2' ? 'Response.Errors.Error[0].Code' : 'ErrorResponse.Error.Code';
    if (!code) return;
    if (modelled) {
      const status = modelled.shape.error?.httpStatusCode;
      if (status !== undefined && status !== res.status) w.add('(status)', `HTTP ${res.status} for ${code}, the model says ${status}`);
    } else if (!(code in COMMON_ERRORS[this.protocol])) {
      const listed = (op.errors ?? []).map((e) => this.json.shapes[e.shape]?.error?.code ?? e.shape);
      w.add(where, `error code "${code}" is not modelled for ${op.name} (model lists: ${listed.join(', ') || 'none'}) nor a documented common error`);
    }
  }
}
