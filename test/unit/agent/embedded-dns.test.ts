import dgram from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { resolvConf } from "../../../agent/engine/container-dns";
import { buildResponse, encodeName, parseQuery, RCODE, reverseAddress, TYPE_A, TYPE_AAAA, TYPE_PTR } from "../../../agent/network/dns-message";
import { type DnsAnswer, type DnsQuestion, EmbeddedDns } from "../../../agent/network/dns-server";

// The embedded DNS on loopback: real UDP, a real client (dgram), an upstream
// resolver started by the test; the engine's lookup is a table here (the
// compat tier drives the real one with nslookup inside containers).

/** A query as a stub resolver sends it: id, RD, one question. */
function query(id: number, name: string, type: number): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2);
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([header, encodeName(name), tail]);
}

interface Decoded {
  id: number;
  rcode: number;
  answers: { type: number; ttl: number; data: string }[];
}

/** Reads a response's header and answers (names compressed to the question, as ours are). */
function decode(msg: Buffer): Decoded {
  const rcode = msg.readUInt16BE(2) & 0xf;
  const count = msg.readUInt16BE(6);
  let at = 12;
  if (msg.readUInt16BE(4) === 1) {
    // Bounded by the message: a name ends at a zero byte.
    while (at < msg.length && msg[at] !== 0) at += msg[at]! + 1;
    at += 5;
  }
  const answers: Decoded["answers"] = [];
  for (let i = 0; i < count; i++) {
    at += 2;
    const type = msg.readUInt16BE(at);
    const ttl = msg.readUInt32BE(at + 4);
    const len = msg.readUInt16BE(at + 8);
    const data = msg.subarray(at + 10, at + 10 + len);
    answers.push({ type, ttl, data: type === TYPE_A ? [...data].join(".") : readName(data) });
    at += 10 + len;
  }
  return { id: msg.readUInt16BE(0), rcode, answers };
}

function readName(data: Buffer): string {
  const labels: string[] = [];
  for (let at = 0; at < data.length && data[at]; at += data[at]! + 1) labels.push(data.toString("latin1", at + 1, at + 1 + data[at]!));
  return labels.join(".");
}

async function ask(port: number, msg: Buffer, from = "127.0.0.1"): Promise<Buffer | null> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((r) => socket.bind({ address: from, port: 0 }, () => r()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => (socket.close(), resolve(null)), 3000);
    socket.on("message", (m) => (clearTimeout(timer), socket.close(), resolve(m)));
    socket.send(msg, port, "127.0.0.1");
  });
}

const freeUdpPort = () =>
  new Promise<number>((resolve) => {
    const s = dgram.createSocket("udp4");
    s.bind({ address: "127.0.0.1", port: 0 }, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup) c();
  cleanup = [];
});

async function server(lookup: (q: DnsQuestion) => DnsAnswer, extra: { upstreamPort?: number } = {}): Promise<{ port: number; logs: string[] }> {
  const port = await freeUdpPort();
  const logs: string[] = [];
  const dns = new EmbeddedDns({ lookup, port, upstreamTimeoutMs: 500, log: (l) => logs.push(l), ...extra });
  expect(await dns.serve("net1", "127.0.0.1")).toBe(true);
  cleanup.push(() => dns.close());
  return { port, logs };
}

