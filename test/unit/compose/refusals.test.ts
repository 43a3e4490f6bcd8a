import { describe, expect, it } from "vitest";
import { LIMITS, loadStack } from "@/lib/compose/load";
import { files, problemsOf } from "./helpers";

describe("schema errors carry the path and the line", () => {
  it("an unknown key (a typo) is refused with a suggestion", () => {
    expect(problemsOf("services:\n  web:\n    imgae: nginx\n")).toEqual([
      { file: "compose.yaml", path: "services.web.imgae", line: 3, column: 5, message: 'services.web.imgae is not a key the Compose Specification knows here (did you mean "image"?)' },
    ]);
  });

  it("a wrong type", () => {
    expect(problemsOf("services:\n  web:\n    image: nginx\n    ports: 80\n")).toEqual([
      { file: "compose.yaml", path: "services.web.ports", line: 4, column: 5, message: "services.web.ports must be a list" },
    ]);
  });

  it("inside a oneOf: the branch that fits is the one reported", () => {
    const problems = problemsOf("services:\n  web:\n    image: nginx\n    ports:\n      - 80\n      - {target: http}\n      - true\n");
    expect(problems.map((p) => [p.path, p.line, p.message])).toEqual([
      ["services.web.ports[1].target", 6, "services.web.ports[1].target must be an integer"],
      ["services.web.ports[2]", 7, "services.web.ports[2] must be a number, a string or a mapping"],
    ]);
  });

  it("a bad enum value and a missing required key", () => {
    const problems = problemsOf("services:\n  web:\n    image: nginx\n    pull_policy: sometimes\n    depends_on:\n      db: {}\n  db:\n    image: pg\n");
    expect(problems.map((p) => [p.path, p.line])).toEqual([
      ["services.web.pull_policy", 4],
      ["services.web.depends_on.db", 6],
    ]);
    expect(problems[0]!.message).toContain('must be one of "always", "never", "if_not_present", "build", "missing"');
    expect(problems[1]!.message).toContain('needs "condition"');
  });

  it("a top-level typo", () => {
    expect(problemsOf("services:\n  web:\n    image: nginx\nvolume:\n  data: {}\n")[0]).toMatchObject({ path: "volume", line: 4, message: 'volume is not a key the Compose Specification knows here (did you mean "volumes"?)' });
  });
});

