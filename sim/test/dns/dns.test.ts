/**
 * The simulator's DNS server plays the VPC's Route 53 Resolver, asked with node:dns/promises Resolver +
 * setServers exactly as the product's lookupCname activity does (c-ares parses our answers: a reference
 * we did not write). The activity itself against this server is tested in test/activities/dns.test.ts.
 * Documents followed (see sim/src/dns/server.ts and sim/README.md):
 * - https://docs.aws.amazon.com/vpc/latest/userguide/AmazonDNS-concepts.html (the resolver answers the
 *   private hosted zones associated with its VPC)
 * - https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/hosted-zone-private-considerations.html
 *   (overlapping private and public zones: the most specific match, and a matching private zone is final)
 * - https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-policy-weighted.html (weight / sum of
 *   weights; weight 0 never answered unless all are 0)
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, GetChangeCommand } from '@aws-sdk/client-route-53';
import type { Change } from '@aws-sdk/client-route-53';
import { parseSimulatorArgs } from '../../src/main';
import type { SeedRecord } from '../../src/api';
import { REGION, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';

const VPC = 'vpc-0d0000000000000d1';
const OTHER_VPC = 'vpc-0d0000000000000d2';
const ZONE_ID = 'ZDNSTEST0001';

/** A fresh Resolver per lookup, as the product's activity makes one per call (no cache carried over). */
function resolver(h: SimHarness): Resolver {
  const r = new Resolver({ timeout: 1000, tries: 1 });
  r.setServers([h.sim.dnsAddress as string]);
  return r;
}

async function dnsError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return 'answered';
}

async function seedZone(h: SimHarness, records: SeedRecord[], name = 'internal.example'): Promise<void> {
  await h.admin.seed({ vpcs: [{ region: REGION, id: VPC }], hostedZones: [{ id: ZONE_ID, name, vpcs: [{ region: REGION, vpcId: VPC }], records }] });
}

const upsert = (name: string, value: string, extra: Partial<Change['ResourceRecordSet']> = {}): Change => ({
  Action: 'UPSERT',
  ResourceRecordSet: { Name: name, Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: value }], ...extra },
});

/** A query assembled by hand (RFC 1035 §4.1), to look at header bits the Resolver API hides. */
function rawQuery(name: string, type: number, opts: { rd: boolean; edns: boolean }): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const header = Buffer.from([0x12, 0x34, opts.rd ? 0x01 : 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, opts.edns ? 1 : 0]);
  const question = Buffer.concat([...labels, Buffer.from([0, type >> 8, type & 0xff, 0, 1])]);
  // OPT: root name, TYPE 41, CLASS = UDP payload size 1232, TTL 0, RDLENGTH 0.
  const opt = opts.edns ? Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]) : Buffer.alloc(0);
  return Buffer.concat([header, question, opt]);
}

function udpExchange(address: string, query: Buffer): Promise<Buffer> {
  const [host, port] = address.split(':') as [string, string];
  const sock = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no DNS answer')), 2000);
    sock.once('message', (msg) => {
      clearTimeout(timer);
      sock.close();
      resolve(msg);
    });
    sock.send(query, Number(port), host);
  });
}