describe("DNS messages", () => {
  it("reads a stub resolver's query and answers it with the question echoed", () => {
    const q = parseQuery(query(0x1234, "Web.Shop_Front.", TYPE_A))!;
    expect(q).toMatchObject({ id: 0x1234, rd: true, name: "web.shop_front", type: TYPE_A, class: 1 });
    const answer = decode(buildResponse(q, RCODE.NOERROR, [{ type: TYPE_A, address: "10.0.0.7" }], 600));
    expect(answer).toEqual({ id: 0x1234, rcode: 0, answers: [{ type: TYPE_A, ttl: 600, data: "10.0.0.7" }] });
  });

  it("refuses to read what isn't one plain question: responses, other opcodes, truncated or overlong names, pointers", () => {
    const ok = query(1, "a.b", TYPE_A);
    const response = Buffer.from(ok);
    response.writeUInt16BE(0x8100, 2);
    const notify = Buffer.from(ok);
    notify.writeUInt16BE(4 << 11, 2);
    const pointer = Buffer.concat([ok.subarray(0, 12), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]);
    const long = query(1, Array.from({ length: 5 }, () => "x".repeat(63)).join("."), TYPE_A);
    for (const bad of [response, notify, ok.subarray(0, 15), pointer, long, Buffer.alloc(3)]) expect(parseQuery(bad)).toBeNull();
  });

  it("turns in-addr.arpa names into addresses, and nothing else", () => {
    expect(reverseAddress("7.0.0.10.in-addr.arpa")).toBe("10.0.0.7");
    expect(reverseAddress("7.0.0.300.in-addr.arpa")).toBeNull();
    expect(reverseAddress("web.in-addr.arpa")).toBeNull();
  });
});

