/**
 * SSH signatures (`ssh-keygen -Y sign`, OpenSSH's PROTOCOL.sshsig), verified in pure TypeScript so a
 * workflow's update validator can check a person's signature deterministically, with no I/O: the
 * armored SSHSIG blob is parsed, the signed data rebuilt from the message and the expected namespace, and
 * the signature checked for Ed25519, ECDSA on NIST P-256/384/521 and RSA with SHA-2 (RSA with SHA-1,
 * `ssh-rsa`, is refused as OpenSSH refuses it for SSHSIG).
 *
 * The crypto is @noble/curves and @noble/hashes (audited, pure JS); RSA is PKCS#1 v1.5 verification with
 * BigInt: EM' = s^e mod n must equal the whole EMSA-PKCS1-v1_5 encoding byte for byte (RFC 8017 §8.2.2),
 * never a parse of it, which is what lets forged low-exponent signatures through.
 */
import type { ed25519 as Ed25519 } from '@noble/curves/ed25519';
import type { p256 as P256 } from '@noble/curves/nist';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2';
import {
  SshReader,
  SshWireError,
  bigIntToBytes,
  bitLength,
  bytesEqual,
  bytesToBigInt,
  concatBytes,
  decodeBase64,
  encodeBase64Unpadded,
  encodeMpint,
  encodeString,
  printable,
  utf8Encode,
} from './ssh-wire';

/** The namespace (`ssh-keygen -Y sign -n`) of every signature rds-orchestrator asks for or accepts. */
export const SSH_SIGNATURE_NAMESPACE = 'rds-orchestrator';

export type SshKeyType = 'ssh-ed25519' | 'ecdsa-sha2-nistp256' | 'ecdsa-sha2-nistp384' | 'ecdsa-sha2-nistp521' | 'ssh-rsa';
export type SshSignatureAlgorithm = Exclude<SshKeyType, 'ssh-rsa'> | 'rsa-sha2-256' | 'rsa-sha2-512';
export type SshHashAlgorithm = 'sha256' | 'sha512';

export const SUPPORTED_KEY_TYPES: readonly SshKeyType[] = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'];

export interface SshPublicKey {
  readonly type: SshKeyType;
  /** The key in OpenSSH's canonical wire encoding: what fingerprints hash and what keys are compared by. */
  readonly blob: Uint8Array;
  /** `SHA256:` + unpadded base64 of SHA-256 of the blob, exactly as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
  /** Key size as `ssh-keygen -l` prints it: 256 for Ed25519, the curve size, the RSA modulus size. */
  readonly bits: number;
}

export type SshSignatureRefusalReason = 'malformed' | 'wrong-namespace' | 'unsupported-algorithm' | 'bad-signature';

export interface SshSignatureRefusal {
  readonly ok: false;
  readonly reason: SshSignatureRefusalReason;
  /** What was wrong, in words a person can act on. */
  readonly message: string;
}

export interface ParsedSshSignature {
  readonly publicKey: SshPublicKey;
  /** The namespace as text for messages (bytes outside printable ASCII escaped). */
  readonly namespace: string;
  readonly namespaceBytes: Uint8Array;
  readonly hashAlgorithm: SshHashAlgorithm;
  readonly signatureAlgorithm: SshSignatureAlgorithm;
  /** The `reserved` field: covered by the signature, otherwise unused. */
  readonly reserved: Uint8Array;
  /** The raw signature bytes inside the SSH signature blob. */
  readonly signature: Uint8Array;
  /** Internal: the key material the verifier needs. */
  readonly material: SshKeyMaterial;
}

export interface VerifiedSshSignature {
  readonly ok: true;
  readonly publicKey: SshPublicKey;
  readonly namespace: string;
  readonly hashAlgorithm: SshHashAlgorithm;
  readonly signatureAlgorithm: SshSignatureAlgorithm;
}

export type SshKeyMaterial =
  | { kind: 'ed25519'; point: Uint8Array }
  | { kind: 'ecdsa'; curve: EcdsaCurve; point: Uint8Array }
  | { kind: 'rsa'; e: bigint; n: bigint };

