/**
 * Issue 25, part 2 (fuzzed inputs): allowed-signers files and SSH signatures as people paste them, and as
 * an attacker sends them straight to a workflow: random bytes, truncated and altered signatures, blobs built
 * field by field with wrong lengths and algorithms, armored blocks of random text. Each function answers the
 * way it documents (a refusal with a reason, a list of problems by line, an Error saying what to fix) and
 * never lets a TypeError or a RangeError escape: these run inside update validators and at a run's start.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fc from 'fast-check';
import { parseAllowedSigners, type SignerRefusalReason } from '../../src/domain/identity/allowed-signers';
import { readSigners, verifyActor, type Signers } from '../../src/domain/identity/identity';
import { SSH_SIGNATURE_NAMESPACE, parseSshPublicKey, parseSshSignature, verifySshSignature } from '../../src/domain/identity/ssh-signature';
import { concatBytes, decodeBase64, encodeMpint, encodeString, encodeUint32, utf8Encode } from '../../src/domain/identity/ssh-wire';
import { makeKey, sshSign, tempDir, type TestKey } from '../fixtures/ssh-keys';
import { SEED, anyText } from './junk';

const SIGNATURE_REASONS = ['malformed', 'wrong-namespace', 'unsupported-algorithm', 'bad-signature'];
const SIGNER_REASONS: SignerRefusalReason[] = ['malformed-signature', 'unsupported-algorithm', 'wrong-namespace', 'other-text', 'no-such-principal', 'key-not-listed', 'outside-validity'];
const TEXT = 'rds-orchestrator approve\ncampaign: pg-minor-15-8\nrun: 0190-run\nplan: production|15.8|2027-01-06T22:00:00.000Z\nasked: 2026-12-01T10:00:00.000Z\n';

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const armor = (bytes: Uint8Array) => `-----BEGIN SSH SIGNATURE-----\n${base64(bytes).replace(/.{1,70}/g, '$&\n')}-----END SSH SIGNATURE-----\n`;

/** Calls `fn`; a throw of anything but exactly Error (a TypeError, a RangeError...) fails the property. */
function onlyPlainErrors<T>(what: string, fn: () => T): T | Error {
  try {
    return fn();
  } catch (err) {
    assert.ok(err instanceof Error && err.constructor === Error, `${what} threw ${err instanceof Error ? `${err.constructor.name}: ${err.message.slice(0, 200)}` : String(err)}`);
    assert.ok(err.message.trim() !== '', `${what} threw an Error without a message`);
    return err;
  }
}

function assertSignatureAnswer(answer: ReturnType<typeof verifySshSignature> | ReturnType<typeof parseSshSignature>): void {
  if (answer.ok) return;
  assert.ok(SIGNATURE_REASONS.includes(answer.reason), `reason ${answer.reason}`);
  assert.ok(typeof answer.message === 'string' && answer.message.trim() !== '', 'a refusal says why');
}

interface Keys {
  ed25519: TestKey;
  ecdsa: TestKey;
  rsa: TestKey;
  /** Real signatures of TEXT, one per key (rsa: sha512 and sha256). */
  signatures: string[];
  allowed: string;
}

