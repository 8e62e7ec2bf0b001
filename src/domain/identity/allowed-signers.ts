/**
 * Who may act: git's allowed-signers file (`gpg.ssh.allowedSignersFile`, `man ssh-keygen` ALLOWED
 * SIGNERS), read the way ssh-keygen reads it, and the one question the workflows ask of it: does this
 * armored SSH signature prove that `principal` agreed to exactly this text, now?
 *
 * Format, one entry a line: `principals [options] keytype base64-key [comment]`. Principals are a
 * comma-separated ssh_config pattern list (`*`, `?`, a leading `!` negates). Options: `namespaces="…"`
 * (a pattern list), `valid-after="…"`, `valid-before="…"` (YYYYMMDD[Z] or YYYYMMDDHHMM[SS][Z]) and
 * `cert-authority`, which is refused: certificates are not supported. Blank lines and `#` lines are skipped.
 *
 * Pure and deterministic (no clock, no I/O): it runs inside update validators. Times without `Z` are read
 * as UTC, because a workflow has no local time zone (ssh-keygen would use the machine's zone).
 */
import { parseSshPublicKey, unsupportedKeyType, verifySshSignature, type SignatureCheck, type SshKeyType, type SshPublicKey } from './ssh-signature';
import { bytesEqual } from './ssh-wire';

export interface AllowedSigner {
  /** 1-based line number in the text, for messages. */
  readonly line: number;
  /** The principal patterns, as written (a leading `!` negates). */
  readonly principals: readonly string[];
  /** Namespace patterns the key is limited to; undefined means any namespace. */
  readonly namespaces?: readonly string[];
  /** Epoch milliseconds; the key is valid at or after / at or before these instants (second precision). */
  readonly validAfterMs?: number;
  readonly validBeforeMs?: number;
  readonly key: SshPublicKey;
  readonly comment?: string;
}

export interface AllowedSignersProblem {
  readonly line: number;
  readonly message: string;
}

export interface VerifiedSigner {
  readonly ok: true;
  /** The principal as asked for (a wildcard line matches it, it does not replace it). */
  readonly principal: string;
  readonly keyType: SshKeyType;
  readonly fingerprint: string;
  /** The allowed-signers line that let it in. */
  readonly line: number;
}

export type SignerRefusalReason =
  | 'malformed-signature'
  | 'unsupported-algorithm'
  | 'wrong-namespace'
  | 'other-text'
  | 'no-such-principal'
  | 'key-not-listed'
  | 'outside-validity';

export interface SignerRefusal {
  readonly ok: false;
  readonly reason: SignerRefusalReason;
  readonly message: string;
}

export interface AllowedSigners {
  readonly entries: readonly AllowedSigner[];
  /**
   * Whether `armoredSignature` is `principal`'s signature over exactly `message` in `namespace`, by a
   * key this list gives that principal, valid at `atMs` (epoch milliseconds). `check`: ./ssh-signature.ts.
   */
  verifyFor(principal: string, namespace: string, message: string | Uint8Array, armoredSignature: string, atMs: number, check?: SignatureCheck): VerifiedSigner | SignerRefusal;
}

export type ParsedAllowedSigners = ({ ok: true } & AllowedSigners) | { ok: false; problems: readonly AllowedSignersProblem[] };

/** ssh_config(5) PATTERNS: `*` is any run of characters, `?` exactly one; case matters. */
export function matchesPattern(text: string, pattern: string): boolean {
  let t = 0;
  let p = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      t++;
      p++;
    } else if (p < pattern.length && pattern[p] === '*') {
      starP = p++;
      starT = t;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** OpenSSH's match_pattern_list: a negated pattern that matches refuses outright, else any positive one. */
export function matchesPatternList(text: string, patterns: readonly string[]): boolean {
  let positive = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    if (matchesPattern(text, negated ? pattern.slice(1) : pattern)) {
      if (negated) return false;
      positive = true;
    }
  }
  return positive;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}

