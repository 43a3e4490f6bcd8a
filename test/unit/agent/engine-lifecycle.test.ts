import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseCreateRequest } from "../../../lib/docker/create-request";
import type { ContainerRecord } from "../../../agent/engine/container-store";
import type { EngineImages, EngineMonitor, EngineNetwork, EngineRuntime, EngineSnapshots } from "../../../agent/engine/deps";
import { ContainerEngine } from "../../../agent/engine/engine";
import { EventBus } from "../../../agent/engine/events";
import { ImageError } from "../../../agent/images/errors";
import type { ImageDetails } from "../../../agent/images/image-service";
import type { ImageRecord } from "../../../agent/images/image-records";
import type { RuncState } from "../../../agent/runtime/runc";
import { VolumeStore } from "../../../agent/volumes/store";

// The container engine driven through create → start → exit → restart
// policy, with a fake runtime in place of runc and conmon: the fake keeps a
// table of "processes" and, when one ends, writes conmon's exit file, which
// the engine hears of the way it does in production (inotify on the exit
// directory). What is asserted is what a client sees: the container's state
// (docker inspect) and its events (docker events).
//
// Restart delays run on vitest's fake clock, so the backoff is observed in
// virtual time: a restart has not happened 1 ms before its delay, and has
// right after it.

const IMAGE = "registry.test/team/app:1";

/** runc and conmon as the engine sees them, over a table of fake processes. */
class FakeHost {
  private readonly procs = new Map<string, { pid: number; status: RuncState["status"] }>();
  private nextPid = 4000;
  private exitDir = "";
  readonly runc: EngineRuntime;

  constructor(runcRoot: string) {
    this.runc = this.fakeRunc(runcRoot);
  }

  private fakeRunc(root: string): EngineRuntime {
    return {
      root,
      globalArgs: () => [],
      state: async (id) => {
        const p = this.procs.get(id);
        return p ? { id, pid: p.pid, status: p.status } : null;
      },
      start: async (id) => {
        this.proc(id).status = "running";
        return "";
      },
      kill: async (id, signal) => {
        const n = typeof signal === "number" ? signal : signal === "KILL" ? 9 : Number(signal);
        await this.exit(id, 128 + n);
      },
      pause: async (id) => void (this.proc(id).status = "paused"),
      resume: async (id) => void (this.proc(id).status = "running"),
      delete: async (id) => void this.procs.delete(id),
      pids: async (id) => [this.proc(id).pid],
      update: async () => {},
    };
  }

  readonly conmon: EngineMonitor = {
    launch: async (c) => {
      this.exitDir = c.exitDir;
      const pid = this.nextPid++;
      this.procs.set(c.id, { pid, status: "created" });
      return pid;
    },
    resizeTerminal: async () => {},
    openStdin: () => {
      throw new Error("no stdin in these tests");
    },
  };

  /** The container's process ends with `code`: conmon writes its exit file, as the real one does (g_file_set_contents: a temp file renamed into place). */
  async exit(id: string, code: number): Promise<void> {
    const p = this.proc(id);
    if (p.status === "stopped") return;
    p.status = "stopped";
    const file = path.join(this.exitDir, id);
    await writeFile(`${file}.tmp`, String(code));
    await rename(`${file}.tmp`, file);
  }

  private proc(id: string) {
    const p = this.procs.get(id);
    if (!p) throw new Error(`runc: container ${id} does not exist`);
    return p;
  }
}

const image = {
  id: `sha256:${"a".repeat(64)}`,
  layers: [{ chainId: `sha256:${"b".repeat(64)}` }],
  repoTags: [IMAGE],
} as unknown as ImageRecord;

const images: EngineImages = {
  resolve: (key) => {
    if (key !== IMAGE && key !== image.id) throw new ImageError("NOT_FOUND", `no such image: ${key}`);
    return image;
  },
  inspect: async () => ({ config: { config: { Cmd: ["serve"], Env: ["PATH=/usr/bin:/bin"] } } }) as unknown as ImageDetails,
  setImageInUse: () => {},
  createImage: async () => {
    throw new Error("no commits in these tests");
  },
};

