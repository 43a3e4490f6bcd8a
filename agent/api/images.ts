import type { ContainerEngine } from "../engine/engine";
import type { EventBus } from "../engine/events";
import type { ImageService } from "../images/image-service";
import type { ProgressEvent } from "../images/progress";
import { familiarName, formatReference, parseReference } from "../../lib/image-reference";
import { parsePlatform } from "../images/platform";
import { ApiError, toClientError } from "./errors";
import { commonHeaders, compareVersions, type Ctx, query, readJson, Router, sendJson } from "./http";
import { withRegistryAuth } from "./registry-auth";

// /images/* — the image store behind Docker's wire format.

/** Newline-delimited JSON progress (pull, push, load); an error after the 200 goes in the stream. */
function progressStream(ctx: Ctx) {
  const res = ctx.res!;
  res.writeHead(200, { ...commonHeaders(), "Content-Type": "application/json" });
  res.flushHeaders();
  const write = (e: object) => res.write(JSON.stringify(e) + "\r\n");
  return {
    progress: (e: ProgressEvent) => {
      const detail = e.progressDetail;
      write({ ...e, ...(detail?.total ? { progress: bar(detail.current ?? 0, detail.total) } : {}) });
    },
    write,
    fail: (e: unknown) => {
      const message = toClientError(e).message;
      write({ errorDetail: { message }, error: message });
      res.end();
    },
    end: () => res.end(),
  };
}

function bar(current: number, total: number): string {
  const width = 50;
  const done = Math.min(width, Math.round((current / total) * width));
  const mb = (n: number) => `${(n / 1e6).toFixed(2)}MB`;
  return `[${"=".repeat(Math.max(0, done - 1))}${done ? ">" : ""}${" ".repeat(width - done)}] ${mb(current)}/${mb(total)}`;
}

