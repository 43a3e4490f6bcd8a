// Build benchmark (issue "Agent, part 4"): a 3-step build (FROM the busybox test image, RUN a small
// command, COPY a 10 MB file), cold (--no-cache) and cached, through the stock docker CLI
// (DOCKER_BUILDKIT=0) against our agent vs `podman build` of the same context, in the same run.
// Targets: cold ≤ 1×, cached ≤ 0.5× podman's time.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startDockerAgent, type DockerAgent } from "../test/fixtures/docker-agent";
import { startRegistry } from "../test/fixtures/registry";
import { skopeoCopy } from "../test/fixtures/skopeo";
import { buildToolsImage } from "../test/fixtures/test-images";
import { median, podmanPeer, sh, timed } from "./support";

const RUNS = Number(process.env.BENCH_BUILD_RUNS ?? 5);

export interface BuildBench {
  runs: number;
  agentColdMs: number;
  agentCachedMs: number;
  podmanColdMs: number | null;
  podmanCachedMs: number | null;
}

export async function benchBuild(): Promise<BuildBench> {
  const work = await mkdtemp(path.join(os.tmpdir(), "berth-bench-build-"));
  const registry = await startRegistry({ auth: "none" });
  let agent: DockerAgent | null = null;
  const { available: havePodman, args: podmanArgs, env: podmanEnv } = podmanPeer(work, { BUILDAH_LAYERS: "true" });
  try {
    const built = await buildToolsImage(path.join(work, "tools"));
    const image = `${registry.host}/bench/tools:latest`;
    await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${image}`);
    const ctx = path.join(work, "context");
    await mkdir(ctx);
    await writeFile(path.join(ctx, "Dockerfile"), `FROM ${image}\nRUN echo built > /built.txt\nCOPY big.bin /data/big.bin\n`);
    await writeFile(path.join(ctx, "big.bin"), randomBytes(10 * 1024 * 1024));

    agent = await startDockerAgent({ allowLocalRegistries: registry.localEndpoints });
    if ((await agent.docker(["pull", image])).code !== 0) throw new Error("pull failed");
    if (havePodman) await sh("podman", [...podmanArgs, "pull", "--tls-verify=false", "-q", image], podmanEnv);

    const ours = (extra: string[]) => async () => {
      const r = await agent!.docker(["build", ...extra, "-t", "bench/built:latest", ctx], { timeoutMs: 300_000, env: { DOCKER_BUILDKIT: "0" } });
      if (r.code !== 0) throw new Error(`docker build failed: ${r.stderr}`);
    };
    const theirs = (extra: string[]) => () => sh("podman", [...podmanArgs, "build", "--tls-verify=false", "--layers", ...extra, "-q", "-t", "bench/built:latest", ctx], podmanEnv);

    const agentCold: number[] = [];
    const agentCached: number[] = [];
    const podmanCold: number[] = [];
    const podmanCached: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      agentCold.push(await timed(ours(["--no-cache"])));
      agentCached.push(await timed(ours([])));
      if (havePodman) {
        podmanCold.push(await timed(theirs(["--no-cache"])));
        podmanCached.push(await timed(theirs([])));
      }
    }
    return {
      runs: RUNS,
      agentColdMs: median(agentCold),
      agentCachedMs: median(agentCached),
      podmanColdMs: havePodman ? median(podmanCold) : null,
      podmanCachedMs: havePodman ? median(podmanCached) : null,
    };
  } finally {
    await agent?.destroy();
    if (havePodman) await sh("podman", [...podmanArgs, "system", "reset", "-f"], podmanEnv).catch(() => "");
    await registry.stop();
    await rm(work, { recursive: true, force: true }).catch(() => {});
  }
}
