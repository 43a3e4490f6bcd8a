import { describe, expect, it } from "vitest";
import { loadStack } from "@/lib/compose/load";
import { envOf, files, load, problemsOf, service } from "./helpers";

const base = `services:
  web:
    image: nginx:1.25
    command: [nginx, -g, "daemon off;"]
    environment: {A: base, B: base}
    labels: [tier=front]
    ports: ["80:80"]
    volumes: ["data:/data", "/srv/a:/a"]
    dns: 1.1.1.1
    cap_add: [NET_ADMIN]
    healthcheck: {test: [CMD, "true"], interval: 10s, retries: 3}
    networks: [front]
    logging: {driver: json-file, options: {max-size: 10m}}
networks: {front: {}, back: {}}
volumes: {data: {}, other: {}}
`;
const override = `services:
  web:
    image: nginx:1.27
    command: nginx -T
    environment: [B=override, C=new]
    labels: {owner: team}
    ports: ["80:80", "443:443"]
    volumes: ["other:/data"]
    dns: [8.8.8.8]
    cap_add: [NET_ADMIN, SYS_TIME]
    healthcheck: {test: [CMD, "false"]}
    networks: {back: {aliases: [api]}}
    logging: {options: {max-file: "3"}}
  worker:
    image: busybox
`;

function merged() {
  const r = loadStack({ files: files({ "compose.yaml": base, "compose.override.yaml": override }), composeFiles: ["compose.yaml", "compose.override.yaml"] }, { stackName: "m" });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.model;
}

describe("several compose files, merged in order", () => {
  it("scalars are replaced; command is replaced whole", () => {
    const web = service(merged(), "web");
    expect(web.spec.image).toBe("nginx:1.27");
    expect(web.spec.command).toEqual(["nginx", "-T"]);
  });

  it("environment and labels merge by key (list and map forms alike)", () => {
    const m = merged();
    expect(envOf(m, "web")).toEqual({ A: "base", B: "override", C: "new" });
    expect(service(m, "web").spec.labels).toEqual({ tier: "front", owner: "team" });
  });

  it("ports, dns and cap_add are appended without duplicates", () => {
    const web = service(merged(), "web");
    expect(web.spec.ports.map((p) => p.containerPort)).toEqual([80, 443]);
    expect(web.extra.dns).toEqual(["1.1.1.1", "8.8.8.8"]);
    expect(web.spec.capAdd).toEqual(["NET_ADMIN", "SYS_TIME"]);
  });

  it("volumes merge by target", () => {
    expect(service(merged(), "web").spec.mounts).toEqual([
      { type: "volume", source: "m_other", target: "/data", readOnly: false },
      { type: "bind", source: "/srv/a", target: "/a", readOnly: false },
    ]);
  });

  it("healthcheck merges field by field, its test replaced", () => {
    expect(service(merged(), "web").spec.healthcheck).toEqual({ test: ["CMD", "false"], intervalSeconds: 10, retries: 3 });
  });

  it("networks merge by key; logging options merge under the same driver", () => {
    const web = service(merged(), "web");
    expect(web.networks).toEqual([
      { network: "front", aliases: [] },
      { network: "back", aliases: ["api"] },
    ]);
    expect(web.extra.logging).toEqual({ driver: "json-file", options: { "max-size": "10m", "max-file": "3" } });
  });

  it("a service only in a later file is added", () => {
    expect(merged().services.map((s) => s.name).sort()).toEqual(["web", "worker"]);
  });

  it("a problem in the second file names that file and line", () => {
    const problems = problemsOf({ files: files({ "compose.yaml": base, "b.yaml": "services:\n  web:\n    privileged: maybe\n" }), composeFiles: ["compose.yaml", "b.yaml"] });
    expect(problems).toEqual([{ file: "b.yaml", path: "services.web.privileged", line: 3, column: 5, message: "services.web.privileged must be true or false" }]);
  });

  it("a compose file that isn't in the stack is refused", () => {
    expect(problemsOf({ files: files({ "compose.yaml": base }), composeFiles: ["compose.yaml", "nope.yaml"] })[0]!.message).toBe('compose file "nope.yaml" is not among the stack\'s files');
  });
});

