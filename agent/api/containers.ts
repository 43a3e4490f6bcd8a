import { execFile, spawn } from "node:child_process";
import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { stat } from "node:fs/promises";
import type { Writable } from "node:stream";
import { CONFINEMENT_HEADER, type Confinement, decodeConfinement } from "../../lib/confinement";
import { parseCreateRequest } from "../../lib/docker/create-request";
import type { ContainerEngine } from "../engine/engine";
import { EngineError } from "../engine/errors";
import { followLog, parseTimeBound, readLog, type LogEntry, type LogQuery } from "../engine/logs";
import { isActive } from "../engine/status";
import type { ImageService } from "../images/image-service";
import { familiarName, parseReference } from "../../lib/image-reference";
import { ApiError, toClientError } from "./errors";
import { type Ctx, hijack, query, readJson, Router, sendEmpty, sendJson, streamResponse, commonHeaders } from "./http";
import { inspectView, listItem, type NetworkView } from "./container-views";
import type { NetworkManager } from "../network/manager";
import type { VolumeStore } from "../volumes/store";
import { mountViews } from "../engine/container-mounts";
import { frame, MUX_TYPE, RAW_TYPE, STDERR, STDOUT } from "./streams";
import type { StatsReader } from "./stats";
import type { ExecManager } from "../engine/exec";

// /containers/* — translation only: Docker request → engine call → Docker answer.

/** The deploy policy's limits the gateway sent with a create (absent when the caller is anyone else on the socket). */
function confinementOf(ctx: Ctx): Confinement | undefined {
  const raw = ctx.req.headers[CONFINEMENT_HEADER];
  if (raw === undefined) return undefined;
  try {
    return decodeConfinement(Array.isArray(raw) ? raw.join(",") : raw);
  } catch (e) {
    throw new ApiError(400, (e as Error).message);
  }
}