const snapshots: EngineSnapshots = { mount: async () => {}, unmount: async () => {} };

/** --network none everywhere: no endpoints, no ports. */
const network: EngineNetwork = {
  init: async () => {},
  find: () => undefined,
  checkEndpoint: () => {},
  endpointsOf: () => [],
  members: () => [],
  attach: async () => [],
  detach: async () => {},
  release: async () => {},
  resolvePorts: async () => [],
  answersDns: () => false,
};

let work: string;
let host: FakeHost;
let engine: ContainerEngine;
let events: EventBus;

beforeEach(async () => {
  // Only the restart timers (and stop's grace period) run on the fake clock; I/O and inotify stay real.
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  work = await mkdtemp(path.join(os.tmpdir(), "berth-engine-"));
  const root = path.join(work, "root");
  const execRoot = path.join(work, "run");
  host = new FakeHost(path.join(execRoot, "runc"));
  events = new EventBus();
  const volumes = new VolumeStore(root);
  await volumes.init();
  engine = new ContainerEngine({
    root,
    execRoot,
    images,
    snapshots,
    runc: host.runc,
    conmon: host.conmon,
    events,
    hostLimits: {},
    cgroupVersion: 2,
    bootId: "boot-1",
    cgroupParent: "berth-test",
    network,
    volumes,
    // The image has no health check: nothing is ever probed here.
    probes: { run: async () => ({ exitCode: -1, output: "no probes in these tests", timedOut: false }) },
  });
  await engine.init();
});

afterEach(async () => {
  engine.close();
  vi.useRealTimers();
  await rm(work, { recursive: true, force: true });
});

/** docker create + start, with the given restart policy. */
async function run(restartPolicy: { Name: string; MaximumRetryCount?: number }): Promise<string> {
  const request = parseCreateRequest({ Image: IMAGE, HostConfig: { NetworkMode: "none", RestartPolicy: restartPolicy } });
  const { id } = await engine.create(request, { name: "app" });
  await engine.start(id);
  return id;
}

/** The container's events, as docker events shows their actions. */
function actionsOf(id: string): string[] {
  const seen: string[] = [];
  events.subscribe((e) => {
    if (e.Type === "container" && e.Actor.ID === id) seen.push(e.Action);
  });
  return seen;
}

/** Resolves on the container's next event with `action`. */
function next(id: string, action: string): Promise<void> {
  return new Promise((resolve) => {
    const stop = events.subscribe((e) => {
      if (e.Actor.ID === id && e.Action === action) {
        stop();
        resolve();
      }
    });
  });
}

/**
 * Waits for whatever the engine is doing to the container: its operations
 * (an exit being settled and the restart policy applied, a restart
 * launching) hold the container's lock, and this queues behind them.
 */
const settled = (id: string) => engine.withLock(id, async () => {});

const state = (id: string): ContainerRecord["state"] => engine.get(id).state;

/** The process exits with `code`; resolves once the engine heard of it (inotify on conmon's exit file) and settled it. */
async function exitWith(id: string, code: number): Promise<void> {
  const died = next(id, "die");
  await host.exit(id, code);
  await died;
  await settled(id);
}

/** Moves the fake clock by `ms`; resolves once a restart that came due has run. Whether it started the container: */
async function advance(id: string, ms: number): Promise<boolean> {
  let started = false;
  const stop = events.subscribe((e) => {
    if (e.Actor.ID === id && e.Action === "start") started = true;
  });
  vi.advanceTimersByTime(ms);
  await settled(id);
  stop();
  return started;
}

