import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describeProblems, formatUtc, matchesPatternList, parseAllowedSigners, parseSshTimestamp, type AllowedSigners, type SignerRefusal, type VerifiedSigner } from '../../../src/domain/identity/allowed-signers';
import { SSH_SIGNATURE_NAMESPACE } from '../../../src/domain/identity/ssh-signature';
import { makeKey, sshSign, sshVerify, tempDir, type TestKey } from '../../fixtures/ssh-keys';

const NS = SSH_SIGNATURE_NAMESPACE;
const TEXT = 'rds-orchestrator approve\ncampaign: notify-15.8\nplan: production → 15.8 in wed:22:00-wed:22:30\n';
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);

function signers(text: string): AllowedSigners {
  const parsed = parseAllowedSigners(text);
  assert.ok(parsed.ok, parsed.ok ? '' : describeProblems(parsed.problems));
  return parsed;
}

function refused(result: VerifiedSigner | SignerRefusal, reason: SignerRefusal['reason'], pattern: RegExp): void {
  assert.equal(result.ok, false, `expected a refusal (${reason}), got ${JSON.stringify(result)}`);
  assert.equal((result as SignerRefusal).reason, reason, (result as SignerRefusal).message);
  assert.match((result as SignerRefusal).message, pattern);
}

describe('allowed signers (git / ssh-keygen ALLOWED SIGNERS format)', function () {
  this.timeout(60_000);
  let dir: string;
  let alice: TestKey, bob: TestKey, mallory: TestKey, carol: TestKey, alice2: TestKey;

  before(function () {
    dir = tempDir();
    alice = makeKey(dir, 'alice', 'ed25519');
    alice2 = makeKey(dir, 'alice-laptop', 'ecdsa', 256);
    bob = makeKey(dir, 'bob', 'rsa', 2048);
    carol = makeKey(dir, 'carol', 'ecdsa', 384);
    mallory = makeKey(dir, 'mallory', 'ed25519');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const team = () =>
    [
      '# the platform team',
      `alice@example.com ${alice.publicKey} alice@workstation`,
      `alice@example.com ${alice2.publicKey}`,
      '',
      `bob@example.com namespaces="rds-orchestrator,git" ${bob.publicKey}`,
      `*@contractors.example.com,!mallory@contractors.example.com ${carol.publicKey}`,
    ].join('\n');

  it('a listed key verifies for its principal: principal, key type and fingerprint come back', function () {
    const list = signers(team());
    const result = list.verifyFor('alice@example.com', NS, TEXT, sshSign(alice, TEXT, NS), NOW);
    assert.deepEqual(result, { ok: true, principal: 'alice@example.com', keyType: 'ssh-ed25519', fingerprint: alice.fingerprint, line: 2 });
    const second = list.verifyFor('alice@example.com', NS, TEXT, sshSign(alice2, TEXT, NS), NOW);
    assert.deepEqual(second.ok && [second.keyType, second.fingerprint, second.line], ['ecdsa-sha2-nistp256', alice2.fingerprint, 3]);
    const rsa = list.verifyFor('bob@example.com', NS, TEXT, sshSign(bob, TEXT, NS), NOW);
    assert.deepEqual(rsa.ok && [rsa.keyType, rsa.fingerprint], ['ssh-rsa', bob.fingerprint]);
    assert.equal(entriesOf(list).find((e) => e.line === 2)?.comment, 'alice@workstation');
    // ssh-keygen agrees with the same file.
    assert.ok(sshVerify(dir, team(), 'bob@example.com', NS, TEXT, sshSign(bob, TEXT, NS)));
  });

  it('forgery: the right name with another key is refused, naming the key that signed and the keys listed', function () {
    const forged = sshSign(mallory, TEXT, NS);
    refused(signers(team()).verifyFor('bob@example.com', NS, TEXT, forged, NOW), 'key-not-listed', new RegExp(`${escape(mallory.fingerprint)}.*not listed for "bob@example.com".*${escape(bob.fingerprint)} \\(line 5\\)`));
    assert.equal(sshVerify(dir, team(), 'bob@example.com', NS, TEXT, forged), false);
  });

  it('a signature over other text (another plan) is refused as other-text', function () {
    const otherPlan = sshSign(alice, TEXT.replace('wed:22:00-wed:22:30', 'thu:22:00-thu:22:30'), NS);
    refused(signers(team()).verifyFor('alice@example.com', NS, TEXT, otherPlan, NOW), 'other-text', /made over other text/);
  });

  it('a signature for another namespace is refused; so is a key whose line limits it to other namespaces', function () {
    refused(signers(team()).verifyFor('alice@example.com', NS, TEXT, sshSign(alice, TEXT, 'git'), NOW), 'wrong-namespace', /namespace "git", not "rds-orchestrator"/);
    const gitOnly = signers(`alice@example.com namespaces="git,file" ${alice.publicKey}`);
    refused(gitOnly.verifyFor('alice@example.com', NS, TEXT, sshSign(alice, TEXT, NS), NOW), 'wrong-namespace', /line 1 allows .* only for namespaces "git,file"/);
    const pattern = signers(`alice@example.com NAMESPACES="rds-*" ${alice.publicKey}`);
    assert.equal(pattern.verifyFor('alice@example.com', NS, TEXT, sshSign(alice, TEXT, NS), NOW).ok, true);
  });

  it('an unknown principal is refused, saying who is listed', function () {
    refused(signers(team()).verifyFor('dave@example.com', NS, TEXT, sshSign(alice, TEXT, NS), NOW), 'no-such-principal', /"dave@example.com" is not in the allowed signers \(it names: alice@example.com, bob@example.com/);
  });

  it('wildcards match as ssh-keygen matches them: *, ?, and ! to exclude', function () {
    const list = signers(team());
    const sig = sshSign(carol, TEXT, NS);
    const ok = list.verifyFor('carol@contractors.example.com', NS, TEXT, sig, NOW);
    assert.deepEqual(ok.ok && [ok.principal, ok.fingerprint, ok.line], ['carol@contractors.example.com', carol.fingerprint, 6]);
    refused(list.verifyFor('mallory@contractors.example.com', NS, TEXT, sshSign(carol, TEXT, NS), NOW), 'no-such-principal', /not in the allowed signers/);
    assert.ok(sshVerify(dir, team(), 'carol@contractors.example.com', NS, TEXT, sig));
    assert.equal(sshVerify(dir, team(), 'mallory@contractors.example.com', NS, TEXT, sig), false);
    assert.equal(matchesPatternList('db-ops-7', ['db-ops-?']), true);
    assert.equal(matchesPatternList('db-ops-17', ['db-ops-?']), false);
    assert.equal(matchesPatternList('ab', ['a*b*']), true);
    assert.equal(matchesPatternList('Alice', ['alice']), false, 'principals are case-sensitive');
  });

  it('validity windows: expired (valid-before) and not yet valid (valid-after) are refused with the times', function () {
    const sig = sshSign(alice, TEXT, NS);
    const expired = signers(`alice@example.com valid-before="20260101Z" ${alice.publicKey}`);
    refused(expired.verifyFor('alice@example.com', NS, TEXT, sig, NOW), 'outside-validity', /expired at 2026-01-01T00:00:00Z \(valid-before\); it is now 2026-06-01T12:00:00Z/);
    const future = signers(`alice@example.com valid-after="202607011200Z" ${alice.publicKey}`);
    refused(future.verifyFor('alice@example.com', NS, TEXT, sig, NOW), 'outside-validity', /not valid until 2026-07-01T12:00:00Z/);
    const window = signers(`alice@example.com valid-after="20260101",valid-before="20261231235959Z" ${alice.publicKey}`);
    assert.equal(window.verifyFor('alice@example.com', NS, TEXT, sig, NOW).ok, true);
    // Inclusive at the second, as ssh-keygen compares whole seconds.
    const edge = signers(`alice@example.com valid-before="20260601120000Z" ${alice.publicKey}`);
    assert.equal(edge.verifyFor('alice@example.com', NS, TEXT, sig, NOW + 999).ok, true);
    assert.equal(edge.verifyFor('alice@example.com', NS, TEXT, sig, NOW + 1000).ok, false);
    // An expired line does not hide a current one for the same key.
    const renewed = signers(`alice@example.com valid-before="20250101Z" ${alice.publicKey}\nalice@example.com valid-after="20250101Z" ${alice.publicKey}`);
    assert.equal((renewed.verifyFor('alice@example.com', NS, TEXT, sig, NOW) as VerifiedSigner).line, 2);
  });

  it('a cert-authority line is refused: certificates are not supported', function () {
    const parsed = parseAllowedSigners(`# CA\n*@example.com cert-authority ${alice.publicKey}`);
    assert.equal(parsed.ok, false);
    assert.deepEqual(!parsed.ok && parsed.problems.map((p) => p.line), [2]);
    assert.match(!parsed.ok ? describeProblems(parsed.problems) : '', /^allowed signers line 2: cert-authority: SSH certificates are not supported/);
  });

  it('every malformed line is reported with its number; comments, blank lines and CRLF are fine', function () {
    const [, aliceB64] = alice.publicKey.split(' ');
    const lines = [
      '# comment',
      `ok@example.com ${alice.publicKey}`, // 2
      'nokey@example.com', // 3
      'badb64@example.com ssh-ed25519 AAAA*not-base64', // 4
      `unknownopt@example.com no-touch-required ${alice.publicKey}`, // 5
      `unknowntype@example.com ssh-foo ${aliceB64}`, // 6
      `mismatch@example.com ecdsa-sha2-nistp256 ${aliceB64}`, // 7
      `badtime@example.com valid-before="2026-01-01" ${alice.publicKey}`, // 8
      `unquoted@example.com namespaces=git ${alice.publicKey}`, // 9
      `unclosed@example.com namespaces="git ${alice.publicKey}`, // 10
      `,@example.com ${alice.publicKey}`, // 11
      `backwards@example.com valid-after="20270101",valid-before="20260101" ${alice.publicKey}`, // 12
      `twice@example.com namespaces="a",namespaces="b" ${alice.publicKey}`, // 13
      `cert@example.com ssh-ed25519-cert-v01@openssh.com ${aliceB64}`, // 14
      `badday@example.com valid-before="20260230" ${alice.publicKey}`, // 15
      '   ',
      '  # indented comment',
    ];
    const parsed = parseAllowedSigners(lines.join('\r\n'));
    assert.ok(!parsed.ok);
    const byLine = new Map(parsed.problems.map((p) => [p.line, p.message]));
    const expected: [number, RegExp][] = [
      [3, /missing key/],
      [4, /not valid base64/],
      [5, /unknown option "no-touch-required"/],
      [6, /unknown key type "ssh-foo"/],
      [7, /says "ecdsa-sha2-nistp256" but its data holds a ssh-ed25519 key/],
      [8, /"2026-01-01" is not a time/],
      [9, /namespaces needs a quoted value/],
      [10, /quote .* not closed/],
      [11, /empty entry/],
      [12, /valid-after is later than valid-before/],
      [13, /namespaces is given twice/],
      [14, /certificates are not supported/],
      [15, /not a valid date/],
    ];
    assert.deepEqual([...byLine.keys()], expected.map(([n]) => n));
    for (const [n, pattern] of expected) assert.match(byLine.get(n) as string, pattern, `line ${n}`);
    assert.equal(parseAllowedSigners('# nobody yet\n').ok, false);
  });

  it('quoted principals, tabs and a comment with quotes parse as ssh-keygen reads them', function () {
    const line = `"alice@example.com,ops"\tnamespaces="rds-orchestrator"  ${alice.publicKey}  Alice "the DBA"`;
    const list = signers(line);
    assert.ok(sshVerify(dir, line, 'ops', NS, TEXT, sshSign(alice, TEXT, NS)), 'ssh-keygen reads the line the same way');
    assert.deepEqual(entriesOf(list)[0].principals, ['alice@example.com', 'ops']);
    assert.equal(entriesOf(list)[0].comment, 'Alice "the DBA"');
    assert.equal(list.verifyFor('ops', NS, TEXT, sshSign(alice, TEXT, NS), NOW).ok, true);
  });

  it('timestamps: the formats of ssh-keygen, read as UTC; formatUtc inverts them', function () {
    assert.equal(parseSshTimestamp('20240229'), Date.UTC(2024, 1, 29));
    assert.equal(parseSshTimestamp('202402291530Z'), Date.UTC(2024, 1, 29, 15, 30));
    assert.equal(parseSshTimestamp('20240229153045'), Date.UTC(2024, 1, 29, 15, 30, 45));
    assert.equal(typeof parseSshTimestamp('20230229'), 'string');
    assert.equal(typeof parseSshTimestamp('2024022915'), 'string');
    for (const ms of [0, Date.UTC(1999, 11, 31, 23, 59, 59), Date.UTC(2024, 1, 29, 1, 2, 3), Date.UTC(2100, 2, 1)]) {
      assert.equal(formatUtc(ms), new Date(ms).toISOString().replace('.000', ''));
    }
  });
});

function entriesOf(list: AllowedSigners) {
  return list.entries;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
