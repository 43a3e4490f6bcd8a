import "server-only";
import { readFileSync } from "node:fs";
import path from "node:path";

// The `route` label of berth_http_request_duration_seconds: the route
// pattern a request matched ("/api/v1/hosts/[hostId]"), never the raw path,
// so ids and probes can't grow the series. Patterns come from Next's own
// routes manifest (what it will match, in its order), plus the gateway's
// routes served before Next. Anything else is "unmatched".

export interface RouteManifest {
  staticRoutes?: { page: string; regex: string }[];
  dynamicRoutes?: { page: string; regex: string }[];
}

/** Routes the gateway serves itself (server/gateway.ts), before Next sees the request. */
const GATEWAY_ROUTES: { page: string; test: (pathname: string) => boolean }[] = [
  { page: "/metrics", test: (p) => p === "/metrics" },
  { page: "/api/docker/[host]", test: (p) => p.startsWith("/api/docker/") },
  { page: "/_next/static", test: (p) => p.startsWith("/_next/static/") },
  { page: "/_next/image", test: (p) => p === "/_next/image" },
];

export const UNMATCHED_ROUTE = "unmatched";

/** Longest path considered (a longer one is unmatched without running any pattern). */
const MAX_PATH = 2048;

export type RouteLabeler = (url: string | undefined) => string;

export function createRouteLabeler(manifest: RouteManifest): RouteLabeler {
  const compile = (routes: { page: string; regex: string }[] | undefined) =>
    (routes ?? []).flatMap((r) => {
      try {
        return [{ page: r.page, regex: new RegExp(r.regex) }];
      } catch {
        return [];
      }
    });
  // Next matches static pages first, then dynamic ones in the manifest's order.
  const routes = [...compile(manifest.staticRoutes), ...compile(manifest.dynamicRoutes)];
  return (url) => {
    const pathname = pathOf(url);
    if (pathname === null) return UNMATCHED_ROUTE;
    for (const r of GATEWAY_ROUTES) if (r.test(pathname)) return r.page;
    for (const r of routes) if (r.regex.test(pathname)) return r.page;
    return UNMATCHED_ROUTE;
  };
}

function pathOf(url: string | undefined): string | null {
  if (!url || url.length > MAX_PATH || !url.startsWith("/")) return null;
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

/** The labeler for the built app in `dir` (Next's .next); without a manifest only the gateway's own routes are named. */
export function loadRouteLabeler(dir = path.join(process.cwd(), ".next")): RouteLabeler {
  let manifest: RouteManifest = {};
  try {
    manifest = JSON.parse(readFileSync(path.join(dir, "routes-manifest.json"), "utf8")) as RouteManifest;
  } catch {
    // `next dev` before the first build: every Next route is "unmatched", still bounded.
  }
  return createRouteLabeler(manifest);
}
