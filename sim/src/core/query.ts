/**
 * Reading AWS query-protocol parameters (RDS and EC2 both POST form-urlencoded bodies).
 * Lists arrive as `Prefix.Member.N` (RDS: `VpcSecurityGroupIds.VpcSecurityGroupId.1`, `Tags.Tag.1.Key`,
 * older tools `.member.N`) or `Prefix.N` (EC2: `GroupId.1`, `IpPermissions.1.Groups.1.GroupId`).
 */
import { SimError } from './errors';

export type Params = Map<string, string>;

export function parseForm(body: string): Params {
  const out: Params = new Map();
  for (const [k, v] of new URLSearchParams(body)) out.set(k, v);
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function str(p: Params, key: string): string | undefined {
  const v = p.get(key);
  return v === undefined || v === '' ? undefined : v;
}

export function required(p: Params, key: string, code = 'MissingParameter'): string {
  const v = str(p, key);
  if (v === undefined) throw new SimError(code, `The request must contain the parameter ${key}`, 400);
  return v;
}

export function bool(p: Params, key: string): boolean | undefined {
  const v = str(p, key);
  if (v === undefined) return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new SimError('InvalidParameterValue', `Invalid boolean value '${v}' for parameter ${key}`, 400);
}

export function int(p: Params, key: string): number | undefined {
  const v = str(p, key);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw new SimError('InvalidParameterValue', `Invalid integer value '${v}' for parameter ${key}`, 400);
  return Number(v);
}

/** Scalars under `prefix`: `prefix.N` or `prefix.Member.N`, ordered by N. */
export function list(p: Params, prefix: string): string[] {
  const re = new RegExp(`^${escapeRe(prefix)}\\.(?:[A-Za-z]+\\.)?(\\d+)$`);
  const found: Array<[number, string]> = [];
  for (const [k, v] of p) {
    const m = re.exec(k);
    if (m) found.push([Number(m[1]), v]);
  }
  return found.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

/** Structures under `prefix` (`prefix.N.Field` or `prefix.Member.N.Field`), each as its own Params. */
export function structList(p: Params, prefix: string): Params[] {
  const re = new RegExp(`^${escapeRe(prefix)}\\.(?:[A-Za-z]+\\.)?(\\d+)\\.(.+)$`);
  const byIndex = new Map<number, Params>();
  for (const [k, v] of p) {
    const m = re.exec(k);
    if (!m) continue;
    const idx = Number(m[1]);
    let sub = byIndex.get(idx);
    if (!sub) byIndex.set(idx, (sub = new Map()));
    sub.set(m[2] as string, v);
  }
  return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

/** Tags as `Tags.Tag.N.Key/Value` (RDS) or `Tag.N.Key/Value` (EC2 TagSpecification). */
export function tags(p: Params, prefix: string): Array<{ Key: string; Value: string }> {
  return structList(p, prefix).map((t) => ({ Key: t.get('Key') ?? '', Value: t.get('Value') ?? '' }));
}

/** A short, log-friendly summary of the parameters (without Action/Version). */
export function summarize(p: Params, max = 40): Record<string, string> {
  const out: Record<string, string> = {};
  let n = 0;
  for (const [k, v] of p) {
    if (k === 'Action' || k === 'Version' || /password/i.test(k)) continue;
    if (n++ >= max) break;
    out[k] = v.length > 200 ? `${v.slice(0, 200)}…` : v;
  }
  return out;
}