export function imageRoutes(router: Router, images: ImageService, engine: ContainerEngine, events: EventBus): void {
  router.add("GET", "/images/json", (ctx) => {
    const all = images.list();
    const filters = query.filters(ctx.url);
    const references = filters.get("reference");
    const list = references
      ? all.filter((img) => img.repoTags.some((t) => references.some((r) => familiarName(parseReference(t)).startsWith(r) || t === r)))
      : all;
    sendJson(
      ctx,
      200,
      list.map((img) => ({
        Id: img.id,
        ParentId: "",
        RepoTags: img.repoTags.map((t) => familiarName(parseReference(t))),
        RepoDigests: img.repoDigests.map((d) => familiarName(parseReference(d))),
        Created: img.created ? Math.floor(Date.parse(img.created) / 1000) : 0,
        Size: img.size,
        SharedSize: -1,
        VirtualSize: img.size,
        Labels: {},
        Containers: engine.list().filter((c) => c.imageId === img.id).length,
      })),
    );
  });

  router.add("POST", "/images/create", async (ctx) => {
    const fromImage = ctx.url.searchParams.get("fromImage");
    if (ctx.url.searchParams.get("fromSrc")) throw new ApiError(501, "importing a root filesystem (docker import) is not supported");
    if (!fromImage) throw new ApiError(400, "fromImage is required");
    const tag = ctx.url.searchParams.get("tag");
    // `tag` may be a tag or a digest.
    const reference = tag ? (tag.startsWith("sha256:") ? `${fromImage}@${tag}` : `${fromImage}:${tag}`) : fromImage;
    const ref = parseReference(reference);
    const platformText = ctx.url.searchParams.get("platform");
    const platform = platformText ? parsePlatform(platformText) : undefined;
    const out = progressStream(ctx);
    try {
      const before = (() => {
        try {
          return images.resolve(formatReference(ref)).id;
        } catch {
          return null;
        }
      })();
      const record = await withRegistryAuth(ctx.req.headers["x-registry-auth"], () => images.pull(reference, { platform, progress: (e) => (e.status.startsWith("Status:") ? undefined : out.progress(e)) }));
      const name = familiarName(ref);
      out.write({ status: before === record.id ? `Status: Image is up to date for ${name}` : `Status: Downloaded newer image for ${name}` });
      events.emit("image", "pull", name, { name });
      out.end();
    } catch (e) {
      out.fail(e);
    }
  });

  // docker login: the CLI checks the credentials here, then keeps them itself (and sends them as X-Registry-Auth).
  router.add("POST", "/auth", async (ctx) => {
    const body = ((await readJson(ctx)) ?? {}) as { username?: string; password?: string; serveraddress?: string };
    if (!body.username) throw new ApiError(400, "username is required");
    const server = (body.serveraddress || "docker.io").replace(/^https?:\/\//, "").replace(/\/.*$/, "").replace(/^index\.docker\.io$/, "docker.io");
    const header = Buffer.from(JSON.stringify({ username: body.username, password: body.password ?? "" })).toString("base64url");
    try {
      await withRegistryAuth(header, () => images.login(server === "docker.io" ? "registry-1.docker.io" : server));
    } catch (e) {
      const err = toClientError(e);
      throw new ApiError(err.status === 401 || err.status === 403 ? 401 : err.status, `login attempt to ${server} failed: ${err.message}`);
    }
    sendJson(ctx, 200, { Status: "Login Succeeded", IdentityToken: "" });
  });

  // Dangling (untagged) images nothing uses; with dangling=false, every image no container uses.
  router.add("POST", "/images/prune", async (ctx) => {
    const dangling = (query.filters(ctx.url).get("dangling") ?? ["true"])[0] !== "false";
    const report: object[] = [];
    for (const img of images.list()) {
      if (dangling && img.repoTags.length) continue;
      if (engine.list().some((c) => c.imageId === img.id)) continue;
      try {
        for (const line of await images.remove(img.id, { force: true })) report.push("Untagged" in line ? { Untagged: line.Untagged } : line);
      } catch {
        // in use by a build step or gone meanwhile: left alone
      }
    }
    sendJson(ctx, 200, { ImagesDeleted: report, SpaceReclaimed: 0 });
  });

  router.add("POST", "/images/load", async (ctx) => {
    const res = ctx.res!;
    try {
      // Docker's lines for each loaded image (the same with or without quiet).
      const result = await images.load(ctx.req);
      res.writeHead(200, { ...commonHeaders(), "Content-Type": "application/json" });
      const loaded = result.images.flatMap((img) =>
        img.tags.length ? img.tags.map((t) => `Loaded image: ${familiarName(parseReference(t))}`) : [`Loaded image ID: ${img.id}`],
      );
      for (const line of loaded) res.write(JSON.stringify({ stream: `${line}\n` }) + "\r\n");
      for (const img of result.images) events.emit("image", "load", img.id, {});
      res.end();
    } catch (e) {
      ctx.req.resume();
      throw e;
    }
  });

  router.add("GET", "/images/get", async (ctx) => {
    const names = ctx.url.searchParams.getAll("names");
    if (!names.length) throw new ApiError(400, "name at least one image (?names=)");
    for (const n of names) images.resolve(n);
    ctx.res!.writeHead(200, { ...commonHeaders(), "Content-Type": "application/x-tar" });
    await images.save(names, ctx.res!);
  });

  router.add("GET", "/images/{name*}/get", async (ctx) => {
    images.resolve(ctx.params[0]!);
    ctx.res!.writeHead(200, { ...commonHeaders(), "Content-Type": "application/x-tar" });
    await images.save([ctx.params[0]!], ctx.res!);
  });

  router.add("GET", "/images/{name*}/json", async (ctx) => {
    const d = await images.inspect(ctx.params[0]!);
    const c = d.config.config ?? {};
    sendJson(ctx, 200, {
      Id: d.id,
      RepoTags: d.repoTags.map((t) => familiarName(parseReference(t))),
      RepoDigests: d.repoDigests.map((t) => familiarName(parseReference(t))),
      Parent: "",
      Comment: "",
      Created: d.created ?? "0001-01-01T00:00:00Z",
      DockerVersion: "",
      Author: d.config.author ?? "",
      Config: { Env: null, Cmd: null, Entrypoint: null, WorkingDir: "", User: "", Labels: null, ...c },
      // Clients of API < 1.45 get the building container's config, as dockerd gave it: docker-compose 1.29 reads its
      // Volumes when it recreates a service (KeyError: 'ContainerConfig' without it). Ours is the image's own.
      ...(compareVersions(ctx.apiVersion, "1.45") < 0 ? { ContainerConfig: { Env: null, Cmd: null, Entrypoint: null, WorkingDir: "", User: "", Labels: null, Volumes: null, ...c } } : {}),
      Architecture: d.architecture,
      Os: d.os,
      Size: d.size,
      VirtualSize: d.size,
      GraphDriver: { Name: "overlay2", Data: null },
      RootFS: { Type: "layers", Layers: d.layers.map((l) => l.diffId) },
      Metadata: { LastTagTime: "0001-01-01T00:00:00Z" },
      // Not Docker's: where the content came from (registries it was pulled from, or how it was made here).
      // Berth's gateway judges its registry allowlist by this, never by the image's current name.
      BerthProvenance: d.provenance,
    });
  });

  router.add("GET", "/images/{name*}/history", async (ctx) => {
    const d = await images.inspect(ctx.params[0]!);
    const history = (d.config.history ?? []) as { created?: string; created_by?: string; empty_layer?: boolean; comment?: string }[];
    sendJson(
      ctx,
      200,
      history.reverse().map((h, i) => ({
        Id: i === 0 ? d.id : "<missing>",
        Created: h.created ? Math.floor(Date.parse(h.created) / 1000) : 0,
        CreatedBy: h.created_by ?? "",
        Tags: i === 0 ? d.repoTags : null,
        Size: 0,
        Comment: h.comment ?? "",
      })),
    );
  });

  router.add("POST", "/images/{name*}/tag", async (ctx) => {
    const repo = ctx.url.searchParams.get("repo");
    if (!repo) throw new ApiError(400, "repository name (?repo=) is required");
    const tag = ctx.url.searchParams.get("tag") || "latest";
    await images.tag(ctx.params[0]!, `${repo}:${tag}`);
    events.emit("image", "tag", ctx.params[0]!, { name: `${repo}:${tag}` });
    ctx.res!.writeHead(201, commonHeaders());
    ctx.res!.end();
  });

  router.add("POST", "/images/{name*}/push", async (ctx) => {
    const tag = ctx.url.searchParams.get("tag");
    const reference = tag ? `${ctx.params[0]}:${tag}` : ctx.params[0]!;
    images.resolve(reference);
    const out = progressStream(ctx);
    try {
      await withRegistryAuth(ctx.req.headers["x-registry-auth"], () => images.push(reference, { progress: out.progress }));
      events.emit("image", "push", reference, { name: reference });
      out.end();
    } catch (e) {
      out.fail(e);
    }
  });

  router.add("DELETE", "/images/{name*}", async (ctx) => {
    const report = await images.remove(ctx.params[0]!, { force: query.bool(ctx.url, "force") });
    for (const line of report) {
      if ("Deleted" in line) events.emit("image", "delete", line.Deleted, {});
      else events.emit("image", "untag", line.Untagged, { name: line.Untagged });
    }
    sendJson(
      ctx,
      200,
      report.map((l) => ("Untagged" in l ? { Untagged: familiarName(parseReference(l.Untagged)) } : l)),
    );
  });
}
