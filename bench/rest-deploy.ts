// REST deploy throughput (issue 9, part 2): POST /api/v1/hosts/{hostId}/containers from 20
// concurrent API clients, each with its own token (the per-token rate limit is per client, as in
// real use), against the real gateway process (server/main.ts over the built Next app, its own
// embedded Postgres) and a real SSH test host running our agent. The image is pulled once first
// (through POST …/images/pull), so each deploy is policy → create → start → save → audit, with
// pullPolicy "missing". Every deploy must answer 201; the bench fails otherwise.
// Reported: deploys per second over the whole run (first request sent → last answer read) and
// the p50/p95 latency of one deploy request.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { AgentClient } from "../server/fleet/agent/client";
import { startGateway, type Gateway } from "../test/fixtures/gateway";
import { HttpClient } from "../test/fixtures/http-client";
import { startRegistry, type TestRegistry } from "../test/fixtures/registry";
import { skopeoCopy } from "../test/fixtures/skopeo";
import { agentSettingsFor, startSshHosts, type SshHostFleet } from "../test/fixtures/ssh-hosts";
import { buildToolsImage } from "../test/fixtures/test-images";
import { openUnixSocket, sleep, stats, type Stats, trpcData as trpc } from "./support";

const CLIENTS = Number(process.env.BENCH_REST_CLIENTS ?? 20);
const DEPLOYS_PER_CLIENT = Number(process.env.BENCH_REST_DEPLOYS_PER_CLIENT ?? 3);
const WARMUP = 2;
const HOST_READY_MS = 60_000;
const REQUEST_TIMEOUT_MS = 120_000;
const REMOVE_CONCURRENCY = 4;
const POLL_MS = 200;
const OWNER = { email: "bench-owner@example.test", password: "bench-owner-password-1" };

export interface RestDeployBench {
  clients: number;
  /** Timed deploys (clients × deploys per client), after `warmup` untimed ones. */
  deploys: number;
  warmup: number;
  /** The machine's 1-minute load average when the bench started, and its CPUs. */
  load: { average: number; cpus: number };
  /** First request sent → last answer read. */
  wallMs: number;
  deploysPerSecond: number;
  /** One POST …/containers: sent → 201 read (container started, deployment saved, audited), ms. */
  latency: Stats;
}


async function deployOnce(gatewayUrl: string, token: string, hostId: string, image: string, name: string): Promise<number> {
  const start = performance.now();
  const res = await fetch(`${gatewayUrl}/api/v1/hosts/${hostId}/containers`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ image, name, command: ["sleep", "600"], pullPolicy: "missing" }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  const ms = performance.now() - start;
  if (res.status !== 201) throw new Error(`deploy ${name} answered ${res.status}: ${text}`);
  return ms;
}