const ECDSA_CURVES = {
  'ecdsa-sha2-nistp256': { name: 'nistp256', hash: sha256, bits: 256 },
  'ecdsa-sha2-nistp384': { name: 'nistp384', hash: sha384, bits: 384 },
  'ecdsa-sha2-nistp521': { name: 'nistp521', hash: sha512, bits: 521 },
} as const;
type EcdsaCurve = keyof typeof ECDSA_CURVES;

/*
 * The curves are loaded on first use. Inside a workflow (the reusable V8 context keeps one module cache per
 * workflow) every module of the bundle is evaluated again for each workflow run and each replay, and @noble's
 * NIST module builds its curves (hash-to-curve constants included) as it loads: with the base tables below,
 * about 8 ms of every workflow's start, 5 % of a full campaign's replay (bench/README.md, "Where a replay
 * spends its CPU"), paid by every unsigned campaign and fleet child that never verifies anything.
 *
 * noble builds a table of multiples of each base point on first use; its default 8-bit window costs up to a
 * second for P-521, paid inside a workflow activation (deadlock detector: 2 s). A 4-bit window costs a fifth
 * of that and verifies as fast; this module is the only user of these curves in the product.
 */
const loadedCurves = new Map<string, { Point: { BASE: { precompute(windowSize: number): unknown } } }>();
function onFirstUse<T extends { Point: { BASE: { precompute(windowSize: number): unknown } } }>(name: string, load: () => T): T {
  let curve = loadedCurves.get(name) as T | undefined;
  if (!curve) {
    curve = load();
    curve.Point.BASE.precompute(4);
    loadedCurves.set(name, curve);
  }
  return curve;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports, no-restricted-globals -- loaded on first use, see above
const ed25519 = (): typeof Ed25519 => onFirstUse('ed25519', () => (require('@noble/curves/ed25519') as typeof import('@noble/curves/ed25519')).ed25519);

function nistCurve(type: EcdsaCurve): typeof P256 {
  return onFirstUse(type, () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports, no-restricted-globals -- loaded on first use, see above
    const nist = require('@noble/curves/nist') as typeof import('@noble/curves/nist');
    return { 'ecdsa-sha2-nistp256': nist.p256, 'ecdsa-sha2-nistp384': nist.p384, 'ecdsa-sha2-nistp521': nist.p521 }[type];
  });
}

/** OpenSSH refuses RSA keys below 1024 bits (SSH_RSA_MINIMUM_MODULUS_SIZE) and above 16384 (SSHBUF_MAX_BIGNUM). */
const RSA_MIN_BITS = 1024;
const RSA_MAX_BITS = 16384;

const MAGIC = utf8Encode('SSHSIG');
const ARMOR_BEGIN = '-----BEGIN SSH SIGNATURE-----';
const ARMOR_END = '-----END SSH SIGNATURE-----';
const HASHES: Record<SshHashAlgorithm, (m: Uint8Array) => Uint8Array> = { sha256, sha512 };

class Refusal extends Error {
  constructor(
    readonly reason: SshSignatureRefusalReason,
    message: string,
  ) {
    super(message);
  }
}

function refusal(err: unknown): SshSignatureRefusal {
  if (err instanceof Refusal) return { ok: false, reason: err.reason, message: err.message };
  if (err instanceof SshWireError) return { ok: false, reason: 'malformed', message: err.message };
  throw err;
}

/** `ssh-keygen -l`'s fingerprint of a key blob. */
export function sshFingerprint(blob: Uint8Array): string {
  return `SHA256:${encodeBase64Unpadded(sha256(blob))}`;
}

/** Why a key type is not one we verify, or undefined when it is supported. */
export function unsupportedKeyType(type: string): string | undefined {
  if ((SUPPORTED_KEY_TYPES as readonly string[]).includes(type)) return undefined;
  if (type.includes('-cert-v01@openssh.com')) return `${type} is an SSH certificate: certificates are not supported, list the person's own key instead`;
  if (type.startsWith('sk-')) return `${type} is a FIDO security-key type: not supported yet, use an ed25519, ecdsa or rsa key`;
  if (type === 'ssh-dss') return 'ssh-dss (DSA) keys are not supported: OpenSSH has removed them; use an ed25519 key';
  return `unknown key type "${type}" (supported: ${SUPPORTED_KEY_TYPES.join(', ')})`;
}

