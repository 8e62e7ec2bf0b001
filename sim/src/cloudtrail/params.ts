/**
 * The JSON CloudTrail makes of a request's parameters and of a change's answer (requestParameters,
 * responseElements). CloudTrail names members as the API does with the first letter lowered ("dBInstanceIdentifier",
 * "dBInstanceClass", "multiAZ"), writes booleans and numbers as JSON booleans and numbers ("allocatedStorage": 20),
 * lists as arrays ("enableCloudwatchLogsExports": [...]) and masks secrets ("masterUserPassword": "****"): the RDS
 * user guide's log entry example, https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/logging-using-cloudtrail.html.
 * EC2's records wrap lists as `{"items": [...]}`, as EC2's XML does.
 *
 * The simulator has no service model at run time, so which members are numbers and booleans is the short list below
 * (the ones of the calls it implements), and a list is recognised by its shape: a query key with an index
 * (`Tags.Tag.1.Key`, `GroupId.1`), or an XML element whose children repeat one name.
 */
import { XMLParser } from 'fast-xml-parser';

const BOOLEANS = new Set([
  'allowMajorVersionUpgrade',
  'applyImmediately',
  'autoMinorVersionUpgrade',
  'copyTagsToSnapshot',
  'defaultOnly',
  'deletionProtection',
  'dryRun',
  'enableIAMDatabaseAuthentication',
  'enablePerformanceInsights',
  'evaluateTargetHealth',
  'isDefault',
  'isEgress',
  'multiAZ',
  'privateZone',
  'publiclyAccessible',
  'return',
  'storageEncrypted',
  'useLatestRestorableTime',
]);
const NUMBERS = new Set([
  'allocatedStorage',
  'backupRetentionPeriod',
  'dbInstancePort',
  'durationSeconds',
  'fromPort',
  'iops',
  'maxRecords',
  'maxResults',
  'monitoringInterval',
  'port',
  'resourceRecordSetCount',
  'storageThroughput',
  'tTL',
  'toPort',
  'weight',
]);
/** Elements ending like a list that are structures. */
const STRUCTURES = new Set(['pendingModifiedValues', 'responseMetadata', 'vPCs']);

export const lowerFirst = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1);

function typed(name: string, text: string): unknown {
  if (BOOLEANS.has(name) && (text === 'true' || text === 'false')) return text === 'true';
  if (NUMBERS.has(name) && /^-?\d+$/.test(text)) return Number(text);
  return text;
}

type Json = Record<string, unknown>;
type Path = Array<string | number>;

function setPath(root: Json, path: Path, value: unknown): void {
  let node: Json | unknown[] = root;
  path.forEach((key, i) => {
    const last = i === path.length - 1;
    const holder = node as Record<string | number, unknown>;
    if (last) {
      holder[key] = value;
      return;
    }
    holder[key] ??= typeof path[i + 1] === 'number' ? [] : {};
    node = holder[key] as Json | unknown[];
  });
}

/** EC2's records wrap every list as `{"items": [...]}`. */
function wrapItems(v: unknown): unknown {
  if (Array.isArray(v)) return { items: v.map(wrapItems) };
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, wrapItems(x)]));
  return v;
}

/**
 * Query-protocol parameters as CloudTrail records them. `Prefix.Member.N` (RDS: `VpcSecurityGroupIds.VpcSecurityGroupId.1`,
 * `Tags.Tag.1.Key`) and `Prefix.N` (EC2: `GroupId.1`, `IpPermissions.1.Groups.1.GroupId`) become arrays under the
 * prefix; passwords arrive masked.
 */
