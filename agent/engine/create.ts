import { mkdir, readFile } from "node:fs/promises";
import { BuildCache } from "../build/cache";
import { existsSync } from "node:fs";
import path from "node:path";
import { createHash } from "node:crypto";
import { AgentError } from "../errors";
import { createApi } from "../api/server";
import { createImageService } from "../images/create";
import type { RegistryClientOptions } from "../images/registry-client";
import { Conmon } from "../runtime/conmon";
import { Runc } from "../runtime/runc";
import { readHostLimits } from "../runtime/spec";
import { ContainerEngine } from "./engine";
import { EventBus } from "./events";
import { ExecManager } from "./exec";
import { NetworkManager } from "../network/manager";
import { VolumeStore } from "../volumes/store";

// Composition of the whole agent: image store, engine, exec, API server.

export interface AgentOptions {
  root: string;
  execRoot: string;
  cgroupParent: string;
  registry?: RegistryClientOptions;
  /** Default bridge: interface name and subnet; user networks get /24s of the pool. */
  bridge: string;
  bridgeSubnet: string;
  networkPool: string;
}

export async function createAgent(options: AgentOptions) {
  const events = new EventBus();
  const images = await createImageService(options.root, options.registry ?? {});
  const runc = new Runc({ root: path.join(options.execRoot, "runc") });
  const conmon = new Conmon({ runtime: await which("runc") });
  const cgroupVersion: 1 | 2 = existsSync("/sys/fs/cgroup/cgroup.controllers") ? 2 : 1;
  const bootId = (await readFile("/proc/sys/kernel/random/boot_id", "utf8")).trim();
  const network = new NetworkManager({ root: options.root, bridge: options.bridge, subnet: options.bridgeSubnet, pool: options.networkPool });
  const volumes = new VolumeStore(options.root);
  await volumes.init();
  const engine = new ContainerEngine({
    network,
    volumes,
    root: options.root,
    execRoot: options.execRoot,
    images,
    snapshots: images.snapshots,
    runc,
    conmon,
    events,
    hostLimits: await readHostLimits(),
    cgroupVersion,
    bootId,
    cgroupParent: options.cgroupParent,
  });
  await engine.init();
  const execs = new ExecManager(engine, runc, options.execRoot);
  const agentId = createHash("sha256").update(options.root).digest("hex").slice(0, 32);
  const buildCache = new BuildCache(options.root);
  await buildCache.init();
  const tmpDir = path.join(options.root, "tmp");
  await mkdir(tmpDir, { recursive: true });
  const server = createApi({ engine, execs, images, events, network, volumes, buildCache, tmpDir, info: { root: options.root, cgroupVersion, agentId } });
  return { engine, images, events, execs, network, volumes, buildCache, server };
}

async function which(binary: string): Promise<string> {
  for (const dir of (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
    const candidate = path.join(dir, binary);
    if (existsSync(candidate)) return candidate;
  }
  throw new AgentError("INTERNAL", `${binary} is not installed (looked in PATH)`);
}
