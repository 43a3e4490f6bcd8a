import type { ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ContainerArchive } from "../engine/archive";
import { type ContainerPathStat, encodePathStat, PATH_STAT_HEADER } from "../engine/archive-stat";
import { commonHeaders, type Ctx, query, Router } from "./http";

// docker cp and docker export: /containers/{id}/archive (HEAD: the path's
// stat; GET: its tar; PUT: a tar extracted into it) and /containers/{id}/export.
// Translation only; the work is engine/archive.ts.

/** A tar answer (with the stat header for archive GETs); resolves once it is sent or the client went away. */
function sendTar(res: ServerResponse) {
  return async (tar: Readable, stat?: ContainerPathStat): Promise<void> => {
    res.writeHead(200, { ...commonHeaders(), "Content-Type": "application/x-tar", ...(stat ? { [PATH_STAT_HEADER]: encodePathStat(stat) } : {}) });
    // A client that goes away ends the walk (and lets the container's lock go); nothing more to tell it.
    await pipeline(tar, res).catch(() => {});
  };
}

const pathOf = (ctx: Ctx) => ctx.url.searchParams.get("path") ?? "";

export function archiveRoutes(router: Router, archive: ContainerArchive): void {
  router.add("HEAD", "/containers/{id}/archive", async (ctx) => {
    const stat = await archive.stat(ctx.params[0]!, pathOf(ctx));
    ctx.res!.writeHead(200, { ...commonHeaders(), "Content-Type": "application/json", [PATH_STAT_HEADER]: encodePathStat(stat) });
    ctx.res!.end();
  });

  router.add("GET", "/containers/{id}/archive", async (ctx) => {
    await archive.get(ctx.params[0]!, pathOf(ctx), sendTar(ctx.res!));
  });

  router.add("PUT", "/containers/{id}/archive", async (ctx) => {
    await archive
      .put(ctx.params[0]!, pathOf(ctx), ctx.req, {
        noOverwriteDirNonDir: query.bool(ctx.url, "noOverwriteDirNonDir"),
        copyUIDGID: query.bool(ctx.url, "copyUIDGID"),
      })
      .catch((e: unknown) => {
        // Refused before the upload was read (no such container, bad path): let it arrive and go, so the client reads the answer.
        if (!ctx.req.readableEnded) ctx.req.resume();
        throw e;
      });
    ctx.res!.writeHead(200, { ...commonHeaders(), "Content-Length": "0" });
    ctx.res!.end();
  });

  // Without this a HEAD would take the GET route, and walk the whole filesystem for an answer with no body.
  router.add("HEAD", "/containers/{id}/export", (ctx) => {
    archive.exists(ctx.params[0]!);
    ctx.res!.writeHead(200, { ...commonHeaders(), "Content-Type": "application/x-tar" });
    ctx.res!.end();
  });

  router.add("GET", "/containers/{id}/export", async (ctx) => {
    await archive.export(ctx.params[0]!, sendTar(ctx.res!));
  });
}