describe("extends", () => {
  it("within one file: the base's settings under the service's own", () => {
    const m = load(`services:
  common:
    image: app:1
    environment: {LOG: info, MODE: base}
    restart: always
  web:
    extends: common
    environment: {MODE: web}
    command: serve
  worker:
    extends: {service: web}
    command: work
`);
    expect(envOf(m, "web")).toEqual({ LOG: "info", MODE: "web" });
    expect(service(m, "worker").spec.command).toEqual(["work"]);
    expect(service(m, "worker").spec.restartPolicy).toEqual({ name: "always" });
    expect(service(m, "worker").spec.image).toBe("app:1");
  });

  it("from another of the stack's files with `file:`", () => {
    const m = load("services:\n  web:\n    extends: {file: common/base.yaml, service: base}\n    environment: [B=2]\n", {
      "common/base.yaml": "services:\n  base:\n    image: app:2\n    env_file: base.env\n    environment: [A=1]\n",
      "common/base.env": "FROM_FILE=yes\n",
    });
    expect(service(m, "web").spec.image).toBe("app:2");
    expect(envOf(m, "web")).toEqual({ FROM_FILE: "yes", A: "1", B: "2" });
  });

  it("an unknown base service, a missing file and a cycle are problems", () => {
    expect(problemsOf("services:\n  web:\n    image: x\n    extends: nope\n")[0]).toMatchObject({ path: "services.web.extends", line: 4, message: 'extends names service "nope", which is not in compose.yaml' });
    expect(problemsOf("services:\n  web:\n    image: x\n    extends: {service: a, file: gone.yaml}\n")[0]!.message).toContain('extends.file "gone.yaml" is not among the stack\'s files');
    const cycle = problemsOf("services:\n  a:\n    image: x\n    extends: b\n  b:\n    image: x\n    extends: a\n");
    expect(cycle[0]!.message).toContain("extends forms a cycle");
  });
});

describe("profiles", () => {
  const compose = `services:
  web:
    image: nginx
    depends_on: [db]
  db:
    image: postgres
  debug:
    image: busybox
    profiles: [debug]
    depends_on: [web]
  tools:
    image: busybox
    profiles: [tools, debug]
`;
  it("services without profiles always run; others only when a profile is enabled", () => {
    expect(load(compose).services.map((s) => s.name)).toEqual(["db", "web"]);
    expect(load(compose, {}, { profiles: ["debug"] }).services.map((s) => s.name)).toEqual(["db", "web", "debug", "tools"]);
    expect(load(compose, {}, { profiles: ["tools"] }).services.map((s) => s.name)).toEqual(["db", "web", "tools"]);
    expect(load(compose, {}, { profiles: ["*"] }).services.map((s) => s.name)).toEqual(["db", "web", "debug", "tools"]);
    expect(service(load(compose, {}, { profiles: ["tools"] }), "tools").profiles).toEqual(["tools", "debug"]);
  });

  it("COMPOSE_PROFILES (environment or .env) enables profiles when none are asked for", () => {
    expect(load(compose, { ".env": "COMPOSE_PROFILES=tools\n" }).services.map((s) => s.name)).toEqual(["db", "web", "tools"]);
    expect(load(compose, {}, { env: { COMPOSE_PROFILES: "debug, tools" } }).services.map((s) => s.name)).toEqual(["db", "web", "debug", "tools"]);
    expect(load(compose, { ".env": "COMPOSE_PROFILES=tools\n" }, { profiles: [] }).services.map((s) => s.name)).toEqual(["db", "web"]);
  });

  it("an enabled service depending on a disabled one is a problem naming the profile", () => {
    const r = loadStack({ files: files({ "compose.yaml": "services:\n  web:\n    image: nginx\n    depends_on: [cache]\n  cache:\n    image: redis\n    profiles: [cache]\n" }) }, { stackName: "p" });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems[0]).toMatchObject({ path: "services.web.depends_on.cache", line: 4 });
    expect(!r.ok && r.problems[0]!.message).toContain('service "cache" is required by "web" but is disabled: enable profile "cache"');
  });

  it("a dependency with required: false may be disabled (a warning)", () => {
    const r = loadStack({ files: files({ "compose.yaml": "services:\n  web:\n    image: nginx\n    depends_on:\n      cache: {condition: service_started, required: false}\n  cache:\n    image: redis\n    profiles: [cache]\n" }) }, { stackName: "p" });
    expect(r.ok).toBe(true);
    expect(r.ok && r.model.services[0]!.dependsOn).toEqual([]);
    expect(r.ok && r.warnings[0]!.message).toContain("disabled by its profiles");
  });
});
