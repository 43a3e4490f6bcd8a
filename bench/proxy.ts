// The Docker-API proxy's overhead (issue 9, part 3): `GET /v1.43/containers/json` as the docker
// CLI sends it, through the proxy (`/api/docker/<host>/…` with a bearer token: token → rate limit →
// path → endpoint table → host and permission → one SSH channel to the agent's socket → the answer
// streamed back) vs the same request on the agent's unix socket directly, in the same run.
// Target: proxy overhead < 5 ms median. Each authenticated request includes the proxy's read of the
// one-row AccessGeneration table (cross-process revocation), so that cost is in the figure.
//
// The proxy runs in this process on its own HTTP server, wired exactly as server/main.ts wires it
// (handleRequest before anything else), over a real embedded Postgres (migrated, built-in roles,
// an Owner with a real API token) and a real HostConnection (ssh2) to an SSH test host running a
// real berth-agent. Next is not on the proxy's path, so leaving it out changes nothing measured.
// Both clients keep their connection alive, as the docker CLI does. Samples are alternated.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { startSshHosts, type SshHostFleet, type SshTestHost } from "../test/fixtures/ssh-hosts";
import { AGENT_BUNDLE } from "../test/fixtures/docker-agent";
import { sleep, startHostAgent, stats, type Stats, stopHostAgent } from "./support";

const SAMPLES = Number(process.env.BENCH_PROXY_SAMPLES ?? 300);
const WARMUP = Number(process.env.BENCH_PROXY_WARMUP ?? 30);
const AGENT_START_MS = 20_000;
const CONNECT_MS = 15_000;
const PATH = "/v1.43/containers/json";

export interface ProxyBench {
  samples: number;
  warmup: number;
  /** Containers the agent listed (fresh agent: none). */
  containers: number;
  /** Through the gateway's proxy: token check, SSH channel, agent, answer streamed back. */
  proxy: Stats;
  /** The agent's unix socket directly. */
  direct: Stats;
  /** proxy − direct, per percentile, ms. */
  added: Stats;
  /** Token authentication alone (the proxy's database work per request), for where the time goes. */
  auth: Stats;
  /** The target: added.p50 < 5 ms. */
  targetMet: boolean;
  load: { average: number; cpus: number };
}

