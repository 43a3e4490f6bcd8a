// docker-compose benchmark (issue "Agent, part 5"): Debian's docker-compose 1.29
// brings a 10-service project up (`up -d`, until every service is running, or
// healthy where it has a check) and down again, against the agent's socket and
// against podman's Docker-compatible service (`podman system service`, runtime
// runc), the same compose binary and file, in the same run, alternated.
// Target: agent ≤ 0.5× podman's time.
//
// podman runs health checks from systemd timers; this machine has no systemd,
// so podman never reports a service healthy. The ratio is therefore taken on
// the file without health checks (both can do all of it); the health-gated
// file (each service waits for the previous one to be healthy) is timed on the
// agent alone.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { startDockerAgent, type DockerAgent } from "../test/fixtures/docker-agent";
import { composeProject } from "../test/fixtures/docker-compose";
import { startRegistry } from "../test/fixtures/registry";
import { skopeoCopy } from "../test/fixtures/skopeo";
import { buildToolsImage } from "../test/fixtures/test-images";
import { median, podmanPeer, sh, sleep } from "./support";

const RUNS = Number(process.env.BENCH_COMPOSE_RUNS ?? 5);
const SERVICES = 10;
const READY_POLLS = 600;

export interface ComposeBench {
  runs: number;
  services: number;
  agentUpMs: number;
  agentDownMs: number;
  podmanUpMs: number | null;
  podmanDownMs: number | null;
  /** (up + down) agent / podman. */
  ratio: number | null;
  agentHealthyUpMs: number;
  agentHealthyDownMs: number;
}

