import { describe, expect, it } from "vitest";
import { loadStack } from "@/lib/compose/load";
import { files, load, problemsOf, service } from "./helpers";

const one = (svcYaml: string, top = "", env?: Record<string, string>) => service(load(`services:\n  web:\n    image: nginx:1.27\n${svcYaml}${top}`, {}, { env, stackName: "shop" }), "web");

describe("each implemented key lands in the DeploySpec or the service", () => {
  it("image, pull_policy, command and entrypoint (string split like a shell, or a list)", () => {
    const web = one(`    pull_policy: if_not_present\n    command: sh -c 'echo "hi there"'\n    entrypoint: [/docker-entrypoint.sh]\n`);
    expect(web.spec.image).toBe("nginx:1.27");
    expect(web.spec.pullPolicy).toBe("missing");
    expect(web.spec.command).toEqual(["sh", "-c", 'echo "hi there"']);
    expect(web.spec.entrypoint).toEqual(["/docker-entrypoint.sh"]);
    expect(one("    pull_policy: always\n").spec.pullPolicy).toBe("always");
  });

  it("ports: short syntax with IP, ranges, protocol, container-only; long syntax", () => {
    const web = one(`    ports:\n      - "3000"\n      - "8000-8001:80-81"\n      - "127.0.0.1:53:53/udp"\n      - "[::1]:9090:90"\n      - target: 443\n        published: "8443"\n        host_ip: 0.0.0.0\n        protocol: tcp\n`);
    expect(web.spec.ports).toEqual([
      { containerPort: 3000, protocol: "tcp" },
      { hostPort: 8000, containerPort: 80, protocol: "tcp" },
      { hostPort: 8001, containerPort: 81, protocol: "tcp" },
      { hostIp: "127.0.0.1", hostPort: 53, containerPort: 53, protocol: "udp" },
      { hostIp: "::1", hostPort: 9090, containerPort: 90, protocol: "tcp" },
      { hostIp: "0.0.0.0", hostPort: 8443, containerPort: 443, protocol: "tcp" },
    ]);
    expect(problemsOf("services:\n  w:\n    image: x\n    ports: ['8000-8002:80-81', '80/sctp']\n").map((p) => p.path)).toEqual(["services.w.ports[0]", "services.w.ports[1]"]);
  });

  it("volumes: named (real name), anonymous, bind read-only, tmpfs with size, long syntax", () => {
    const web = one(
      `    volumes:\n      - data:/data\n      - /cache\n      - /srv/conf:/etc/conf:ro\n      - type: volume\n        source: data\n        target: /also\n        read_only: true\n      - type: bind\n        source: /var/log\n        target: /logs\n      - type: tmpfs\n        target: /run/tmp\n        tmpfs: {size: 16m}\n`,
      "volumes:\n  data: {}\n",
    );
    expect(web.spec.mounts).toEqual([
      { type: "volume", source: "shop_data", target: "/data", readOnly: false },
      { type: "volume", target: "/cache", readOnly: false },
      { type: "bind", source: "/srv/conf", target: "/etc/conf", readOnly: true },
      { type: "volume", source: "shop_data", target: "/also", readOnly: true },
      { type: "bind", source: "/var/log", target: "/logs", readOnly: false },
      { type: "tmpfs", target: "/run/tmp", sizeBytes: 16 * 1024 * 1024 },
    ]);
  });

  it("top-level volumes: project-prefixed, named, external", () => {
    const m = load("services:\n  a:\n    image: x\n    volumes: [a:/a, b:/b, c:/c, d:/d]\nvolumes:\n  a:\n  b: {name: custom}\n  c: {external: true}\n  d: {external: {name: legacy}, labels: [k=v]}\n", {}, { stackName: "Shop.App" });
    expect(m.project).toBe("shopapp");
    expect(Object.fromEntries(Object.entries(m.volumes).map(([k, v]) => [k, [v.name, v.external]]))).toEqual({ a: ["shopapp_a", false], b: ["custom", false], c: ["c", true], d: ["legacy", true] });
    expect(m.volumes.d!.labels).toEqual({ k: "v" });
  });

  it("networks: the implicit default, a list, a map with aliases and ipv4_address; first is the spec's", () => {
    const m = load(
      "services:\n  a:\n    image: x\n  b:\n    image: x\n    networks:\n      back: {aliases: [db, primary], ipv4_address: 10.5.0.9}\n      front:\nnetworks:\n  front: {}\n  back:\n    internal: true\n    ipam: {config: [{subnet: 10.5.0.0/24, gateway: 10.5.0.1}]}\n  ext: {external: true, name: shared}\n",
      {},
      { stackName: "s" },
    );
    expect(service(m, "a").networks).toEqual([{ network: "default", aliases: [] }]);
    expect(service(m, "a").spec.network).toBe("s_default");
    const b = service(m, "b");
    expect(b.networks).toEqual([
      { network: "back", aliases: ["db", "primary"], ipv4Address: "10.5.0.9" },
      { network: "front", aliases: [] },
    ]);
    expect(b.spec.network).toBe("s_back");
    expect(b.spec.aliases).toEqual(["db", "primary"]);
    expect(m.networks.back).toEqual({ name: "s_back", external: false, internal: true, driver: "bridge", labels: {}, driverOpts: {}, subnet: "10.5.0.0/24", gateway: "10.5.0.1" });
    expect(m.networks.default!.name).toBe("s_default");
    expect(m.networks.ext).toMatchObject({ name: "shared", external: true });
  });

  it("no default network when no service uses it; network_mode host/none", () => {
    const m = load("services:\n  a:\n    image: x\n    network_mode: host\n  b:\n    image: x\n    network_mode: none\n");
    expect(m.networks).toEqual({});
    expect(service(m, "a")).toMatchObject({ networkMode: "host", networks: [] });
    expect(service(m, "a").spec.network).toBe("host");
    expect(service(m, "b").spec.network).toBe("none");
  });

  it("depends_on, list and map forms, normalised", () => {
    const m = load("services:\n  web:\n    image: x\n    depends_on:\n      db: {condition: service_healthy, restart: true}\n      migrate: {condition: service_completed_successfully, required: false}\n  api:\n    image: x\n    depends_on: [db]\n  db:\n    image: x\n  migrate:\n    image: x\n");
    expect(service(m, "web").dependsOn).toEqual([
      { service: "db", condition: "service_healthy", required: true, restart: true },
      { service: "migrate", condition: "service_completed_successfully", required: false, restart: false },
    ]);
    expect(service(m, "api").dependsOn).toEqual([{ service: "db", condition: "service_started", required: true, restart: false }]);
  });

  it("healthcheck: string test, list test, durations, disable", () => {
    expect(one("    healthcheck:\n      test: curl -f http://localhost\n      interval: 1m30s\n      timeout: 500ms\n      start_period: 1h\n      retries: 5\n").spec.healthcheck).toEqual({
      test: ["CMD-SHELL", "curl -f http://localhost"],
      intervalSeconds: 90,
      timeoutSeconds: 0.5,
      startPeriodSeconds: 3600,
      retries: 5,
    });
    expect(one("    healthcheck: {test: [CMD, /bin/check, --fast]}\n").spec.healthcheck).toEqual({ test: ["CMD", "/bin/check", "--fast"] });
    expect(one("    healthcheck: {disable: true}\n").spec.healthcheck).toEqual({ test: ["NONE"] });
    expect(problemsOf("services:\n  w:\n    image: x\n    healthcheck: {test: [curl], interval: soon}\n").map((p) => p.path)).toEqual(["services.w.healthcheck.test", "services.w.healthcheck.interval"]);
  });

  it("restart policies", () => {
    expect(one("    restart: unless-stopped\n").spec.restartPolicy).toEqual({ name: "unless-stopped" });
    expect(one('    restart: "no"\n').spec.restartPolicy).toEqual({ name: "no" });
    expect(one("    restart: on-failure:5\n").spec.restartPolicy).toEqual({ name: "on-failure", maximumRetryCount: 5 });
    expect(problemsOf("services:\n  w:\n    image: x\n    restart: sometimes\n")[0]).toMatchObject({ path: "services.w.restart", line: 4 });
  });

  it("user, working_dir, hostname, labels, privileges, devices, pid/ipc, read_only", () => {
    const web = one(
      "    user: 1000:1000\n    working_dir: /app\n    hostname: web1\n    labels: {team: shop, empty: null}\n    privileged: true\n    cap_add: [NET_ADMIN]\n    cap_drop: [ALL]\n    devices: [/dev/fuse, '/dev/sda:/dev/xvda:r']\n    pid: host\n    ipc: host\n    read_only: true\n",
    );
    expect(web.spec).toMatchObject({
      user: "1000:1000",
      workingDir: "/app",
      hostname: "web1",
      labels: { team: "shop", empty: "" },
      privileged: true,
      capAdd: ["NET_ADMIN"],
      capDrop: ["ALL"],
      devices: [
        { hostPath: "/dev/fuse", permissions: "rwm" },
        { hostPath: "/dev/sda", containerPath: "/dev/xvda", permissions: "r" },
      ],
      pidMode: "host",
      ipcMode: "host",
      readOnlyRootfs: true,
    });
  });

  it("deploy.resources.limits and replicas; the older keys; disagreement is a problem", () => {
    const web = one("    deploy:\n      replicas: 3\n      resources:\n        limits: {cpus: '1.5', memory: 512M, pids: 100}\n");
    expect([web.spec.cpus, web.spec.memoryBytes, web.spec.pidsLimit, web.replicas]).toEqual([1.5, 512 * 1024 * 1024, 100, 3]);
    const old = one("    cpus: 0.25\n    mem_limit: 1g\n    pids_limit: 50\n    scale: 2\n");
    expect([old.spec.cpus, old.spec.memoryBytes, old.spec.pidsLimit, old.replicas]).toEqual([0.25, 1024 ** 3, 50, 2]);
    expect(problemsOf("services:\n  w:\n    image: x\n    scale: 2\n    deploy: {replicas: 3}\n")[0]!.path).toBe("services.w.scale");
    expect(problemsOf("services:\n  w:\n    image: x\n    container_name: one\n    scale: 2\n")[0]!.path).toBe("services.w.container_name");
  });

  it("secrets: short and long syntax, Berth secret names", () => {
    const m = load("services:\n  a:\n    image: x\n    secrets:\n      - db\n      - {source: api, target: /etc/api.key, mode: 0400, uid: '1000', gid: '1000'}\nsecrets:\n  db: {external: true}\n  api: {external: true, name: team-api-key}\n");
    expect(service(m, "a").secrets).toEqual([
      { source: "db", target: "db", mode: 0o444 },
      { source: "api", target: "/etc/api.key", mode: 0o400, uid: "1000", gid: "1000" },
    ]);
    expect(m.secrets).toEqual({ db: { berthSecret: "db" }, api: { berthSecret: "team-api-key" } });
  });

  it("the settings beyond DeploySpec go to extra", () => {
    const web = one(
      "    container_name: shop-web\n    stop_signal: SIGQUIT\n    stop_grace_period: 1m\n    init: true\n    tty: true\n    stdin_open: true\n    extra_hosts: ['db.local:10.0.0.2', 'gw=10.0.0.1']\n    dns: [1.1.1.1]\n    dns_search: example.com\n    sysctls: {net.core.somaxconn: 1024}\n    ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: 512}\n    shm_size: 64m\n    security_opt: [no-new-privileges:true]\n    group_add: [audio, 1001]\n    domainname: example.com\n    mac_address: 02:42:ac:11:00:02\n    tmpfs: [/run, '/tmp:size=64m']\n    logging: {driver: json-file, options: {max-size: 10m, max-file: 3}}\n    expose: ['9000', 9001]\n",
    );
    expect(web.extra).toEqual({
      containerName: "shop-web",
      stopSignal: "SIGQUIT",
      stopGracePeriodSeconds: 60,
      init: true,
      tty: true,
      stdinOpen: true,
      extraHosts: ["db.local:10.0.0.2", "gw:10.0.0.1"],
      dns: ["1.1.1.1"],
      dnsSearch: ["example.com"],
      sysctls: { "net.core.somaxconn": "1024" },
      ulimits: { nofile: { soft: 1024, hard: 2048 }, nproc: { soft: 512, hard: 512 } },
      shmSizeBytes: 64 * 1024 * 1024,
      securityOpt: ["no-new-privileges:true"],
      groupAdd: ["audio", "1001"],
      domainname: "example.com",
      macAddress: "02:42:ac:11:00:02",
      tmpfs: ["/run", "/tmp:size=64m"],
      logging: { driver: "json-file", options: { "max-size": "10m", "max-file": "3" } },
      expose: ["9000", "9001"],
    });
  });

  it("Berth's own compose labels can't be set by hand", () => {
    expect(problemsOf("services:\n  w:\n    image: x\n    labels: {com.docker.compose.project: other}\n")[0]!.path).toBe('services.w.labels["com.docker.compose.project"]');
  });

  it("project name: top-level name wins over the stack's name, normalised", () => {
    expect(load("name: My_Shop\nservices:\n  a:\n    image: x\n").project).toBe("my_shop");
    expect(load("services:\n  a:\n    image: x\n", {}, { stackName: "-Team Web!" }).project).toBe("teamweb");
    expect(problemsOf("services:\n  a:\n    image: x\n", { stackName: "!!!" })[0]!.message).toContain("can't be a project name");
  });
});

describe("dependency order and cycles", () => {
  it("every dependency comes before its dependents, declaration order otherwise", () => {
    const m = load("services:\n  web:\n    image: x\n    depends_on: [api, cache]\n  api:\n    image: x\n    depends_on: [db]\n  cache:\n    image: x\n  db:\n    image: x\n  lone:\n    image: x\n");
    expect(m.services.map((s) => s.name)).toEqual(["db", "api", "cache", "web", "lone"]);
  });

  it("a cycle is a problem naming it", () => {
    const r = loadStack({ files: files({ "compose.yaml": "services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [c]\n  c:\n    image: x\n    depends_on: [a]\n" }) }, { stackName: "c" });
    expect(!r.ok && r.problems).toEqual([{ file: "compose.yaml", path: "services.a.depends_on", line: 4, column: 5, message: "services.a.depends_on: dependency cycle: a → b → c → a" }]);
  });
});
