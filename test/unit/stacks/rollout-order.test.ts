import { describe, expect, it } from "vitest";
import type { StackDependency, StackService } from "../../../lib/compose/model";
import { deploySpecSchema, type DeploySpecInput } from "../../../lib/deploy/spec";
import { digestFor, digestRef, followedRef, pinnedTo, repositoryOf, rolloutOrder, servicesOfRepository, strategyFor } from "../../../server/rollouts/stack-order";

// A stack rollout's pure decisions: which services an image belongs to, the
// order they roll in (dependencies first), and start-first or stop-first.

const dep = (service: string): StackDependency => ({ service, condition: "service_started", required: true, restart: false });

function service(name: string, spec: DeploySpecInput, more: Partial<StackService> = {}): StackService {
  return {
    name,
    spec: deploySpecSchema.parse(spec),
    networks: [{ network: "front", aliases: [] }],
    networkMode: null,
    dependsOn: [],
    replicas: 1,
    secrets: [],
    extra: {},
    profiles: [],
    ...more,
  };
}

describe("rolloutOrder", () => {
  it("puts every dependency before its dependents, whatever order the file lists them in", () => {
    const services = [
      service("web", { image: "web" }, { dependsOn: [dep("api")] }),
      service("api", { image: "api" }, { dependsOn: [dep("db"), dep("cache")] }),
      service("cache", { image: "cache" }),
      service("db", { image: "db" }),
      service("worker", { image: "w" }, { dependsOn: [dep("db")] }),
    ];
    const order = rolloutOrder(services);
    expect(order).toEqual(["db", "cache", "api", "web", "worker"]);
    for (const s of services) for (const d of s.dependsOn) expect(order.indexOf(d.service)).toBeLessThan(order.indexOf(s.name));
  });

  it("keeps the order of the services chosen only, dependencies first", () => {
    const services = [service("web", { image: "x" }, { dependsOn: [dep("api")] }), service("api", { image: "x" }, { dependsOn: [dep("db")] }), service("db", { image: "x" })];
    expect(rolloutOrder(services, ["web", "db"])).toEqual(["db", "web"]);
  });

  it("orders a service sharing another's network after it", () => {
    const services = [service("sidecar", { image: "x" }, { networkMode: "service:app" }), service("app", { image: "x" })];
    expect(rolloutOrder(services)).toEqual(["app", "sidecar"]);
  });

  it("ignores a dependency outside the stack and refuses a cycle, naming it", () => {
    expect(rolloutOrder([service("a", { image: "x" }, { dependsOn: [dep("gone")] })])).toEqual(["a"]);
    const cycle = [service("a", { image: "x" }, { dependsOn: [dep("b")] }), service("b", { image: "x" }, { dependsOn: [dep("a")] })];
    expect(() => rolloutOrder(cycle)).toThrow("a cycle: a → b → a");
  });
});

describe("which services an image is for", () => {
  const services = [service("api", { image: "registry.example:5000/team/api:1.2" }), service("web", { image: "nginx" }), service("proxy", { image: "docker.io/library/nginx:1.27" })];

  it("matches the repository, whatever the tag or digest", () => {
    expect(servicesOfRepository(services, "registry.example:5000/team/api:1.3")).toEqual(["api"]);
    expect(servicesOfRepository(services, `registry.example:5000/team/api@sha256:${"a".repeat(64)}`)).toEqual(["api"]);
    expect(servicesOfRepository(services, "nginx:1.28")).toEqual(["web", "proxy"]);
    expect(servicesOfRepository(services, "registry.example:5000/team/other:1")).toEqual([]);
    expect(servicesOfRepository(services, "not a reference")).toEqual([]);
    expect(repositoryOf(`sha256:${"b".repeat(64)}`)).toBeNull();
  });

  it("finds the digest of the repository among an image's RepoDigests and pins a reference to it", () => {
    const digest = `sha256:${"c".repeat(64)}`;
    expect(digestFor("nginx:1.27", [`other/repo@${digest}`, `nginx@${digest}`])).toBe(`nginx@${digest}`);
    expect(digestFor("nginx:1.27", [`other/repo@${digest}`])).toBeNull();
    // The tag stays beside the digest: the digest runs, the tag is what the service follows.
    expect(pinnedTo("registry.example:5000/team/api:1.2", digest)).toBe(`registry.example:5000/team/api:1.2@${digest}`);
    expect(pinnedTo("registry.example:5000/team/api", digest)).toBe(`registry.example:5000/team/api@${digest}`);
    expect(pinnedTo("nginx:1.27", `nginx@${digest}`)).toBe(`nginx:1.27@${digest}`);
    expect(pinnedTo(`nginx:1.27@sha256:${"d".repeat(64)}`, digest)).toBe(`nginx:1.27@${digest}`);
    expect(digestRef(`registry.example:5000/team/api:1.2@${digest}`)).toBe(`registry.example:5000/team/api@${digest}`);
    expect(digestRef("registry.example:5000/team/api:1.2")).toBeNull();
    expect(followedRef(`registry.example:5000/team/api:1.2@${digest}`)).toBe("registry.example:5000/team/api:1.2");
    expect(followedRef(`registry.example:5000/team/api@${digest}`)).toBe(`registry.example:5000/team/api@${digest}`);
  });
});

describe("strategyFor", () => {
  it("is start-first unless two containers of the service can't run side by side", () => {
    expect(strategyFor(service("a", { image: "x", ports: [{ containerPort: 80 }] }))).toEqual({ strategy: "start-first", why: null });
    expect(strategyFor(service("a", { image: "x", ports: [{ containerPort: 80, hostPort: 8080 }] }))).toEqual({ strategy: "stop-first", why: "it publishes the fixed host port 8080" });
    expect(strategyFor(service("a", { image: "x" }, { networkMode: "host" })).strategy).toBe("stop-first");
    expect(strategyFor(service("a", { image: "x" }, { networks: [{ network: "front", aliases: [], ipv4Address: "10.1.0.5" }] })).strategy).toBe("stop-first");
    expect(strategyFor(service("a", { image: "x" }, { extra: { macAddress: "02:42:ac:11:00:02" } })).strategy).toBe("stop-first");
  });
});
