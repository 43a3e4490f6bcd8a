import { describe, expect, it } from "vitest";
import { auditsEveryCall, ENDPOINTS, matchEndpoint } from "../../../server/docker-proxy/endpoints";
import { isPermission } from "../../../lib/permissions";

const q = (s: string) => new URLSearchParams(s);

describe("Docker-API proxy: endpoint → permission table", () => {
  it.each([
    ["HEAD", "/_ping", "", ["hosts.read"]],
    ["GET", "/_ping", "", ["hosts.read"]],
    ["GET", "/version", "", ["hosts.read"]],
    ["GET", "/info", "", ["hosts.read"]],
    ["GET", "/containers/json", "all=1", ["containers.read"]],
    ["POST", "/containers/create", "name=web", ["containers.deploy"]],
    ["GET", "/containers/web/json", "", ["containers.read"]],
    ["GET", "/containers/web/logs", "follow=1", ["containers.logs"]],
    ["POST", "/containers/web/wait", "condition=next-exit", ["containers.read"]],
    ["POST", "/containers/web/attach", "stream=1&stdout=1&stderr=1", ["containers.logs"]],
    ["POST", "/containers/web/attach", "stream=1&stdin=1&stdout=1", ["containers.logs", "containers.exec"]],
    ["POST", "/containers/web/attach", "stdin=true", ["containers.logs", "containers.exec"]],
    ["POST", "/containers/web/attach", "stdin=0", ["containers.logs"]],
    ["POST", "/containers/web/start", "", ["containers.control"]],
    ["POST", "/containers/web/stop", "t=1", ["containers.control"]],
    ["POST", "/containers/web/kill", "", ["containers.control"]],
    ["POST", "/containers/web/rename", "name=x", ["containers.deploy"]],
    ["DELETE", "/containers/web", "force=1", ["containers.delete"]],
    ["POST", "/containers/prune", "", ["containers.delete"]],
    ["POST", "/containers/web/exec", "", ["containers.exec"]],
    ["POST", "/exec/abc/start", "", ["containers.exec"]],
    ["GET", "/exec/abc/json", "", ["containers.exec"]],
    ["GET", "/images/json", "", ["images.read"]],
    ["POST", "/images/create", "fromImage=alpine&tag=latest", ["images.pull"]],
    ["POST", "/images/create", "fromSrc=-", ["images.build"]],
    ["GET", "/images/127.0.0.1:5000/team/app:1/json", "", ["images.read"]],
    ["DELETE", "/images/127.0.0.1:5000/team/app:1", "", ["images.delete"]],
    ["POST", "/images/app/tag", "repo=x", ["images.pull"]],
    ["POST", "/images/app/push", "", ["images.pull", "images.build"]],
    ["POST", "/build", "", ["images.build"]],
    // A commit copies the container's env (secrets included) into an image: it needs exec as well.
    ["POST", "/commit", "container=web&repo=x", ["containers.read", "containers.exec", "images.build"]],
    ["GET", "/networks", "", ["hosts.read"]],
    ["POST", "/networks/create", "", ["networks.manage"]],
    ["DELETE", "/networks/n1", "", ["networks.manage"]],
    ["GET", "/volumes", "", ["hosts.read"]],
    ["POST", "/volumes/create", "", ["volumes.manage"]],
    ["DELETE", "/volumes/v1", "", ["volumes.manage"]],
    // docker update is a deploy (and judged by the policy's resource rules).
    ["POST", "/containers/web/update", "", ["containers.deploy"]],
    // A container's files: any look needs what exec needs; writing them is an exec's power.
    ["HEAD", "/containers/web/archive", "path=/etc", ["containers.read", "containers.exec"]],
    ["GET", "/containers/web/archive", "path=/etc", ["containers.read", "containers.exec"]],
    ["GET", "/containers/web/export", "", ["containers.read", "containers.exec"]],
    ["PUT", "/containers/web/archive", "path=/srv&noOverwriteDirNonDir=true", ["containers.exec"]],
    // What docker-compose calls besides: each is in the table.
    ["POST", "/networks/n1/connect", "", ["networks.manage"]],
    ["POST", "/networks/n1/disconnect", "", ["networks.manage"]],
    ["POST", "/containers/prune", "filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D", ["containers.delete"]],
    ["POST", "/containers/web/wait", "condition=removed", ["containers.read"]],
    ["GET", "/events", "filters=%7B%22type%22%3A%5B%22container%22%5D%7D&since=1", ["hosts.read", "containers.read"]],
    ["GET", "/system/df", "", ["hosts.read", "containers.read", "images.read"]],
    ["GET", "/containers/json", "filters=%7B%22label%22%3A%5B%22com.docker.compose.project%3Dp%22%5D%7D", ["containers.read"]],
    ["GET", "/volumes", "filters=%7B%22label%22%3A%5B%22com.docker.compose.project%3Dp%22%5D%7D", ["hosts.read"]],
  ])("%s %s?%s needs %j", (method, path, query, permissions) => {
    const m = matchEndpoint(method, path, q(query));
    expect(m).not.toBeNull();
    expect(m!.permissions.sort()).toEqual([...permissions].sort());
  });

  it("audits cp out and export whatever the outcome, as it does changes; a stat is a read", () => {
    expect(auditsEveryCall(matchEndpoint("GET", "/containers/web/archive")!.endpoint)).toBe(true);
    expect(auditsEveryCall(matchEndpoint("GET", "/containers/web/export")!.endpoint)).toBe(true);
    expect(auditsEveryCall(matchEndpoint("PUT", "/containers/web/archive")!.endpoint)).toBe(true);
    expect(auditsEveryCall(matchEndpoint("HEAD", "/containers/web/archive")!.endpoint)).toBe(false);
    expect(auditsEveryCall(matchEndpoint("GET", "/containers/web/logs")!.endpoint)).toBe(false);
  });

  it("container inspect is read whole so secrets can be masked", () => {
    expect(matchEndpoint("GET", "/containers/web/json")!.endpoint.kind).toBe("containerInspect");
  });

  it("names the path's parameters", () => {
    expect(matchEndpoint("GET", "/images/127.0.0.1:5000/team/app:1/json")!.params).toEqual(["127.0.0.1:5000/team/app:1"]);
    expect(matchEndpoint("POST", "/containers/abc123/start")!.params).toEqual(["abc123"]);
    expect(matchEndpoint("GET", "/containers/json")!.endpoint.action).toBe("docker.containers.list");
  });

  it.each([
    // docker cp and export are mapped (issue 17); other methods on them, and diff, are not.
    ["POST", "/containers/web/archive"],
    ["DELETE", "/containers/web/archive"],
    ["GET", "/containers/web/changes"],
    ["POST", "/swarm/init"],
    ["GET", "/plugins"],
    ["POST", "/plugins/pull"],
    ["GET", "/secrets"],
    ["POST", "/session"],
    ["GET", "/containers/create"],
    ["DELETE", "/containers/web/json"],
    ["PATCH", "/containers/json"],
    ["GET", "/"],
    ["GET", "/containers"],
    ["POST", "/_ping"],
  ])("%s %s is not in the table (denied)", (method, path) => {
    expect(matchEndpoint(method, path)).toBeNull();
  });

  it("every entry names real host permissions and a docker.* or exec audit action", () => {
    for (const e of ENDPOINTS) {
      const perms = typeof e.permissions === "function" ? e.permissions(q("stdin=1&fromSrc=-")) : e.permissions;
      expect(perms.length).toBeGreaterThan(0);
      for (const p of perms) expect(isPermission(p), `${e.route}: ${p}`).toBe(true);
      expect(e.action).toMatch(/^(docker\.|containers\.exec\.)/);
    }
  });
});