/** The host's agent, started and answering /_ping. */
async function startAgent(host: SshTestHost): Promise<{ stop: () => Promise<void> }> {
  const agent = await startHostAgent(host);
  const stop = () => stopHostAgent(agent);
  const deadline = Date.now() + AGENT_START_MS;
  for (;;) {
    if (agent.child.exitCode !== null) throw new Error(`the agent exited at start:\n${agent.stderr()}`);
    const ok = await get({ socketPath: host.agent.socket }, "/_ping").then((r) => r.status === 200, () => false);
    if (ok) return { stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the agent did not answer /_ping within ${AGENT_START_MS / 1000} s:\n${agent.stderr()}`);
    }
    await sleep(100);
  }
}

function get(target: { socketPath?: string; port?: number; agent?: http.Agent }, urlPath: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ ...target, host: target.port ? "127.0.0.1" : undefined, method: "GET", path: urlPath, headers, timeout: 30_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error(`GET ${urlPath} timed out`)));
    req.end();
  });
}

function minus(a: Stats, b: Stats): Stats {
  return { p50: a.p50 - b.p50, p95: a.p95 - b.p95 };
}

export async function benchProxy(): Promise<ProxyBench> {
  if (process.getuid?.() !== 0) throw new Error("the proxy bench needs root (network namespaces, sshd, the agent)");
  if (!existsSync(AGENT_BUNDLE)) throw new Error(`${AGENT_BUNDLE} is missing: run npm run build:agent`);
  const load = { average: os.loadavg()[0]!, cpus: os.availableParallelism() };

  const [{ startEmbeddedPostgres }, { migrate }, { createDb }, { seedBuiltInRoles }, { agentConfigSchema }, { HostConnection }, { createDockerProxy }, { authenticateToken }, format] =
    await Promise.all([
      import("../server/database/embedded"),
      import("../server/database/migrate"),
      import("../server/db"),
      import("../server/services/roles/seed-built-in-roles"),
      import("../server/fleet/agent-config"),
      import("../server/fleet/host-connection"),
      import("../server/docker-proxy/proxy"),
      import("../server/tokens/viewer-for-token"),
      import("../server/tokens/format"),
    ]);

  const pgDir = await mkdtemp(path.join(os.tmpdir(), "berth-bench-proxy-pg-"));
  let pg: Awaited<ReturnType<typeof startEmbeddedPostgres>> | null = null;
  let db: ReturnType<typeof createDb> | null = null;
  let fleet: SshHostFleet | null = null;
  let agent: { stop: () => Promise<void> } | null = null;
  let connection: InstanceType<typeof HostConnection> | null = null;
  let server: http.Server | null = null;
  const keepAlive = { proxy: new http.Agent({ keepAlive: true, maxSockets: 1 }), direct: new http.Agent({ keepAlive: true, maxSockets: 1 }) };
  try {
    pg = await startEmbeddedPostgres({ dataDir: pgDir });
    await migrate(pg.url());
    db = createDb(pg.url());
    await seedBuiltInRoles(db);
    fleet = await startSshHosts(1);
    const host = fleet.hosts[0]!;
    agent = await startAgent(host);

    // The host, an Owner and their API token, as the console stores them.
    const hostRow = await db.host.create({ data: { name: "bench-proxy-host", address: host.address } });
    const role = await db.role.findUniqueOrThrow({ where: { name: "Owner" } });
    const user = await db.user.create({ data: { email: `bench-proxy-${randomBytes(3).toString("hex")}@example.test` } });
    await db.roleBinding.create({ data: { userId: user.id, roleId: role.id, scopeType: "global", scopeKey: "global" } });
    const secret = format.generateTokenSecret();
    await db.apiToken.create({ data: { userId: user.id, name: "bench", prefix: format.displayPrefix(secret), hash: format.hashTokenSecret(secret) } });

    const conn = new HostConnection({
      hostId: hostRow.id,
      name: hostRow.name,
      agent: agentConfigSchema.parse({ ...host.agent }),
      ssh: { address: host.address, port: host.port, username: "root", auth: { method: "key", privateKey: fleet.clientKey.privateKey }, pinned: await host.fingerprint() },
    });
    connection = conn;
    conn.start();
    const deadline = Date.now() + CONNECT_MS;
    while (conn.state !== "connected") {
      if (Date.now() > deadline || conn.state === "hostKeyChanged" || conn.state === "authFailed") throw new Error(`${host.name} did not connect (${conn.state}: ${conn.message ?? ""})`);
      await sleep(5);
    }

    const theDb = db;
    const proxy = createDockerProxy({
      db: () => theDb,
      fleet: async () => ({ fleet: { connection: () => conn } }),
      clientIp: (req) => req.socket.remoteAddress ?? "unknown",
      maxBodyBytes: 1024 * 1024,
      // Back-to-back samples would hit the per-token rate limit (20/s); the limiter itself still runs per request.
      tokenRate: { perSecond: 1e6, burst: 1e6 },
      log: () => {},
    });
    const srv = http.createServer((req, res) => {
      if (proxy.handleRequest(req, res, randomBytes(8).toString("hex"))) return;
      res.writeHead(404).end();
    });
    srv.on("upgrade", (req, socket, head) => {
      if (!proxy.handleUpgrade(req, socket, head)) socket.destroy();
    });
    server = srv;
    await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
    const port = (srv.address() as AddressInfo).port;
    const auth = { authorization: `Bearer ${secret}`, "user-agent": "Docker-Client/28.2.2 (linux)" };
    const viaProxy = () => get({ port, agent: keepAlive.proxy }, `/api/docker/${hostRow.id}${PATH}`, auth);
    const direct = () => get({ socketPath: host.agent.socket, agent: keepAlive.direct }, PATH);

    // Same answer both ways before timing anything.
    const [a, b] = [await viaProxy(), await direct()];
    if (a.status !== 200 || b.status !== 200 || a.body !== b.body) throw new Error(`the two paths answered differently: ${a.status} ${a.body.slice(0, 200)} / ${b.status} ${b.body.slice(0, 200)}`);
    const containers = (JSON.parse(b.body) as unknown[]).length;

    const times = { proxy: [] as number[], direct: [] as number[], auth: [] as number[] };
    const meta = { requestId: null, ip: "127.0.0.1", userAgent: "bench" };
    for (let round = 0; round < WARMUP + SAMPLES; round++) {
      const order: ("proxy" | "direct" | "auth")[] = round % 2 ? ["proxy", "direct", "auth"] : ["direct", "proxy", "auth"];
      for (const which of order) {
        const start = performance.now();
        if (which === "proxy") {
          const r = await viaProxy();
          if (r.status !== 200) throw new Error(`the proxy answered ${r.status}: ${r.body}`);
        } else if (which === "direct") await direct();
        else await authenticateToken(theDb, secret, meta);
        const ms = performance.now() - start;
        if (round >= WARMUP) times[which].push(ms);
      }
    }
    const proxyStats = stats(times.proxy);
    const directStats = stats(times.direct);
    const added = minus(proxyStats, directStats);
    return { samples: SAMPLES, warmup: WARMUP, containers, proxy: proxyStats, direct: directStats, added, auth: stats(times.auth), targetMet: added.p50 < 5, load };
  } finally {
    keepAlive.proxy.destroy();
    keepAlive.direct.destroy();
    if (server) {
      server.closeAllConnections();
      await new Promise((r) => server!.close(r));
    }
    connection?.stop();
    await agent?.stop().catch(() => undefined);
    await fleet?.cleanup().catch((e: unknown) => console.error(`proxy bench cleanup: ${e instanceof Error ? e.message : String(e)}`));
    await db?.$disconnect().catch(() => undefined);
    await pg?.stop().catch(() => undefined);
    await rm(pgDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

// `tsx bench/proxy.ts` runs it alone and prints the result.
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const r = await benchProxy();
  const f = (n: number) => n.toFixed(2).padStart(8);
  console.log(`GET ${PATH}, ${r.samples} samples after ${r.warmup} warm-up, ${r.containers} containers; load ${r.load.average.toFixed(1)} on ${r.load.cpus} CPUs`);
  console.log(`              p50      p95 (ms)`);
  console.log(`proxy    ${f(r.proxy.p50)} ${f(r.proxy.p95)}`);
  console.log(`direct   ${f(r.direct.p50)} ${f(r.direct.p95)}`);
  console.log(`added    ${f(r.added.p50)} ${f(r.added.p95)}   target p50 < 5 ms: ${r.targetMet ? "met" : "NOT met"}`);
  console.log(`token authentication alone ${f(r.auth.p50)} ${f(r.auth.p95)}`);
  process.exit(0);
}
