/**
 * Walks one XML element against one shape of a botocore service model and collects findings. The
 * protocol envelopes (root element, result wrapper, error envelope) are service-model.ts's job; this
 * file knows shapes: structures, lists (wrapped or flattened), maps and scalars.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export interface ShapeRef {
  shape: string;
  locationName?: string;
  location?: string;
  flattened?: boolean;
  xmlAttribute?: boolean;
  timestampFormat?: string;
  resultWrapper?: string;
  xmlNamespace?: { uri?: string };
}

export interface Shape {
  type: string;
  members?: Record<string, ShapeRef>;
  required?: string[];
  member?: ShapeRef;
  key?: ShapeRef;
  value?: ShapeRef;
  enum?: string[];
  flattened?: boolean;
  locationName?: string;
  timestampFormat?: string;
  payload?: string;
  error?: { code?: string; httpStatusCode?: number; senderFault?: boolean };
  exception?: boolean;
}

/** One thing wrong with one response: `path` is the element path inside the body, e.g. `DescribeDBInstancesResult.DBInstances.DBInstance[0].Foo`. */
export interface Finding {
  operation: string;
  path: string;
  problem: string;
}

// ---------------------------------------------------------------------------------------------------
// XML as an ordered tree (repeated and unknown elements must stay visible, so no object mapping)

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const xmlParser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

type OrderedNode = Record<string, unknown>;

function toElement(node: OrderedNode): XmlElement | undefined {
  const tag = Object.keys(node).find((k) => k !== ':@' && k !== '#text');
  if (tag === undefined) return undefined;
  const el: XmlElement = { name: tag.replace(/^[^:]*:/, ''), attrs: (node[':@'] as Record<string, string>) ?? {}, children: [], text: '' };
  for (const child of node[tag] as OrderedNode[]) {
    if ('#text' in child) el.text += String(child['#text']);
    else {
      const c = toElement(child);
      if (c) el.children.push(c);
    }
  }
  return el;
}

