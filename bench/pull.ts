// Cold pull of a ~70 MB, 3-layer image from a local registry by the agent (download,
// verify, unpack into overlay snapshots) vs `skopeo copy` of the same image, in the
// same run, to two destinations:
//  - containers-storage (overlay driver, its own root): what a pull is, the same work
//    as ours (download, verify, unpack into overlay layers) — the ratio judged against
//    the target (≤ 1.0);
//  - an OCI layout directory: download and verify only, shown for reference.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { createImageService } from "../agent/images/create";
import { startRegistry } from "../test/fixtures/registry";
import { skopeoCopy } from "../test/fixtures/skopeo";
import { buildBigImage } from "../test/fixtures/test-images";

const RUNS = Number(process.env.BENCH_PULL_RUNS ?? 7);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface PullBench {
  agentMs: number;
  /** skopeo copy into containers-storage (download, verify, unpack). */
  skopeoStorageMs: number;
  /** skopeo copy into an OCI layout directory (download and verify only). */
  skopeoLayoutMs: number;
  /** agent / skopeo into containers-storage: the ratio the target is judged on. */
  ratio: number;
  layoutRatio: number;
  runs: number;
  layers: number;
}

/** containers-storage mounts its overlay directory on itself (private propagation): off before deleting. */
function unmountStorage(root: string): Promise<void> {
  const overlay = path.join(root, "overlay");
  return new Promise((resolve) => execFile("umount", ["-l", overlay], () => resolve()));
}

export async function benchPull(): Promise<PullBench> {
  const work = await mkdtemp(path.join(os.tmpdir(), "berth-bench-pull-"));
  const registry = await startRegistry({ auth: "none" });
  try {
    const image = await buildBigImage(path.join(work, "big"), 70 * 1024 * 1024, 3);
    const ref = `${registry.host}/bench/big:v1`;
    await skopeoCopy(`oci:${image.layoutDir}:${image.tag}`, `docker://${ref}`);
    if (!existsSync("/sys/module/overlay")) throw new Error("the overlay module is not loaded: containers-storage can't run its overlay driver");
    const agent: number[] = [];
    const storage: number[] = [];
    const layout: number[] = [];
    const rounds = [["agent", "storage", "layout"], ["layout", "storage", "agent"], ["storage", "agent", "layout"]];
    for (let i = 0; i < RUNS; i++) {
      // Rotate who goes first so nobody always gets a warmer page cache.
      for (const who of rounds[i % rounds.length]!) {
        const dir = await mkdtemp(path.join(work, `${who}-`));
        const start = performance.now();
        if (who === "agent") {
          const images = await createImageService(dir, { allowLocalRegistries: registry.localEndpoints });
          await images.pull(ref);
          agent.push(performance.now() - start);
        } else if (who === "storage") {
          await skopeoCopy(`docker://${ref}`, `containers-storage:[overlay@${dir}/root+${dir}/run]bench/big:v1`);
          storage.push(performance.now() - start);
          await unmountStorage(`${dir}/root`);
        } else {
          await skopeoCopy(`docker://${ref}`, `oci:${dir}/layout:v1`);
          layout.push(performance.now() - start);
        }
        await rm(dir, { recursive: true, force: true });
      }
    }
    const agentMs = median(agent);
    const skopeoStorageMs = median(storage);
    const skopeoLayoutMs = median(layout);
    return {
      agentMs,
      skopeoStorageMs,
      skopeoLayoutMs,
      ratio: agentMs / skopeoStorageMs,
      layoutRatio: agentMs / skopeoLayoutMs,
      runs: RUNS,
      layers: image.layerDigests.length,
    };
  } finally {
    await registry.stop();
    await rm(work, { recursive: true, force: true });
  }
}