describe('fuzzed allowed signers and SSH signatures (issue 25): a refusal with a reason, never a crash', function () {
  let keys: Keys;

  before(function () {
    this.timeout(30_000);
    const dir = tempDir('fuzz-ssh-');
    const ed25519 = makeKey(dir, 'alice', 'ed25519');
    const ecdsa = makeKey(dir, 'bob', 'ecdsa');
    const rsa = makeKey(dir, 'carol', 'rsa', 1024);
    const signatures = [sshSign(ed25519, TEXT, SSH_SIGNATURE_NAMESPACE), sshSign(ecdsa, TEXT, SSH_SIGNATURE_NAMESPACE), sshSign(rsa, TEXT, SSH_SIGNATURE_NAMESPACE), sshSign(rsa, TEXT, SSH_SIGNATURE_NAMESPACE, ['-O', 'hashalg=sha256'])];
    const allowed = [`alice ${ed25519.publicKey}`, `bob namespaces="${SSH_SIGNATURE_NAMESPACE}",valid-after="20200101" ${ecdsa.publicKey} bob@laptop`, `"carol,!mallory" ${rsa.publicKey}`].join('\n');
    keys = { ed25519, ecdsa, rsa, signatures, allowed };
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the real signatures verify (the mutations start from valid ones)', function () {
    for (const s of keys.signatures) assert.equal(verifySshSignature(s, TEXT, SSH_SIGNATURE_NAMESPACE).ok, true);
    const list = parseAllowedSigners(keys.allowed);
    assert.ok(list.ok);
    for (const [who, s] of [['alice', 0], ['bob', 1], ['carol', 2]] as const) assert.equal(list.verifyFor(who, SSH_SIGNATURE_NAMESPACE, TEXT, keys.signatures[s], Date.UTC(2026, 0, 1)).ok, true);
  });

  it('armored blocks of random bytes and random text', function () {
    const armored = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map(armor),
      fc.uint8Array({ maxLength: 300 }).map((b) => armor(concatBytes(utf8Encode('SSHSIG'), b))),
      fc.tuple(fc.constantFrom('-----BEGIN SSH SIGNATURE-----', '-----BEGIN SSH SIGNATURE-----\n', ''), anyText, fc.constantFrom('-----END SSH SIGNATURE-----', '', '\n-----END SSH SIGNATURE-----\nmore')).map((parts) => parts.join('\n')),
      anyText,
    );
    fc.assert(
      fc.property(armored, anyText, (sig, ns) => {
        assertSignatureAnswer(parseSshSignature(sig));
        assertSignatureAnswer(verifySshSignature(sig, TEXT, ns));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('real signatures truncated, with bytes changed or with text spliced into the armor: refused, never accepted, never a crash', function () {
    const change = fc.oneof(
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
      fc.record({ kind: fc.constant('armor' as const), at: fc.nat(), text: anyText }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), change, (which, c) => {
        const original = keys.signatures[which];
        const blob = decodeBase64(original.split('\n').slice(1, -2).join(''))!;
        let sig: string;
        let altered = true;
        if (c.kind === 'armor') {
          const at = c.at % (original.length + 1);
          sig = original.slice(0, at) + c.text + original.slice(at);
          altered = false; // whitespace spliced in may leave the same bytes: only "no crash" is asked
        } else {
          const bytes = Uint8Array.from(blob);
          const at = c.at % bytes.length;
          let out: Uint8Array;
          if (c.kind === 'cut') out = bytes.subarray(0, at);
          else if (c.kind === 'insert') out = concatBytes(bytes.subarray(0, at), c.bytes, bytes.subarray(at));
          else {
            bytes[at] = c.kind === 'flip' ? bytes[at] ^ (1 << c.bit) : c.byte;
            out = bytes;
          }
          altered = Buffer.compare(Buffer.from(out), Buffer.from(blob)) !== 0;
          sig = armor(out);
        }
        const answer = verifySshSignature(sig, TEXT, SSH_SIGNATURE_NAMESPACE);
        assertSignatureAnswer(answer);
        if (altered) assert.equal(answer.ok, false, 'an altered signature verified');
        const list = parseAllowedSigners(keys.allowed);
        assert.ok(list.ok);
        const verdict = list.verifyFor(['alice', 'bob', 'carol'][Math.min(which, 2)], SSH_SIGNATURE_NAMESPACE, TEXT, sig, Date.UTC(2026, 0, 1));
        if (!verdict.ok) assert.ok(SIGNER_REASONS.includes(verdict.reason) && verdict.message.trim() !== '');
        else assert.ok(!altered);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  /** SSHSIG blobs built field by field, each field right, wrong, or of a wrong length. */
  const wireString = (inner: fc.Arbitrary<Uint8Array>) =>
    fc.oneof(
      { weight: 4, arbitrary: inner.map((b) => encodeString(b)) },
      { weight: 1, arbitrary: fc.tuple(inner, fc.integer({ min: 0, max: 0xffffffff })).map(([b, n]) => concatBytes(encodeUint32(n), b)) },
    );
  const name = (names: string[]) => fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: anyText }).map((n) => utf8Encode(n));
  const keyTypes = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa', 'ssh-dss', 'sk-ssh-ed25519@openssh.com', 'ssh-ed25519-cert-v01@openssh.com'];
  const mpint = fc.oneof(fc.bigInt({ min: 0n, max: (1n << 1100n) }).map(encodeMpint), fc.uint8Array({ maxLength: 140 }).map((b) => encodeString(b)));
  const keyBlob = fc
    .tuple(name(keyTypes), fc.oneof(wireString(fc.uint8Array({ minLength: 0, maxLength: 70 })), fc.tuple(mpint, mpint).map(([e, n]) => concatBytes(e, n)), fc.tuple(wireString(name(['nistp256', 'nistp384', 'nistp521'])), wireString(fc.uint8Array({ maxLength: 140 }))).map(([c, p]) => concatBytes(c, p))))
    .map(([type, rest]) => concatBytes(encodeString(type), rest));
  const sshsig = fc
    .tuple(
      fc.constantFrom(utf8Encode('SSHSIG'), utf8Encode('SSHSIH'), new Uint8Array(0)),
      fc.constantFrom(1, 0, 2, 0xffffffff).map(encodeUint32),
      wireString(keyBlob),
      wireString(name([SSH_SIGNATURE_NAMESPACE, 'git', 'file'])),
      wireString(fc.uint8Array({ maxLength: 4 })),
      wireString(name(['sha256', 'sha512', 'sha1', 'md5'])),
      wireString(fc.tuple(wireString(name(['ssh-ed25519', 'rsa-sha2-256', 'rsa-sha2-512', 'ssh-rsa', 'ecdsa-sha2-nistp256'])), wireString(fc.uint8Array({ maxLength: 140 }))).map(([a, b]) => concatBytes(a, b))),
      fc.uint8Array({ maxLength: 3 }),
    )
    .map((parts) => concatBytes(...parts));

  it('SSHSIG blobs built field by field: wrong magic, versions, key types, curves, lengths, hashes and algorithms', function () {
    fc.assert(
      fc.property(sshsig, (blob) => {
        const answer = verifySshSignature(armor(blob), TEXT, SSH_SIGNATURE_NAMESPACE);
        assertSignatureAnswer(answer);
        assert.equal(answer.ok, false, 'a signature made of random fields verified');
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('a field far longer than any real one (a 600,000-character algorithm name) is refused, not a RangeError (regression)', function () {
    const longName = utf8Encode('a'.repeat(600_000));
    const inSignature = concatBytes(utf8Encode('SSHSIG'), encodeUint32(1), encodeString(concatBytes(encodeString(longName), encodeString(new Uint8Array(32)))));
    const answer = verifySshSignature(armor(inSignature), TEXT, SSH_SIGNATURE_NAMESPACE);
    assert.equal(answer.ok, false);
    assertSignatureAnswer(answer);
    const key = parseSshPublicKey('ssh-ed25519', base64(concatBytes(encodeString(longName), encodeString(new Uint8Array(32)))));
    assert.equal(key.ok, false);
    const list = parseAllowedSigners(`alice ssh-ed25519 ${base64(concatBytes(encodeString(longName), encodeString(new Uint8Array(32))))}`);
    assert.equal(list.ok, false);
  });

  it('public keys: random base64, blobs of random fields, a declared type that disagrees with the data', function () {
    fc.assert(
      fc.property(fc.constantFrom(...keyTypes, 'ssh-foo', ''), fc.oneof(keyBlob.map(base64), fc.uint8Array({ maxLength: 80 }).map(base64), anyText), (type, b64) => {
        const key = parseSshPublicKey(type, b64);
        if (!key.ok) assert.ok(SIGNATURE_REASONS.includes(key.reason) && key.message.trim() !== '');
        else assert.match(key.key.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  /** An allowed-signers line: each of its parts right, wrong, or missing. */
  const signersLine = () =>
    fc
      .tuple(
        fc.constantFrom('alice', 'bob,carol', '"carol,!mallory"', '*', '!x', '', 'a,', '"unclosed', '"a b"x'),
        fc.constantFrom('', 'namespaces="rds-orchestrator"', 'valid-after="20200101"', 'valid-before="20991231235959Z"', 'valid-after="20300101",valid-before="20200101"', 'cert-authority', 'namespaces=git', 'valid-after="2020"', 'namespaces="a,,b"', 'foo="bar"', 'namespaces="x",namespaces="y"', '"'),
        fc.constantFrom(...keyTypes, 'ssh-foo', ''),
        fc.oneof(fc.constantFrom('ed25519', 'ecdsa', 'rsa'), keyBlob.map(base64), anyText),
        fc.constantFrom('', 'alice@laptop', '  trailing  '),
      )
      .map(([principals, options, type, key, comment]) => {
        const real = key === 'ed25519' || key === 'ecdsa' || key === 'rsa' ? keys[key].publicKey : `${type} ${key}`;
        return [principals, options, real, comment].filter((p) => p !== '').join(' ');
      });

  it('allowed-signers texts: lines of good and bad parts, random text, the real list cut or spliced', function () {
    const text = fc.oneof(
      fc.array(fc.oneof({ weight: 4, arbitrary: signersLine() }, { weight: 1, arbitrary: fc.constantFrom('', '# comment', '   ', '\r') }), { maxLength: 5 }).map((lines) => lines.join('\n')),
      fc.tuple(fc.nat(), anyText).map(([at, t]) => keys.allowed.slice(0, at % (keys.allowed.length + 1)) + t + keys.allowed.slice(at % (keys.allowed.length + 1))),
      anyText,
    );
    fc.assert(
      fc.property(text, anyText, fc.oneof(fc.integer(), fc.constantFrom(NaN, Infinity, -Infinity, 8.64e15, 1e300)), (t, who, atMs) => {
        const parsed = parseAllowedSigners(t);
        if (!parsed.ok) {
          assert.ok(parsed.problems.length > 0);
          for (const p of parsed.problems) assert.ok(Number.isInteger(p.line) && p.line >= 0 && p.message.trim() !== '', JSON.stringify(p));
        } else {
          for (const sig of keys.signatures) {
            const verdict = parsed.verifyFor(who, SSH_SIGNATURE_NAMESPACE, TEXT, sig, atMs);
            if (!verdict.ok) assert.ok(SIGNER_REASONS.includes(verdict.reason) && verdict.message.trim() !== '');
          }
        }
        const read = onlyPlainErrors('readSigners', () => readSigners({ source: 'fuzz', text: t }));
        if (!(read instanceof Error)) assert.ok(read.principals.every((p) => typeof p === 'string'));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('verifyActor with a request of any shape: who, signature and the time as anything', function () {
    const signers: Signers = readSigners({ source: 'fuzz', text: keys.allowed });
    const anything = fc.oneof(anyText, fc.constantFrom<unknown>(undefined, null, 0, 1, true, [], {}, { toString: 1 }, ['alice'], { trim: 1 }), fc.constantFrom(...keys.signatures));
    fc.assert(
      fc.property(anything, anything, fc.oneof(fc.integer(), fc.constantFrom(NaN, Infinity, 1e300)), (by, signature, atMs) => {
        const answer = onlyPlainErrors('verifyActor', () => verifyActor(signers, by, signature, TEXT, atMs));
        if (!(answer instanceof Error)) assert.ok(keys.signatures.includes(signature as string) && typeof by === 'string');
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
