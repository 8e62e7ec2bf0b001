/**
 * The DNS message format (RFC 1035 §4, with EDNS0 from RFC 6891), as far as the simulator's resolver
 * needs it: parse a query, encode an answer with name compression. Record data arrives in Route 53's
 * presentation format (the `Value` strings of ResourceRecords) and is turned into RDATA here.
 */
import net from 'node:net';

export const TYPE: Record<string, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, SPF: 99, CAA: 257 };
export const TYPE_OPT = 41;
export const TYPE_ANY = 255;
export const CLASS_IN = 1;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
/** What the simulator advertises in its OPT record (the DNS Flag Day 2020 size, which c-ares also uses). */
export const EDNS_UDP_SIZE = 1232;

export interface Question {
  /** As asked, case preserved (resolvers compare the echoed question byte for byte). */
  name: string;
  type: number;
  class: number;
}

export interface Query {
  id: number;
  opcode: number;
  rd: boolean;
  question: Question;
  /** Present when the query carried an OPT record: the requestor's UDP payload size. */
  edns?: { udpSize: number };
}

/** One resource record; `data` is in presentation format (Route 53's Value). */
export interface Rr {
  name: string;
  type: number;
  ttl: number;
  data: string;
}

export interface Response {
  id: number;
  opcode: number;
  rd: boolean;
  aa: boolean;
  rcode: number;
  question?: Question;
  answers: Rr[];
  authority: Rr[];
  edns: boolean;
}

/** A query that cannot be parsed; `id` is set when the header was readable, so FORMERR can be sent. */
export class WireError extends Error {
  constructor(
    message: string,
    readonly id?: number,
  ) {
    super(message);
  }
}

function readName(buf: Buffer, start: number, id: number): { name: string; next: number } {
  const labels: string[] = [];
  let pos = start;
  let next = -1;
  for (let jumps = 0; ; ) {
    const len = buf[pos];
    if (len === undefined) throw new WireError('name runs past the end of the message', id);
    if ((len & 0xc0) === 0xc0) {
      // A compression pointer; queries rarely use them, but a loop must not hang the server.
      if (++jumps > 20 || pos + 1 >= buf.length) throw new WireError('bad compression pointer', id);
      if (next < 0) next = pos + 2;
      pos = ((len & 0x3f) << 8) | (buf[pos + 1] as number);
      continue;
    }
    if (len > 63) throw new WireError(`label length ${len}`, id);
    if (len === 0) break;
    if (pos + 1 + len > buf.length) throw new WireError('label runs past the end of the message', id);
    labels.push(buf.toString('latin1', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  const name = labels.join('.');
  if (name.length > 253) throw new WireError('name longer than 255 octets', id);
  return { name, next: next >= 0 ? next : pos + 1 };
}

/** Parses a query: one question (RFC 1035 allows more, no server answers them), an optional OPT. */
export function parseQuery(buf: Buffer): Query {
  if (buf.length < 12) throw new WireError('shorter than a DNS header');
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if (flags & 0x8000) throw new WireError('not a query (QR is set)');
  const [qd, an, ns, ar] = [4, 6, 8, 10].map((o) => buf.readUInt16BE(o)) as [number, number, number, number];
  if (qd !== 1 || an !== 0 || ns !== 0) throw new WireError(`expected one question and no answers, got ${qd}/${an}/${ns}`, id);
  const q = readName(buf, 12, id);
  if (q.next + 4 > buf.length) throw new WireError('question runs past the end of the message', id);
  const question: Question = { name: q.name, type: buf.readUInt16BE(q.next), class: buf.readUInt16BE(q.next + 2) };
  let pos = q.next + 4;
  let edns: Query['edns'];
  for (let i = 0; i < ar; i++) {
    const rr = readName(buf, pos, id);
    if (rr.next + 10 > buf.length) throw new WireError('additional record runs past the end of the message', id);
    const type = buf.readUInt16BE(rr.next);
    // For OPT the CLASS field is the requestor's UDP payload size (RFC 6891 §6.1.2).
    if (type === TYPE_OPT) edns = { udpSize: Math.max(512, buf.readUInt16BE(rr.next + 2)) };
    pos = rr.next + 10 + buf.readUInt16BE(rr.next + 8);
  }
  return { id, opcode: (flags >> 11) & 0xf, rd: (flags & 0x0100) !== 0, question, edns };
}

/** Splits TXT/SPF presentation data into character-strings: `"a b" "c"` → ['a b', 'c']; bare words too. */
export function txtStrings(value: string): Buffer[] {
  const out: Buffer[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    const raw = m[1] ?? (m[2] as string);
    const bytes: number[] = [];
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i] as string;
      if (c === '\\' && /^\d{3}$/.test(raw.slice(i + 1, i + 4))) {
        bytes.push(Number(raw.slice(i + 1, i + 4)));
        i += 3;
      } else if (c === '\\' && i + 1 < raw.length) {
        bytes.push(raw.charCodeAt(++i));
      } else {
        bytes.push(...Buffer.from(c, 'utf8'));
      }
    }
    // A character-string holds at most 255 octets (RFC 1035 §3.3); Route 53 splits longer TXT values the same way.
    for (let i = 0; i === 0 || i < bytes.length; i += 255) out.push(Buffer.from(bytes.slice(i, i + 255)));
  }
  return out;
}

function ipv6Bytes(addr: string): Buffer {
  let text = addr;
  const tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    tail.push(...(v4[1] as string).split('.').map(Number));
    text = `${text.slice(0, v4.index)}0:0`; // placeholder groups, replaced by the IPv4 bytes below
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const h = groups(head);
  const r = rest === undefined ? [] : groups(rest);
  const all = [...h, ...Array<string>(rest === undefined ? 0 : 8 - h.length - r.length).fill('0'), ...r];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  if (tail.length) Buffer.from(tail).copy(out, 12);
  return out;
}

/** Builds a message into a fixed buffer, compressing names against the suffixes already written. */
class Writer {
  buf = Buffer.alloc(65535);
  pos = 0;
  private readonly names = new Map<string, number>();

  u8(v: number): void {
    this.pos = this.buf.writeUInt8(v, this.pos);
  }
  u16(v: number): void {
    this.pos = this.buf.writeUInt16BE(v, this.pos);
  }
  u32(v: number): void {
    this.pos = this.buf.writeUInt32BE(v >>> 0, this.pos);
  }
  bytes(b: Buffer): void {
    this.pos += b.copy(this.buf, this.pos);
  }

  name(name: string, compress = true): void {
    const labels = name.replace(/\.$/, '').split('.').filter((l) => l !== '');
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.').toLowerCase();
      const at = this.names.get(suffix);
      if (compress && at !== undefined) return this.u16(0xc000 | at);
      if (this.pos < 0x4000) this.names.set(suffix, this.pos);
      const label = Buffer.from(labels[i] as string, 'latin1');
      if (label.length > 63) throw new Error(`label longer than 63 octets in ${name}`);
      this.u8(label.length);
      this.bytes(label);
    }
    this.u8(0);
  }

  /** RDATA from presentation format; false (nothing written) for a type the simulator does not encode. */
  rdata(type: number, data: string): boolean {
    const f = data.trim().split(/\s+/);
    const num = (i: number): number => Number(f[i]);
    switch (type) {
      case TYPE.A:
        if (!net.isIPv4(data.trim())) return false;
        f[0]?.split('.').forEach((o) => this.u8(Number(o)));
        return true;
      case TYPE.AAAA:
        if (!net.isIPv6(data.trim())) return false;
        this.bytes(ipv6Bytes(data.trim()));
        return true;
      case TYPE.CNAME:
      case TYPE.NS:
      case TYPE.PTR:
        this.name(data.trim());
        return true;
      case TYPE.MX:
        this.u16(num(0));
        this.name(f[1] ?? '.');
        return true;
      case TYPE.SOA:
        this.name(f[0] ?? '.');
        this.name(f[1] ?? '.');
        for (let i = 2; i < 7; i++) this.u32(num(i) || 0);
        return true;
      case TYPE.SRV:
        [0, 1, 2].forEach((i) => this.u16(num(i)));
        this.name(f[3] ?? '.', false); // RFC 2782: the target is never compressed
        return true;
      case TYPE.TXT:
      case TYPE.SPF:
        for (const s of txtStrings(data)) {
          this.u8(s.length);
          this.bytes(s);
        }
        return true;
      case TYPE.CAA: {
        const m = /^(\d+)\s+(\S+)\s+(.*)$/.exec(data.trim());
        if (!m) return false;
        const tag = Buffer.from(m[2] as string, 'latin1');
        this.u8(Number(m[1]));
        this.u8(tag.length);
        this.bytes(tag);
        this.bytes(Buffer.concat(txtStrings(m[3] as string)));
        return true;
      }
      default:
        return false;
    }
  }

  /** Writes a record, or nothing when its data cannot be encoded; returns whether it was written. */
  rr(rr: Rr): boolean {
    const start = this.pos;
    this.name(rr.name);
    this.u16(rr.type);
    this.u16(CLASS_IN);
    this.u32(rr.ttl);
    const lengthAt = this.pos;
    this.u16(0);
    if (!this.rdata(rr.type, rr.data)) {
      // Roll back, including the compression targets the owner name registered past `start`.
      this.pos = start;
      for (const [suffix, at] of this.names) if (at >= start) this.names.delete(suffix);
      return false;
    }
    this.buf.writeUInt16BE(this.pos - lengthAt - 2, lengthAt);
    return true;
  }
}

