import { describe, expect, it } from "vitest";
import { ENDPOINTS, matchEndpoint } from "../../../server/docker-proxy/endpoints";
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
  ])("%s %s?%s needs %j", (method, path, query, permissions) => {
    const m = matchEndpoint(method, path, q(query));
    expect(m).not.toBeNull();
    expect(m!.permissions.sort()).toEqual([...permissions].sort());
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
    ["GET", "/containers/web/archive"],
    ["PUT", "/containers/web/archive"],
    ["HEAD", "/containers/web/archive"],
    ["GET", "/containers/web/export"],
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
    // The agent has no update route: not forwarded.
    ["POST", "/containers/web/update"],
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
