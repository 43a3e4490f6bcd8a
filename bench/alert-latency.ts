// Alert latency (issue 20): a container killed by the OOM killer on an SSH test host → the
// webhook receiver has the "firing" message. The real gateway (server/main.ts over the built Next
// app, its own embedded Postgres, its alert engine and delivery worker), an SSH test host running
// our agent, and a webhook receiver on the host side of the test network. An OOM rule with
// forSeconds 0 (the "for" duration is excluded by design) sends to a webhook channel. Each run
// creates a container with a 16 MiB memory limit whose shell then holds ~200 MB in a variable;
// the kernel kills it. Timed: the container's FinishedAt (when the agent saw it die, inspect) →
// the receiver got the message naming it. Clocks: one machine. Every run must be delivered; the
// bench fails otherwise. Reported: p50/p95 against the 2 s target.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { startGateway, type Gateway } from "../test/fixtures/gateway";
import { HttpClient } from "../test/fixtures/http-client";
import { startRegistry, type TestRegistry } from "../test/fixtures/registry";
import { skopeoCopy } from "../test/fixtures/skopeo";
import { agentSettingsFor, startSshHosts, type SshHostFleet } from "../test/fixtures/ssh-hosts";
import { buildToolsImage } from "../test/fixtures/test-images";
import { api, sleep, stats, type Stats, trpcData as trpc } from "./support";

export const ALERT_TARGET_MS = 2_000;
const RUNS = Number(process.env.BENCH_ALERT_RUNS ?? 10);
const WARMUP = 1;
const HOST_READY_MS = 60_000;
const DELIVERY_TIMEOUT_MS = 30_000;
const POLL_MS = 20;
const OWNER = { email: "bench-owner@example.test", password: "bench-owner-password-1" };

export interface AlertLatencyBench {
  runs: number;
  load: { average: number; cpus: number };
  /** Container died (OOM) → webhook received, ms. */
  latency: Stats;
}

