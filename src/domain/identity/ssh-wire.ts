/**
 * The byte-level pieces of OpenSSH's formats (RFC 4251 §5 `string`, `uint32` and `mpint`, base64, UTF-8),
 * written as small pure functions over Uint8Array: this code runs inside Temporal's workflow sandbox,
 * where Buffer, atob and node: modules are not there to lean on.
 */

/** A byte sequence that does not follow the wire format; the message says what was expected. */
export class SshWireError extends Error {}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64_VALUE = new Map([...BASE64_ALPHABET].map((c, i) => [c, i]));

/**
 * Strict base64 (RFC 4648 §4): whitespace is ignored, any other character outside the alphabet is an
 * error, and padding, when present, must be correct. Returns undefined for text that is not base64.
 */
export function decodeBase64(text: string): Uint8Array | undefined {
  const clean = text.replace(/\s+/g, '');
  const body = clean.replace(/={1,2}$/, '');
  if (clean.length !== body.length && clean.length % 4 !== 0) return undefined;
  if (body.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((body.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let at = 0;
  for (const c of body) {
    const v = BASE64_VALUE.get(c);
    if (v === undefined) return undefined;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (acc >> bits) & 0xff;
    }
  }
  // Leftover bits must be zero, or two different texts would decode to the same bytes.
  if ((acc & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}

/** Base64 without padding, as ssh-keygen prints fingerprints. */
export function encodeBase64Unpadded(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = i + 2 < bytes.length ? 4 : i + 1 < bytes.length ? 3 : 2;
    for (let k = 0; k < chars; k++) out += BASE64_ALPHABET[(n >> (18 - 6 * k)) & 63];
  }
  return out;
}

/** UTF-8 of a JavaScript string; a lone surrogate becomes U+FFFD, as TextEncoder does. */
export function utf8Encode(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    let cp = ch.codePointAt(0) as number;
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  }
  return Uint8Array.from(out);
}

/** Bytes shown in a message: printable ASCII as is, anything else escaped, so no text can fake a line. */
export function printable(bytes: Uint8Array, max = 80): string {
  let out = '';
  for (const b of bytes.subarray(0, max)) out += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return bytes.length > max ? `${out}…` : out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function bytesToBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

/** Big-endian, left-padded with zeros to `length` bytes; undefined when the number needs more. */
export function bigIntToBytes(n: bigint, length: number): Uint8Array | undefined {
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return n === 0n ? out : undefined;
}

export function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** RFC 4251 `uint32`: four bytes, big-endian. */
export function encodeUint32(n: number): Uint8Array {
  return Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** RFC 4251 `string`: a uint32 length, then the bytes. */
export function encodeString(bytes: Uint8Array | string): Uint8Array {
  const b = typeof bytes === 'string' ? utf8Encode(bytes) : bytes;
  return concatBytes(encodeUint32(b.length), b);
}

/** RFC 4251 `mpint` of a non-negative number: minimal two's complement, a zero byte before a high bit. */
export function encodeMpint(n: bigint): Uint8Array {
  if (n === 0n) return encodeString(new Uint8Array(0));
  const hex = n.toString(16);
  const bytes = bigIntToBytes(n, Math.ceil(hex.length / 2)) as Uint8Array;
  return encodeString(bytes[0] & 0x80 ? concatBytes(Uint8Array.of(0), bytes) : bytes);
}

/** Reads RFC 4251 fields front to back; every read checks the bounds and names the field it wanted. */
export class SshReader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get remaining(): number {
    return this.bytes.length - this.at;
  }

  raw(length: number, what: string): Uint8Array {
    if (length > this.remaining) throw new SshWireError(`${what} is cut short (${length} bytes wanted, ${this.remaining} left)`);
    const out = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return out;
  }

  uint32(what: string): number {
    const b = this.raw(4, what);
    return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  }

  string(what: string): Uint8Array {
    return this.raw(this.uint32(`the length of ${what}`), what);
  }

  /** A `string` holding ASCII text (an algorithm or curve name). */
  text(what: string): string {
    const b = this.string(what);
    if (b.some((c) => c < 0x20 || c >= 0x7f)) throw new SshWireError(`${what} is not printable text: "${printable(b)}"`);
    // A piece at a time: spread into one call, a field of a few hundred thousand bytes overflows the stack (RangeError).
    let text = '';
    for (let i = 0; i < b.length; i += 4096) text += String.fromCharCode(...b.subarray(i, i + 4096));
    return text;
  }

  /** A non-negative `mpint`; leading zero bytes are tolerated, as OpenSSH does. */
  mpint(what: string): bigint {
    const b = this.string(what);
    if (b.length > 0 && b[0] & 0x80) throw new SshWireError(`${what} is negative`);
    return bytesToBigInt(b);
  }

  end(what: string): void {
    if (this.remaining !== 0) throw new SshWireError(`${what} has ${this.remaining} unexpected bytes at its end`);
  }
}