export async function benchRestDeploy(): Promise<RestDeployBench> {
  if (process.getuid?.() !== 0) throw new Error("the REST deploy bench needs root (network namespaces, sshd, the agent)");
  for (const needed of ["dist/berth-agent.mjs", ".next/BUILD_ID"]) if (!existsSync(needed)) throw new Error(`${needed} is missing: run npm run build`);
  const load = { average: os.loadavg()[0]!, cpus: os.availableParallelism() };
  const t0 = performance.now();
  const work = await mkdtemp(path.join(os.tmpdir(), "berth-bench-rest-"));
  let hosts: SshHostFleet | null = null;
  let registry: TestRegistry | null = null;
  let gateway: Gateway | null = null;
  let gatewayDir: string | null = null;
  let agent: AgentClient | null = null;
  let failed = false;
  try {
    const [sshHosts, reg, built] = await Promise.all([
      startSshHosts(1).then((h) => (hosts = h)),
      startRegistry({ auth: "none", listenHost: "0.0.0.0" }).then((r) => (registry = r)),
      buildToolsImage(path.join(work, "tools")),
    ]);
    await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${reg.host}/test/tools:latest`);
    const host = sshHosts.hosts[0]!;
    const image = `${reg.hostFor(host.gatewayAddress)}/test/tools:latest`;
    agent = new AgentClient(() => openUnixSocket(host.agent.socket), "direct");

    // The gateway starts its own embedded Postgres in its data dir, as `npm start` does. Its own
    // temp dir: the embedded Postgres opens that one to the postgres user, not its parents.
    gatewayDir = await mkdtemp(path.join(os.tmpdir(), "berth-bench-rest-gw-"));
    gateway = await startGateway({ BERTH_DATA_DIR: gatewayDir, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password });
    const owner = new HttpClient(gateway.url);
    if (!(await owner.signIn(OWNER.email, OWNER.password)).ok) throw new Error("the owner could not sign in");
    const auth = { method: "key" as const, privateKey: sshHosts.clientKey.privateKey };
    const probe = await trpc<{ fingerprint: string }>(owner, "hosts.probe", { address: host.address, port: host.port, username: "root", auth });
    const added = await trpc<{ id: string }>(owner, "hosts.add", {
      name: "bench-rest",
      address: host.address,
      port: host.port,
      username: "root",
      auth,
      fingerprint: probe.fingerprint,
      agent: agentSettingsFor(host, [reg.hostFor(host.gatewayAddress)]),
    });
    const hostId = added.id;
    await trpc(owner, "hosts.installAgent", { hostId, installPackages: false });
    const deadline = Date.now() + HOST_READY_MS;
    for (;;) {
      const h = await trpc<{ status: string; agent: string }>(owner, "hosts.get", { hostId }, "query");
      if (h.status === "connected" && h.agent === "ok") break;
      if (Date.now() > deadline) throw new Error(`host is ${h.status}, agent ${h.agent}`);
      await sleep(POLL_MS);
    }
    const tokens: string[] = [];
    for (let i = 0; i < CLIENTS; i++) tokens.push((await trpc<{ secret: string }>(owner, "tokens.create", { name: `bench client ${i}`, permissions: ["containers.deploy", "images.pull"] })).secret);

    const pull = await fetch(`${gateway.url}/api/v1/hosts/${hostId}/images/pull`, {
      method: "POST",
      headers: { authorization: `Bearer ${tokens[0]}` },
      body: JSON.stringify({ reference: image }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const lines = (await pull.text()).trim().split("\n");
    const result = JSON.parse(lines.at(-1) ?? "{}") as { type?: string; ok?: boolean };
    if (pull.status !== 200 || result.type !== "result" || !result.ok) throw new Error(`pull failed: ${pull.status} ${lines.at(-1)}`);
    console.log(`[bench] gateway up, host connected, ${CLIENTS} tokens, image pulled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const tag = randomBytes(3).toString("hex");
    for (let i = 0; i < WARMUP; i++) await deployOnce(gateway.url, tokens[0]!, hostId, image, `rest-warm-${tag}-${i}`);

    const latencies: number[] = [];
    const url = gateway.url;
    const start = performance.now();
    await Promise.all(
      tokens.map(async (token, c) => {
        for (let n = 0; n < DEPLOYS_PER_CLIENT; n++) latencies.push(await deployOnce(url, token, hostId, image, `rest-${tag}-${c}-${n}`));
      }),
    );
    const wallMs = performance.now() - start;
    const running = (await agent.containers({ all: true, timeoutMs: 30_000 })).filter((c) => c.State === "running").length;
    if (running < CLIENTS * DEPLOYS_PER_CLIENT + WARMUP) throw new Error(`${running} containers running, expected ${CLIENTS * DEPLOYS_PER_CLIENT + WARMUP}`);
    return {
      clients: CLIENTS,
      deploys: latencies.length,
      warmup: WARMUP,
      load,
      wallMs,
      deploysPerSecond: latencies.length / (wallMs / 1000),
      latency: stats(latencies),
    };
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    const problems: string[] = [];
    const steps: [string, () => Promise<unknown>][] = [
      ["gateway", async () => gateway?.stop()],
      [
        "containers",
        async () => {
          if (!agent) return;
          const all = await agent.containers({ all: true, timeoutMs: 30_000 });
          let next = 0;
          const worker = async () => {
            while (next < all.length) await agent!.removeContainer(all[next++]!.Id, { force: true, timeoutMs: 60_000 });
          };
          await Promise.all(Array.from({ length: REMOVE_CONCURRENCY }, worker));
        },
      ],
      ["hosts", async () => (hosts as SshHostFleet | null)?.cleanup()],
      ["registry", async () => (registry as TestRegistry | null)?.stop()],
      [
        "temp dirs",
        async () => {
          await rm(work, { recursive: true, force: true });
          if (gatewayDir) await rm(gatewayDir, { recursive: true, force: true });
        },
      ],
    ];
    for (const [what, step] of steps) {
      try {
        await step();
      } catch (e) {
        problems.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (problems.length) {
      if (!failed) throw new Error(`REST deploy bench cleanup: ${problems.join("; ")}`);
      console.error(`REST deploy bench cleanup: ${problems.join("; ")}`);
    }
  }
}