function parseKeyBlob(blob: Uint8Array): { key: SshPublicKey; material: SshKeyMaterial } {
  const r = new SshReader(blob);
  const type = r.text('the key type');
  const unsupported = unsupportedKeyType(type);
  if (unsupported) throw new Refusal('unsupported-algorithm', unsupported);
  let material: SshKeyMaterial;
  let canonical: Uint8Array;
  let bits: number;
  if (type === 'ssh-ed25519') {
    const point = r.string('the Ed25519 public key');
    if (point.length !== 32) throw new SshWireError(`the Ed25519 public key is ${point.length} bytes, not 32`);
    material = { kind: 'ed25519', point };
    canonical = concatBytes(encodeString(type), encodeString(point));
    bits = 256;
  } else if (type === 'ssh-rsa') {
    const e = r.mpint('the RSA exponent');
    const n = r.mpint('the RSA modulus');
    bits = bitLength(n);
    if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) throw new Refusal('unsupported-algorithm', `an RSA key of ${bits} bits is refused, as OpenSSH refuses it (${RSA_MIN_BITS} to ${RSA_MAX_BITS} bits); use an ed25519 key`);
    if (e < 3n || e % 2n === 0n || e >= n) throw new SshWireError(`the RSA exponent ${e} is not a valid public exponent`);
    material = { kind: 'rsa', e, n };
    canonical = concatBytes(encodeString(type), encodeMpint(e), encodeMpint(n));
  } else {
    const spec = ECDSA_CURVES[type as EcdsaCurve];
    const curveName = r.text('the curve name');
    if (curveName !== spec.name) throw new SshWireError(`a ${type} key names curve "${curveName}", not "${spec.name}"`);
    let point: Uint8Array;
    try {
      point = nistCurve(type as EcdsaCurve).Point.fromBytes(r.string('the ECDSA public point')).toBytes(false);
    } catch (err) {
      if (err instanceof SshWireError) throw err;
      throw new SshWireError(`the ECDSA public key is not a point on ${spec.name}`);
    }
    material = { kind: 'ecdsa', curve: type as EcdsaCurve, point };
    canonical = concatBytes(encodeString(type), encodeString(spec.name), encodeString(point));
    bits = spec.bits;
  }
  r.end('the public key');
  return { key: { type: type as SshKeyType, blob: canonical, fingerprint: sshFingerprint(canonical), bits }, material };
}

/**
 * A public key as it appears in authorized_keys and allowed-signers files: `keytype base64`. The blob's
 * own type must agree with the declared one, as OpenSSH's sshkey_read insists.
 */
export function parseSshPublicKey(keyType: string, base64Key: string): { ok: true; key: SshPublicKey } | SshSignatureRefusal {
  try {
    const unsupported = unsupportedKeyType(keyType);
    if (unsupported) throw new Refusal('unsupported-algorithm', unsupported);
    const blob = decodeBase64(base64Key);
    if (!blob) throw new SshWireError('the key is not valid base64');
    const { key } = parseKeyBlob(blob);
    if (key.type !== keyType) throw new SshWireError(`the key says "${keyType}" but its data holds a ${key.type} key`);
    return { ok: true, key };
  } catch (err) {
    return refusal(err);
  }
}

function dearmor(armored: string): Uint8Array {
  const lines = armored.trim().split(/\r?\n/).map((l) => l.trim());
  if (lines[0] !== ARMOR_BEGIN) throw new SshWireError(`an SSH signature starts with "${ARMOR_BEGIN}" (this text starts with "${printable(utf8Encode(lines[0] ?? ''), 40)}")`);
  const end = lines.indexOf(ARMOR_END);
  if (end < 0) throw new SshWireError(`the SSH signature has no "${ARMOR_END}" line: was it cut short when copied?`);
  if (end !== lines.length - 1) throw new SshWireError(`there is text after "${ARMOR_END}": pass the signature alone`);
  const bytes = decodeBase64(lines.slice(1, end).join(''));
  if (!bytes) throw new SshWireError('the SSH signature is not valid base64: was it altered when copied?');
  return bytes;
}

