// Network benchmarks (issue "Agent, part 3"), peers in the same run:
//  1. `run --rm IMG echo hi` on the default bridge through our API vs `podman run --rm` on podman's
//     bridge (one podman container kept running so its bridge stays up). Target: ≥ 2× faster.
//  2. Throughput through a published port: wrk against busybox httpd via 127.0.0.1:<published port>
//     vs the same server on its container address. Target: ≥ 90% of direct.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { startDockerAgent, type DockerAgent } from "../test/fixtures/docker-agent";
import { startRegistry } from "../test/fixtures/registry";
import { skopeoCopy } from "../test/fixtures/skopeo";
import { buildToolsImage } from "../test/fixtures/test-images";
import { api, apiRun, median, podmanPeer, sh, timeChild } from "./support";

const RUNS = Number(process.env.BENCH_RUN_RUNS ?? 20);
const WRK_SECONDS = Number(process.env.BENCH_WRK_SECONDS ?? 3);
const WRK_ROUNDS = Number(process.env.BENCH_WRK_ROUNDS ?? 9);

async function wrk(url: string): Promise<number> {
  const out = await sh("wrk", ["-t", "1", "-c", "4", "-d", `${WRK_SECONDS}s`, url]);
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`wrk printed no rate:\n${out}`);
  return Number(m[1]);
}

export interface NetworkBench {
  runs: number;
  agentBridgeRunMs: number;
  podmanBridgeRunMs: number | null;
  /** Through 127.0.0.1:<port> (DNAT, plus SNAT of the loopback source to LOOPBACK_CLIENT_SOURCE). */
  publishedRps: number;
  /** Through <host address>:<port> (DNAT only), as another machine would come in. */
  publishedHostRps: number | null;
  hostAddress: string | null;
  directRps: number;
}

export async function benchNetwork(): Promise<NetworkBench> {
  const work = await mkdtemp(path.join(os.tmpdir(), "berth-bench-net-"));
  const registry = await startRegistry({ auth: "none" });
  let agent: DockerAgent | null = null;
  const { available: havePodman, args: podmanArgs, env: podmanEnv } = podmanPeer(work);
  let twReuse = "";
  try {
    const built = await buildToolsImage(path.join(work, "tools"));
    const image = `${registry.host}/bench/tools:latest`;
    await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${image}`);
    agent = await startDockerAgent({ allowLocalRegistries: registry.localEndpoints });
    if ((await agent.docker(["pull", image])).code !== 0) throw new Error("pull failed");
    if (havePodman) {
      await sh("podman", [...podmanArgs, "pull", "--tls-verify=false", "-q", image], podmanEnv);
      // Keeps podman's bridge up between runs.
      await sh("podman", [...podmanArgs, "run", "-d", "--name", "keepalive", image, "sleep", "3600"], podmanEnv);
    }

    const ours: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const start = performance.now();
      const out = await apiRun(agent.socket, { Image: image, Cmd: ["echo", "hi"], HostConfig: { AutoRemove: true } });
      ours.push(performance.now() - start);
      if (out !== "hi\n") throw new Error(`run printed ${JSON.stringify(out)}`);
      if (havePodman) theirs.push(await timeChild("podman", [...podmanArgs, "run", "--rm", image, "echo", "hi"], podmanEnv));
    }

    // Throughput: the same httpd, through the published port and directly.
    const created = await api(agent.socket, "POST", "/v1.43/containers/create?name=httpd", {
      Image: image,
      Cmd: ["sh", "-c", "mkdir -p /www && head -c 1024 /dev/zero | tr '\\0' x > /www/index.html && exec httpd -f -p 80 -h /www"],
      ExposedPorts: { "80/tcp": {} },
      HostConfig: { PortBindings: { "80/tcp": [{ HostIp: "", HostPort: "" }] } },
    });
    const id = (JSON.parse(created.body) as { Id: string }).Id;
    await api(agent.socket, "POST", `/v1.43/containers/${id}/start`);
    const inspect = JSON.parse((await api(agent.socket, "GET", `/v1.43/containers/${id}/json`)).body) as {
      NetworkSettings: { IPAddress: string; Ports: Record<string, { HostPort: string }[]> };
    };
    const hostPort = inspect.NetworkSettings.Ports["80/tcp"]![0]!.HostPort;
    const published = `http://127.0.0.1:${hostPort}/`;
    // The host's own (non-loopback) address: how other machines reach a published port.
    const hostAddress = Object.values(os.networkInterfaces()).flat().find((a) => a && a.family === "IPv4" && !a.internal && !a.address.startsWith("10.2"))?.address;
    const publishedHost = hostAddress ? `http://${hostAddress}:${hostPort}/` : null;
    const direct = `http://${inspect.NetworkSettings.IPAddress}/`;
    // Nothing else running: podman's container goes first.
    if (havePodman) await sh("podman", [...podmanArgs, "rm", "-f", "-t", "0", "-a"], podmanEnv).catch(() => "");
    // busybox httpd closes every connection, so each request is a new one: tens of thousands of client
    // ports sit in TIME_WAIT and connect() slows down as they run out, whichever path is measured.
    // TIME_WAIT reuse for the run (restored after) keeps the two paths' numbers about the paths.
    twReuse = (await sh("sysctl", ["-n", "net.ipv4.tcp_tw_reuse"]).catch(() => "")).trim();
    await sh("sysctl", ["-q", "-w", "net.ipv4.tcp_tw_reuse=1"]).catch(() => "");
    await wrk(direct); // warm-up
    // busybox httpd forks per connection, so rates swing with the scheduler: many short rounds,
    // alternating which goes first, and the median of each.
    const pub: number[] = [];
    const pubHost: number[] = [];
    const dir: number[] = [];
    for (let i = 0; i < WRK_ROUNDS; i++) {
      const order = i % 2 === 0 ? ["pub", "host", "dir"] : ["dir", "host", "pub"];
      for (const which of order) {
        if (which === "pub") pub.push(await wrk(published));
        else if (which === "dir") dir.push(await wrk(direct));
        else if (publishedHost) pubHost.push(await wrk(publishedHost));
      }
    }
    return {
      runs: RUNS,
      agentBridgeRunMs: median(ours),
      podmanBridgeRunMs: havePodman ? median(theirs) : null,
      publishedRps: median(pub),
      publishedHostRps: pubHost.length ? median(pubHost) : null,
      hostAddress: hostAddress ?? null,
      directRps: median(dir),
    };
  } finally {
    if (twReuse) await sh("sysctl", ["-q", "-w", `net.ipv4.tcp_tw_reuse=${twReuse}`]).catch(() => "");
    await agent?.destroy();
    if (havePodman) {
      await sh("podman", [...podmanArgs, "rm", "-f", "-t", "0", "-a"], podmanEnv).catch(() => "");
      await sh("podman", [...podmanArgs, "system", "reset", "-f"], podmanEnv).catch(() => "");
    }
    await registry.stop();
    await rm(work, { recursive: true, force: true }).catch(() => {});
  }
}
