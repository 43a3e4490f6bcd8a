import { describe, expect, it } from "vitest";
import { createRouteLabeler, UNMATCHED_ROUTE } from "../../../server/metrics/route-label";

// The route label is the pattern a request matched, from Next's routes
// manifest (in Next's order) plus the gateway's own routes: never the raw
// path, so the number of series can't grow with ids or probes.

const manifest = {
  staticRoutes: [
    { page: "/", regex: "^/(?:/)?$" },
    { page: "/hosts", regex: "^/hosts(?:/)?$" },
    { page: "/hosts/new", regex: "^/hosts/new(?:/)?$" },
    { page: "/api/v1/hosts", regex: "^/api/v1/hosts(?:/)?$" },
  ],
  dynamicRoutes: [
    { page: "/api/trpc/[trpc]", regex: "^/api/trpc/([^/]+?)(?:/)?$" },
    { page: "/api/v1/hosts/[hostId]", regex: "^/api/v1/hosts/([^/]+?)(?:/)?$" },
    { page: "/api/v1/hosts/[hostId]/images/pull", regex: "^/api/v1/hosts/([^/]+?)/images/pull(?:/)?$" },
    { page: "/api/v1/hosts/[hostId]/images/[imageId]", regex: "^/api/v1/hosts/([^/]+?)/images/([^/]+?)(?:/)?$" },
    { page: "/api/v1/[[...path]]", regex: "^/api/v1(?:/(.+?))?(?:/)?$" },
    { page: "/hosts/[hostId]", regex: "^/hosts/([^/]+?)(?:/)?$" },
    { page: "/bad", regex: "([" },
  ],
};

describe("route labels", () => {
  const label = createRouteLabeler(manifest);

  it("names the pattern, not the path: ids and query strings never reach the label", () => {
    expect(label("/api/v1/hosts/cm1abc")).toBe("/api/v1/hosts/[hostId]");
    expect(label("/api/v1/hosts/other-id?x=1")).toBe("/api/v1/hosts/[hostId]");
    expect(label("/hosts/cm9?tab=logs#top")).toBe("/hosts/[hostId]");
    expect(label("/api/trpc/hosts.list,containers.list?batch=1")).toBe("/api/trpc/[trpc]");
  });

  it("static pages first, then dynamic ones in Next's order", () => {
    expect(label("/hosts/new")).toBe("/hosts/new");
    expect(label("/api/v1/hosts/h1/images/pull")).toBe("/api/v1/hosts/[hostId]/images/pull");
    expect(label("/api/v1/hosts/h1/images/sha256:abc")).toBe("/api/v1/hosts/[hostId]/images/[imageId]");
    expect(label("/api/v1/no/such/thing")).toBe("/api/v1/[[...path]]");
    expect(label("/")).toBe("/");
  });

  it("the gateway's own routes, served before Next", () => {
    expect(label("/metrics")).toBe("/metrics");
    expect(label("/metrics?x=1")).toBe("/metrics");
    expect(label("/api/docker/host-1/v1.43/containers/abc/json")).toBe("/api/docker/[host]");
    expect(label("/_next/static/chunks/app-123.js")).toBe("/_next/static");
  });

  it("anything else is one label, however many distinct paths arrive", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) seen.add(label(`/probe-${i}/wp-admin.php`));
    seen.add(label(undefined));
    seen.add(label("*"));
    seen.add(label(`/${"a".repeat(5000)}`));
    expect([...seen]).toEqual([UNMATCHED_ROUTE]);
  });

  it("an unreadable pattern in the manifest is skipped, not fatal", () => {
    expect(label("/bad")).toBe(UNMATCHED_ROUTE);
  });
});