/** The document's root element; throws when the body is not well-formed XML. */
export function parseXml(body: string): XmlElement {
  const valid = XMLValidator.validate(body);
  if (valid !== true) throw new Error(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  const roots = (xmlParser.parse(body) as OrderedNode[]).map(toElement).filter((e): e is XmlElement => e !== undefined);
  if (roots.length !== 1) throw new Error(`expected one root element, found ${roots.length}`);
  return roots[0] as XmlElement;
}

// ---------------------------------------------------------------------------------------------------
// Walking a response against the model

const INT32 = 2 ** 31;
const ISO8601 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const RFC822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
/** Members in these locations live in the HTTP envelope, not in the XML body. */
const NOT_IN_BODY = new Set(['header', 'headers', 'statusCode', 'querystring', 'uri']);

function validTimestamp(text: string, format: string): boolean {
  if (format === 'unixTimestamp') return /^-?\d+(\.\d+)?$/.test(text);
  if (format === 'rfc822') return RFC822.test(text) && !Number.isNaN(Date.parse(text));
  const m = ISO8601.exec(text);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const back = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return h < 24 && back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d && back.getUTCMinutes() === mi && back.getUTCSeconds() === s;
}

export class Walker {
  readonly findings: Finding[] = [];
  constructor(
    private readonly shapes: Record<string, Shape>,
    private readonly operation: string,
  ) {}

  add(where: string, problem: string): void {
    this.findings.push({ operation: this.operation, path: where, problem });
  }

  /** Checks `el`'s children by name: unknown names, repeats and missing required ones. Returns the children by name. */
  children(el: XmlElement, where: string, spec: Record<string, { required: boolean; repeats?: boolean }>): Map<string, XmlElement[]> {
    const byName = new Map<string, XmlElement[]>();
    for (const c of el.children) byName.set(c.name, [...(byName.get(c.name) ?? []), c]);
    for (const [name, els] of byName) {
      const s = spec[name];
      if (!s) this.add(`${where}.${name}`, `unknown element <${name}> (expected one of: ${Object.keys(spec).join(', ') || 'none'})`);
      else if (!s.repeats && els.length > 1) this.add(`${where}.${name}`, `<${name}> appears ${els.length} times; it is not a list`);
    }
    for (const [name, s] of Object.entries(spec)) if (s.required && !byName.has(name)) this.add(`${where}.${name}`, `missing required element <${name}>`);
    if (el.children.length > 0 && el.text.trim() !== '') this.add(where, `text "${el.text.trim()}" mixed with child elements`);
    return byName;
  }

  value(ref: ShapeRef, el: XmlElement, where: string): void {
    const shape = this.shapes[ref.shape];
    if (!shape) return this.add(where, `model has no shape ${ref.shape}`);
    if (shape.type === 'structure') return this.structure(ref.shape, el, where);
    if (shape.type === 'list') return this.list(shape, el.children, where, el);
    if (shape.type === 'map') return this.map(shape, el.children, where, el);
    if (el.children.length > 0) return this.add(where, `has child elements (<${el.children[0]?.name}>…) but ${ref.shape} is a ${shape.type}`);
    this.scalar(ref, shape, el.text, where);
  }

  scalar(ref: ShapeRef, shape: Shape, text: string, where: string): void {
    const bad = (what: string): void => this.add(where, `"${text}" is not ${what} (shape ${ref.shape})`);
    switch (shape.type) {
      case 'string':
        if (shape.enum && !shape.enum.includes(text)) this.add(where, `"${text}" is not a value of enum ${ref.shape} (${shape.enum.join(', ')})`);
        return;
      case 'integer':
      case 'long': {
        if (!/^-?\d+$/.test(text)) return bad(`an ${shape.type}`);
        const big = BigInt(text);
        const limit = shape.type === 'integer' ? BigInt(INT32) : 2n ** 63n;
        if (big < -limit || big >= limit) bad(`in the range of a 32/64-bit ${shape.type}`);
        return;
      }
      case 'boolean':
        if (text !== 'true' && text !== 'false') bad('a boolean (true or false)');
        return;
      case 'timestamp': {
        const format = ref.timestampFormat ?? shape.timestampFormat ?? 'iso8601';
        if (!validTimestamp(text, format)) bad(`a valid ${format} timestamp`);
        return;
      }
      case 'double':
      case 'float':
        if (!/^(-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|NaN|-?Infinity)$/.test(text)) bad(`a ${shape.type}`);
        return;
      case 'blob':
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) bad('base64');
        return;
      default:
        this.add(where, `shape ${ref.shape} has type ${shape.type}, which this validator does not know`);
    }
  }

  /** The element name of a member: flattened lists/maps repeat under the member's own name (botocore's _member_key_name). */
  private elementName(memberName: string, ref: ShapeRef): string {
    const target = this.shapes[ref.shape];
    if (target?.type === 'list' && (target.flattened || ref.flattened) && target.member?.locationName) return target.member.locationName;
    return ref.locationName ?? memberName;
  }

  structure(shapeName: string, el: XmlElement, where: string, extra: Record<string, { required: boolean }> = {}): void {
    const shape = this.shapes[shapeName] as Shape;
    const members = Object.entries(shape.members ?? {}).filter(([, r]) => !NOT_IN_BODY.has(r.location ?? '') && !r.xmlAttribute);
    const spec: Record<string, { required: boolean; repeats?: boolean }> = { ...extra };
    const byElement = new Map<string, ShapeRef>();
    for (const [name, ref] of members) {
      const target = this.shapes[ref.shape];
      const element = this.elementName(name, ref);
      spec[element] = { required: (shape.required ?? []).includes(name), repeats: Boolean(target?.flattened || ref.flattened) };
      byElement.set(element, ref);
    }
    if (el.children.length === 0 && el.text.trim() !== '') this.add(where, `text "${el.text.trim()}" where structure ${shapeName} was expected`);
    const found = this.children(el, where, spec);
    for (const [name, els] of found) {
      const ref = byElement.get(name);
      if (!ref) continue;
      const target = this.shapes[ref.shape] as Shape;
      if (target.flattened || ref.flattened) {
        if (target.type === 'list') this.list(target, els, `${where}.${name}`);
        else this.map(target, els, `${where}.${name}`);
      } else this.value(ref, els[0] as XmlElement, `${where}.${name}`);
    }
  }

  /** Wrapped lists pass the list element as `container`; flattened lists pass the repeated elements themselves. */
  list(shape: Shape, items: XmlElement[], where: string, container?: XmlElement): void {
    const member = shape.member as ShapeRef;
    const flattened = container === undefined;
    const name = member.locationName ?? (flattened ? undefined : 'member');
    if (container && container.text.trim() !== '') this.add(where, `text "${container.text.trim()}" where a list was expected`);
    items.forEach((item, i) => {
      if (name !== undefined && item.name !== name) this.add(`${where}.${item.name}`, `list item named <${item.name}>, the model names list items <${name}>`);
      this.value(member, item, flattened ? `${where}[${i}]` : `${where}.${item.name}[${i}]`);
    });
  }

  map(shape: Shape, entries: XmlElement[], where: string, container?: XmlElement): void {
    const keyName = shape.key?.locationName ?? 'key';
    const valueName = shape.value?.locationName ?? 'value';
    entries.forEach((entry, i) => {
      const at = container ? `${where}.${entry.name}[${i}]` : `${where}[${i}]`;
      if (container && entry.name !== 'entry') this.add(at, `map entry named <${entry.name}>, expected <entry>`);
      const found = this.children(entry, at, { [keyName]: { required: true }, [valueName]: { required: true } });
      const k = found.get(keyName)?.[0];
      const v = found.get(valueName)?.[0];
      if (k) this.value(shape.key as ShapeRef, k, `${at}.${keyName}`);
      if (v) this.value(shape.value as ShapeRef, v, `${at}.${valueName}`);
    });
  }
}

