import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { COMPOSE_LABELS, type StackModel, type StackService } from "../../../lib/compose/model";
import { parseCreateRequest } from "../../../lib/docker/create-request";
import { deploySpecSchema, type DeploySpecInput } from "../../../lib/deploy/spec";
import { canonicalJson } from "../../../server/stacks/config-hash";
import { convergeStack, downStack, ensureNetworks, ensureVolumes } from "../../../server/stacks/converge";
import type { StackAgent } from "../../../server/stacks/host-state";
import { secretsTar } from "../../../server/stacks/secret-files";
import { serviceBody } from "../../../server/stacks/service-body";

// The apply engine against a fake agent (the interface it uses): what is
// kept, recreated, created and removed, in which order, and with what.

function service(name: string, spec: DeploySpecInput, more: Partial<StackService> = {}): StackService {
  return {
    name,
    spec: deploySpecSchema.parse({ network: "app_front", ...spec }),
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

function model(services: StackService[]): StackModel {
  return {
    project: "app",
    services,
    networks: {
      front: { name: "app_front", external: false, internal: false, driver: "bridge", labels: {}, driverOpts: {} },
      back: { name: "app_back", external: false, internal: true, driver: "bridge", labels: {}, driverOpts: {} },
    },
    volumes: { data: { name: "app_data", external: false, driver: "local", labels: {}, driverOpts: {} } },
    secrets: { token: { berthSecret: "api-token" } },
  };
}

interface FakeContainer {
  Id: string;
  name: string;
  body: Record<string, unknown>;
  running: boolean;
  health?: string;
  exitCode: number;
  archives: { path: string; tar: Buffer }[];
}

class FakeAgent {
  containersById = new Map<string, FakeContainer>();
  log: string[] = [];
  networkNames = new Set<string>();
  volumeNames = new Set<string>();
  networkLabels = new Map<string, Record<string, string>>();
  volumeLabels = new Map<string, Record<string, string>>();
  private n = 0;

  agent(): StackAgent {
    const self = this;
    const api: Partial<StackAgent> = {
      async containers() {
        return [...self.containersById.values()].map((c) => ({
          Id: c.Id,
          Names: [`/${c.name}`],
          Image: String(c.body.Image),
          Created: 0,
          State: c.running ? "running" : "exited",
          Status: c.running ? (c.health ? `Up 1 second (${c.health})` : "Up 1 second") : `Exited (${c.exitCode}) 1 second ago`,
          Labels: (c.body.Labels as Record<string, string>) ?? {},
        }));
      },
      async inspectContainer(id: string) {
        const c = self.containersById.get(id)!;
        return { State: { Running: c.running, Status: c.running ? "running" : "exited", ExitCode: c.exitCode, ...(c.health ? { Health: { Status: c.health } } : {}) } } as never;
      },
      async createContainer(body: Record<string, unknown>, name?: string) {
        // What the real agent would refuse, the fake refuses too.
        parseCreateRequest(body, { numCpus: 8 });
        const Id = `c${++self.n}`;
        self.containersById.set(Id, { Id, name: name!, body, running: false, exitCode: 0, archives: [] });
        self.log.push(`create ${name}`);
        return { Id, Warnings: [] };
      },
      async startContainer(id: string) {
        const c = self.containersById.get(id)!;
        c.running = true;
        c.health = c.body.Healthcheck ? "healthy" : undefined;
        self.log.push(`start ${c.name}`);
      },
      async stopContainer(id: string) {
        self.containersById.get(id)!.running = false;
        self.log.push(`stop ${self.containersById.get(id)!.name}`);
      },
      async restartContainer(id: string) {
        self.log.push(`restart ${self.containersById.get(id)!.name}`);
      },
      async removeContainer(id: string) {
        self.log.push(`remove ${self.containersById.get(id)!.name}`);
        self.containersById.delete(id);
      },
      async putArchive(id: string, p: string, tar: Buffer) {
        self.containersById.get(id)!.archives.push({ path: p, tar });
        self.log.push(`archive ${self.containersById.get(id)!.name}`);
      },
      async networks() {
        return [...self.networkNames].map((Name) => ({ Id: Name, Name, Driver: "bridge", Labels: self.networkLabels.get(Name) ?? {} }));
      },
      async createNetwork(body: { Name: string; Labels?: Record<string, string> }) {
        self.networkNames.add(body.Name);
        self.networkLabels.set(body.Name, body.Labels ?? {});
        self.log.push(`network ${body.Name}`);
        return { Id: body.Name };
      },
      async removeNetwork(id: string) {
        self.networkNames.delete(id);
        self.log.push(`rm network ${id}`);
      },
      async volumes() {
        return [...self.volumeNames].map((Name) => ({ Name, Driver: "local", Mountpoint: "", Labels: self.volumeLabels.get(Name) ?? {} }));
      },
      async createVolume(body: { Name?: string; Labels?: Record<string, string> }) {
        self.volumeNames.add(body.Name!);
        self.volumeLabels.set(body.Name!, body.Labels ?? {});
        self.log.push(`volume ${body.Name}`);
        return { Name: body.Name!, Driver: "local", Mountpoint: "" };
      },
      async removeVolume(name: string) {
        self.volumeNames.delete(name);
        self.log.push(`rm volume ${name}`);
      },
    };
    return api as StackAgent;
  }
}

const SECRETS = new Map([["api-token", { revision: 1, value: Buffer.from("s3cret-value") }]]);

async function apply(fake: FakeAgent, m: StackModel, o: { secrets?: typeof SECRETS; removeOrphans?: boolean } = {}) {
  const client = fake.agent();
  await ensureNetworks(client, m, () => undefined);
  await ensureVolumes(client, m, () => undefined);
  return convergeStack({ client, stackId: "stack1", model: m, confinement: new Map(), secrets: o.secrets ?? SECRETS, removeOrphans: o.removeOrphans ?? false, report: () => undefined });
}

const db = service("db", { image: "busybox", command: ["sleep", "1000"], healthcheck: { test: ["CMD", "true"], intervalSeconds: 1 }, mounts: [{ type: "volume", source: "app_data", target: "/data" }] });
const web = (env = "1") =>
  service("web", { image: "busybox", env: [{ name: "V", value: env }] }, {
    dependsOn: [{ service: "db", condition: "service_healthy", required: true, restart: false }],
    secrets: [{ source: "token", target: "token", mode: 0o400 }],
    networks: [
      { network: "front", aliases: ["www"] },
      { network: "back", aliases: [] },
    ],
  });

describe("convergeStack", () => {
  it("creates networks, volumes and containers in dependency order, with compose's labels and the secret uploaded before start", async () => {
    const fake = new FakeAgent();
    const result = await apply(fake, model([db, web()]));
    expect(fake.log).toEqual([
      "network app_front",
      "network app_back",
      "volume app_data",
      "create app-db-1",
      "start app-db-1",
      "create app-web-1",
      "archive app-web-1",
      "start app-web-1",
    ]);
    expect(result.services.map((s) => [s.service, s.created])).toEqual([
      ["db", 1],
      ["web", 1],
    ]);
    const webContainer = [...fake.containersById.values()].find((c) => c.name === "app-web-1")!;
    const labels = webContainer.body.Labels as Record<string, string>;
    expect(labels).toMatchObject({ [COMPOSE_LABELS.project]: "app", [COMPOSE_LABELS.service]: "web", [COMPOSE_LABELS.containerNumber]: "1", [COMPOSE_LABELS.oneoff]: "False", "berth.stack": "stack1" });
    expect(labels[COMPOSE_LABELS.dependsOn]).toBe("db:service_healthy:false");
    expect(webContainer.body.NetworkingConfig).toEqual({ EndpointsConfig: { app_front: { Aliases: ["web", "www"] }, app_back: { Aliases: ["web"] } } });
    expect(fake.networkLabels.get("app_front")).toMatchObject({ [COMPOSE_LABELS.network]: "front", [COMPOSE_LABELS.project]: "app" });
    expect(webContainer.archives[0]!.path).toBe("/");
  });

  it("re-applying recreates only the service whose configuration changed; a new secret revision counts as a change", async () => {
    const fake = new FakeAgent();
    await apply(fake, model([db, web("1")]));
    const before = new Map([...fake.containersById.values()].map((c) => [c.name, c.Id]));
    fake.log = [];
    const again = await apply(fake, model([db, web("1")]));
    expect(fake.log).toEqual([]);
    expect(again.services.every((s) => s.kept === 1 && s.created === 0 && s.recreated === 0)).toBe(true);

    await apply(fake, model([db, web("2")]));
    const after = new Map([...fake.containersById.values()].map((c) => [c.name, c.Id]));
    expect(after.get("app-db-1")).toBe(before.get("app-db-1"));
    expect(after.get("app-web-1")).not.toBe(before.get("app-web-1"));
    expect(fake.log).toEqual(["stop app-web-1", "remove app-web-1", "create app-web-1", "archive app-web-1", "start app-web-1"]);

    fake.log = [];
    await apply(fake, model([db, web("2")]), { secrets: new Map([["api-token", { revision: 2, value: Buffer.from("new") }]]) });
    expect(fake.log.filter((l) => l.startsWith("create"))).toEqual(["create app-web-1"]);
  });

  it("starts a stopped container whose configuration is unchanged instead of recreating it", async () => {
    const fake = new FakeAgent();
    await apply(fake, model([db]));
    const c = [...fake.containersById.values()][0]!;
    c.running = false;
    fake.log = [];
    await apply(fake, model([db]));
    expect(fake.log).toEqual(["start app-db-1"]);
  });

  it("scales by container number and keeps orphans unless asked to remove them", async () => {
    const fake = new FakeAgent();
    const other = service("worker", { image: "busybox" });
    await apply(fake, model([db, { ...other, replicas: 3 }]));
    expect([...fake.containersById.values()].map((c) => c.name).sort()).toEqual(["app-db-1", "app-worker-1", "app-worker-2", "app-worker-3"]);
    fake.log = [];
    await apply(fake, model([db, { ...other, replicas: 1 }]));
    expect(fake.log).toEqual(["remove app-worker-2", "remove app-worker-3"].flatMap((l) => [l.replace("remove", "stop"), l]));
    const kept = await apply(fake, model([db]));
    expect(kept.orphansRemoved).toEqual([]);
    expect([...fake.containersById.values()].some((c) => c.name === "app-worker-1")).toBe(true);
    const removed = await apply(fake, model([db]), { removeOrphans: true });
    expect(removed.orphansRemoved).toEqual(["app-worker-1"]);
  });

  it("a failing dependency stops its dependents, naming the service", async () => {
    const fake = new FakeAgent();
    const client = fake.agent();
    const original = client.startContainer;
    client.startContainer = async (id, o) => {
      await original(id, o);
      const c = fake.containersById.get(id)!;
      if (c.name === "app-db-1") c.health = "unhealthy";
    };
    const m = model([db, web()]);
    await expect(convergeStack({ client, stackId: "s", model: m, confinement: new Map(), secrets: SECRETS, removeOrphans: false, report: () => undefined })).rejects.toThrow(
      /Service "web" was not started: its dependency failed\. Service "db" is unhealthy/,
    );
    expect([...fake.containersById.values()].map((c) => c.name)).toEqual(["app-db-1"]);
  });

  it("down removes containers and the project's networks, and volumes only when asked", async () => {
    const fake = new FakeAgent();
    await apply(fake, model([db, web()]));
    await downStack({ client: fake.agent(), project: "app", volumes: false, report: () => undefined });
    expect(fake.containersById.size).toBe(0);
    expect(fake.networkNames.size).toBe(0);
    expect([...fake.volumeNames]).toEqual(["app_data"]);
    await apply(fake, model([db]));
    await downStack({ client: fake.agent(), project: "app", volumes: true, report: () => undefined });
    expect(fake.volumeNames.size).toBe(0);
  });

  it("refuses an external network that doesn't exist, naming it", async () => {
    const fake = new FakeAgent();
    const m = model([db]);
    m.networks.front = { ...m.networks.front!, external: true, name: "shared" };
    await expect(ensureNetworks(fake.agent(), m, () => undefined)).rejects.toThrow(/Network "shared" is declared external/);
  });
});

describe("serviceBody", () => {
  it("carries the settings beyond the deploy spec, accepted by the agent's create schema", () => {
    const s = service("web", { image: "busybox" }, { extra: { stopSignal: "SIGINT", stopGracePeriodSeconds: 5, init: true, extraHosts: ["a:10.0.0.1"], sysctls: { "net.core.somaxconn": "1024" }, ulimits: { nofile: { soft: 100, hard: 200 } }, tmpfs: ["/cache:size=1000"], expose: ["9000"] } });
    const body = serviceBody(model([s]), s);
    const parsed = parseCreateRequest(body, { numCpus: 8 });
    expect(parsed.StopSignal).toBe("SIGINT");
    expect(parsed.StopTimeout).toBe(5);
    expect(parsed.HostConfig?.Init).toBe(true);
    expect(parsed.HostConfig?.Ulimits).toEqual([{ Name: "nofile", Soft: 100, Hard: 200 }]);
    expect(parsed.HostConfig?.Tmpfs).toEqual({ "/cache": "size=1000" });
    expect(Object.keys(parsed.ExposedPorts ?? {})).toContain("9000/tcp");
  });
});

describe("config hash and secrets tar", () => {
  it("canonical JSON ignores key order", () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe(canonicalJson({ a: [{ c: 3, d: 2 }], b: 1 }));
  });

  it("builds a tar that tar(1) extracts with the files' modes, parents included", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "berth-secrets-tar-"));
    try {
      const tarFile = path.join(dir, "s.tar");
      writeFileSync(tarFile, secretsTar([{ path: "/run/secrets/token", content: Buffer.from("value-1"), mode: 0o400 }, { path: "/run/secrets/other", content: Buffer.alloc(600, 65), mode: 0o444 }]));
      execFileSync("tar", ["-xf", tarFile, "-C", dir, "--no-same-owner"]);
      expect(readFileSync(path.join(dir, "run/secrets/token"), "utf8")).toBe("value-1");
      expect(statSync(path.join(dir, "run/secrets/token")).mode & 0o777).toBe(0o400);
      expect(readFileSync(path.join(dir, "run/secrets/other")).length).toBe(600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
