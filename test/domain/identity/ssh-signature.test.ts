import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { SSH_SIGNATURE_NAMESPACE, parseSshPublicKey, signedData, sshFingerprint, verifySshSignature } from '../../../src/domain/identity/ssh-signature';
import { decodeBase64, encodeBase64Unpadded, encodeMpint, encodeString, encodeUint32, utf8Encode } from '../../../src/domain/identity/ssh-wire';
import { makeKey, sshSign, sshVerify, tempDir, type TestKey } from '../../fixtures/ssh-keys';

const NS = SSH_SIGNATURE_NAMESPACE;
const TEXT = 'rds-orchestrator approve\ncampaign: notify-15.8\nplan: production → 15.8 in wed:22:00-wed:22:30\n';

/** Armors an SSHSIG blob the way ssh-keygen does (base64 in lines of 70). */
function armor(blob: Uint8Array): string {
  const b64 = Buffer.from(blob).toString('base64');
  return ['-----BEGIN SSH SIGNATURE-----', ...(b64.match(/.{1,70}/g) ?? []), '-----END SSH SIGNATURE-----', ''].join('\n');
}

let rsaKeyPair: crypto.KeyPairKeyObjectResult | undefined;
const rsaKey = () => (rsaKeyPair ??= crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }));

/** An SSHSIG made with node:crypto's RSA, for what ssh-keygen never makes: other algorithms, odd encodings. */
function nodeRsaSignature(text: string, sigAlg: 'rsa-sha2-256' | 'rsa-sha2-512' | 'ssh-rsa', raw?: (data: Uint8Array) => Buffer): { armored: string; keyBlob: Uint8Array } {
  const jwk = rsaKey().publicKey.export({ format: 'jwk' });
  const big = (b64url: string) => BigInt(`0x${Buffer.from(b64url, 'base64url').toString('hex')}`);
  const keyBlob = Buffer.concat([encodeString('ssh-rsa'), encodeMpint(big(jwk.e as string)), encodeMpint(big(jwk.n as string))]);
  const data = signedData(utf8Encode(text), NS, new Uint8Array(0), 'sha512');
  const signature = raw ? raw(data) : crypto.sign({ 'ssh-rsa': 'sha1', 'rsa-sha2-256': 'sha256', 'rsa-sha2-512': 'sha512' }[sigAlg], data, rsaKey().privateKey);
  const sigBlob = Buffer.concat([encodeString(sigAlg), encodeString(signature)]);
  const blob = Buffer.concat([utf8Encode('SSHSIG'), encodeUint32(1), encodeString(keyBlob), encodeString(NS), encodeString(new Uint8Array(0)), encodeString('sha512'), encodeString(sigBlob)]);
  return { armored: armor(blob), keyBlob };
}

/** s = EM^d: an RSA "signature" over an encoded message of our choosing, to probe the padding check. */
function rawRsa(encoded: Buffer): Buffer {
  return crypto.privateEncrypt({ key: rsaKey().privateKey, padding: crypto.constants.RSA_NO_PADDING }, encoded);
}

const SHA512_DIGEST_INFO = Buffer.from('3051300d060960864801650304020305000440', 'hex');

