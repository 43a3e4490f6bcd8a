// Webhook → new container healthy and serving (issue 19): the real gateway (server/main.ts over
// the built Next app, its own embedded Postgres), a real registry and an SSH test host running our
// agent. A deployment runs busybox httpd on a published port with a health check (wget of its own
// page); two images (same content, different labels: two digests) are pushed and pulled onto the
// host first, so each run is what CI does after a push: POST the webhook with ?wait=true naming the
// other image, the rollout replaces the container (stop-then-start: a fixed host port) once the new
// one is healthy, then the page is fetched until it answers from the new container. Timed: POST
// sent → page served by the new container. Every run must succeed; the bench fails otherwise.
// Reported: p50/p95 against the 2 s target (DESIGN.md: "webhook → healthy new container < 2 s").
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

export const WEBHOOK_TARGET_MS = 2_000;
const RUNS = Number(process.env.BENCH_WEBHOOK_RUNS ?? 10);
const WARMUP = 2;
const HOST_READY_MS = 60_000;
const REQUEST_TIMEOUT_MS = 120_000;
/** The page is polled this often, at most SERVE_POLLS times, after the webhook answered. */
const SERVE_POLL_MS = 10;
const SERVE_POLLS = 1_000;
const POLL_MS = 200;
const PORT = 18_090;
const OWNER = { email: "bench-owner@example.test", password: "bench-owner-password-1" };

export interface WebhookRolloutBench {
  runs: number;
  load: { average: number; cpus: number };
  /** POST …?wait=true sent → the page answered by the new container, ms. */
  latency: Stats;
  /** Of that, the webhook's answer (rollout succeeded: pulled, replaced, healthy), ms. */
  answer: Stats;
}

export async function benchWebhookRollout(): Promise<WebhookRolloutBench> {
  if (process.getuid?.() !== 0) throw new Error("the webhook bench needs root (network namespaces, sshd, the agent)");
  for (const needed of ["dist/berth-agent.mjs", ".next/BUILD_ID"]) if (!existsSync(needed)) throw new Error(`${needed} is missing: run npm run build`);
  const load = { average: os.loadavg()[0]!, cpus: os.availableParallelism() };
  const work = await mkdtemp(path.join(os.tmpdir(), "berth-bench-hook-"));
  let hosts: SshHostFleet | null = null;
  let registry: TestRegistry | null = null;
  let gateway: Gateway | null = null;
  let gatewayDir: string | null = null;
  let agent: AgentClient | null = null;
  try {
    const [sshHosts, reg, a, b] = await Promise.all([
      startSshHosts(1).then((h) => (hosts = h)),
      startRegistry({ auth: "none", listenHost: "0.0.0.0" }).then((r) => (registry = r)),
      buildToolsImage(path.join(work, "a"), { labels: { "org.berth.bench": "a" } }),
      buildToolsImage(path.join(work, "b"), { labels: { "org.berth.bench": "b" } }),
    ]);
    await skopeoCopy(`oci:${a.layoutDir}:${a.tag}`, `docker://${reg.host}/bench/web:a`);
    await skopeoCopy(`oci:${b.layoutDir}:${b.tag}`, `docker://${reg.host}/bench/web:b`);
    const host = sshHosts.hosts[0]!;
    const repo = `${reg.hostFor(host.gatewayAddress)}/bench/web`;
    agent = new AgentClient(() => openUnixSocket(host.agent.socket), "direct");

    gatewayDir = await mkdtemp(path.join(os.tmpdir(), "berth-bench-hook-gw-"));
    gateway = await startGateway({ BERTH_DATA_DIR: gatewayDir, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password });
    const owner = new HttpClient(gateway.url);
    if (!(await owner.signIn(OWNER.email, OWNER.password)).ok) throw new Error("the owner could not sign in");
    const auth = { method: "key" as const, privateKey: sshHosts.clientKey.privateKey };
    const probe = await trpc<{ fingerprint: string }>(owner, "hosts.probe", { address: host.address, port: host.port, username: "root", auth });
    const added = await trpc<{ id: string }>(owner, "hosts.add", {
      name: "bench-hook",
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
    const deployed = await trpc<{ deploymentId: string }>(owner, "containers.deploy", {
      hostId,
      spec: {
        image: `${repo}:a`,
        name: "bench-web",
        // sh as PID 1 ends on SIGTERM (httpd as PID 1 would ignore it and the stop would wait its 10 s for SIGKILL).
        command: ["sh", "-c", "httpd -f -p 80 -h /srv & pid=$!; trap 'kill $pid; exit 0' TERM; wait $pid"],
        ports: [{ hostPort: PORT, containerPort: 80, protocol: "tcp" }],
        healthcheck: { test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/hello.txt"], intervalSeconds: 0.1, timeoutSeconds: 2, retries: 3 },
        pullPolicy: "missing",
      },
    });
    const hook = await trpc<{ url: string }>(owner, "webhooks.create", { deploymentId: deployed.deploymentId, name: "bench" });
    const page = `http://${host.address}:${PORT}/hello.txt`;

    const latencies: number[] = [];
    const answers: number[] = [];
    const digests = { a: a.configDigest, b: b.configDigest };
    // Two untimed runs first: both images are then on the host ("already pushed" and pulled).
    for (let i = -WARMUP; i < RUNS; i++) {
      const tag = i % 2 === 0 ? "b" : "a";
      const start = performance.now();
      const res = await fetch(`${hook.url}?wait=true&timeout=120`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ image: `${repo}:${tag}` }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const body = await res.text();
      const answered = performance.now() - start;
      if (res.status !== 200) throw new Error(`run ${i}: the webhook answered ${res.status}: ${body}`);
      let served = false;
      for (let n = 0; n < SERVE_POLLS && !served; n++) {
        served = await fetch(page, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
        if (!served) await sleep(SERVE_POLL_MS);
      }
      const ms = performance.now() - start;
      if (!served) throw new Error(`run ${i}: the page never answered after the rollout`);
      const running = (await agent.containers({ all: false, timeoutMs: 30_000 })).find((c) => c.Names.includes("/bench-web"));
      const inspect = running ? await agent.inspectContainer(running.Id) : null;
      if (inspect?.Image !== digests[tag]) throw new Error(`run ${i}: bench-web runs ${inspect?.Image ?? "nothing"}, expected image ${tag} (${digests[tag]})`);
      if (i < 0) continue;
      latencies.push(ms);
      answers.push(answered);
    }
    return { runs: RUNS, load, latency: stats(latencies), answer: stats(answers) };
  } finally {
    const steps: [string, () => Promise<unknown>][] = [
      ["gateway", async () => gateway?.stop()],
      [
        "containers",
        async () => {
          if (!agent) return;
          for (const c of await agent.containers({ all: true, timeoutMs: 30_000 })) await agent.removeContainer(c.Id, { force: true, timeoutMs: 60_000 });
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
        console.error(`webhook bench cleanup (${what}): ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
}