export function containerRoutes(
  router: Router,
  engine: ContainerEngine,
  images: ImageService,
  stats: StatsReader,
  execs: ExecManager,
  network: NetworkManager,
  volumes: VolumeStore,
): void {
  const netView = (id: string): NetworkView => ({
    endpoints: network.endpointsOf(id).map((e) => {
      const n = network.find(e.networkId);
      return { networkName: n?.name ?? e.networkId, networkId: e.networkId, ip: e.ip, prefix: e.prefix, gateway: e.gateway, mac: e.mac, aliases: e.aliases, endpointId: e.hostVeth, builtin: Boolean(n?.builtin) };
    }),
    ports: network.portsOf(id),
  });
  const imageName = (imageKey: string, imageId: string) => {
    try {
      const record = images.resolve(imageKey);
      if (record.id === imageId) return imageKey;
    } catch {
      // the tag moved or the image is gone: Docker shows the id
    }
    return imageId;
  };

  router.add("POST", "/containers/create", async (ctx) => {
    const body = await readJson(ctx);
    if (body === undefined) throw new ApiError(400, "config cannot be empty in order to create a container");
    const request = parseCreateRequest(body);
    const name = ctx.url.searchParams.get("name") ?? undefined;
    const result = await engine.create(request, { name: name || undefined, confinement: confinementOf(ctx) });
    sendJson(ctx, 201, { Id: result.id, Warnings: result.warnings });
  });

  router.add("GET", "/containers/json", (ctx) => {
    const all = query.bool(ctx.url, "all");
    const limit = query.int(ctx.url, "limit");
    const filters = query.filters(ctx.url);
    let list = engine.list().filter((c) => all || limit || c.state.status === "running" || c.state.status === "paused" || c.state.status === "restarting");
    for (const [key, values] of filters) {
      list = list.filter((c) =>
        values.some((v) => {
          switch (key) {
            case "id":
              return c.id.startsWith(v);
            case "name":
              return new RegExp(v).test(c.name);
            case "status":
              return c.state.status === v;
            case "label": {
              const [k, val] = v.split("=", 2);
              return val === undefined ? k! in c.config.Labels : c.config.Labels[k!] === val;
            }
            case "ancestor":
              return c.config.Image === v || c.imageId.startsWith(v) || c.imageId === `sha256:${v}`;
            case "exited":
              return c.state.status === "exited" && String(c.state.exitCode) === v;
            default:
              throw new ApiError(400, `invalid filter '${key}'`);
          }
        }),
      );
    }
    if (limit && limit > 0) list = list.slice(0, limit);
    sendJson(
      ctx,
      200,
      list.map((c) => listItem(c, imageName(c.config.Image, c.imageId), netView(c.id), mountViews(c.mounts, volumes))),
    );
  });

  router.add("POST", "/containers/prune", async (ctx) => {
    const deleted: string[] = [];
    for (const c of engine.list()) {
      if (c.state.status !== "exited" && c.state.status !== "created" && c.state.status !== "dead") continue;
      await engine.remove(c.id).then(() => deleted.push(c.id), () => {});
    }
    sendJson(ctx, 200, { ContainersDeleted: deleted, SpaceReclaimed: 0 });
  });

  router.add("GET", "/containers/{id}/json", (ctx) => {
    const c = engine.get(ctx.params[0]!);
    sendJson(ctx, 200, { ...inspectView(c, engine.paths(c.id), netView(c.id), mountViews(c.mounts, volumes)), ExecIDs: execs.idsFor(c.id) });
  });

  router.add("POST", "/containers/{id}/start", async (ctx) => {
    await engine.start(ctx.params[0]!);
    sendEmpty(ctx, 204);
  });

  router.add("POST", "/containers/{id}/stop", async (ctx) => {
    await engine.stop(ctx.params[0]!, { timeout: query.int(ctx.url, "t"), signal: ctx.url.searchParams.get("signal") ?? undefined });
    sendEmpty(ctx, 204);
  });

  router.add("POST", "/containers/{id}/restart", async (ctx) => {
    await engine.restart(ctx.params[0]!, { timeout: query.int(ctx.url, "t"), signal: ctx.url.searchParams.get("signal") ?? undefined });
    sendEmpty(ctx, 204);
  });

  router.add("POST", "/containers/{id}/kill", async (ctx) => {
    await engine.kill(ctx.params[0]!, ctx.url.searchParams.get("signal") || "SIGKILL");
    sendEmpty(ctx, 204);
  });

  router.add("POST", "/containers/{id}/pause", async (ctx) => {
    await engine.pause(ctx.params[0]!);
    sendEmpty(ctx, 204);
  });

  router.add("POST", "/containers/{id}/unpause", async (ctx) => {
    await engine.unpause(ctx.params[0]!);
    sendEmpty(ctx, 204);
  });

  router.add("POST", "/containers/{id}/rename", async (ctx) => {
    const name = ctx.url.searchParams.get("name");
    if (!name) throw new ApiError(400, "missing the new name (?name=)");
    await engine.rename(ctx.params[0]!, name);
    sendEmpty(ctx, 204);
  });

  router.add("DELETE", "/containers/{id}", async (ctx) => {
    await engine.remove(ctx.params[0]!, { force: query.bool(ctx.url, "force"), volumes: query.bool(ctx.url, "v") });
    sendEmpty(ctx, 204);
  });

  router.add("POST", "/containers/{id}/wait", async (ctx) => {
    const condition = ctx.url.searchParams.get("condition") || "not-running";
    if (condition !== "not-running" && condition !== "next-exit" && condition !== "removed") {
      throw new ApiError(400, `invalid condition: "${condition}"`);
    }
    const waiting = engine.wait(ctx.params[0]!, condition);
    // Headers go out at once: `docker run` blocks on them before it starts the container.
    const res = ctx.res!;
    res.writeHead(200, { ...commonHeaders(), "Content-Type": "application/json" });
    res.flushHeaders();
    let gone = false;
    res.on("close", () => (gone = true));
    try {
      const result = await waiting;
      if (!gone) res.end(JSON.stringify(result) + "\n");
    } catch (e) {
      if (!gone) res.end(JSON.stringify({ StatusCode: -1, Error: { Message: toClientError(e).message } }) + "\n");
    }
  });

  router.add("POST", "/containers/{id}/resize", async (ctx) => {
    const c = engine.get(ctx.params[0]!);
    const h = query.int(ctx.url, "h") ?? 0;
    const w = query.int(ctx.url, "w") ?? 0;
    if (!isActive(c.state.status)) throw new ApiError(409, `container ${c.id} is not running`);
    if (c.config.Tty) await writeControl(engine.controlFifo(c.id), `1 ${h} ${w}\n`);
    sendEmpty(ctx, 200);
  });

  router.add("GET", "/containers/{id}/logs", async (ctx) => {
    const c = engine.get(ctx.params[0]!);
    const q = logQuery(ctx);
    if (!q.stdout && !q.stderr) throw new ApiError(400, "Bad parameters: you must choose at least one stream");
    const follow = query.bool(ctx.url, "follow");
    const timestamps = query.bool(ctx.url, "timestamps");
    const res = streamResponse(ctx, c.config.Tty ? RAW_TYPE : MUX_TYPE);
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    const write = (e: LogEntry) => {
      const text = timestamps ? `${dockerTime(e.time)} ${e.text}` : e.text;
      return res.write(c.config.Tty ? Buffer.from(text) : frame(e.stream === "stdout" ? STDOUT : STDERR, text));
    };
    const file = engine.paths(c.id).log;
    const running = () => Boolean(engine.find(c.id)) && isActive(engine.get(c.id).state.status);
    const done = follow ? () => !running() : () => true;
    const onChange = (wake: () => void) => engine.subscribe((ev) => ev.Actor.ID === c.id && wake());
    const drain = () => new Promise((r) => res.once("drain", r));
    if (q.tail === "all") {
      // The whole log streams through (with backpressure): a multi-GB log never sits in memory.
      for await (const e of followLog(file, 0, q, done, abort.signal, onChange)) if (!write(e)) await drain();
    } else {
      // --tail N: read to the end keeping the last N, then follow from there.
      const { entries, offset, parser } = await readLog(file, q);
      for (const e of entries) if (!write(e)) await drain();
      if (follow && running()) {
        for await (const e of followLog(file, offset, { ...q, tail: "all" }, done, abort.signal, onChange, parser)) if (!write(e)) await drain();
      }
    }
    res.end();
  });

  router.add("POST", "/containers/{id}/attach", async (ctx) => {
    // Attaching to a created or stopped container is allowed: docker run attaches before it starts.
    const c = engine.get(ctx.params[0]!);
    const wantStdout = query.bool(ctx.url, "stdout");
    const wantStderr = query.bool(ctx.url, "stderr");
    const wantStdin = query.bool(ctx.url, "stdin") && c.config.OpenStdin;
    const contentType = c.config.Tty ? RAW_TYPE : MUX_TYPE;
    const out: Writable = ctx.socket ? hijack(ctx, contentType) : streamResponse(ctx, contentType);
    const abort = new AbortController();
    out.on("close", () => abort.abort());
    out.on("error", () => abort.abort());

    const file = engine.paths(c.id).log;
    const offset = await stat(file).then((s) => s.size, () => 0);
    let exited = false;
    const stopWatching = engine.subscribe((ev) => {
      if (ev.Actor.ID === c.id && (ev.Action === "die" || ev.Action === "destroy")) exited = true;
    });
    if (wantStdin && ctx.socket) pipeStdin(ctx, engine, c.id, abort.signal);
    try {
      const q: LogQuery = { stdout: wantStdout, stderr: wantStderr, tail: "all", since: 0, until: 0 };
      for await (const e of followLog(file, offset, q, () => exited, abort.signal, (wake) => engine.subscribe((ev) => ev.Actor.ID === c.id && wake()))) {
        const chunk = c.config.Tty ? Buffer.from(e.text) : frame(e.stream === "stdout" ? STDOUT : STDERR, e.text);
        if (!out.write(chunk)) await new Promise((r) => out.once("drain", r));
      }
    } finally {
      stopWatching();
      out.end();
    }
  });

  router.add("GET", "/containers/{id}/top", async (ctx) => {
    const c = engine.get(ctx.params[0]!);
    if (!isActive(c.state.status)) throw new ApiError(409, `Container ${c.id} is not running`);
    const pids = new Set(await engine.pids(c.id));
    const args = ctx.url.searchParams.get("ps_args") || "-ef";
    const output = await new Promise<string>((resolve, reject) =>
      execFile("ps", args.split(/\s+/).filter(Boolean), { maxBuffer: 8 << 20 }, (err, stdout) => (err ? reject(new ApiError(500, `ps failed: ${err.message}`)) : resolve(stdout))),
    );
    const lines = output.trimEnd().split("\n");
    const titles = lines[0]!.trim().split(/\s+/);
    const pidColumn = titles.indexOf("PID");
    if (pidColumn < 0) throw new ApiError(500, `Couldn't find PID field in ps output`);
    const processes = lines
      .slice(1)
      .map((line) => {
        const fields = line.trim().split(/\s+/);
        const head = fields.slice(0, titles.length - 1);
        return [...head, fields.slice(titles.length - 1).join(" ")];
      })
      .filter((row) => pids.has(Number(row[pidColumn])));
    sendJson(ctx, 200, { Titles: titles, Processes: processes });
  });

  router.add("GET", "/containers/{id}/stats", async (ctx) => {
    const c = engine.get(ctx.params[0]!);
    const stream = query.bool(ctx.url, "stream", true);
    const oneShot = query.bool(ctx.url, "one-shot");
    if (!stream) {
      sendJson(ctx, 200, await stats.sample(c, !oneShot));
      return;
    }
    const res = streamResponse(ctx, "application/json");
    let open = true;
    res.on("close", () => (open = false));
    let previous = await stats.sample(c, false);
    // Bounded by the client: the loop ends when it disconnects or the container goes.
    while (open && engine.find(c.id)) {
      await new Promise((r) => setTimeout(r, 1000));
      if (!open) break;
      const current = await stats.sample(engine.get(c.id), false);
      res.write(JSON.stringify({ ...current, preread: previous.read, precpu_stats: previous.cpu_stats }) + "\n");
      previous = current;
    }
    res.end();
  });
}

