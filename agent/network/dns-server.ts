import dgram from "node:dgram";
import { buildError, buildResponse, type DnsQuery, type DnsRecord, parseQuery, RCODE, TYPE_A, TYPE_PTR } from "./dns-message";

// The resolver containers on a user-defined network use (their
// /etc/resolv.conf names the network's gateway): a UDP socket on the
// gateway's address, port 53, per network. It answers the names of the
// containers the asking container shares a network with, and only those
// (lookup() decides, from the asker's address), and relays every other
// question to the asker's upstream resolvers. Docker does this on 127.0.0.11
// inside each container; podman (aardvark-dns) on the gateway, as here.

/** What the engine says about one question from one container. */
export type DnsAnswer =
  /** Not asked by a container on this network: refused. */
  | { kind: "refused" }
  /** A name of ours: its addresses (none: the name exists, with no record of the type asked, e.g. AAAA). */
  | { kind: "local"; records: DnsRecord[] }
  /** Someone else's name: ask these resolvers (none: SERVFAIL). */
  | { kind: "forward"; upstreams: string[] };

export interface DnsQuestion {
  networkId: string;
  /** The asking container's address on the network. */
  client: string;
  name: string;
  type: number;
}

export interface EmbeddedDnsOptions {
  lookup(question: DnsQuestion): DnsAnswer;
  log?: (line: string) => void;
  /** How long an upstream resolver has to answer before the next is asked. */
  upstreamTimeoutMs?: number;
  /** Port to serve on (53; tests may pick another). */
  port?: number;
  /** Port upstream resolvers answer on (53; tests may pick another). */
  upstreamPort?: number;
}

/** Relayed questions in flight at once, over every network; past it, SERVFAIL. */
const MAX_IN_FLIGHT = 256;
const DEFAULT_UPSTREAM_TIMEOUT_MS = 2000;
/**
 * An upstream that didn't answer in time is skipped for this long: the questions meanwhile get SERVFAIL at once
 * instead of waiting it out again (a stub resolver retrying a SERVFAIL would otherwise give up before us).
 */
const UPSTREAM_RETRY_AFTER_MS = 30_000;

export class EmbeddedDns {
  private readonly sockets = new Map<string, { socket: dgram.Socket; address: string }>();
  private inFlight = 0;
  /** Upstreams that last failed to answer, until when they are skipped. */
  private readonly silentUntil = new Map<string, number>();
  private readonly log: (line: string) => void;

  constructor(private readonly options: EmbeddedDnsOptions) {
    this.log = options.log ?? ((line) => process.stderr.write(`berth-agent: dns: ${line}\n`));
  }

  /** Whether the network's gateway answers DNS (its containers' resolv.conf may name it). */
  serving(networkId: string): boolean {
    return this.sockets.has(networkId);
  }

  /** Starts answering on `gateway`:53 for the network; false (logged) when the address can't be bound. */
  async serve(networkId: string, gateway: string): Promise<boolean> {
    const current = this.sockets.get(networkId);
    if (current?.address === gateway) return true;
    if (current) this.stop(networkId);
    const socket = dgram.createSocket({ type: "udp4" });
    const bound = await new Promise<boolean>((resolve) => {
      socket.once("error", (e) => {
        this.log(`can't answer on ${gateway}:${this.port}: ${e.message}; containers there resolve names through /etc/hosts only`);
        socket.close();
        resolve(false);
      });
      socket.bind({ address: gateway, port: this.port }, () => resolve(true));
    });
    if (!bound) return false;
    socket.removeAllListeners("error");
    socket.on("error", (e) => this.log(`${gateway}:${this.port}: ${e.message}`));
    socket.on("message", (msg, rinfo) => this.answer(networkId, socket, msg, rinfo));
    this.sockets.set(networkId, { socket, address: gateway });
    return true;
  }

  stop(networkId: string): void {
    const s = this.sockets.get(networkId);
    if (!s) return;
    this.sockets.delete(networkId);
    s.socket.close();
  }

  close(): void {
    for (const id of [...this.sockets.keys()]) this.stop(id);
  }

  private get port(): number {
    return this.options.port ?? 53;
  }

  private answer(networkId: string, socket: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const reply = (data: Buffer | null) => {
      if (data) socket.send(data, rinfo.port, rinfo.address, () => {});
    };
    const query = parseQuery(msg);
    if (!query) return reply(buildError(msg, RCODE.FORMERR));
    let verdict: DnsAnswer;
    try {
      verdict = this.options.lookup({ networkId, client: rinfo.address, name: query.name, type: query.type });
    } catch (e) {
      this.log(`lookup of ${query.name}: ${e instanceof Error ? e.message : String(e)}`);
      return reply(buildResponse(query, RCODE.SERVFAIL));
    }
    if (verdict.kind === "refused") return reply(buildResponse(query, RCODE.REFUSED));
    if (verdict.kind === "local") {
      const records = verdict.records.filter((r) => (query.type === TYPE_A && r.type === TYPE_A) || (query.type === TYPE_PTR && r.type === TYPE_PTR));
      return reply(buildResponse(query, RCODE.NOERROR, shuffle(records)));
    }
    void this.relay(query, msg, verdict.upstreams).then(reply);
  }

  /** Asks each upstream in turn (bounded by the timeout each); its answer as it came, or SERVFAIL. */
  private async relay(query: DnsQuery, msg: Buffer, upstreams: string[]): Promise<Buffer> {
    if (!upstreams.length || this.inFlight >= MAX_IN_FLIGHT) return buildResponse(query, RCODE.SERVFAIL);
    this.inFlight++;
    try {
      for (const upstream of upstreams.slice(0, 3)) {
        if ((this.silentUntil.get(upstream) ?? 0) > Date.now()) continue;
        const answer = await askUpstream(upstream, this.options.upstreamPort ?? 53, msg, this.options.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS);
        if (answer && answer.length >= 12 && answer.readUInt16BE(0) === query.id) {
          this.silentUntil.delete(upstream);
          return answer;
        }
        if (this.silentUntil.size > 1000) this.silentUntil.clear();
        this.silentUntil.set(upstream, Date.now() + UPSTREAM_RETRY_AFTER_MS);
      }
      return buildResponse(query, RCODE.SERVFAIL);
    } finally {
      this.inFlight--;
    }
  }
}

/** One question to one resolver over UDP; its answer, or null (unreachable, or no answer in time). */
function askUpstream(upstream: string, port: number, msg: Buffer, timeoutMs: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(upstream.includes(":") ? "udp6" : "udp4");
    let settled = false;
    const done = (value: Buffer | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      resolve(value);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.on("error", () => done(null));
    socket.on("message", (answer) => done(answer));
    socket.send(msg, port, upstream, (e) => {
      if (e) done(null);
    });
  });
}

/** Several addresses (a scaled service) come back in a different order each time, as Docker's do. */
function shuffle<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
