/** Small helpers to write AWS-style XML. Elements with an undefined value are omitted, like AWS does. */

export function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}

export type Scalar = string | number | boolean | Date | undefined | null;

function scalarText(v: Exclude<Scalar, undefined | null>): string {
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

/** `<name>value</name>`, or '' when value is undefined/null. */
export function leaf(name: string, value: Scalar): string {
  if (value === undefined || value === null) return '';
  return `<${name}>${escapeXml(scalarText(value))}</${name}>`;
}

/** `<name>children…</name>` (always emitted, even when empty). */
export function node(name: string, ...children: Array<string | undefined | false>): string {
  return `<${name}>${children.filter((c): c is string => typeof c === 'string').join('')}</${name}>`;
}

/** Optional container: '' unless `present`. */
export function nodeIf(present: boolean, name: string, ...children: Array<string | undefined | false>): string {
  return present ? node(name, ...children) : '';
}

/** A list: `<listName><member>…</member>…</listName>`. */
export function list<T>(listName: string, memberName: string, items: readonly T[], render: (item: T) => string): string {
  return node(listName, ...items.map((i) => node(memberName, render(i))));
}

/** A list of scalars: `<listName><member>v</member>…</listName>`. */
export function scalarList(listName: string, memberName: string, items: readonly Scalar[]): string {
  return node(listName, ...items.map((i) => leaf(memberName, i)));
}

export const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