function parseSignatureBlob(blob: Uint8Array, key: SshPublicKey): { algorithm: SshSignatureAlgorithm; signature: Uint8Array } {
  const r = new SshReader(blob);
  const algorithm = r.text('the signature algorithm');
  const signature = r.string('the signature');
  r.end('the signature');
  if (key.type === 'ssh-rsa') {
    if (algorithm === 'ssh-rsa') throw new Refusal('unsupported-algorithm', 'the RSA signature uses SHA-1 (ssh-rsa), which OpenSSH refuses for SSH signatures; sign again with a current ssh-keygen (it uses rsa-sha2-512)');
    if (algorithm !== 'rsa-sha2-256' && algorithm !== 'rsa-sha2-512') throw new Refusal('unsupported-algorithm', `RSA signature algorithm "${algorithm}" is not supported (rsa-sha2-256, rsa-sha2-512)`);
  } else if (algorithm !== key.type) {
    throw new SshWireError(`a ${key.type} key cannot make a "${algorithm}" signature`);
  }
  return { algorithm: algorithm as SshSignatureAlgorithm, signature };
}

/** Parses an armored `-----BEGIN SSH SIGNATURE-----` block without verifying it. */
export function parseSshSignature(armored: string): { ok: true; signature: ParsedSshSignature } | SshSignatureRefusal {
  try {
    const r = new SshReader(dearmor(armored));
    if (!bytesEqual(r.raw(MAGIC.length, 'the SSHSIG magic'), MAGIC)) throw new SshWireError('this is not an SSH signature (no SSHSIG magic): sign with `ssh-keygen -Y sign`');
    const version = r.uint32('the SSHSIG version');
    if (version !== 1) throw new SshWireError(`SSH signature version ${version} is not supported (only version 1 exists)`);
    const { key, material } = parseKeyBlob(r.string('the public key'));
    const namespace = r.string('the namespace');
    const reserved = r.string('the reserved field');
    const hashName = r.text('the hash algorithm');
    if (hashName !== 'sha256' && hashName !== 'sha512') throw new Refusal('unsupported-algorithm', `hash algorithm "${hashName}" is not supported (sha256, sha512)`);
    const { algorithm, signature } = parseSignatureBlob(r.string('the signature blob'), key);
    r.end('the SSH signature');
    return {
      ok: true,
      signature: { publicKey: key, namespace: printable(namespace, 256), namespaceBytes: namespace, hashAlgorithm: hashName, signatureAlgorithm: algorithm, reserved, signature, material },
    };
  } catch (err) {
    return refusal(err);
  }
}

/** PROTOCOL.sshsig: what the key actually signed, given the message, namespace, reserved field and hash. */
export function signedData(message: Uint8Array, namespace: string, reserved: Uint8Array, hash: SshHashAlgorithm): Uint8Array {
  return concatBytes(MAGIC, encodeString(namespace), encodeString(reserved), encodeString(hash), encodeString(HASHES[hash](message)));
}

/**
 * How much of a signature is checked. `full`: everything, the curve or RSA arithmetic included. `math-proven`:
 * all but that arithmetic, for a signature whose arithmetic was already checked over exactly this message and
 * namespace and whose acceptance history records (an update's handler, after its validator accepted it: on
 * replay the validator does not run, and Temporal's history of the acceptance is the proof). The arithmetic is
 * a workflow replay's largest cost of ours (bench/README.md "Where a replay spends its CPU").
 */
export type SignatureCheck = 'full' | 'math-proven';

/**
 * Checks an armored SSH signature over `message` (a string is signed as its UTF-8 bytes, exactly as
 * `ssh-keygen -Y sign` reads them from stdin) for `namespace`. Says who signed only in terms of the key:
 * whether that key may act for someone is the allowed-signers list's question.
 */
