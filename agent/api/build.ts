import path from "node:path";
import { BuildError, buildImage } from "../build/builder";
import type { BuildCache } from "../build/cache";
import { extractContext } from "../build/context";
import type { ContainerEngine } from "../engine/engine";
import type { ContainerIo } from "../engine/container-io";
import type { EventBus } from "../engine/events";
import type { ImageService } from "../images/image-service";
import { shortId } from "../images/digest";
import { familiarName, formatReference, parseReference } from "../../lib/image-reference";
import { ApiError, toClientError } from "./errors";
import { commonHeaders, query, Router, sendJson } from "./http";
import { withRegistryAuth } from "./registry-auth";

// POST /build — the legacy builder's endpoint (DOCKER_BUILDKIT=0 docker build):
// a tar context in, a JSON stream of the build's output back.

function jsonParam(value: string | null, name: string): Record<string, string> {
  if (!value) return {};
  try {
    const parsed = JSON.parse(value) as Record<string, string | null>;
    return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === "string"));
  } catch {
    throw new ApiError(400, `invalid ${name}: ${value}`);
  }
}

export function buildRoutes(router: Router, deps: { engine: ContainerEngine; io: ContainerIo; images: ImageService; cache: BuildCache; events: EventBus; tmpDir: string }): void {
  router.add("POST", "/build/prune", async (ctx) => {
    await deps.cache.clear();
    sendJson(ctx, 200, { CachesDeleted: [], SpaceReclaimed: 0 });
  });

  router.add("POST", "/build", async (ctx) => {
    const url = ctx.url;
    if (url.searchParams.get("remote")) throw new ApiError(400, "remote build contexts are not supported: send the context as a tar");
    const tags = url.searchParams.getAll("t").map((t) => {
      const ref = parseReference(t);
      if (ref.digest) throw new ApiError(400, `invalid tag ${t}: a tag can't be a digest`);
      return formatReference(ref);
    });
    const options = {
      dockerfile: url.searchParams.get("dockerfile") || "Dockerfile",
      buildArgs: jsonParam(url.searchParams.get("buildargs"), "buildargs"),
      labels: jsonParam(url.searchParams.get("labels"), "labels"),
      noCache: query.bool(url, "nocache"),
      target: url.searchParams.get("target") || undefined,
      quiet: query.bool(url, "q"),
    };
    const context = await extractContext(ctx.req, deps.tmpDir).catch((e: unknown) => {
      ctx.req.resume();
      throw e;
    });
    const res = ctx.res!;
    res.writeHead(200, { ...commonHeaders(), "Content-Type": "application/json" });
    res.flushHeaders();
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    const write = (o: object) => res.write(JSON.stringify(o) + "\r\n");
    try {
      const image = await withRegistryAuth(ctx.req.headers["x-registry-auth"], () =>
        buildImage(
          { engine: deps.engine, io: deps.io, images: deps.images, cache: deps.cache, tmpDir: deps.tmpDir },
          { context: context.root, dockerfile: path.posix.normalize(options.dockerfile), tags, buildArgs: options.buildArgs, labels: options.labels, noCache: options.noCache, target: options.target, output: (text) => options.quiet || write({ stream: text }), signal: abort.signal },
        ),
      );
      write({ aux: { ID: image.id } });
      if (!options.quiet) write({ stream: `Successfully built ${shortId(image.id)}\n` });
      for (const t of tags) {
        await deps.images.tag(image.id, t);
        if (!options.quiet) write({ stream: `Successfully tagged ${familiarName(parseReference(t))}\n` });
      }
      deps.events.emit("image", "build", image.id, {});
      res.end();
    } catch (e) {
      const code = e instanceof BuildError ? e.exitCode : undefined;
      const message = toClientError(e).message;
      write({ errorDetail: { message, ...(code ? { code } : {}) }, error: message });
      res.end();
    } finally {
      await context.dispose();
    }
  });
}