function encodeOnce(r: Response, tc: boolean): Buffer {
  const w = new Writer();
  w.u16(r.id);
  // QR, opcode, AA, TC, RD copied from the query (RFC 1035 §4.1.1), RA: this server recurses (for its zones).
  w.u16(0x8000 | (r.opcode << 11) | (r.aa ? 0x0400 : 0) | (tc ? 0x0200 : 0) | (r.rd ? 0x0100 : 0) | 0x0080 | (r.rcode & 0xf));
  w.u16(r.question ? 1 : 0);
  const counts = w.pos;
  w.u16(0);
  w.u16(0);
  w.u16(r.edns ? 1 : 0);
  if (r.question) {
    w.name(r.question.name);
    w.u16(r.question.type);
    w.u16(r.question.class);
  }
  const an = tc ? 0 : r.answers.filter((rr) => w.rr(rr)).length;
  const ns = tc ? 0 : r.authority.filter((rr) => w.rr(rr)).length;
  w.buf.writeUInt16BE(an, counts);
  w.buf.writeUInt16BE(ns, counts + 2);
  if (r.edns) {
    // OPT (RFC 6891 §6.1.2): root name, our UDP size in CLASS, extended rcode/version/flags 0, no options.
    w.name('');
    w.u16(TYPE_OPT);
    w.u16(EDNS_UDP_SIZE);
    w.u32(0);
    w.u16(0);
  }
  return Buffer.from(w.buf.subarray(0, w.pos));
}

/**
 * Encodes a response. One larger than `maxSize` (the requestor's UDP payload size) is sent with TC set
 * and no records, so the resolver asks again over TCP (RFC 1035 §4.2.1, RFC 7766).
 */
export function encodeResponse(r: Response, maxSize: number): Buffer {
  const full = encodeOnce(r, false);
  return full.length <= maxSize ? full : encodeOnce(r, true);
}