function logQuery(ctx: Ctx): LogQuery {
  const tailRaw = ctx.url.searchParams.get("tail");
  let tail: number | "all" = "all";
  if (tailRaw && tailRaw !== "all") {
    const n = Number(tailRaw);
    if (!Number.isInteger(n)) throw new ApiError(400, `invalid value for tail: ${tailRaw}`);
    tail = n < 0 ? "all" : n;
  }
  const bound = (name: string): bigint | undefined => {
    const v = ctx.url.searchParams.get(name);
    if (!v || v === "0") return undefined;
    const ns = parseTimeBound(v);
    if (ns === null) throw new ApiError(400, `invalid value for ${name}: ${v}`);
    return ns;
  };
  return { stdout: query.bool(ctx.url, "stdout"), stderr: query.bool(ctx.url, "stderr"), tail, since: 0, until: 0, sinceNs: bound("since"), untilNs: bound("until") };
}

function dockerTime(t: string): string {
  return t.replace(/\+00:00$/, "Z");
}

/** conmon's control FIFO; opened non-blocking, so a container whose conmon is gone gives ENXIO, not a hang. */
async function writeControl(fifo: string, line: string): Promise<void> {
  let handle;
  try {
    handle = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENXIO" || code === "ENOENT") throw new ApiError(409, "the container is not running (no terminal to resize)");
    throw new ApiError(500, `cannot resize: ${(e as Error).message}`);
  }
  try {
    await handle.write(line);
  } finally {
    await handle.close();
  }
}

