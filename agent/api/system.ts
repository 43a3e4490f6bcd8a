import { readFileSync } from "node:fs";
import os from "node:os";
import type { ContainerEngine } from "../engine/engine";
import { type EngineEvent, type EventBus, eventFilter } from "../engine/events";
import { setLongTimeout } from "../engine/long-timeout";
import { parseTimeBound } from "../engine/logs";
import type { ImageService } from "../images/image-service";
import type { VolumeStore } from "../volumes/store";
import { AGENT_VERSION, API_VERSION } from "../version";
import { diskUsage } from "./disk-usage";
import { ApiError } from "./errors";
import { commonHeaders, type Ctx, MIN_API_VERSION, query, Router, sendJson } from "./http";

// _ping, version, info, events, system/df.

export interface SystemInfo {
  root: string;
  cgroupVersion: 1 | 2;
  agentId: string;
}

function osName(): string {
  try {
    const text = readFileSync("/etc/os-release", "utf8");
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? "Linux";
  } catch {
    return "Linux";
  }
}

export function systemRoutes(router: Router, engine: ContainerEngine, images: ImageService, events: EventBus, info: SystemInfo, volumes: VolumeStore): void {
  const ping = (ctx: Ctx) => {
    const res = ctx.res!;
    res.writeHead(200, {
      ...commonHeaders(),
      "Content-Type": "text/plain; charset=utf-8",
      "Builder-Version": "1",
      Swarm: "inactive",
      "Cache-Control": "no-cache, no-store, must-revalidate",
      Pragma: "no-cache",
    });
    res.end(ctx.req.method === "HEAD" ? undefined : "OK");
  };
  router.add("GET", "/_ping", ping);
  router.add("HEAD", "/_ping", ping);

  router.add("GET", "/version", (ctx) => {
    const arch = process.arch === "x64" ? "amd64" : process.arch;
    sendJson(ctx, 200, {
      Platform: { Name: "Berth Engine" },
      Components: [{ Name: "Engine", Version: AGENT_VERSION, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: "linux", Arch: arch } }],
      Version: AGENT_VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: "berth",
      GoVersion: `node${process.versions.node}`,
      Os: "linux",
      Arch: arch,
      KernelVersion: os.release(),
      BuildTime: "",
    });
  });

  router.add("GET", "/info", (ctx) => {
    const all = engine.list();
    const count = (s: string) => all.filter((c) => c.state.status === s).length;
    sendJson(ctx, 200, {
      ID: info.agentId,
      Containers: all.length,
      ContainersRunning: count("running") + count("restarting"),
      ContainersPaused: count("paused"),
      ContainersStopped: all.length - count("running") - count("restarting") - count("paused"),
      Images: images.list().length,
      Driver: "overlay2",
      DriverStatus: [["Backing Filesystem", "extfs"], ["Supports d_type", "true"]],
      Plugins: { Volume: ["local"], Network: ["bridge", "host", "none"], Log: ["k8s-file"] },
      MemoryLimit: true,
      SwapLimit: true,
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      CPUSet: true,
      PidsLimit: true,
      OomKillDisable: false,
      IPv4Forwarding: true,
      Debug: false,
      NFd: 0,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: "k8s-file",
      CgroupDriver: "cgroupfs",
      CgroupVersion: String(info.cgroupVersion),
      NEventsListener: 0,
      KernelVersion: os.release(),
      OperatingSystem: osName(),
      OSVersion: "",
      OSType: "linux",
      Architecture: os.machine(),
      IndexServerAddress: "https://index.docker.io/v1/",
      RegistryConfig: { IndexConfigs: {}, InsecureRegistryCIDRs: ["127.0.0.0/8"], Mirrors: [] },
      NCPU: os.availableParallelism(),
      MemTotal: os.totalmem(),
      DockerRootDir: info.root,
      Name: os.hostname(),
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: AGENT_VERSION,
      Runtimes: { runc: { path: "runc" } },
      DefaultRuntime: "runc",
      Swarm: { LocalNodeState: "inactive", NodeID: "", NodeAddr: "", ControlAvailable: false, Error: "", RemoteManagers: null },
      LiveRestoreEnabled: true,
      Isolation: "",
      InitBinary: "",
      SecurityOptions: ["name=seccomp,profile=builtin", ...(info.cgroupVersion === 2 ? ["name=cgroupns"] : [])],
      Warnings: [],
    });
  });

  router.add("GET", "/system/df", async (ctx) => {
    sendJson(ctx, 200, await diskUsage(ctx.url.searchParams.getAll("type"), engine, images, volumes));
  });

  router.add("GET", "/events", (ctx) => {
    // since/until: Unix seconds with an optional fraction ("1700000000.5", what the CLI and docker-py send), or RFC 3339.
    const bound = (name: string): bigint | undefined => {
      const v = ctx.url.searchParams.get(name);
      if (!v) return undefined;
      const ns = parseTimeBound(v);
      if (ns === null) throw new ApiError(400, `invalid ${name} timestamp: ${v}`);
      return ns;
    };
    const since = bound("since");
    const until = bound("until");
    if (until !== undefined && since !== undefined && until < since) {
      throw new ApiError(400, `\`since\` time (${ctx.url.searchParams.get("since")}) cannot be after \`until\` time (${ctx.url.searchParams.get("until")})`);
    }
    const matches = eventFilter(query.filters(ctx.url));
    const res = ctx.res!;
    res.writeHead(200, { ...commonHeaders(), "Content-Type": "application/json" });
    res.flushHeaders();
    const write = (e: EngineEvent) => res.write(JSON.stringify(e) + "\n");
    for (const e of events.replay(since, until)) if (matches(e)) write(e);
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    // An `until` in the past: the replay is all.
    if (until !== undefined && until <= nowNs) {
      res.end();
      return;
    }
    // (No await since the replay: nothing can have happened in between.)
    const unsubscribe = events.subscribe((e) => {
      if (matches(e)) write(e);
    });
    const timer = until !== undefined ? setLongTimeout(() => res.end(), Number((until - nowNs) / 1_000_000n)) : null;
    res.on("close", () => {
      unsubscribe();
      timer?.clear();
    });
  });
}
