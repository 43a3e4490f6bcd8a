import type { ImageService } from "../images/image-service";
import { RegistryRateLimited } from "../images/errors";
import { ApiError, toClientError } from "./errors";
import { commonHeaders, type Router, sendJson } from "./http";
import { withRegistryAuth } from "./registry-auth";

// GET /distribution/{name}/json — Docker's distribution inspect: the
// descriptor a tag points at in its registry (a HEAD on the manifest, with
// the request's X-Registry-Auth and this host's registry settings) and the
// platforms it offers. A 429 from the registry is answered as a 429 with its
// Retry-After, so whoever asked can back off.

export function distributionRoutes(router: Router, images: ImageService): void {
  router.add("GET", "/distribution/{name*}/json", async (ctx) => {
    const name = ctx.params[0]!;
    // Docker reads 64 hex characters as an image id, which has no registry to ask.
    if (/^(sha256:)?[a-f0-9]{64}$/.test(name)) throw new ApiError(400, `no manifest found for full image ID: ${name} names a local image, not a registry reference`);
    try {
      const answer = await withRegistryAuth(ctx.req.headers["x-registry-auth"], () => images.distribution(name));
      sendJson(ctx, 200, answer);
    } catch (e) {
      if (!(e instanceof RegistryRateLimited)) throw e;
      const err = toClientError(e);
      const text = JSON.stringify({ message: err.message });
      ctx.res!.writeHead(429, {
        ...commonHeaders(),
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(text),
        "Retry-After": String(e.retryAfterSeconds),
      });
      ctx.res!.end(text);
    }
  });
}