/** `2024-05-01T09:30:00Z` for an epoch-millisecond instant, without Date. */
export function formatUtc(ms: number): string {
  const secs = Math.floor(ms / 1000);
  const days = Math.floor(secs / 86400);
  const rest = secs - days * 86400;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${String(y).padStart(4, '0')}-${two(m)}-${two(d)}T${two(Math.floor(rest / 3600))}:${two(Math.floor((rest % 3600) / 60))}:${two(rest % 60)}Z`;
}

/** OpenSSH's parse_absolute_time: YYYYMMDD[Z] or YYYYMMDDHHMM[SS][Z] → epoch ms (UTC, see the header). */
export function parseSshTimestamp(text: string): number | string {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?Z?$/.exec(text);
  if (!m) return `"${text}" is not a time: use YYYYMMDD or YYYYMMDDHHMM[SS], optionally ending in Z`;
  const [y, mo, d, h, mi, s] = m.slice(1).map((v) => (v === undefined ? 0 : Number(v)));
  const monthDays = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (mo < 1 || mo > 12 || d < 1 || d > monthDays[mo - 1] || h > 23 || mi > 59 || s > 59) return `"${text}" is not a valid date and time`;
  return (((daysFromCivil(y, mo, d) * 24 + h) * 60 + mi) * 60 + s) * 1000;
}

/** Splits at commas outside double quotes; the quotes stay in the pieces. */
function splitCommasOutsideQuotes(text: string): string[] {
  const pieces = [''];
  let quoted = false;
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) pieces.push('');
    else pieces[pieces.length - 1] += c;
  }
  return pieces;
}

/** The next whitespace-delimited word (spaces inside double quotes belong to it) and what follows it. */
function nextWord(text: string): { word: string; rest: string } | undefined {
  const start = text.search(/\S/);
  if (start < 0) return { word: '', rest: '' };
  let quoted = false;
  let i = start;
  for (; i < text.length; i++) {
    if (text[i] === '"') quoted = !quoted;
    else if (!quoted && (text[i] === ' ' || text[i] === '\t')) break;
  }
  return quoted ? undefined : { word: text.slice(start, i), rest: text.slice(i) };
}

function unquote(value: string): string | undefined {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : undefined;
}

type Options = Pick<AllowedSigner, 'namespaces' | 'validAfterMs' | 'validBeforeMs'>;

function parseOptions(text: string): Options | string {
  const options: { namespaces?: string[]; validAfterMs?: number; validBeforeMs?: number } = {};
  const seen = new Set<string>();
  for (const option of splitCommasOutsideQuotes(text)) {
    const eq = option.indexOf('=');
    const name = (eq < 0 ? option : option.slice(0, eq)).toLowerCase();
    if (name === 'cert-authority') return 'cert-authority: SSH certificates are not supported; list each person with their own key instead';
    if (!['namespaces', 'valid-after', 'valid-before'].includes(name)) return `unknown option "${name}" (supported: namespaces="…", valid-after="…", valid-before="…")`;
    if (seen.has(name)) return `${name} is given twice`;
    seen.add(name);
    const value = eq < 0 ? undefined : unquote(option.slice(eq + 1));
    if (value === undefined) return `${name} needs a quoted value, as in ${name}="${name === 'namespaces' ? 'rds-orchestrator' : '20250101Z'}"`;
    if (name === 'namespaces') {
      options.namespaces = value.split(',');
      if (options.namespaces.some((n) => n === '' || n === '!')) return `namespaces="${value}" has an empty entry`;
      continue;
    }
    const ms = parseSshTimestamp(value);
    if (typeof ms === 'string') return `${name}: ${ms}`;
    if (name === 'valid-after') options.validAfterMs = ms;
    else options.validBeforeMs = ms;
  }
  if (options.validAfterMs !== undefined && options.validBeforeMs !== undefined && options.validAfterMs > options.validBeforeMs) {
    return 'valid-after is later than valid-before: the key would never be valid';
  }
  return options;
}

/** Whether a word is a key type (so the options field is absent), as sshkey_read decides it. */
function looksLikeKeyType(word: string): boolean {
  return /^(ssh-|ecdsa-|sk-|rsa-)/.test(word) || unsupportedKeyType(word) === undefined;
}

function parseLine(raw: string, line: number): AllowedSigner | string {
  let rest = raw.trim();
  let principalsField: string;
  if (rest.startsWith('"')) {
    const close = rest.indexOf('"', 1);
    if (close < 0) return 'the quoted principals have no closing quote';
    principalsField = rest.slice(1, close);
    rest = rest.slice(close + 1);
    if (rest !== '' && !/^\s/.test(rest)) return 'expected a space after the quoted principals';
  } else {
    principalsField = rest.split(/\s/, 1)[0];
    rest = rest.slice(principalsField.length);
  }
  const principals = principalsField.split(',');
  if (principals.some((p) => p === '' || p === '!')) return `the principals "${principalsField}" have an empty entry`;
  let word = nextWord(rest);
  if (!word) return 'a quote in the options is not closed';
  let options: Options = {};
  if (word.word !== '' && !looksLikeKeyType(word.word)) {
    const parsed = parseOptions(word.word);
    if (typeof parsed === 'string') return parsed;
    options = parsed;
    word = nextWord(word.rest) ?? { word: '', rest: '' };
  }
  const keyType = word.word;
  const base64Key = nextWord(word.rest)?.word ?? '';
  if (keyType === '' || base64Key === '') return 'missing key: expected `principals [options] keytype base64-key [comment]`';
  const comment = word.rest.trim().slice(base64Key.length).trim();
  const key = parseSshPublicKey(keyType, base64Key);
  if (!key.ok) return key.message;
  return { line, principals, ...options, key: key.key, ...(comment ? { comment } : {}) };
}

/**
 * Reads an allowed-signers text. Every malformed line is reported with its number; a list with any
 * problem is refused whole, as ssh-keygen stops at a bad line, so a typo never quietly drops a person.
 */
export function parseAllowedSigners(text: string): ParsedAllowedSigners {
  const entries: AllowedSigner[] = [];
  const problems: AllowedSignersProblem[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const parsed = parseLine(raw, i + 1);
    if (typeof parsed === 'string') problems.push({ line: i + 1, message: parsed });
    else entries.push(parsed);
  });
  if (problems.length > 0) return { ok: false, problems };
  if (entries.length === 0) return { ok: false, problems: [{ line: 0, message: 'the allowed signers list names nobody' }] };
  return { ok: true, entries, verifyFor: (...args) => verifyFor(entries, ...args) };
}

/** Problems as one message, a line each: `line 3: unknown key type "ssh-foo"`. */
export function describeProblems(problems: readonly AllowedSignersProblem[], source = 'allowed signers'): string {
  return problems.map((p) => (p.line > 0 ? `${source} line ${p.line}: ${p.message}` : `${source}: ${p.message}`)).join('\n');
}

function refuse(reason: SignerRefusalReason, message: string): SignerRefusal {
  return { ok: false, reason, message };
}

function verifyFor(entries: readonly AllowedSigner[], principal: string, namespace: string, message: string | Uint8Array, armoredSignature: string, atMs: number, check: SignatureCheck = 'full'): VerifiedSigner | SignerRefusal {
  // ssh-keygen's order: the signature itself first (its namespace, then the math), then who may have made it.
  const sig = verifySshSignature(armoredSignature, message, namespace, check);
  if (!sig.ok) {
    switch (sig.reason) {
      case 'malformed':
        return refuse('malformed-signature', `the signature is not a valid SSH signature: ${sig.message}. Sign with \`ssh-keygen -Y sign -n ${namespace}\``);
      case 'unsupported-algorithm':
        return refuse('unsupported-algorithm', sig.message);
      case 'wrong-namespace':
        return refuse('wrong-namespace', sig.message);
      case 'bad-signature':
        return refuse('other-text', `the signature does not match the text being agreed to: it was made over other text (another campaign, plan, stage or window) or altered (${sig.message}); sign the text shown now`);
    }
  }
  const forPrincipal = entries.filter((e) => matchesPatternList(principal, e.principals));
  if (forPrincipal.length === 0) {
    const names = [...new Set(entries.flatMap((e) => e.principals.filter((p) => !p.startsWith('!'))))].join(', ');
    return refuse('no-such-principal', `"${principal}" is not in the allowed signers (it names: ${names}); ask for "${principal}" to be added with their public key`);
  }
  const withKey = forPrincipal.filter((e) => bytesEqual(e.key.blob, sig.publicKey.blob));
  if (withKey.length === 0) {
    const listed = forPrincipal.map((e) => `${e.key.fingerprint} (line ${e.line})`).join(', ');
    return refuse(
      'key-not-listed',
      `the signing key ${sig.publicKey.fingerprint} (${sig.publicKey.type}) is not listed for "${principal}" (listed: ${listed}); sign with ${principal}'s listed key, or have that key added to the allowed signers`,
    );
  }
  const inNamespace = withKey.filter((e) => e.namespaces === undefined || matchesPatternList(namespace, e.namespaces));
  if (inNamespace.length === 0) {
    const e = withKey[0];
    return refuse('wrong-namespace', `line ${e.line} allows ${principal}'s key ${e.key.fingerprint} only for namespaces "${(e.namespaces ?? []).join(',')}", not "${namespace}"`);
  }
  const atSecond = Math.floor(atMs / 1000) * 1000;
  const valid = inNamespace.find((e) => (e.validAfterMs === undefined || atSecond >= e.validAfterMs) && (e.validBeforeMs === undefined || atSecond <= e.validBeforeMs));
  if (!valid) {
    const e = inNamespace[0];
    const when = e.validBeforeMs !== undefined && atSecond > e.validBeforeMs ? `expired at ${formatUtc(e.validBeforeMs)} (valid-before)` : `is not valid until ${formatUtc(e.validAfterMs ?? 0)} (valid-after)`;
    return refuse('outside-validity', `${principal}'s key ${e.key.fingerprint} (line ${e.line}) ${when}; it is now ${formatUtc(atMs)}. Renew the key's entry in the allowed signers`);
  }
  return { ok: true, principal, keyType: valid.key.type, fingerprint: valid.key.fingerprint, line: valid.line };
}
