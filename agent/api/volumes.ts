import type { ContainerEngine } from "../engine/engine";
import type { VolumeRecord, VolumeStore } from "../volumes/store";
import { ApiError } from "./errors";
import { query, readJson, Router, sendEmpty, sendJson } from "./http";

// /volumes/* — local volumes.

const view = (v: VolumeRecord) => ({ Name: v.Name, Driver: v.Driver, Mountpoint: v.Mountpoint, CreatedAt: v.CreatedAt, Labels: v.Labels, Scope: v.Scope, Options: v.Options });

export function volumeRoutes(router: Router, volumes: VolumeStore, engine: ContainerEngine): void {
  router.add("GET", "/volumes", (ctx) => {
    const filters = query.filters(ctx.url);
    let list = volumes.list();
    const dangling = filters.get("dangling");
    if (dangling) list = list.filter((v) => (engine.volumeUsers(v.Name).length === 0) === (dangling[0] === "true" || dangling[0] === "1"));
    const names = filters.get("name");
    if (names) list = list.filter((v) => names.some((n) => v.Name.includes(n)));
    sendJson(ctx, 200, { Volumes: list.map(view), Warnings: null });
  });

  router.add("POST", "/volumes/create", async (ctx) => {
    const body = ((await readJson(ctx)) ?? {}) as { Name?: string; Driver?: string; DriverOpts?: Record<string, string> | null; Labels?: Record<string, string> | null };
    if (body.Name !== undefined && typeof body.Name !== "string") throw new ApiError(400, "invalid Name: expected a string");
    const v = await volumes.create({ name: body.Name || undefined, driver: body.Driver || undefined, options: body.DriverOpts ?? undefined, labels: body.Labels ?? undefined });
    sendJson(ctx, 201, view(v));
  });

  router.add("POST", "/volumes/prune", async (ctx) => {
    const all = (query.filters(ctx.url).get("all") ?? [])[0];
    const deleted: string[] = [];
    for (const v of volumes.list()) {
      // Like Docker 23+: anonymous volumes only, unless all=true.
      if ((!v.anonymous && all !== "true" && all !== "1") || engine.volumeUsers(v.Name).length) continue;
      await volumes.remove(v.Name, []);
      deleted.push(v.Name);
    }
    sendJson(ctx, 200, { VolumesDeleted: deleted, SpaceReclaimed: 0 });
  });

  router.add("GET", "/volumes/{name}", (ctx) => sendJson(ctx, 200, view(volumes.get(ctx.params[0]!))));

  router.add("DELETE", "/volumes/{name}", async (ctx) => {
    const name = ctx.params[0]!;
    volumes.get(name);
    await volumes.remove(name, engine.volumeUsers(name).map((id) => id.slice(0, 12)));
    sendEmpty(ctx, 204);
  });
}