export function verifySshSignature(armored: string, message: string | Uint8Array, namespace: string, check: SignatureCheck = 'full'): VerifiedSshSignature | SshSignatureRefusal {
  const parsed = parseSshSignature(armored);
  if (!parsed.ok) return parsed;
  const sig = parsed.signature;
  if (!bytesEqual(sig.namespaceBytes, utf8Encode(namespace))) {
    return { ok: false, reason: 'wrong-namespace', message: `the signature was made for namespace "${sig.namespace}", not "${namespace}": sign with \`ssh-keygen -Y sign -n ${namespace}\`` };
  }
  if (check === 'math-proven') {
    return { ok: true, publicKey: sig.publicKey, namespace, hashAlgorithm: sig.hashAlgorithm, signatureAlgorithm: sig.signatureAlgorithm };
  }
  const data = signedData(typeof message === 'string' ? utf8Encode(message) : message, namespace, sig.reserved, sig.hashAlgorithm);
  if (!checkSignature(sig.material, sig.signatureAlgorithm, sig.signature, data)) {
    return { ok: false, reason: 'bad-signature', message: `the ${sig.publicKey.type} signature by ${sig.publicKey.fingerprint} does not verify over this text: it was made over other text, or altered` };
  }
  return { ok: true, publicKey: sig.publicKey, namespace, hashAlgorithm: sig.hashAlgorithm, signatureAlgorithm: sig.signatureAlgorithm };
}

function checkSignature(key: SshKeyMaterial, algorithm: SshSignatureAlgorithm, signature: Uint8Array, data: Uint8Array): boolean {
  switch (key.kind) {
    case 'ed25519':
      if (signature.length !== 64) return false;
      try {
        // zip215 off: RFC 8032's strict rules (canonical encodings), not the laxer consensus rules.
        return ed25519().verify(signature, data, key.point, { zip215: false });
      } catch {
        return false;
      }
    case 'ecdsa':
      return verifyEcdsa(key.curve, key.point, signature, data);
    case 'rsa':
      return verifyRsaPkcs1v15(key.n, key.e, signature, algorithm === 'rsa-sha2-256' ? 'sha256' : 'sha512', data);
  }
}

/** RFC 5656 §3.1.2: the signature is `mpint r, mpint s` over H(data) with the curve's own hash. */
function verifyEcdsa(curveType: EcdsaCurve, point: Uint8Array, signature: Uint8Array, data: Uint8Array): boolean {
  const { hash } = ECDSA_CURVES[curveType];
  const curve = nistCurve(curveType);
  try {
    const r = new SshReader(signature);
    const rs = [r.mpint('ECDSA r'), r.mpint('ECDSA s')];
    r.end('the ECDSA signature');
    const order = curve.Point.Fn.ORDER;
    if (rs.some((v) => v <= 0n || v >= order)) return false;
    const width = curve.Point.Fn.BYTES;
    const compact = concatBytes(...rs.map((v) => bigIntToBytes(v, width) as Uint8Array));
    // OpenSSH (through libcrypto) accepts high-S signatures, so noble's malleability guard is off.
    return curve.verify(compact, hash(data), point, { prehash: false, lowS: false, format: 'compact' });
  } catch {
    return false;
  }
}

// DER DigestInfo prefixes of RFC 8017 §9.2 note 1.
const DIGEST_INFO: Record<SshHashAlgorithm, Uint8Array> = {
  sha256: Uint8Array.of(0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20),
  sha512: Uint8Array.of(0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40),
};

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}

/** RSASSA-PKCS1-v1_5 verification (RFC 8017 §8.2.2) with a strict comparison of the encoded message. */
function verifyRsaPkcs1v15(n: bigint, e: bigint, signature: Uint8Array, hash: SshHashAlgorithm, data: Uint8Array): boolean {
  const k = Math.ceil(bitLength(n) / 8);
  // OpenSSH left-pads a signature shorter than the modulus; a longer one is refused.
  if (signature.length > k) return false;
  const s = bytesToBigInt(signature);
  if (s >= n) return false;
  const encoded = bigIntToBytes(modPow(s, e, n), k);
  const t = concatBytes(DIGEST_INFO[hash], HASHES[hash](data));
  if (!encoded || k < t.length + 11) return false;
  const expected = concatBytes(Uint8Array.of(0x00, 0x01), new Uint8Array(k - t.length - 3).fill(0xff), Uint8Array.of(0x00), t);
  return bytesEqual(encoded, expected);
}