describe("what Berth doesn't implement is refused by path, never dropped", () => {
  const refused = (yaml: string) => problemsOf(yaml).map((p) => [p.path, p.line, p.message] as const);

  it("build, with what to do instead", () => {
    expect(refused("services:\n  web:\n    image: app\n    build: .\n")).toEqual([
      ["services.web.build", 4, "services.web.build is not supported by Berth stacks: build the image and push it to a registry, then name it in `image`"],
    ]);
  });

  it("service keys: links, volumes_from, configs, platform, runtime", () => {
    const problems = refused("services:\n  web:\n    image: app\n    links: [db]\n    volumes_from: [db]\n    configs: [c]\n    platform: linux/arm64\n    runtime: kata\n");
    expect(problems.map(([p]) => p)).toEqual(["services.web.links", "services.web.volumes_from", "services.web.configs", "services.web.platform", "services.web.runtime"]);
    expect(problems.map(([, line]) => line)).toEqual([4, 5, 6, 7, 8]);
  });

  it("top-level configs and include", () => {
    expect(refused("services:\n  web:\n    image: app\nconfigs:\n  c: {file: ./c}\ninclude: [other.yaml]\n").map(([p, l]) => [p, l])).toEqual([
      ["configs", 4],
      ["include", 6],
    ]);
  });

  it("secrets from a file or the environment: store them as Berth secrets", () => {
    const problems = refused("services:\n  web:\n    image: app\nsecrets:\n  a: {file: ./a.txt}\n  b: {environment: B}\n  c: {}\n");
    expect(problems).toEqual([
      ["secrets.a.file", 5, "secrets.a.file: a secret's value from `file` is not supported by Berth stacks: store the value as a Berth secret (Secrets page) and declare it `external: true`"],
      ["secrets.b.environment", 6, "secrets.b.environment: a secret's value from `environment` is not supported by Berth stacks: store the value as a Berth secret (Secrets page) and declare it `external: true`"],
      ["secrets.c", 7, 'secrets.c: secret "c" must be declared `external: true`: store the value as a Berth secret (Secrets page) and declare it `external: true`'],
    ]);
  });

  it("swarm deploy settings, reservations, healthcheck start_interval", () => {
    const problems = refused(
      "services:\n  web:\n    image: app\n    deploy:\n      mode: global\n      resources:\n        reservations: {memory: 1g}\n    healthcheck:\n      test: [CMD, x]\n      start_interval: 1s\n",
    );
    expect(problems.map(([p, l]) => [p, l])).toEqual([
      ["services.web.deploy.mode", 5],
      ["services.web.deploy.resources.reservations", 7],
      ["services.web.healthcheck.start_interval", 10],
    ]);
  });

  it("network modes, pid and ipc other than host", () => {
    const problems = refused("services:\n  a:\n    image: x\n    network_mode: service:b\n    pid: container:b\n    ipc: shareable\n  b:\n    image: x\n");
    expect(problems.map(([p]) => p)).toEqual(["services.a.network_mode", "services.a.pid", "services.a.ipc"]);
    expect(problems[0]![2]).toContain("sharing another container's network stack");
  });

  it("volume and network drivers, IPv6, bind propagation, long-form port mode ingress", () => {
    const problems = refused(
      "services:\n  a:\n    image: x\n    ports: [{target: 80, mode: ingress}]\n    volumes: [{type: bind, source: /a, target: /a, bind: {propagation: rshared}}]\nnetworks:\n  n: {driver: overlay, enable_ipv6: true}\nvolumes:\n  v: {driver: nfs}\n",
    );
    expect(problems.map(([p]) => p)).toEqual(["services.a.ports[0].mode", "services.a.volumes[0].bind.propagation", "networks.n.driver", "networks.n.enable_ipv6", "volumes.v.driver"]);
  });

  it("a relative bind path has no meaning on the host", () => {
    expect(problemsOf("services:\n  a:\n    image: x\n    volumes: [./data:/data]\n")[0]).toMatchObject({
      path: "services.a.volumes[0]",
      line: 4,
      message: 'services.a.volumes[0]: the bind source "./data" is relative; a Berth stack has no project directory on the host: use an absolute host path or a named volume',
    });
  });

  it("a service without an image", () => {
    expect(problemsOf("services:\n  a:\n    command: x\n")[0]).toMatchObject({ path: "services.a.image", line: 2 });
  });

  it("undeclared volumes, networks, secrets and dependencies", () => {
    const problems = problemsOf("services:\n  a:\n    image: x\n    volumes: [data:/d]\n    networks: [n]\n    secrets: [s]\n    depends_on: [ghost]\n");
    expect(problems.map((p) => [p.path, p.line])).toEqual([
      ["services.a.volumes[0]", 4],
      ["services.a.networks.n", 5],
      ["services.a.secrets[0]", 6],
      ["services.a.depends_on.ghost", 7],
    ]);
  });

  it("x- extensions anywhere are ignored, not refused", () => {
    const r = loadStack({ files: files({ "compose.yaml": "x-common: &c\n  image: x\nservices:\n  a:\n    <<: *c\n    x-note: hi\n" }) }, { stackName: "s" });
    expect(r.ok).toBe(true);
  });

  it("a value the deploy spec refuses is reported at its compose key", () => {
    const problems = problemsOf("services:\n  a:\n    image: 'UPPER/Case:bad tag'\n    user: 'root; rm'\n");
    expect(problems.map((p) => p.path)).toEqual(["services.a.image", "services.a.user"]);
  });
});

describe("YAML and size limits", () => {
  it("a YAML syntax error has its line", () => {
    expect(problemsOf("services:\n  web:\n    image: nginx\n   ports: [80\n")[0]).toMatchObject({ file: "compose.yaml", path: "", line: 4 });
  });

  it("duplicate keys are refused", () => {
    const p = problemsOf("services:\n  web:\n    image: a\n    image: b\n");
    expect(p[0]).toMatchObject({ line: 4 });
    expect(p[0]!.message).toContain("unique");
  });

  it("an alias bomb is refused", () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]", ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(", ")}]`), "services: {}"].join("\n");
    const p = problemsOf(bomb);
    expect(p[0]!.message).toContain("expands its YAML aliases too many times");
  });

  it("files over 1 MiB and stacks over 200 services", () => {
    const big = `services:\n  a:\n    image: x\n    command: "${"y".repeat(LIMITS.fileBytes)}"\n`;
    expect(problemsOf(big)[0]!.message).toContain("at most 1048576 bytes");
    const many = `services:\n${Array.from({ length: LIMITS.services + 1 }, (_, i) => `  s${i}:\n    image: x\n`).join("")}`;
    expect(problemsOf(many)[0]!.message).toContain("at most 200 services");
  });

  it("a file path outside the stack, a missing compose file, an empty file", () => {
    expect(problemsOf({ files: [{ path: "../x.yaml", content: "" }] })[0]!.message).toContain("is not a relative file path inside the stack");
    expect(problemsOf({ files: [{ path: "notes.txt", content: "" }] })[0]!.message).toBe("the stack has no compose file (compose.yaml)");
    expect(problemsOf({ files: [{ path: "compose.yaml", content: "# nothing\n" }] })[0]!.message).toBe("compose.yaml is empty");
  });
});
