import type { ContainerEngine } from "../engine/engine";
import type { VolumeRecord, VolumeStore } from "../volumes/store";
import { directorySize } from "../state/disk-usage";
import { ApiError } from "./errors";
import { acceptFilters, boolFilter, matchExact, matchKVList, matchPattern, matchPruneLabels } from "./filters";
import { query, readJson, Router, sendEmpty, sendJson } from "./http";

// /volumes/* — local volumes.

const view = (v: VolumeRecord) => ({ Name: v.Name, Driver: v.Driver, Mountpoint: v.Mountpoint, CreatedAt: v.CreatedAt, Labels: v.Labels, Scope: v.Scope, Options: v.Options });

export function volumeRoutes(router: Router, volumes: VolumeStore, engine: ContainerEngine): void {
  router.add("GET", "/volumes", (ctx) => {
    // dockerd's volume list filters: name as a pattern, driver exactly, every label must hold.
    const filters = query.filters(ctx.url);
    acceptFilters(filters, ["dangling", "name", "driver", "label"]);
    const dangling = boolFilter(filters, "dangling");
    const list = volumes
      .list()
      .filter((v) => matchPattern(filters.get("name"), v.Name) && matchExact(filters.get("driver"), v.Driver) && matchKVList(filters.get("label"), v.Labels))
      .filter((v) => dangling === undefined || (engine.volumeUsers(v.Name).length === 0) === dangling);
    sendJson(ctx, 200, { Volumes: list.map(view), Warnings: null });
  });

  router.add("POST", "/volumes/create", async (ctx) => {
    const body = ((await readJson(ctx)) ?? {}) as { Name?: string; Driver?: string; DriverOpts?: Record<string, string> | null; Labels?: Record<string, string> | null };
    if (body.Name !== undefined && typeof body.Name !== "string") throw new ApiError(400, "invalid Name: expected a string");
    const v = await volumes.create({ name: body.Name || undefined, driver: body.Driver || undefined, options: body.DriverOpts ?? undefined, labels: body.Labels ?? undefined });
    sendJson(ctx, 201, view(v));
  });

  router.add("POST", "/volumes/prune", async (ctx) => {
    const filters = query.filters(ctx.url);
    acceptFilters(filters, ["label", "label!", "all"]);
    // Like Docker 23+: anonymous volumes only, unless all=true.
    const all = boolFilter(filters, "all") ?? false;
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of volumes.list()) {
      if ((!v.anonymous && !all) || !matchPruneLabels(filters, v.Labels) || engine.volumeUsers(v.Name).length) continue;
      const size = await directorySize(v.Mountpoint);
      await volumes.remove(v.Name, []);
      deleted.push(v.Name);
      reclaimed += size;
    }
    sendJson(ctx, 200, { VolumesDeleted: deleted, SpaceReclaimed: reclaimed });
  });

  router.add("GET", "/volumes/{name}", (ctx) => sendJson(ctx, 200, view(volumes.get(ctx.params[0]!))));

  router.add("DELETE", "/volumes/{name}", async (ctx) => {
    const name = ctx.params[0]!;
    volumes.get(name);
    await volumes.remove(name, engine.volumeUsers(name).map((id) => id.slice(0, 12)));
    sendEmpty(ctx, 204);
  });
}