export function queryParameters(form: Array<[string, string]>, service: string): Json | null {
  const root: Json = {};
  for (const [key, value] of form) {
    if (key === 'Action' || key === 'Version') continue;
    const parts = key.split('.');
    const path: Path = [];
    parts.forEach((part, i) => {
      if (/^\d+$/.test(part)) path.push(Number(part) - 1);
      // `Tags.Tag.1`: the member name between a list and its index is not a level of its own.
      else if (i > 0 && /^\d+$/.test(parts[i + 1] ?? '') && !/^\d+$/.test(parts[i - 1] as string)) return;
      else path.push(lowerFirst(part));
    });
    const name = [...path].reverse().find((p): p is string => typeof p === 'string') ?? '';
    setPath(root, path, typed(name, value));
  }
  for (const [k, v] of Object.entries(root)) if (Array.isArray(v)) root[k] = v.filter((x) => x !== undefined);
  if (Object.keys(root).length === 0) return null;
  return service === 'ec2' ? (wrapItems(root) as Json) : root;
}

interface Element {
  name: string;
  children: Element[];
  text: string;
}

const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: true, parseTagValue: false, trimValues: true, ignoreDeclaration: true });

function toElements(nodes: Array<Record<string, unknown>>): Element[] {
  const out: Element[] = [];
  for (const n of nodes) {
    const tag = Object.keys(n).find((k) => k !== ':@' && k !== '#text');
    if (tag === undefined) continue;
    const kids = n[tag] as Array<Record<string, unknown>>;
    out.push({ name: tag.replace(/^[^:]*:/, ''), children: toElements(kids), text: kids.filter((k) => '#text' in k).map((k) => String(k['#text'])).join('') });
  }
  return out;
}

function isList(el: Element, name: string): boolean {
  if (STRUCTURES.has(name)) return false;
  // An empty element is a list when its name says so (`<DBSecurityGroups/>`, `<TagList/>`, `<tagSet/>`).
  if (el.children.length === 0) return el.text === '' && /(s|List|Set)$/.test(el.name);
  const first = (el.children[0] as Element).name;
  if (!el.children.every((c) => c.name === first)) return false;
  return (
    el.children.length > 1 ||
    ['member', 'item'].includes(first) ||
    [`${first}s`, `${first}List`, `${first}Set`].includes(el.name) ||
    // `<VpcSecurityGroups><VpcSecurityGroupMembership>…`: a plural name holding structures.
    (el.name.endsWith('s') && (el.children[0] as Element).children.length > 0)
  );
}

function elementJson(el: Element, service: string): unknown {
  const name = lowerFirst(el.name);
  if (isList(el, name)) {
    const items = el.children.map((c) => elementJson(c, service));
    return service === 'ec2' ? { items } : items;
  }
  if (el.children.length === 0) return typed(name, el.text);
  return childrenJson(el.children, service);
}

function childrenJson(children: Element[], service: string): Json {
  const out: Json = {};
  for (const c of children) {
    const key = lowerFirst(c.name);
    const value = elementJson(c, service);
    if (key in out) out[key] = [...(Array.isArray(out[key]) ? (out[key] as unknown[]) : [out[key]]), value];
    else out[key] = value;
  }
  return out;
}

/** The root element's children of an XML document, as CloudTrail JSON; null when there is nothing to show. */
export function xmlBodyJson(xml: string, service: string): Json | null {
  let roots: Element[];
  try {
    roots = toElements(parser.parse(xml) as Array<Record<string, unknown>>);
  } catch {
    return null;
  }
  const root = roots[0];
  if (!root) return null;
  // Query protocol answers wrap the result: <XResponse><XResult>…</XResult><ResponseMetadata/></XResponse>.
  const result = root.children.find((c) => c.name.endsWith('Result'));
  let body = result ? result.children : root.children.filter((c) => c.name !== 'ResponseMetadata');
  // RDS records a change's answer as the resource itself (responseElements: {"dBInstanceArn": …}).
  if (result && body.length === 1 && (body[0] as Element).children.length > 0) body = (body[0] as Element).children;
  return body.length === 0 ? null : childrenJson(body, service);
}

/** A JSON-protocol body's members, first letters lowered, as CloudTrail records them. */
export function jsonParameters(body: string): Json | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body || '{}');
  } catch {
    return null;
  }
  const lower = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(lower) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [lowerFirst(k), lower(x)])) : v;
  const out = lower(parsed) as Json;
  return out && typeof out === 'object' && Object.keys(out).length > 0 ? out : null;
}