export async function benchAlertLatency(): Promise<AlertLatencyBench> {
  if (process.getuid?.() !== 0) throw new Error("the alert bench needs root (network namespaces, sshd, the agent)");
  for (const needed of ["dist/berth-agent.mjs", ".next/BUILD_ID"]) if (!existsSync(needed)) throw new Error(`${needed} is missing: run npm run build`);
  const load = { average: os.loadavg()[0]!, cpus: os.availableParallelism() };
  const work = await mkdtemp(path.join(os.tmpdir(), "berth-bench-alert-"));
  let hosts: SshHostFleet | null = null;
  let registry: TestRegistry | null = null;
  let gateway: Gateway | null = null;
  let gatewayDir: string | null = null;
  const received: { at: number; body: { kind: string; alert: { kind: string; container: { name: string } | null } } }[] = [];
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const at = Date.now();
      try {
        received.push({ at, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
      } catch {
        // not ours
      }
      res.writeHead(200).end("ok");
    });
  });
  try {
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    const [sshHosts, reg, image] = await Promise.all([
      startSshHosts(1).then((h) => (hosts = h)),
      startRegistry({ auth: "none", listenHost: "0.0.0.0" }).then((r) => (registry = r)),
      buildToolsImage(path.join(work, "tools"), { labels: { "org.berth.bench": "alert" } }),
    ]);
    await skopeoCopy(`oci:${image.layoutDir}:${image.tag}`, `docker://${reg.host}/bench/tools:oom`);
    const host = sshHosts.hosts[0]!;
    const ref = `${reg.hostFor(host.gatewayAddress)}/bench/tools:oom`;

    gatewayDir = await mkdtemp(path.join(os.tmpdir(), "berth-bench-alert-gw-"));
    gateway = await startGateway({ BERTH_DATA_DIR: gatewayDir, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password });
    const owner = new HttpClient(gateway.url);
    if (!(await owner.signIn(OWNER.email, OWNER.password)).ok) throw new Error("the owner could not sign in");
    const auth = { method: "key" as const, privateKey: sshHosts.clientKey.privateKey };
    const probe = await trpc<{ fingerprint: string }>(owner, "hosts.probe", { address: host.address, port: host.port, username: "root", auth });
    const added = await trpc<{ id: string }>(owner, "hosts.add", {
      name: "bench-alert",
      address: host.address,
      port: host.port,
      username: "root",
      auth,
      fingerprint: probe.fingerprint,
      agent: agentSettingsFor(host, [reg.hostFor(host.gatewayAddress)]),
    });
    await trpc(owner, "hosts.installAgent", { hostId: added.id, installPackages: false });
    const deadline = Date.now() + HOST_READY_MS;
    for (;;) {
      const h = await trpc<{ status: string; agent: string }>(owner, "hosts.get", { hostId: added.id }, "query");
      if (h.status === "connected" && h.agent === "ok") break;
      if (Date.now() > deadline) throw new Error(`host is ${h.status}, agent ${h.agent}`);
      await sleep(200);
    }
    const channel = await trpc<{ id: string }>(owner, "channels.create", { name: "bench receiver", config: { kind: "webhook", url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts` } });
    await trpc(owner, "alerts.createRule", { name: "bench OOM", kind: "containerOom", severity: "critical", forSeconds: 0, repeatMinutes: 0, channelIds: [channel.id] });

    const socket = host.agent.socket;
    const pulled = await api(socket, "POST", `/v1.43/images/create?fromImage=${encodeURIComponent(ref)}`);
    if (pulled.status !== 200) throw new Error(`pull: ${pulled.status} ${pulled.body.slice(0, 300)}`);
    const latencies: number[] = [];
    for (let i = -WARMUP; i < RUNS; i++) {
      const name = `bench-oom-${i + WARMUP}`;
      const created = await api(socket, "POST", `/v1.43/containers/create?name=${name}`, {
        Image: ref,
        // The shell keeps ~200 MB in a variable: far past the 16 MiB limit.
        Cmd: ["sh", "-c", "sleep 0.2; x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo ${#x}"],
        HostConfig: { Memory: 16 * 1024 * 1024, MemorySwap: 16 * 1024 * 1024 },
      });
      if (created.status !== 201) throw new Error(`run ${i}: create: ${created.body}`);
      const id = (JSON.parse(created.body) as { Id: string }).Id;
      const started = await api(socket, "POST", `/v1.43/containers/${id}/start`);
      if (started.status !== 204) throw new Error(`run ${i}: start: ${started.body}`);
      const until = Date.now() + DELIVERY_TIMEOUT_MS;
      let got: (typeof received)[number] | undefined;
      while (!got && Date.now() < until) {
        got = received.find((r) => r.body.kind === "firing" && r.body.alert.kind === "containerOom" && r.body.alert.container?.name === name);
        if (!got) await sleep(POLL_MS);
      }
      const inspect = JSON.parse((await api(socket, "GET", `/v1.43/containers/${id}/json`)).body) as { State: { OOMKilled: boolean; FinishedAt: string; Status: string } };
      if (!inspect.State.OOMKilled) throw new Error(`run ${i}: ${name} was not OOM-killed (${inspect.State.Status})`);
      if (!got) throw new Error(`run ${i}: no webhook for ${name} within ${DELIVERY_TIMEOUT_MS / 1000} s`);
      await api(socket, "DELETE", `/v1.43/containers/${id}?force=1`);
      if (i < 0) continue;
      latencies.push(got.at - Date.parse(inspect.State.FinishedAt));
    }
    return { runs: RUNS, load, latency: stats(latencies) };
  } finally {
    const steps: [string, () => Promise<unknown>][] = [
      ["gateway", async () => gateway?.stop()],
      ["hosts", async () => (hosts as SshHostFleet | null)?.cleanup()],
      ["registry", async () => (registry as TestRegistry | null)?.stop()],
      ["receiver", () => new Promise((r) => (receiver.closeAllConnections(), receiver.close(r)))],
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
        console.error(`alert bench cleanup (${what}): ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
}