/** One service: busybox httpd as PID 1's child, leaving on SIGTERM so down doesn't wait out a grace period. */
function service(image: string, i: number, health: boolean): Record<string, unknown> {
  return {
    image,
    command: ["sh", "-c", `trap 'exit 0' TERM; httpd -f -p 80 -h /srv & wait`],
    environment: { SERVICE: `s${i}` },
    networks: ["app"],
    ...(health
      ? {
          healthcheck: { test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/hello.txt"], interval: "1s", timeout: "2s", retries: 3, start_period: "0s" },
          ...(i > 0 ? { depends_on: { [`s${i - 1}`]: { condition: "service_healthy" } } } : {}),
        }
      : {}),
  };
}

function writeProject(dir: string, image: string, health: boolean): void {
  mkdirSync(dir, { recursive: true });
  const services = Object.fromEntries(Array.from({ length: SERVICES }, (_, i) => [`s${i}`, service(image, i, health)]));
  // JSON is YAML: docker-compose reads it as its file.
  writeFileSync(path.join(dir, "docker-compose.yml"), JSON.stringify({ version: "3.8", services, networks: { app: {} } }, null, 2));
}

/** Polls `docker ps` on the host until every container of the project is running (and healthy, if asked). */
async function untilReady(dockerHost: string, project: string, healthy: boolean): Promise<void> {
  for (let i = 0; i < READY_POLLS; i++) {
    const out = await sh("docker", ["ps", "--filter", `label=com.docker.compose.project=${project}`, "--format", "{{.Status}}"], { ...process.env, DOCKER_HOST: dockerHost });
    const lines = out.trim().split("\n").filter(Boolean);
    if (lines.length === SERVICES && lines.every((l) => l.startsWith("Up") && (!healthy || l.includes("(healthy)")))) return;
    await sleep(50);
  }
  throw new Error(`${project}: not every service was ready within ${READY_POLLS * 50} ms`);
}

async function upAndDown(dir: string, project: string, dockerHost: string, healthy: boolean): Promise<{ upMs: number; downMs: number }> {
  const compose = composeProject({ dir, name: project, dockerHost });
  const t0 = performance.now();
  const up = await compose.run(["up", "-d"]);
  if (up.code !== 0) throw new Error(`${project} up: ${up.stderr}`);
  await untilReady(dockerHost, project, healthy);
  const upMs = performance.now() - t0;
  const t1 = performance.now();
  const down = await compose.run(["down", "-v"]);
  if (down.code !== 0) throw new Error(`${project} down: ${down.stderr}`);
  return { upMs, downMs: performance.now() - t1 };
}

/** podman's Docker-compatible API on a socket of our own, with the bench's podman settings. */
async function startPodmanService(work: string, image: string): Promise<{ host: string; child: ChildProcess } | null> {
  const peer = podmanPeer(work);
  if (!peer.available) return null;
  // Pulled by podman itself: the service's pull would insist on TLS for the loopback registry.
  await sh("podman", [...peer.args, "pull", "--tls-verify=false", "-q", image], peer.env);
  const socket = path.join(work, "podman.sock");
  const child = spawn("podman", [...peer.args.filter((a, i, all) => a !== "--events-backend" && all[i - 1] !== "--events-backend"), "system", "service", "--time=0", `unix://${socket}`], { env: peer.env, stdio: "ignore" });
  for (let i = 0; i < 200 && !existsSync(socket); i++) await sleep(50);
  if (!existsSync(socket)) {
    child.kill("SIGKILL");
    return null;
  }
  return { host: `unix://${socket}`, child };
}

export async function benchCompose(): Promise<ComposeBench> {
  const work = await mkdtemp(path.join(os.tmpdir(), "berth-bench-compose-"));
  const registry = await startRegistry({ auth: "none" });
  let agent: DockerAgent | null = null;
  let podman: Awaited<ReturnType<typeof startPodmanService>> = null;
  try {
    const built = await buildToolsImage(path.join(work, "tools"));
    const image = `${registry.host}/bench/tools:latest`;
    await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${image}`);
    agent = await startDockerAgent({ allowLocalRegistries: registry.localEndpoints, networkPoolPrefix: 22 });
    const agentHost = `unix://${agent.socket}`;
    const pulled = await agent.docker(["pull", image]);
    if (pulled.code !== 0) throw new Error(pulled.stderr);
    podman = await startPodmanService(work, image);

    const plain = path.join(work, "plain");
    const gated = path.join(work, "gated");
    writeProject(plain, image, false);
    writeProject(gated, image, true);

    const agentUp: number[] = [];
    const agentDown: number[] = [];
    const podmanUp: number[] = [];
    const podmanDown: number[] = [];
    const healthyUp: number[] = [];
    const healthyDown: number[] = [];
    // One warm-up each, then alternated runs.
    await upAndDown(plain, "warm", agentHost, false);
    if (podman) await upAndDown(plain, "warm", podman.host, false);
    for (let run = 0; run < RUNS; run++) {
      const a = await upAndDown(plain, `plain${run}`, agentHost, false);
      agentUp.push(a.upMs);
      agentDown.push(a.downMs);
      if (podman) {
        const p = await upAndDown(plain, `plain${run}`, podman.host, false);
        podmanUp.push(p.upMs);
        podmanDown.push(p.downMs);
      }
      const h = await upAndDown(gated, `gated${run}`, agentHost, true);
      healthyUp.push(h.upMs);
      healthyDown.push(h.downMs);
    }
    const agentTotal = median(agentUp) + median(agentDown);
    return {
      runs: RUNS,
      services: SERVICES,
      agentUpMs: median(agentUp),
      agentDownMs: median(agentDown),
      podmanUpMs: podman ? median(podmanUp) : null,
      podmanDownMs: podman ? median(podmanDown) : null,
      ratio: podman ? agentTotal / (median(podmanUp) + median(podmanDown)) : null,
      agentHealthyUpMs: median(healthyUp),
      agentHealthyDownMs: median(healthyDown),
    };
  } finally {
    podman?.child.kill("SIGTERM");
    await agent?.destroy();
    await registry.stop();
    await rm(work, { recursive: true, force: true }).catch(() => {});
  }
}
