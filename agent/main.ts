// berth-agent: the Berth host agent. This is its composition root: it builds
// the image store, the runtime adapters, networking, volumes and the engine
// (createAgent), serves the Docker API on them (serve), and hands every other
// command to cli/. Nothing below this file builds the agent's parts.
//   berth-agent serve [--root DIR] [--socket PATH]
//   berth-agent pull|images|inspect|rmi|tag|load|save|push|build|teardown|dial-stdio|version
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { credentialsForRequest } from "./api/registry-auth";
import { createApi, listenUnix } from "./api/server";
import { BuildCache } from "./build/cache";
import { type EngineSettings, parseCommandLine } from "./cli/args";
import { runCommand } from "./cli/commands";
import { failWith } from "./cli/output";
import { ContainerIo } from "./engine/container-io";
import { ContainerEngine } from "./engine/engine";
import { ContainerArchive } from "./engine/archive";
import { EventBus } from "./engine/events";
import { clearExecState, ExecManager } from "./engine/exec";
import { ExecProbeRunner } from "./engine/health-probe";
import { networkEventSink, volumeEventSink } from "./engine/lifecycle-events";
import { AgentError } from "./errors";
import { createImageService } from "./images/create";
import type { RegistryClientOptions } from "./images/registry-client";
import { EmbeddedDns } from "./network/dns-server";
import { NetworkManager } from "./network/manager";
import { Conmon } from "./runtime/conmon";
import { readHostLimits } from "./runtime/rlimits";
import { Runc } from "./runtime/runc";
import { lockRoot } from "./state/root-lock";
import { AGENT_VERSION } from "./version";
import { VolumeStore } from "./volumes/store";

/** Builds every part of the agent on `settings.root`; the engine has re-adopted its containers when this resolves. */
async function createAgent(settings: EngineSettings, registry: RegistryClientOptions = {}, options: { answerDns?: boolean } = {}) {
  const events = new EventBus();
  const images = await createImageService(settings.root, registry);
  const runc = new Runc({ root: path.join(settings.execRoot, "runc") });
  const conmon = new Conmon({ runtime: await which("runc") });
  const cgroupVersion: 1 | 2 = existsSync("/sys/fs/cgroup/cgroup.controllers") ? 2 : 1;
  const bootId = (await readFile("/proc/sys/kernel/random/boot_id", "utf8")).trim();
  // The resolver on user-defined networks' gateways asks the engine, which exists once the networks do.
  let engineRef: ContainerEngine | null = null;
  // Only the serving agent answers (a one-off command sharing the root leaves the gateways to it).
  const dns = options.answerDns ? new EmbeddedDns({ lookup: (q) => engineRef?.dnsLookup(q) ?? { kind: "refused" } }) : undefined;
  const network = new NetworkManager({ root: settings.root, bridge: settings.bridge, subnet: settings.bridgeSubnet, pool: settings.networkPool, onEvent: networkEventSink(events), ...(dns ? { dns } : {}) });
  const volumes = new VolumeStore(settings.root, volumeEventSink(events));
  await volumes.init();
  await clearExecState(settings.execRoot);
  const engine = new ContainerEngine({
    network,
    volumes,
    root: settings.root,
    execRoot: settings.execRoot,
    images,
    snapshots: images.snapshots,
    runc,
    conmon,
    events,
    hostLimits: await readHostLimits(),
    cgroupVersion,
    bootId,
    cgroupParent: settings.cgroupParent,
    probes: new ExecProbeRunner(runc, settings.execRoot),
  });
  engineRef = engine;
  await engine.init();
  const io = new ContainerIo(engine, conmon, cgroupVersion);
  const execs = new ExecManager(engine, runc, settings.execRoot);
  const buildCache = new BuildCache(settings.root);
  await buildCache.init();
  return { engine, io, images, events, execs, network, volumes, buildCache, cgroupVersion, dns };
}

async function which(binary: string): Promise<string> {
  for (const dir of (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
    const candidate = path.join(dir, binary);
    if (existsSync(candidate)) return candidate;
  }
  throw new AgentError("INTERNAL", `${binary} is not installed (looked in PATH)`);
}

/** berth-agent serve: the agent, with the Docker API on a root-only unix socket. */
async function serve(settings: EngineSettings, socket: string, registry: RegistryClientOptions) {
  const { root } = settings;
  lockRoot(root);
  // Registry credentials come with each API request (X-Registry-Auth).
  const agent = await createAgent(settings, { ...registry, credentials: credentialsForRequest }, { answerDns: true });
  const tmpDir = path.join(root, "tmp");
  await mkdir(tmpDir, { recursive: true });
  const agentId = createHash("sha256").update(root).digest("hex").slice(0, 32);
  const archive = new ContainerArchive({ engine: agent.engine, volumes: agent.volumes, events: agent.events, tmpDir });
  const server = createApi({ ...agent, archive, tmpDir, info: { root, cgroupVersion: agent.cgroupVersion, agentId } });
  await listenUnix(server, socket);
  process.stdout.write(`berth-agent ${AGENT_VERSION} listening on ${socket} (root ${root})\n`);
  // A bug in one request must not take the agent (and every client) down: log it and go on.
  process.on("unhandledRejection", (e) => process.stderr.write(`berth-agent: unhandled rejection: ${e instanceof Error ? e.stack : String(e)}\n`));
  // Containers keep running: conmon holds them, and the next agent re-adopts them.
  const stop = () => {
    agent.engine.close();
    agent.dns?.close();
    server.close();
    setTimeout(() => process.exit(0), 100).unref();
    server.closeAllConnections();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

async function main(argv: string[]) {
  const cl = parseCommandLine(argv);
  if (cl.command === "serve" && !cl.values.help) return serve(cl.engine, cl.socket, cl.registry);
  return runCommand(cl, createAgent);
}

main(process.argv.slice(2)).catch(failWith);