describe("ContainerEngine with a fake runtime", () => {
  it("create → start → exit: created, running, then exited with the process's code", async () => {
    const request = parseCreateRequest({ Image: IMAGE, Cmd: ["serve", "--port", "80"], HostConfig: { NetworkMode: "none" } });
    const { id } = await engine.create(request, { name: "web" });
    const seen = actionsOf(id);
    expect(engine.get("web")).toMatchObject({ id, path: "serve", args: ["--port", "80"], state: { status: "created", restartCount: 0 } });
    await engine.start(id);
    expect(state(id)).toMatchObject({ status: "running", pid: 4000, exitCode: 0 });
    await expect(engine.start(id)).rejects.toMatchObject({ code: "NOT_MODIFIED" });
    await exitWith(id, 3);
    expect(state(id)).toMatchObject({ status: "exited", pid: 0, exitCode: 3, restartCount: 0 });
    expect(await engine.wait(id)).toEqual({ StatusCode: 3, Error: null });
    expect(seen).toEqual(["start", "die"]);
  });

  it("on-failure:2 restarts a failing container twice, then leaves it exited", async () => {
    const id = await run({ Name: "on-failure", MaximumRetryCount: 2 });
    const seen = actionsOf(id);
    for (const restart of [1, 2]) {
      await exitWith(id, 1);
      expect(state(id)).toMatchObject({ status: "restarting", exitCode: 1 });
      expect(await advance(id, 60_000)).toBe(true);
      expect(state(id)).toMatchObject({ status: "running", restartCount: restart });
    }
    await exitWith(id, 1);
    expect(await advance(id, 120_000)).toBe(false);
    expect(state(id)).toMatchObject({ status: "exited", exitCode: 1, restartCount: 2 });
    expect(seen).toEqual(["die", "start", "die", "start", "die"]);
  });

  it("on-failure leaves a container that exited 0 alone", async () => {
    const id = await run({ Name: "on-failure", MaximumRetryCount: 2 });
    await exitWith(id, 0);
    expect(await advance(id, 120_000)).toBe(false);
    expect(state(id)).toMatchObject({ status: "exited", exitCode: 0, restartCount: 0 });
  });

  it("always restarts whatever the exit code", async () => {
    const id = await run({ Name: "always" });
    for (const code of [0, 2]) {
      await exitWith(id, code);
      expect(state(id).status).toBe("restarting");
      expect(await advance(id, 60_000)).toBe(true);
      expect(state(id).status).toBe("running");
    }
    expect(state(id).restartCount).toBe(2);
  });

  it("unless-stopped: restarted after a crash, left down after docker stop", async () => {
    const id = await run({ Name: "unless-stopped" });
    const seen = actionsOf(id);
    await exitWith(id, 137);
    expect(await advance(id, 60_000)).toBe(true);
    expect(state(id)).toMatchObject({ status: "running", restartCount: 1 });
    await engine.stop(id);
    expect(state(id)).toMatchObject({ status: "exited", exitCode: 143, manuallyStopped: true });
    expect(await advance(id, 120_000)).toBe(false);
    expect(state(id)).toMatchObject({ status: "exited", restartCount: 1 });
    expect(seen).toEqual(["die", "start", "kill", "die", "stop"]);
    // A start by hand clears the manual stop: a later crash restarts it again.
    await engine.start(id);
    await exitWith(id, 1);
    expect(state(id).status).toBe("restarting");
  });

  it("backs off: 100 ms, then 200, then 400 while it keeps failing; back to 100 ms after a 10 s run", async () => {
    const id = await run({ Name: "always" });
    for (const delay of [100, 200, 400]) {
      await exitWith(id, 1);
      expect(await advance(id, delay - 1)).toBe(false);
      expect(state(id).status).toBe("restarting");
      expect(await advance(id, 1)).toBe(true);
      expect(state(id).status).toBe("running");
    }
    // It ran 10 s this time: the next restart comes after 100 ms again.
    vi.advanceTimersByTime(10_000);
    await exitWith(id, 1);
    expect(await advance(id, 99)).toBe(false);
    expect(await advance(id, 1)).toBe(true);
    expect(state(id)).toMatchObject({ status: "running", restartCount: 4 });
  });

  it("docker rm -f during a restart delay removes it for good", async () => {
    const id = await run({ Name: "always" });
    const seen = actionsOf(id);
    await exitWith(id, 1);
    await engine.remove(id, { force: true });
    expect(engine.find(id)).toBeUndefined();
    vi.advanceTimersByTime(120_000);
    expect(engine.find(id)).toBeUndefined();
    expect(seen).toEqual(["die", "destroy"]);
  });
});