/**
 * Client stdin → conmon's SEQPACKET attach socket, through socat (Node can't
 * open SEQPACKET sockets). `docker run -i` attaches before the container
 * starts, when the socket doesn't exist yet: input is held until it does.
 * When the client closes its side, socat closes the socket and conmon closes
 * the container's stdin.
 */
const HELD_STDIN_MAX = 1024 * 1024;

function pipeStdin(ctx: Ctx, engine: ContainerEngine, id: string, signal: AbortSignal): void {
  const socket = ctx.socket!;
  const held: Buffer[] = ctx.head?.length ? [Buffer.from(ctx.head)] : [];
  let heldBytes = held.reduce((n, b) => n + b.length, 0);
  let ended = false;
  let child: ReturnType<typeof spawn> | null = null;
  // Backpressure both ways: the client is paused while socat is busy, or while 1 MiB waits for the start.
  const onData = (d: Buffer) => {
    if (child) {
      if (!child.stdin?.write(d)) {
        socket.pause();
        child.stdin?.once("drain", () => socket.resume());
      }
      return;
    }
    held.push(d);
    heldBytes += d.length;
    if (heldBytes > HELD_STDIN_MAX) socket.pause();
  };
  const onEnd = () => {
    ended = true;
    child?.stdin?.end();
  };
  socket.on("data", onData);
  socket.on("end", onEnd);
  const connect = () => {
    if (child || signal.aborted) return;
    child = spawn("socat", ["-u", "STDIN", `UNIX-CONNECT:${engine.attachSocket(id)},type=5`], { stdio: ["pipe", "ignore", "ignore"] });
    child.on("error", () => {});
    child.stdin?.on("error", () => {});
    for (const d of held.splice(0)) child.stdin?.write(d);
    heldBytes = 0;
    socket.resume();
    if (ended) child.stdin?.end();
  };
  const running = () => {
    const c = engine.find(id);
    return c !== undefined && (c.state.status === "running" || c.state.status === "paused");
  };
  if (running()) connect();
  else {
    const unsubscribe = engine.subscribe((ev) => {
      if (ev.Actor.ID === id && ev.Action === "start") {
        unsubscribe();
        connect();
      }
    });
    signal.addEventListener("abort", unsubscribe, { once: true });
  }
  signal.addEventListener("abort", () => child?.kill(), { once: true });
}

export { EngineError };