describe("the embedded DNS server", () => {
  it("answers a name of ours with every address (A), nothing for AAAA, and the name back for PTR", async () => {
    const { port } = await server((q) => {
      if (q.name === "api") return { kind: "local", records: [{ type: TYPE_A, address: "10.0.0.2" }, { type: TYPE_A, address: "10.0.0.3" }] };
      if (q.name === "2.0.0.10.in-addr.arpa") return { kind: "local", records: [{ type: TYPE_PTR, name: "api.shop" }] };
      return { kind: "forward", upstreams: [] };
    });
    const a = decode((await ask(port, query(7, "api", TYPE_A)))!);
    expect(a.rcode).toBe(RCODE.NOERROR);
    expect(a.answers.map((x) => x.data).sort()).toEqual(["10.0.0.2", "10.0.0.3"]);
    expect(decode((await ask(port, query(8, "api", TYPE_AAAA)))!)).toEqual({ id: 8, rcode: RCODE.NOERROR, answers: [] });
    expect(decode((await ask(port, query(9, "2.0.0.10.in-addr.arpa", TYPE_PTR)))!).answers).toEqual([{ type: TYPE_PTR, ttl: 600, data: "api.shop" }]);
  });

  it("tells the engine who asks, on which network, and refuses whoever isn't one of its containers", async () => {
    const asked: DnsQuestion[] = [];
    const { port } = await server((q) => {
      asked.push(q);
      return q.client === "127.0.0.1" ? { kind: "local", records: [] } : { kind: "refused" };
    });
    expect(decode((await ask(port, query(1, "db", TYPE_A), "127.0.0.2"))!).rcode).toBe(RCODE.REFUSED);
    expect(asked).toEqual([{ networkId: "net1", client: "127.0.0.2", name: "db", type: TYPE_A }]);
  });

  it("relays other names to the upstream resolver and hands its answer back as it came", async () => {
    const upstream = dgram.createSocket("udp4");
    const upstreamPort = await new Promise<number>((r) => upstream.bind({ address: "127.0.0.1", port: 0 }, () => r(upstream.address().port)));
    cleanup.push(() => upstream.close());
    upstream.on("message", (m, rinfo) => {
      const q = parseQuery(m)!;
      upstream.send(buildResponse(q, q.name === "example.test" ? RCODE.NOERROR : RCODE.NXDOMAIN, q.name === "example.test" ? [{ type: TYPE_A, address: "192.0.2.80" }] : [], 42), rinfo.port, rinfo.address);
    });
    const { port } = await server(() => ({ kind: "forward", upstreams: ["127.0.0.1"] }), { upstreamPort });
    expect(decode((await ask(port, query(3, "example.test", TYPE_A)))!)).toEqual({ id: 3, rcode: 0, answers: [{ type: TYPE_A, ttl: 42, data: "192.0.2.80" }] });
    expect(decode((await ask(port, query(4, "nowhere.test", TYPE_A)))!).rcode).toBe(RCODE.NXDOMAIN);
  });

  it("answers SERVFAIL when no upstream answers in time or there is none; FORMERR to what it can't read", async () => {
    const silent = dgram.createSocket("udp4");
    const silentPort = await new Promise<number>((r) => silent.bind({ address: "127.0.0.1", port: 0 }, () => r(silent.address().port)));
    cleanup.push(() => silent.close());
    let reachedSilent = 0;
    silent.on("message", () => reachedSilent++);
    const { port } = await server((q) => ({ kind: "forward", upstreams: q.name === "none" ? [] : ["127.0.0.1"] }), { upstreamPort: silentPort });
    expect(decode((await ask(port, query(5, "slow.test", TYPE_A)))!).rcode).toBe(RCODE.SERVFAIL);
    // The silent upstream is skipped for a while: the next question (a stub resolver's retry) fails at once.
    expect(decode((await ask(port, query(7, "slow.test", TYPE_A)))!).rcode).toBe(RCODE.SERVFAIL);
    expect(reachedSilent).toBe(1);
    expect(decode((await ask(port, query(6, "none", TYPE_A)))!).rcode).toBe(RCODE.SERVFAIL);
    const garbage = Buffer.from([0xab, 0xcd, 0x01, 0x00, 0, 1]);
    expect(decode((await ask(port, garbage))!)).toMatchObject({ id: 0xabcd, rcode: RCODE.FORMERR });
  });

  it("says so, and serves nothing, when the address can't be bound", async () => {
    const port = await freeUdpPort();
    const logs: string[] = [];
    const dns = new EmbeddedDns({ lookup: () => ({ kind: "refused" }), port, log: (l) => logs.push(l) });
    cleanup.push(() => dns.close());
    expect(await dns.serve("a", "127.0.0.1")).toBe(true);
    const other = new EmbeddedDns({ lookup: () => ({ kind: "refused" }), port, log: (l) => logs.push(l) });
    expect(await other.serve("a", "127.0.0.1")).toBe(false);
    expect(other.serving("a")).toBe(false);
    expect(logs.join("\n")).toMatch(/can't answer on 127\.0\.0\.1:\d+: .*EADDRINUSE.*\/etc\/hosts only/);
  });
});

describe("a container's resolv.conf", () => {
  const host = "search corp.example\nnameserver 127.0.0.53\nnameserver 10.0.0.53\noptions edns0\n";
  const settings = (s: Partial<{ Dns: string[]; DnsSearch: string[]; DnsOptions: string[] }> = {}) => ({ host: { Dns: [], DnsSearch: [], DnsOptions: [], ...s } }) as never;

  it("names the network's gateway on a user-defined network, keeping the search domains, with ndots:0", () => {
    expect(resolvConf(settings(), host, "10.9.0.1")).toBe("nameserver 10.9.0.1\nsearch corp.example\noptions ndots:0\n");
    expect(resolvConf(settings({ Dns: ["1.1.1.1"], DnsSearch: ["a.test"], DnsOptions: ["ndots:5", "rotate"] }), host, "10.9.0.1")).toBe(
      "nameserver 10.9.0.1\nsearch a.test\noptions ndots:0 rotate\n",
    );
  });

  it("elsewhere, --dns servers, or the host's without the loopback ones", () => {
    expect(resolvConf(settings({ Dns: ["1.1.1.1"] }), host, null)).toBe("nameserver 1.1.1.1\nsearch corp.example\n");
    expect(resolvConf(settings({ DnsSearch: ["a.test"] }), host, null)).toBe("nameserver 10.0.0.53\nsearch a.test\n");
    expect(resolvConf(settings(), host, null)).toBe("search corp.example\nnameserver 10.0.0.53\noptions edns0\n");
  });
});
