// Network benchmarks (issue "Agent, part 3"), peers in the same run:
//  1. `run --rm IMG echo hi` on the default bridge through our API vs `podman run --rm` on podman's
//     bridge (one podman container kept running so its bridge stays up). Target: ≥ 2× faster.
//  2. Throughput through a published port: wrk against busybox httpd via 127.0.0.1:<published port>
//     vs the same server on its container address. Target: ≥ 90% of direct.
import { execFile, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { startDockerAgent, type DockerAgent } from "../test/fixtures/docker-agent";
import { startRegistry } from "../test/fixtures/registry";
import { skopeoCopy } from "../test/fixtures/skopeo";
import { buildToolsImage } from "../test/fixtures/test-images";

const RUNS = Number(process.env.BENCH_RUN_RUNS ?? 20);
const WRK_SECONDS = Number(process.env.BENCH_WRK_SECONDS ?? 3);
const WRK_ROUNDS = Number(process.env.BENCH_WRK_ROUNDS ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function sh(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { env: env ?? process.env, maxBuffer: 16 << 20, timeout: 300_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(" ")}: ${stderr || err.message}`)) : resolve(stdout),
    ),
  );
}

function api(socket: string, method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ socketPath: socket, method, path: urlPath, headers: data ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) } : {} }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(data);
  });
}

/** docker run --rm's requests: create, attach (hijacked), wait, start; resolves with the output. */
async function apiRun(socket: string, body: object): Promise<string> {
  const created = await api(socket, "POST", "/v1.43/containers/create", { AttachStdout: true, AttachStderr: true, ...body });
  if (created.status !== 201) throw new Error(`create: ${created.body}`);
  const id = (JSON.parse(created.body) as { Id: string }).Id;
  return new Promise<string>((resolve, reject) => {
    const req = http.request({ socketPath: socket, method: "POST", path: `/v1.43/containers/${id}/attach?stream=1&stdout=1&stderr=1`, headers: { Connection: "Upgrade", Upgrade: "tcp" } });
    req.on("upgrade", (_res, sock) => {
      const chunks: Buffer[] = [];
      sock.on("data", (c: Buffer) => chunks.push(c));
      sock.on("end", () => resolve(Buffer.concat(chunks).subarray(8).toString()));
      void api(socket, "POST", `/v1.43/containers/${id}/wait?condition=removed`);
      void api(socket, "POST", `/v1.43/containers/${id}/start`).then((r) => r.status === 204 || reject(new Error(`start: ${r.body}`)));
    });
    req.on("error", reject);
    req.end();
  });
}

function timeChild(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: env ?? process.env });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout.resume();
    child.on("close", (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

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
  /** Through 127.0.0.1:<port> (DNAT plus masquerade of the loopback source). */
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
  const podmanRoot = path.join(work, "podman");
  const podmanConf = path.join(work, "containers.conf");
  writeFileSync(podmanConf, `[engine]\nruntime = "runc"\n[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n`);
  const podmanEnv = { ...process.env, CONTAINERS_CONF: podmanConf };
  const podmanArgs = ["--root", path.join(podmanRoot, "root"), "--runroot", path.join(podmanRoot, "run"), "--cgroup-manager", "cgroupfs", "--events-backend", "none"];
  const havePodman = existsSync("/usr/bin/podman");
  let twReuse = "";
  try {
    const built = await buildToolsImage(path.join(work, "tools"));
    const image = `${registry.host}/bench/tools:latest`;
    await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${image}`);
    agent = await startDockerAgent();
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
