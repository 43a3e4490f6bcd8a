import type { Writable } from "node:stream";
import { CONFINEMENT_HEADER, type Confinement, decodeConfinement } from "../../lib/confinement";
import { parseCreateRequest } from "../../lib/docker/create-request";
import { drained } from "../drained";
import type { ContainerEngine } from "../engine/engine";
import { parseTimeBound, type LogQuery } from "../engine/logs";
import type { ImageService } from "../images/image-service";
import { ApiError, toClientError } from "./errors";
import { acceptFilters, matchKVList, matchPruneLabels, untilFilter } from "./filters";
import { directorySize } from "../state/disk-usage";
import { type Ctx, hijack, query, readJson, Router, sendEmpty, sendJson, streamResponse, commonHeaders } from "./http";
import { inspectView, listItem } from "./container-views";
import { networkViewOf } from "./container-network-view";
import type { NetworkManager } from "../network/manager";
import type { VolumeStore } from "../volumes/store";
import { mountViews } from "../engine/container-mounts";
import { frame, MUX_TYPE, RAW_TYPE, STDERR, STDOUT } from "./streams";
import type { ExecManager } from "../engine/exec";
import type { ContainerIo } from "../engine/container-io";
import { HEALTH_FILTER_VALUES } from "../engine/health";

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
  io: ContainerIo,
  images: ImageService,
  execs: ExecManager,
  network: NetworkManager,
  volumes: VolumeStore,
): void {
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
    for (const v of filters.get("health") ?? []) {
      if (!(HEALTH_FILTER_VALUES as readonly string[]).includes(v)) throw new ApiError(400, `Unrecognised filter value for health: ${v}`);
    }
    let list = engine.list().filter((c) => all || limit || c.state.status === "running" || c.state.status === "paused" || c.state.status === "restarting");
    // Labels: every value must hold (docker-compose asks for project, service and oneoff at once).
    list = list.filter((c) => matchKVList(filters.get("label"), c.config.Labels));
    for (const [key, values] of filters) {
      if (key === "label") continue;
      list = list.filter((c) =>
        values.some((v) => {
          switch (key) {
            case "id":
              return c.id.startsWith(v);
            case "name":
              return new RegExp(v).test(c.name);
            case "status":
              return c.state.status === v;
            case "ancestor":
              return c.config.Image === v || c.imageId.startsWith(v) || c.imageId === `sha256:${v}`;
            case "exited":
              return c.state.status === "exited" && String(c.state.exitCode) === v;
            case "health":
              // A container never started with a health check has none.
              return (c.state.health?.Status ?? "none") === v;
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
      list.map((c) => listItem(c, imageName(c.config.Image, c.imageId), networkViewOf(c, network), mountViews(c.mounts, volumes))),
    );
  });

  router.add("POST", "/containers/prune", async (ctx) => {
    // dockerd's ContainersPrune: stopped containers (created, exited, dead) created before `until` whose labels match.
    const filters = query.filters(ctx.url);
    acceptFilters(filters, ["until", "label", "label!"]);
    const until = untilFilter(filters);
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const c of engine.list()) {
      if (c.state.status !== "exited" && c.state.status !== "created" && c.state.status !== "dead") continue;
      if ((until !== undefined && Date.parse(c.created) > until) || !matchPruneLabels(filters, c.config.Labels)) continue;
      const size = await directorySize(engine.paths(c.id).upper);
      // One that can't go now (it was started meanwhile, say) is left, as dockerd leaves it.
      if (await engine.remove(c.id).then(() => true, () => false)) {
        deleted.push(c.id);
        reclaimed += size;
      }
    }
    sendJson(ctx, 200, { ContainersDeleted: deleted, SpaceReclaimed: reclaimed });
  });

  router.add("GET", "/containers/{id}/json", (ctx) => {
    const c = engine.get(ctx.params[0]!);
    sendJson(ctx, 200, { ...inspectView(c, engine.paths(c.id), networkViewOf(c, network), mountViews(c.mounts, volumes)), ExecIDs: execs.idsFor(c.id) });
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
    // An unknown container is a 404, before the 200 goes out.
    const id = engine.get(ctx.params[0]!).id;
    const abort = new AbortController();
    const waiting = engine.wait(id, condition, abort.signal);
    // Headers go out at once: `docker run` blocks on them before it starts the container.
    const res = ctx.res!;
    res.writeHead(200, { ...commonHeaders(), "Content-Type": "application/json" });
    res.flushHeaders();
    let gone = false;
    res.on("close", () => {
      gone = true;
      abort.abort();
    });
    try {
      const result = await waiting;
      if (!gone) res.end(JSON.stringify(result) + "\n");
    } catch (e) {
      if (!gone) res.end(JSON.stringify({ StatusCode: -1, Error: { Message: toClientError(e).message } }) + "\n");
    }
  });

  router.add("POST", "/containers/{id}/resize", async (ctx) => {
    await io.resize(ctx.params[0]!, query.int(ctx.url, "h") ?? 0, query.int(ctx.url, "w") ?? 0);
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
    for await (const e of io.logs(c.id, q, { follow, signal: abort.signal })) {
      const text = timestamps ? `${dockerTime(e.time)} ${e.text}` : e.text;
      // With backpressure: the client reads as fast as it likes.
      if (!res.write(c.config.Tty ? Buffer.from(text) : frame(e.stream === "stdout" ? STDOUT : STDERR, text))) await drained(res);
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

    const output = await io.output(c.id, { stdout: wantStdout, stderr: wantStderr }, abort.signal);
    if (wantStdin && ctx.socket) io.relayStdin(c.id, ctx.socket, ctx.head, abort.signal);
    try {
      for await (const e of output) {
        const chunk = c.config.Tty ? Buffer.from(e.text) : frame(e.stream === "stdout" ? STDOUT : STDERR, e.text);
        if (!out.write(chunk)) await drained(out);
      }
    } finally {
      out.end();
    }
  });

  router.add("GET", "/containers/{id}/top", async (ctx) => {
    sendJson(ctx, 200, await io.top(ctx.params[0]!, ctx.url.searchParams.get("ps_args") || "-ef"));
  });

  router.add("GET", "/containers/{id}/stats", async (ctx) => {
    const id = engine.get(ctx.params[0]!).id;
    if (!query.bool(ctx.url, "stream", true)) {
      sendJson(ctx, 200, await io.sample(id, !query.bool(ctx.url, "one-shot")));
      return;
    }
    const res = streamResponse(ctx, "application/json");
    // Bounded by the client: the stream ends when it disconnects or the container goes.
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    for await (const doc of io.sampleEverySecond(id, abort.signal)) res.write(JSON.stringify(doc) + "\n");
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
