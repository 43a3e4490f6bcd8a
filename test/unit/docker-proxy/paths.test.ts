import { describe, expect, it } from "vitest";
import { agentPathOf, checkedAgentPath, isDockerProxyUrl, parseProxyPath } from "../../../server/docker-proxy/paths";

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

  it.each([
    "/api/docker/h/v1.43/containers/create#/wait",
    "/api/docker/h/v1.43/containers/prune#/x/wait",
    "/api/docker/h/v1.43/images/evil/push#/json",
    "/api/docker/h/v1.43/images/load#/get",
    "/api/docker/h/v1.43/containers/a[b]/json",
    "/api/docker/h/v1.43/containers/a\"b/json",
    "/api/docker/h/v1.43/containers/a<b>/json",
    "/api/docker/h/v1.43/containers/a^b/json",
    "/api/docker/h/v1.43/containers/a`b/json",
    "/api/docker/h/v1.43/containers/a{b}/json",
    "/api/docker/h/v1.43/containers/a|b/json",
    "/api/docker/h/v1.43/containers/\u00e9/json",
  ])("refuses characters outside RFC 3986 paths: %j", (url) => {
    const r = parseProxyPath(url);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/RFC 3986|control characters/);
  });

  it("accepts every RFC 3986 path character, and the agent routes exactly the judged path", () => {
    const r = parseProxyPath("/api/docker/h/v1.43/images/reg:5000/a-b_c.d~e!$&'()*+,;=@x/json?tag=1");
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.path).toBe("/images/reg:5000/a-b_c.d~e!$&'()*+,;=@x/json");
    expect(checkedAgentPath(r.value)).toBe("/v1.43/images/reg:5000/a-b_c.d~e!$&'()*+,;=@x/json?tag=1");
  });

  it("checkedAgentPath refuses anything the agent's new URL() would route differently", () => {
    const judged = (path: string, search = "", apiVersion: string | null = "1.43") => checkedAgentPath({ hostRef: "h", apiVersion, path, search });
    expect(judged("/containers/json", "?all=1")).toBe("/v1.43/containers/json?all=1");
    expect(judged("/_ping", "", null)).toBe("/_ping");
    expect(judged("/containers/json", "?")).toBe("/v1.43/containers/json?");
    // A fragment cuts the path short: judged as /containers/create#/wait, routed as /containers/create.
    expect(judged("/containers/create#/wait")).toBeNull();
    expect(judged("/containers/x", "?a=1#frag")).toBeNull();
    // Dot segments and encodings the parser rewrites.
    expect(judged("/containers/x/../../images/json")).toBeNull();
    expect(judged("/containers/%2e%2e/json")).toBeNull();
    expect(judged("/containers/a b/json")).toBeNull();
    expect(judged("/containers/json", "?a='1'")).toBeNull();
    expect(judged("/containers/json", "?a=<b>")).toBeNull();
    // A path that is not absolute-path-relative would change the origin.
    expect(judged("//evil/containers/json", "", null)).toBeNull();
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
