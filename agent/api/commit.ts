import type { ContainerEngine } from "../engine/engine";
import type { EventBus } from "../engine/events";
import type { ImageService } from "../images/image-service";
import { ApiError } from "./errors";
import { query, readJson, Router, sendJson } from "./http";

// POST /commit — docker commit: the container's changes become a new image.

export function commitRoutes(router: Router, engine: ContainerEngine, images: ImageService, events: EventBus): void {
  router.add("POST", "/commit", async (ctx) => {
    const key = ctx.url.searchParams.get("container");
    if (!key) throw new ApiError(400, "container is required (?container=)");
    const c = engine.get(key);
    if (ctx.url.searchParams.get("changes")) throw new ApiError(400, "--change is not supported yet; commit, then build FROM the image instead");
    const body = ((await readJson(ctx)) ?? {}) as Record<string, unknown>;
    const base = await images.configOf(c.imageId);
    const imageConfig = (base.config ?? {}) as Record<string, unknown>;
    // The container's own settings, as Docker keeps them: the request body wins over both.
    const fromContainer = {
      Env: c.config.Env,
      Cmd: c.config.Cmd,
      Entrypoint: c.config.Entrypoint,
      WorkingDir: c.config.WorkingDir,
      User: c.config.User,
      ExposedPorts: c.config.ExposedPorts,
      Volumes: c.config.Volumes,
      Labels: c.config.Labels,
      StopSignal: c.config.StopSignal,
    };
    const overrides = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null && v !== undefined));
    const config = { ...base, config: { ...imageConfig, ...fromContainer, ...overrides }, author: ctx.url.searchParams.get("author") ?? base.author };
    const id = await engine.commit(c.id, {
      config,
      comment: ctx.url.searchParams.get("comment") ?? undefined,
      author: ctx.url.searchParams.get("author") ?? undefined,
      pause: query.bool(ctx.url, "pause", true),
    });
    const repo = ctx.url.searchParams.get("repo");
    if (repo) {
      const tag = ctx.url.searchParams.get("tag") || "latest";
      await images.tag(id, `${repo}:${tag}`);
    }
    events.emit("container", "commit", c.id, { name: c.name, image: c.config.Image });
    sendJson(ctx, 201, { Id: id });
  });
}
