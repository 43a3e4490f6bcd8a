import { describe, expect, it } from "vitest";
import { agentPathOf, isDockerProxyUrl, parseProxyPath } from "../../../server/docker-proxy/paths";

describe("Docker-API proxy paths", () => {
  it("splits host, API version, path and query", () => {
    const r = parseProxyPath("/api/docker/host-1/v1.43/containers/json?all=1");
    expect(r).toEqual({ ok: true, value: { hostRef: "host-1", apiVersion: "1.43", path: "/containers/json", search: "?all=1" } });
    if (r.ok) expect(agentPathOf(r.value)).toBe("/v1.43/containers/json?all=1");
    const unversioned = parseProxyPath("/api/docker/web.example/_ping");
    expect(unversioned).toEqual({ ok: true, value: { hostRef: "web.example", apiVersion: null, path: "/_ping", search: "" } });
    if (unversioned.ok) expect(agentPathOf(unversioned.value)).toBe("/_ping");
  });

  it("keeps image references with registry, slashes and tags intact", () => {
    const r = parseProxyPath("/api/docker/h/v1.43/images/127.0.0.1:5000/team/app:1.2/json");
    expect(r.ok && r.value.path).toBe("/images/127.0.0.1:5000/team/app:1.2/json");
  });

  it.each([
    ["/api/docker/h/v1.43/containers/x/../../images/json", /dot segments/],
    ["/api/docker/h/v1.43/containers/./json", /dot segments/],
    ["/api/docker/h/v1.43/containers/%2e%2e/json", /percent-encoded/],
    ["/api/docker/h/v1.43/%2E%2E%2fimages/json", /percent-encoded/],
    ["/api/docker/h//containers/json", /empty path segments/],
    ["/api/docker/h/v1.43//containers/json", /empty path segments/],
    ["/api/docker/h/v1.43/containers\\..\\json", /backslashes/],
    ["/api/docker/h/v1.43/containers/a b/json", /control characters and spaces/],
    ["/api/docker/h/v1.43/containers/\u0000/json", /control characters/],
    ["/api/docker/h/containers/json?x=\u0001", /control characters/],
    ["/api/docker/../etc/passwd", /dot segments/],
    ["/api/docker/-bad/_ping", /host id or name/],
    ["/api/docker/h", /not a Docker-API proxy path|no Docker API path/],
    ["/api/docker/h/", /no Docker API path/],
    ["/api/docker/h/v1.43", /no Docker API path/],
    ["/api/v1/hosts", /not a Docker-API proxy path/],
  ])("refuses %j", (url, message) => {
    const r = parseProxyPath(url);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });

  it("refuses very long paths", () => {
    expect(parseProxyPath(`/api/docker/h/containers/${"a".repeat(9000)}/json`).ok).toBe(false);
  });

  it("recognises only its own prefix", () => {
    expect(isDockerProxyUrl("/api/docker/h/_ping")).toBe(true);
    expect(isDockerProxyUrl("/api/docker")).toBe(true);
    expect(isDockerProxyUrl("/api/dockerx/h")).toBe(false);
    expect(isDockerProxyUrl("/api/v1/hosts")).toBe(false);
    expect(isDockerProxyUrl(undefined)).toBe(false);
  });
});