describe('sim: DNS server (the VPC Route 53 Resolver)', function () {
  let h: SimHarness;
  afterEach(async function () {
    await h?.close();
  });

  describe('default resolver (every zone of the account)', function () {
    beforeEach(async function () {
      h = await startHarness({ routeDelaySeconds: 10, dnsPort: 0 });
    });

    it('starts on its own port of the simulator host and says where', function () {
      assert.match(h.sim.dnsAddress ?? '', /^127\.0\.0\.1:\d+$/);
      assert.equal(h.sim.dnsAddress, `127.0.0.1:${h.sim.dnsPort}`);
      assert.notEqual(h.sim.dnsPort, h.sim.port);
    });

    it('answers a CNAME change only once it is INSYNC (published, as TestDNSAnswer), advancing lazy time itself', async function () {
      await seedZone(h, [{ name: 'db.internal.example', type: 'CNAME', ttl: 60, values: ['old.example.net'] }]);
      const { ChangeInfo } = await h.route53.send(
        new ChangeResourceRecordSetsCommand({ HostedZoneId: ZONE_ID, ChangeBatch: { Changes: [upsert('db.internal.example', 'new.example.net'), upsert('fresh.internal.example', 'x.example.net')] } }),
      );
      assert.deepEqual(await resolver(h).resolveCname('db.internal.example'), ['old.example.net']);
      assert.equal(await dnsError(resolver(h).resolveCname('fresh.internal.example')), 'ENOTFOUND');
      h.advance(9);
      assert.deepEqual(await resolver(h).resolveCname('db.internal.example'), ['old.example.net'], 'still PENDING after 9 s');
      h.advance(1);
      // No HTTP call in between: the DNS query itself brings Route 53 up to now.
      assert.deepEqual(await resolver(h).resolveCname('db.internal.example'), ['new.example.net']);
      assert.deepEqual(await resolver(h).resolveCname('FRESH.Internal.Example.'), ['x.example.net'], 'names are case-insensitive');
      const change = await h.route53.send(new GetChangeCommand({ Id: ChangeInfo?.Id }));
      assert.equal(change.ChangeInfo?.Status, 'INSYNC');
    });

    it('NXDOMAIN for a name in a zone that does not exist; NODATA for a name without that type (or with nothing but names below it); REFUSED outside every zone', async function () {
      await seedZone(h, [
        { name: 'host.internal.example', type: 'A', ttl: 60, values: ['10.0.0.7'] },
        { name: 'a.b.internal.example', type: 'A', ttl: 60, values: ['10.0.0.8'] },
      ]);
      assert.equal(await dnsError(resolver(h).resolveCname('missing.internal.example')), 'ENOTFOUND');
      assert.equal(await dnsError(resolver(h).resolveCname('host.internal.example')), 'ENODATA');
      assert.equal(await dnsError(resolver(h).resolveCname('b.internal.example')), 'ENODATA', 'an empty non-terminal exists (RFC 8020)');
      assert.equal(await dnsError(resolver(h).resolveCname('example.org')), 'EREFUSED');
      assert.equal(await dnsError(resolver(h).resolveCname('internal.example.org')), 'EREFUSED');
    });

    it('weighted sets: chosen in proportion to weight, weight 0 never unless all are 0', async function () {
      const w = (id: string, weight: number, target: string): SeedRecord => ({ name: 'db.internal.example', type: 'CNAME', ttl: 60, setIdentifier: id, weight, values: [target] });
      await seedZone(h, [w('blue', 100, 'blue.example.net'), w('green', 0, 'green.example.net')]);
      for (let i = 0; i < 20; i++) assert.deepEqual(await resolver(h).resolveCname('db.internal.example'), ['blue.example.net']);

      // The restore workflow's cutover: flip the weights; once INSYNC only green answers.
      await h.route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: ZONE_ID,
          ChangeBatch: { Changes: [upsert('db.internal.example', 'blue.example.net', { SetIdentifier: 'blue', Weight: 0 }), upsert('db.internal.example', 'green.example.net', { SetIdentifier: 'green', Weight: 100 })] },
        }),
      );
      assert.deepEqual(await resolver(h).resolveCname('db.internal.example'), ['blue.example.net']);
      h.advance(10);
      for (let i = 0; i < 20; i++) assert.deepEqual(await resolver(h).resolveCname('db.internal.example'), ['green.example.net']);

      const count = async (name: string, n: number): Promise<Map<string, number>> => {
        const seen = new Map<string, number>();
        for (let i = 0; i < n; i++) {
          const [target] = await resolver(h).resolveCname(name);
          seen.set(target as string, (seen.get(target as string) ?? 0) + 1);
        }
        return seen;
      };
      await h.admin.seed({
        hostedZones: [{ name: 'w.example', records: [{ ...w('a', 0, 'a.example.net'), name: 'zero.w.example' }, { ...w('b', 0, 'b.example.net'), name: 'zero.w.example' }, { ...w('light', 1, 'light.example.net'), name: 'split.w.example' }, { ...w('heavy', 3, 'heavy.example.net'), name: 'split.w.example' }] }],
      });
      const zero = await count('zero.w.example', 60);
      assert.deepEqual([...zero.keys()].sort(), ['a.example.net', 'b.example.net'], 'all weights 0: every set is answered');
      const split = await count('split.w.example', 200);
      assert.ok((split.get('light.example.net') ?? 0) > 0 && (split.get('heavy.example.net') ?? 0) > (split.get('light.example.net') ?? 0), JSON.stringify([...split]));
    });

    it("answers with the record's TTL (an A record, and through a CNAME chain the smaller of the two)", async function () {
      await seedZone(h, [
        { name: 'host.internal.example', type: 'A', ttl: 42, values: ['10.0.0.7', '10.0.0.9'] },
        { name: 'alias.internal.example', type: 'CNAME', ttl: 30, values: ['host.internal.example'] },
        { name: 'v6.internal.example', type: 'AAAA', ttl: 17, values: ['2001:db8::7'] },
        { name: 'txt.internal.example', type: 'TXT', ttl: 60, values: ['"hello world" "again"'] },
      ]);
      assert.deepEqual(await resolver(h).resolve4('host.internal.example', { ttl: true }), [
        { address: '10.0.0.7', ttl: 42 },
        { address: '10.0.0.9', ttl: 42 },
      ]);
      assert.deepEqual(await resolver(h).resolve4('alias.internal.example', { ttl: true }), [
        { address: '10.0.0.7', ttl: 30 },
        { address: '10.0.0.9', ttl: 30 },
      ]);
      assert.deepEqual(await resolver(h).resolve6('v6.internal.example', { ttl: true }), [{ address: '2001:db8::7', ttl: 17 }]);
      assert.deepEqual(await resolver(h).resolveTxt('txt.internal.example'), [['hello world', 'again']]);
    });

    it('header flags, name compression and EDNS on the wire; an answer too big for UDP is truncated and the Resolver retries over TCP', async function () {
      await seedZone(h, [
        { name: 'db.internal.example', type: 'CNAME', ttl: 60, values: ['target.example.net'] },
        { name: 'big.internal.example', type: 'TXT', ttl: 60, values: Array.from({ length: 20 }, (_, i) => `"${'x'.repeat(200)}${i}"`) },
      ]);
      const address = h.sim.dnsAddress as string;
      const msg = await udpExchange(address, rawQuery('db.internal.example', 5, { rd: true, edns: true }));
      assert.equal(msg.readUInt16BE(0), 0x1234);
      const flags = msg.readUInt16BE(2);
      assert.equal(flags & 0x8000, 0x8000, 'QR');
      assert.equal(flags & 0x0400, 0x0400, 'AA: an answer from a zone');
      assert.equal(flags & 0x0100, 0x0100, 'RD copied');
      assert.equal(flags & 0x0080, 0x0080, 'RA');
      assert.equal(flags & 0x000f, 0, 'NOERROR');
      assert.deepEqual([4, 6, 8, 10].map((o) => msg.readUInt16BE(o)), [1, 1, 0, 1], 'one question, one answer, the OPT echoed');
      const answerAt = 12 + 'db.internal.example'.length + 2 + 4;
      assert.equal(msg.readUInt16BE(answerAt), 0xc00c, "the answer's owner is a pointer to the question");
      assert.ok(msg.subarray(answerAt).includes(Buffer.from([0, 0, 41, 0x04, 0xd0])), 'OPT with UDP size 1232');

      const plain = await udpExchange(address, rawQuery('elsewhere.example', 5, { rd: false, edns: false }));
      assert.equal(plain.readUInt16BE(2) & 0x0100, 0, 'RD not set when not asked');
      assert.equal(plain.readUInt16BE(2) & 0x0400, 0, 'no AA when refused');
      assert.equal(plain.readUInt16BE(2) & 0x000f, 5, 'REFUSED');
      assert.equal(plain.readUInt16BE(10), 0, 'no OPT without EDNS in the query');

      const nx = await udpExchange(address, rawQuery('nope.internal.example', 5, { rd: true, edns: false }));
      assert.equal(nx.readUInt16BE(2) & 0x000f, 3, 'NXDOMAIN');
      assert.equal(nx.readUInt16BE(8), 1, "the zone's SOA in the authority section (RFC 2308)");

      const big = await udpExchange(address, rawQuery('big.internal.example', 16, { rd: true, edns: true }));
      assert.equal(big.readUInt16BE(2) & 0x0200, 0x0200, 'TC: over 1232 bytes');
      const txt = await resolver(h).resolveTxt('big.internal.example');
      assert.equal(txt.length, 20, 'the full answer, over TCP');
    });
  });

  describe('the resolver of one VPC (dnsVpcId)', function () {
    beforeEach(async function () {
      h = await startHarness({ routeDelaySeconds: 0, dnsPort: 0, dnsVpcId: VPC });
      await h.admin.seed({
        vpcs: [
          { region: REGION, id: VPC },
          { region: REGION, id: OTHER_VPC },
        ],
        hostedZones: [
          { name: 'other.example', vpcs: [{ region: REGION, vpcId: OTHER_VPC }], records: [{ name: 'db.other.example', type: 'CNAME', ttl: 60, values: ['x.example.net'] }] },
          { name: 'split.example', vpcs: [{ region: REGION, vpcId: VPC }], records: [{ name: 'inside.split.example', type: 'CNAME', ttl: 60, values: ['private.example.net'] }] },
          { name: 'public.example', records: [{ name: 'www.public.example', type: 'CNAME', ttl: 60, values: ['cdn.example.net'] }] },
        ],
      });
      // The public twin of split.example through the API (the seed would reuse the private one's CallerReference).
      const twin = await h.route53.send(new CreateHostedZoneCommand({ Name: 'split.example', CallerReference: 'public-twin' }));
      await h.route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: twin.HostedZone?.Id,
          ChangeBatch: { Changes: [upsert('inside.split.example', 'public.example.net'), upsert('www.split.example', 'public.example.net')] },
        }),
      );
    });

    it('answers private zones associated with its VPC and public zones; not private zones of other VPCs', async function () {
      assert.equal(await dnsError(resolver(h).resolveCname('db.other.example')), 'EREFUSED');
      assert.deepEqual(await resolver(h).resolveCname('www.public.example'), ['cdn.example.net']);
    });

    it('a private zone wins over a public zone of the same name, even for names only the public one has', async function () {
      assert.deepEqual(await resolver(h).resolveCname('inside.split.example'), ['private.example.net']);
      assert.equal(await dnsError(resolver(h).resolveCname('www.split.example')), 'ENOTFOUND');
    });
  });

  it('is off unless asked; --dns-port and --dns-vpc on the command line', async function () {
    h = await startHarness({});
    assert.equal(h.sim.dnsAddress, undefined);
    assert.deepEqual(parseSimulatorArgs(['--dns-port', '0', '--dns-vpc', VPC]), { port: 4599, host: '127.0.0.1', speed: 1, seedDemo: false, dnsPort: 0, dnsVpcId: VPC });
    assert.throws(() => parseSimulatorArgs(['--dns-port', '70000']), /--dns-port 70000 is not valid/);
  });
});
