/**
 * Arbitraries for the fuzz suites (issue 25): values of every JSON/YAML shape a person, a script or a
 * hostile caller can hand the product, with the awkward cases weighted in (huge numbers, NaN and infinities
 * as YAML writes them, unicode, keys named like Object.prototype's members, texts that look right). Each
 * suite runs a fixed seed and a modest number of runs: `npm test` stays reproducible and cheap.
 */
import fc from 'fast-check';

/** The seed every fuzz suite runs with (issue 25): a failure is reproduced by running the file again. */
export const SEED = 25;

/** Texts that look like spec values, or like JavaScript's own names, or like nothing at all. */
export const trickyText = fc.constantFrom(
  '', ' ', '\t', '\n', '\u0000', '\u202e', '💥', 'ß', 'İ', '\ud800',
  '__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'prototype',
  'latest', 'LATEST', '15.8', '15.10', '15', '15.8.1', 'v15.8', 'eu-west-2', 'EU-WEST-2', 'notify-production', 'notify--production', '-notify',
  'maintenance-window', 'apply-now', 'blue-green', 'master-secret', 'iam', 'api', 'terraform', 'window', 'now', 'listed', 'smallest-first',
  '14d', '1h30m', '1constructor', '1 constructor', '5 toString', '500', '0ms', '-1s', '1e3s', `${'9'.repeat(400)}d`, `${'9'.repeat(20)}w`, '99999999999 weeks',
  '2026-01-01', '2026-02-30', '0050-01-01T00:00:00Z', '0000-02-29', '9999-12-31T23:59:59-23:59', '2026-01-01T10:00', '2026-01-01T24:00:00Z',
  'https://api.example.com/_status', 'http://', 'https://a b', 'sg-0123456789abcdef0', 'Z0123456789ABCDEFGHIJ', '10.0.0.2', '[::1]:53', '999.1.1.1',
  'arn:aws:iam::222222222222:role/rds-orchestrator', 'arn:aws:secretsmanager:eu-west-2:111122223333:secret:x', 'R0123456789abcdef0123456789ABCDE',
  'alice', 'ALICE', ' alice ', 'bob', 'a|b', 'public.orders', 'Public.Orders', 'a.b.c', '/var/lib/x', 'relative/dir',
  'ssh-ed25519 AAAA', 'alice ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==', '-----BEGIN SSH SIGNATURE-----',
);

/** Any text: printable, full unicode (lone surrogates included), or a tricky one. */
export const anyText = fc.oneof(
  { weight: 3, arbitrary: trickyText },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('a', '-', '.', '1', ' ', ':', '|', '*'), maxLength: 70 }) },
);

/** A text far longer than any field takes (kept to a few sizes: building them is the cost). */
export const hugeText = fc.constantFrom('x'.repeat(70_000), `${'é'.repeat(5_000)}\n`, 'a-'.repeat(40), `${'1'.repeat(5_000)}ms`);

/** Numbers: ordinary, fractional, negative, huge, and what YAML's .inf / .nan and JavaScript's -0 give. */
export const anyNumber = fc.oneof(
  fc.integer({ min: -3, max: 70_000 }),
  fc.double(),
  fc.constantFrom(0, -0, 1, -1, 0.5, 1e-300, 1e300, 2 ** 31, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, Number.MAX_VALUE, NaN, Infinity, -Infinity, 15.8, 15.1),
);

/** A leaf of any type a parsed spec file (or code) can hold. */
export const leaf = fc.oneof(anyText, anyNumber, fc.boolean(), fc.constant(null), fc.constant(undefined));

/** Field names of both kinds of spec and their parts: random objects often reach the readers behind them. */
export const SPEC_KEYS = [
  'campaignId', 'targetEngineVersion', 'requester', 'allowedSigners', 'stages', 'approval', 'blackouts', 'pollInterval', 'changes',
  'name', 'region', 'instanceId', 'instances', 'select', 'waves', 'aws', 'method', 'requiresApproval', 'notice', 'statusPage', 'precheckBefore', 'grace',
  'maxMissedWindows', 'probe', 'downtimeThreshold', 'healthCheckUrl', 'infraCodeHint', 'rearmBefore', 'pagerDuty', 'blueGreen',
  'minimum', 'overrideReason', 'enabled', 'body', 'componentIds', 'url', 'postgres', 'ratePerSecond', 'requestTimeoutMs', 'settle', 'maxDuration',
  'switchoverTimeout', 'targetParameterGroup', 'provisioningTimeout', 'switchover', 'routingKey', 'approvers', 'minApprovals', 'reminderInterval',
  'from', 'to', 'reason', 'tags', 'engine', 'engineVersion', 'maxConcurrent', 'order', 'failureThreshold', 'tag', 'roleArn', 'externalId', 'profile',
  'restoreId', 'source', 'targetInstanceId', 'restoreTime', 'copySourceSettings', 'bastion', 'cutover', 'extract', 'securityGroupId', 'port',
  'hostedZoneId', 'recordName', 'setIdentifier', 'weight', 'ttlSeconds', 'lowerTtlFirstTo', 'resolvers', 'database', 'user', 'password', 'tls',
  'secretArn', 'env', 'directory', 'dump', 'repair', 'tables', 'excludeSchemas', 'excludeTables', 'updateChanged', 'sampleSize', 'file', 'text',
] as const;

export const anyKey = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...SPEC_KEYS) }, { weight: 1, arbitrary: anyText });

/** A value of random shape: leaves, lists and objects nested a few levels, mostly with spec-like keys. */
export const junk: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(anyKey, tie('value'), { maxKeys: 5, noNullPrototype: true }),
  ),
})).value;

/** Replacement values for one field of a valid spec: any junk, a huge text, or a value of a near-miss type. */
export const replacement = fc.oneof(
  { weight: 4, arbitrary: junk },
  { weight: 1, arbitrary: hugeText },
  { weight: 2, arbitrary: fc.constantFrom<unknown>([], {}, [[]], [{}], '', 0, true, 'true', '1', [null], { '': 1 }, { toString: 1 }, { valueOf: 'x' }) },
);

/** Paths to every value inside `value` (objects and arrays walked), the root excluded. */
export function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => [[...prefix, i], ...pathsOf(v, [...prefix, i])]);
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
  return [];
}

/** A deep copy of `value` with the value at `path` replaced (or deleted, for `remove`). */
export function withValueAt(value: unknown, path: (string | number)[], replace: { remove: true } | { value: unknown }): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let at: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if ('remove' in replace) {
    if (Array.isArray(at)) at.splice(last as number, 1);
    else delete at[last];
  } else {
    at[last] = replace.value;
  }
  return copy;
}
