// The few pieces of the DNS wire format (RFC 1035) the embedded resolver
// needs: read a query's header and single question, and build the answer to
// it (A and PTR records, or an empty answer with a response code). Anything
// else is relayed to an upstream resolver untouched.

export const TYPE_A = 1;
export const TYPE_PTR = 12;
export const TYPE_AAAA = 28;
export const CLASS_IN = 1;

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;
export type Rcode = (typeof RCODE)[keyof typeof RCODE];

export interface DnsQuery {
  id: number;
  /** Recursion desired, echoed in the answer. */
  rd: boolean;
  /** Lower case, without the trailing dot. */
  name: string;
  type: number;
  class: number;
  /** The question section as sent (echoed in the answer). */
  question: Buffer;
}

const HEADER = 12;
const MAX_NAME = 255;

/** The query in `msg`, or null when it isn't a standard query with exactly one question we can read. */
export function parseQuery(msg: Buffer): DnsQuery | null {
  if (msg.length < HEADER + 5) return null;
  const flags = msg.readUInt16BE(2);
  const qr = flags >> 15;
  const opcode = (flags >> 11) & 0xf;
  if (qr !== 0 || opcode !== 0 || msg.readUInt16BE(4) !== 1) return null;
  const labels: string[] = [];
  let at = HEADER;
  let length = 0;
  for (;;) {
    if (at >= msg.length) return null;
    const n = msg[at]!;
    at++;
    if (n === 0) break;
    // No compression pointers in a question we accept (a query's first name has nothing to point back to).
    if (n > 63 || at + n > msg.length) return null;
    length += n + 1;
    if (length > MAX_NAME) return null;
    labels.push(msg.toString("latin1", at, at + n));
    at += n;
  }
  if (at + 4 > msg.length) return null;
  const type = msg.readUInt16BE(at);
  const klass = msg.readUInt16BE(at + 2);
  return { id: msg.readUInt16BE(0), rd: Boolean(flags & 0x0100), name: labels.join(".").toLowerCase(), type, class: klass, question: msg.subarray(HEADER, at + 4) };
}

/** A domain name in wire form ("a.b" → 1 a 1 b 0). */
export function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, "").split(".").filter(Boolean);
  const out: Buffer[] = [];
  for (const p of parts) {
    const label = Buffer.from(p, "latin1").subarray(0, 63);
    out.push(Buffer.from([label.length]), label);
  }
  out.push(Buffer.from([0]));
  return Buffer.concat(out);
}

export type DnsRecord = { type: typeof TYPE_A; address: string } | { type: typeof TYPE_PTR; name: string };

/** The answer to `query`: its question echoed, then `records` (each pointing back at the question's name), with `rcode`. */
export function buildResponse(query: DnsQuery, rcode: Rcode, records: DnsRecord[] = [], ttl = 600): Buffer {
  const header = Buffer.alloc(HEADER);
  header.writeUInt16BE(query.id, 0);
  // QR, opcode 0, AA (we are the authority for these names), RD echoed, RA, rcode.
  header.writeUInt16BE(0x8000 | 0x0400 | (query.rd ? 0x0100 : 0) | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records.length, 6);
  const answers = records.map((r) => {
    const data = r.type === TYPE_A ? Buffer.from(r.address.split(".").map(Number)) : encodeName(r.name);
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc000 | HEADER, 0); // the name: a pointer to the question's
    rr.writeUInt16BE(r.type, 2);
    rr.writeUInt16BE(CLASS_IN, 4);
    rr.writeUInt32BE(ttl, 6);
    rr.writeUInt16BE(data.length, 10);
    return Buffer.concat([rr, data]);
  });
  return Buffer.concat([header, query.question, ...answers]);
}

/** A response with only a header and `rcode`, for a message we couldn't read past its id. */
export function buildError(msg: Buffer, rcode: Rcode): Buffer | null {
  if (msg.length < 2) return null;
  const header = Buffer.alloc(HEADER);
  header.writeUInt16BE(msg.readUInt16BE(0), 0);
  header.writeUInt16BE(0x8000 | 0x0080 | rcode, 2);
  return header;
}

/** "4.3.2.1.in-addr.arpa" → "1.2.3.4"; null for any other name. */
export function reverseAddress(name: string): string | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(name);
  if (!m) return null;
  const parts = [m[4], m[3], m[2], m[1]].map(Number);
  return parts.every((p) => p <= 255) ? parts.join(".") : null;
}
