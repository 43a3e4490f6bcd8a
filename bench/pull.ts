// Cold pull of a ~70 MB, 3-layer image from a local registry: the agent (download,
// verify, unpack into snapshots) vs `skopeo copy` of the same image to an OCI
// directory (download and verify only), in the same run. Target: ratio ≤ 1.0.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { createImageService } from "../agent/images/create";
import { startRegistry } from "../test/fixtures/registry";
import { skopeoCopy } from "../test/fixtures/skopeo";
import { buildBigImage } from "../test/fixtures/test-images";

const RUNS = Number(process.env.BENCH_PULL_RUNS ?? 5);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchPull(): Promise<{ agentMs: number; skopeoMs: number; ratio: number; runs: number; layers: number }> {
  const work = await mkdtemp(path.join(os.tmpdir(), "berth-bench-pull-"));
  const registry = await startRegistry({ auth: "none" });
  try {
    const image = await buildBigImage(path.join(work, "big"), 70 * 1024 * 1024, 3);
    const ref = `${registry.host}/bench/big:v1`;
    await skopeoCopy(`oci:${image.layoutDir}:${image.tag}`, `docker://${ref}`);
    const agent: number[] = [];
    const skopeo: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      // Alternate who goes first so neither always gets a warmer page cache.
      const order = i % 2 === 0 ? ["agent", "skopeo"] : ["skopeo", "agent"];
      for (const who of order) {
        const dir = await mkdtemp(path.join(work, `${who}-`));
        const start = performance.now();
        if (who === "agent") {
          const images = await createImageService(dir);
          await images.pull(ref);
          agent.push(performance.now() - start);
        } else {
          await skopeoCopy(`docker://${ref}`, `oci:${dir}/layout:v1`);
          skopeo.push(performance.now() - start);
        }
        await rm(dir, { recursive: true, force: true });
      }
    }
    const agentMs = median(agent);
    const skopeoMs = median(skopeo);
    return { agentMs, skopeoMs, ratio: agentMs / skopeoMs, runs: RUNS, layers: image.layerDigests.length };
  } finally {
    await registry.stop();
    await rm(work, { recursive: true, force: true });
  }
}