describe('SSH signatures (PROTOCOL.sshsig), checked against real ssh-keygen output', function () {
  this.timeout(60_000);
  let dir: string;
  const keys: Record<string, TestKey> = {};
  const kinds: [string, 'ed25519' | 'ecdsa' | 'rsa', number | undefined, string][] = [
    ['ed25519', 'ed25519', undefined, 'ssh-ed25519'],
    ['ecdsa256', 'ecdsa', 256, 'ecdsa-sha2-nistp256'],
    ['ecdsa384', 'ecdsa', 384, 'ecdsa-sha2-nistp384'],
    ['ecdsa521', 'ecdsa', 521, 'ecdsa-sha2-nistp521'],
    ['rsa2048', 'rsa', 2048, 'rsa-sha2-512'],
    ['rsa3072', 'rsa', 3072, 'rsa-sha2-512'],
  ];

  before(function () {
    dir = tempDir();
    for (const [name, type, bits] of kinds) keys[name] = makeKey(dir, name, type, bits);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [name, , , algorithm] of kinds) {
    it(`${name}: a signature by ssh-keygen verifies, with ssh-keygen's fingerprint and algorithm ${algorithm}`, function () {
      const key = keys[name];
      const armored = sshSign(key, TEXT, NS);
      const result = verifySshSignature(armored, TEXT, NS);
      assert.ok(result.ok, JSON.stringify(result));
      assert.equal(result.signatureAlgorithm, algorithm);
      assert.equal(result.hashAlgorithm, 'sha512');
      assert.equal(result.publicKey.fingerprint, key.fingerprint, 'fingerprint differs from ssh-keygen -lf');
      assert.equal(result.publicKey.bits, key.bits);
      const [type, b64] = key.publicKey.split(' ');
      const listed = parseSshPublicKey(type, b64);
      assert.ok(listed.ok);
      assert.equal(listed.key.fingerprint, key.fingerprint);
      assert.deepEqual(listed.key.blob, result.publicKey.blob);
      // And OpenSSH agrees on the same inputs.
      assert.ok(sshVerify(dir, `signer ${key.publicKey}\n`, 'signer', NS, TEXT, armored));
    });

    it(`${name}: a signature over other text is refused as a bad signature`, function () {
      const armored = sshSign(keys[name], TEXT.replace('wed:22:00', 'thu:22:00'), NS);
      const result = verifySshSignature(armored, TEXT, NS);
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.reason, 'bad-signature');
      assert.match(!result.ok ? result.message : '', /does not verify over this text/);
    });
  }

  it("math-proven (an accepted update's handler) skips only the arithmetic: the key and namespace are still read, a malformed signature still refused", function () {
    const key = keys.ed25519;
    const other = sshSign(key, TEXT.replace('wed:22:00', 'thu:22:00'), NS);
    assert.equal(verifySshSignature(other, TEXT, NS).ok, false, 'full: the arithmetic refuses other text');
    const proven = verifySshSignature(other, TEXT, NS, 'math-proven');
    assert.ok(proven.ok, 'math-proven trusts the arithmetic already done by the validator');
    assert.equal(proven.publicKey.fingerprint, key.fingerprint);
    assert.equal(proven.signatureAlgorithm, 'ssh-ed25519');
    const wrongNs = verifySshSignature(sshSign(key, TEXT, 'file'), TEXT, NS, 'math-proven');
    assert.equal(!wrongNs.ok && wrongNs.reason, 'wrong-namespace');
    const malformed = verifySshSignature('-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n', TEXT, NS, 'math-proven');
    assert.equal(!malformed.ok && malformed.reason, 'malformed');
  });

  it('a signature with the SSHSIG hash sha256 (ssh-keygen -O hashalg=sha256) verifies too', function () {
    const result = verifySshSignature(sshSign(keys.ed25519, TEXT, NS, ['-O', 'hashalg=sha256']), TEXT, NS);
    assert.ok(result.ok);
    assert.equal(result.hashAlgorithm, 'sha256');
  });

  it('a signature made for another namespace is refused as wrong-namespace, naming both', function () {
    const result = verifySshSignature(sshSign(keys.ecdsa256, TEXT, 'git'), TEXT, NS);
    assert.deepEqual(result.ok ? undefined : [result.reason, /"git", not "rds-orchestrator"/.test(result.message)], ['wrong-namespace', true]);
  });

  it('the message is the exact bytes: a trailing newline more or less does not verify', function () {
    const armored = sshSign(keys.ed25519, TEXT, NS);
    assert.equal(verifySshSignature(armored, TEXT.trimEnd(), NS).ok, false);
    assert.equal(verifySshSignature(armored, utf8Encode(TEXT), NS).ok, true);
  });

  it('rsa-sha2-256 verifies; RSA with SHA-1 (ssh-rsa) is refused as OpenSSH refuses it', function () {
    const sha256 = nodeRsaSignature(TEXT, 'rsa-sha2-256');
    const ok = verifySshSignature(sha256.armored, TEXT, NS);
    assert.ok(ok.ok, JSON.stringify(ok));
    assert.equal(ok.signatureAlgorithm, 'rsa-sha2-256');
    assert.equal(ok.publicKey.fingerprint, sshFingerprint(sha256.keyBlob));
    const pub = `ssh-rsa ${Buffer.from(sha256.keyBlob).toString('base64')}`;
    assert.ok(sshVerify(dir, `signer ${pub}\n`, 'signer', NS, TEXT, sha256.armored), 'ssh-keygen accepts rsa-sha2-256 too');

    const sha1 = nodeRsaSignature(TEXT, 'ssh-rsa');
    const refused = verifySshSignature(sha1.armored, TEXT, NS);
    assert.equal(!refused.ok && refused.reason, 'unsupported-algorithm');
    assert.match(!refused.ok ? refused.message : '', /SHA-1/);
    const pub1 = `ssh-rsa ${Buffer.from(sha1.keyBlob).toString('base64')}`;
    assert.equal(sshVerify(dir, `signer ${pub1}\n`, 'signer', NS, TEXT, sha1.armored), false, 'ssh-keygen refuses ssh-rsa SHA-1 SSHSIGs');
  });

  it('RSA: only the exact EMSA-PKCS1-v1_5 encoding verifies (no lenient parse of the padding)', function () {
    const em = (hash: Buffer, layout: 'exact' | 'garbage-after' | 'short-padding' | 'no-digest-info') => {
      const t = layout === 'no-digest-info' ? hash : Buffer.concat([SHA512_DIGEST_INFO, hash]);
      if (layout === 'exact' || layout === 'no-digest-info') return Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(256 - t.length - 3, 0xff), Buffer.from([0]), t]);
      // Bleichenbacher 2006: short padding, the digest, then bytes a lax verifier never looks at.
      const head = Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(8, 0xff), Buffer.from([0]), t]);
      return Buffer.concat([head, Buffer.alloc(256 - head.length, layout === 'garbage-after' ? 0x42 : 0)]);
    };
    const sign = (layout: Parameters<typeof em>[1]) => (data: Uint8Array) => rawRsa(em(crypto.createHash('sha512').update(data).digest(), layout));
    assert.equal(verifySshSignature(nodeRsaSignature(TEXT, 'rsa-sha2-512', sign('exact')).armored, TEXT, NS).ok, true, 'the exact encoding is accepted');
    for (const layout of ['garbage-after', 'short-padding', 'no-digest-info'] as const) {
      const result = verifySshSignature(nodeRsaSignature(TEXT, 'rsa-sha2-512', sign(layout)).armored, TEXT, NS);
      assert.equal(!result.ok && result.reason, 'bad-signature', layout);
    }
    // A signature value one bit off is refused too.
    const armored = sshSign(keys.rsa2048, TEXT, NS);
    const blob = decodeBase64(armored.split('\n').slice(1, -2).join('')) as Uint8Array;
    blob[blob.length - 1] ^= 1;
    assert.equal(verifySshSignature(armor(blob), TEXT, NS).ok, false);
  });

  it('malformed input says what is wrong', function () {
    const armored = sshSign(keys.ed25519, TEXT, NS);
    const blob = decodeBase64(armored.split('\n').slice(1, -2).join('')) as Uint8Array;
    const cases: [string, RegExp][] = [
      ['', /starts with "-----BEGIN SSH SIGNATURE-----"/],
      ['-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n', /no "-----END SSH SIGNATURE-----" line/],
      [`${armored}trailing words\n`, /text after/],
      ['-----BEGIN SSH SIGNATURE-----\nnot*base64\n-----END SSH SIGNATURE-----', /not valid base64/],
      [armor(blob.subarray(0, 60)), /cut short/],
      [armor(Buffer.concat([blob, Uint8Array.of(0)])), /unexpected bytes at its end/],
      [armor(Buffer.concat([utf8Encode('SSHSIG'), encodeUint32(2), blob.subarray(10)])), /version 2 is not supported/],
      [armor(Buffer.concat([utf8Encode('SSHSIX'), blob.subarray(6)])), /no SSHSIG magic/],
    ];
    for (const [input, pattern] of cases) {
      const result = verifySshSignature(input, TEXT, NS);
      assert.equal(!result.ok && result.reason, 'malformed', input);
      assert.match(!result.ok ? result.message : '', pattern);
    }
    // Armor with CRLF line ends and surrounding blank lines, as pasted from another system, is still fine.
    assert.equal(verifySshSignature(`\n${armored.replace(/\n/g, '\r\n')}\n`, TEXT, NS).ok, true);
  });

  it('a public key whose blob holds another type than it declares is malformed; certificates are refused', function () {
    const [, b64] = keys.ed25519.publicKey.split(' ');
    const mismatch = parseSshPublicKey('ecdsa-sha2-nistp256', b64);
    assert.equal(!mismatch.ok && mismatch.reason, 'malformed');
    const cert = parseSshPublicKey('ssh-ed25519-cert-v01@openssh.com', b64);
    assert.match(!cert.ok ? cert.message : '', /certificates are not supported/);
    const dsa = parseSshPublicKey('ssh-dss', b64);
    assert.equal(!dsa.ok && dsa.reason, 'unsupported-algorithm');
  });

  it('base64: strict decoding, unpadded encoding as ssh-keygen prints fingerprints', function () {
    for (const n of [0, 1, 2, 3, 31, 32, 33]) {
      const bytes = crypto.randomBytes(n);
      assert.deepEqual(decodeBase64(bytes.toString('base64')), Uint8Array.from(bytes));
      assert.equal(encodeBase64Unpadded(bytes), bytes.toString('base64').replace(/=+$/, ''));
    }
    for (const bad of ['A', 'AB=C', 'AB==C', 'AB*', 'AB=', 'AB+/=', 'AC==']) assert.equal(decodeBase64(bad), undefined, bad);
    assert.deepEqual(utf8Encode('é→😀\ud800'), Uint8Array.from(Buffer.from('é→😀\ufffd', 'utf8')));
  });
});
