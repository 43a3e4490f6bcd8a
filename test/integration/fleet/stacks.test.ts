import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeProject } from "../../fixtures/docker-compose";
import { agentSettingsFor, startFleetEnv, waitFor, type Caller, type FleetEnv } from "../../fixtures/fleet-env";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoCopy } from "../../fixtures/skopeo";
import { startSshHosts, type SshHostFleet } from "../../fixtures/ssh-hosts";
import { buildToolsImage } from "../../fixtures/test-images";

// Stacks on a real SSH test host: a 3-service stack with a health-gated
// dependency, a named volume, a Berth secret read from /run/secrets and two
// networks; an edit recreates only what changed and the volume's data
// survives; roll back; down with and without volumes; docker-compose on the
// host sees the stack. Refusals create nothing and are audited; secrets never
// appear in an answer, a version or the audit log.

const SECRET_VALUE = `s3cret-${randomUUID()}`;

function composeFile(): string {
  return `services:
  db:
    image: \${IMAGE:?set IMAGE in .env}
    command: ["sh", "-c", "sleep 1; touch /tmp/ready; exec sleep 100000"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 1s
      timeout: 2s
      retries: 10
    networks: [back]
  api:
    image: \${IMAGE}
    command: ["sh", "-c", "exec sleep 100000"]
    stop_grace_period: 1s
    environment:
      MODE: \${MODE:-one}
    depends_on:
      db:
        condition: service_healthy
    volumes:
      - data:/data
    secrets:
      - source: api_token
        mode: 0400
    networks:
      front:
        aliases: [backend]
      back: {}
  web:
    image: \${IMAGE}
    command: ["sh", "-c", "exec sleep 100000"]
    stop_grace_period: 1s
    depends_on: [api]
    networks: [front]
networks:
  front: {}
  back: {}
volumes:
  data: {}
secrets:
  api_token:
    external: true
`;
}

describe("stacks on an SSH test host", () => {
  let hosts: SshHostFleet;
  let env: FleetEnv;
  let registry: TestRegistry;
  let owner: Caller;
  let ownerId: string;
  let work: string;
  let hostId: string;
  let otherHostId: string;
  let image: string;
  let stackId: string;

  const source = (envFile: string, compose = composeFile()) => ({ files: [{ path: "compose.yaml", content: compose }, { path: ".env", content: envFile }] });
  const client = () => env.fleet.client(hostId);
  const idsByService = async () => {
    const got = await owner.stacks.get({ stackId });
    return Object.fromEntries(got.services.map((s) => [s.name, s.containers.map((c) => c.id)]));
  };

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-stacks-test-"));
    hosts = await startSshHosts(2, { networkPoolPrefix: 22 });
    env = await startFleetEnv();
    ({ caller: owner, userId: ownerId } = await env.callerFor("Owner"));
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    const built = await buildToolsImage(path.join(work, "tools"));
    await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${registry.host}/test/tools:latest`);
    const ids: string[] = [];
    for (const [i, h] of hosts.hosts.entries()) {
      const auth = { method: "key" as const, privateKey: hosts.clientKey.privateKey };
      const probe = await owner.hosts.probe({ address: h.address, port: 22, username: "root", auth });
      const group = await owner.hosts.createGroup({ name: `stack-group-${i}` });
      const added = await owner.hosts.add({
        name: `stack-host-${i}`,
        address: h.address,
        port: 22,
        username: "root",
        auth,
        fingerprint: probe.fingerprint,
        hostGroupId: group.id,
        agent: agentSettingsFor(h, [registry.hostFor(h.gatewayAddress)]),
      });
      await owner.hosts.installAgent({ hostId: added.id });
      ids.push(added.id);
    }
    [hostId, otherHostId] = ids as [string, string];
    for (const id of ids) await waitFor(() => owner.hosts.get({ hostId: id }), (v) => v.status === "connected" && v.agent === "ok", 60_000);
    image = `${registry.hostFor(hosts.hosts[0]!.gatewayAddress)}/test/tools:latest`;
    await owner.secrets.create({ name: "api_token", value: SECRET_VALUE, description: "the API's token" });
  });

  afterAll(async () => {
    await env?.close();
    await hosts?.cleanup();
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("applies a 3-service stack: health-gated order, per-service progress, secret file, both networks, compose labels", async () => {
    const token = randomUUID();
    const events: { phase: string; message: string; service?: string }[] = [];
    const subscription = await owner.operations.progress({ token });
    const collecting = (async () => {
      for await (const e of subscription) events.push(e);
    })();
    const result = await owner.stacks.up({ hostId, name: "shop", source: source(`IMAGE=${image}\n`), progressToken: token });
    await collecting;
    expect(result).toMatchObject({ version: 1, result: "applied", error: null });
    stackId = result.stackId;
    // Progress names services; db was healthy before api was created.
    expect(events.some((e) => e.phase === "pull" && e.service === "db")).toBe(true);
    const healthy = events.findIndex((e) => e.message === "Waiting for db to be healthy");
    const apiCreated = events.findIndex((e) => e.service === "api" && e.phase === "create");
    expect(healthy).toBeGreaterThanOrEqual(0);
    expect(apiCreated).toBeGreaterThan(healthy);
    expect(events.at(-1)).toMatchObject({ phase: "done" });

    const got = await owner.stacks.get({ stackId });
    expect(got.status).toBe("running");
    expect(got.services.map((s) => [s.name, s.running, s.replicas])).toEqual([
      ["db", 1, 1],
      ["api", 1, 1],
      ["web", 1, 1],
    ]);
    expect(got.services[0]!.health).toBe("healthy");
    expect(got.services[1]!.containers[0]!.name).toBe("shop-api-1");

    const api = got.services[1]!.containers[0]!.id;
    const secret = await client().exec(api, ["cat", "/run/secrets/api_token"]);
    expect(secret).toMatchObject({ exitCode: 0, stdout: SECRET_VALUE });
    // Both networks: api reaches db on "back" and web reaches api by its alias on "front".
    const inspect = (await client().inspectContainer(api)) as unknown as { NetworkSettings: { Networks: Record<string, unknown> }; Config: { Labels: Record<string, string> } };
    expect(Object.keys(inspect.NetworkSettings.Networks).sort()).toEqual(["shop_back", "shop_front"]);
    expect(inspect.Config.Labels).toMatchObject({ "com.docker.compose.project": "shop", "com.docker.compose.service": "api", "com.docker.compose.container-number": "1", "berth.stack": stackId });
    const web = got.services[2]!.containers[0]!.id;
    expect((await client().exec(web, ["nslookup", "backend"])).exitCode).toBe(0);
    await client().exec(api, ["sh", "-c", "echo kept > /data/marker"]);

    // docker-compose 1.29 on the host's own agent sees the stack's containers.
    const dir = await mkdtemp(path.join(work, "compose-ps-"));
    await writeFile(path.join(dir, "docker-compose.yml"), `version: "3.8"\nservices:\n  db:\n    image: ${image}\n  api:\n    image: ${image}\n  web:\n    image: ${image}\n`);
    const ps = await composeProject({ dir, name: "shop", dockerHost: `unix://${hosts.hosts[0]!.agent.socket}` }).run(["ps"]);
    expect(ps.code, ps.stderr).toBe(0);
    for (const name of ["shop-db-1", "shop-api-1", "shop-web-1"]) expect(ps.stdout).toContain(name);
  });

  it("an edit of one service's environment recreates only it; the named volume's data survives", async () => {
    const before = await idsByService();
    const result = await owner.stacks.up({ hostId, name: "shop", source: source(`IMAGE=${image}\nMODE=two\n`) });
    expect(result).toMatchObject({ version: 2, result: "applied" });
    const after = await idsByService();
    expect(after.db).toEqual(before.db);
    expect(after.web).toEqual(before.web);
    expect(after.api).not.toEqual(before.api);
    const api = after.api![0]!;
    expect((await client().exec(api, ["sh", "-c", "echo $MODE; cat /data/marker"])).stdout).toBe("two\nkept\n");
  });

  it("rolls back to version 1 as a new version; the versions and the diff's source are there", async () => {
    const before = await idsByService();
    const result = await owner.stacks.rollback({ stackId, version: 1 });
    expect(result).toMatchObject({ version: 3, result: "applied" });
    const after = await idsByService();
    expect(after.db).toEqual(before.db);
    expect(after.api).not.toEqual(before.api);
    expect((await client().exec(after.api![0]!, ["sh", "-c", "echo $MODE"])).stdout).toBe("one\n");
    const versions = await owner.stacks.versions({ stackId });
    expect(versions.items.map((v) => [v.version, v.result, v.rollbackOf])).toEqual([
      [3, "applied", 1],
      [2, "applied", null],
      [1, "applied", null],
    ]);
    const v1 = await owner.stacks.version({ stackId, version: 1 });
    expect(v1.source.files.find((f) => f.path === ".env")?.content).toBe(`IMAGE=${image}\n`);
    expect(v1.rendered).toContain("api_token");
  });

  it("refuses an unknown key, a schema error, a missing ${X:?} and a policy-denied service: clearly, creating nothing, each audited", async () => {
    const { caller: deployer } = await env.callerFor("Deployer");
    const bad = (compose: string) => ({ files: [{ path: "compose.yaml", content: compose }] });
    const cases: [Caller, string, { files: { path: string; content: string }[] }, RegExp][] = [
      [owner, "typo", bad(`services:\n  web:\n    image: ${image}\n    imagee: x\n`), /line 4.*services\.web\.imagee/s],
      [owner, "schema", bad(`services:\n  web:\n    image: ${image}\n    environment: 5\n`), /services\.web\.environment/],
      [owner, "needsvar", bad(`services:\n  web:\n    image: \${IMAGE:?set IMAGE please}\n`), /set IMAGE please/],
      [deployer, "privileged", bad(`services:\n  ok:\n    image: ${image}\n  root:\n    image: ${image}\n    privileged: true\n`), /service "root": rule .*privileged/i],
    ];
    for (const [caller, name, src, message] of cases) {
      await expect(caller.stacks.up({ hostId, name, source: src })).rejects.toThrow(message);
      expect(await env.database.db.stack.count({ where: { name } })).toBe(0);
      const containers = await client().containers({ all: true });
      expect(containers.filter((c) => c.Labels?.["com.docker.compose.project"] === name)).toEqual([]);
    }
    const refusals = await env.database.db.auditEvent.findMany({ where: { action: "stacks.up", outcome: { in: ["error", "denied"] } } });
    expect(refusals.map((r) => (r.params as { name?: string }).name).sort()).toEqual(["needsvar", "privileged", "schema", "typo"]);
    expect(refusals.find((r) => (r.params as { name?: string }).name === "privileged")!.outcome).toBe("denied");
    // No intent was written for any of them: nothing reached the host.
    expect(await env.database.db.auditEvent.count({ where: { action: "stacks.up.intent", params: { path: ["name"], equals: "privileged" } } })).toBe(0);
  });

  it("checks permissions per host: a Viewer can't apply, a group-scoped deployer can't touch another group's host", async () => {
    const { caller: viewer } = await env.callerFor("Viewer");
    await expect(viewer.stacks.up({ hostId, name: "nope", source: source(`IMAGE=${image}\n`) })).rejects.toThrow(/stacks.deploy/);
    await expect(viewer.stacks.down({ stackId })).rejects.toThrow(/stacks.delete/);
    await expect(viewer.stacks.scale({ stackId, service: "web", replicas: 2 })).rejects.toThrow(/stacks.control/);
    expect((await viewer.stacks.list({})).items.map((s) => s.id)).toEqual([stackId]);
    const otherGroup = (await owner.hosts.get({ hostId: otherHostId })).hostGroupId as string;
    const { caller: scoped } = await env.callerFor("Operator", { hostGroupId: otherGroup });
    await expect(scoped.stacks.get({ stackId })).rejects.toThrow(/permission/);
    await expect(scoped.stacks.rollback({ stackId, version: 1 })).rejects.toThrow(/permission/);
    expect((await scoped.stacks.list({})).items).toEqual([]);
    // A role that may read stacks but not containers' logs doesn't read them through the stack either.
    await env.database.db.role.create({ data: { name: "Stack reader", permissions: ["hosts.read", "stacks.read"] } });
    const { caller: reader } = await env.callerFor("Stack reader");
    expect((await reader.stacks.get({ stackId })).id).toBe(stackId);
    const firstLine = async () => {
      for await (const line of await reader.stacks.logs({ stackId })) return line;
      return null;
    };
    await expect(firstLine()).rejects.toThrow(/containers\.logs/);
  });

  it("scales a service and acts on its containers", async () => {
    expect(await owner.stacks.scale({ stackId, service: "web", replicas: 2 })).toEqual({ replicas: 2 });
    let got = await owner.stacks.get({ stackId });
    expect(got.services.find((s) => s.name === "web")!.containers.map((c) => c.name)).toEqual(["shop-web-1", "shop-web-2"]);
    expect(await owner.stacks.serviceAction({ stackId, service: "web", action: "stop" })).toEqual({ containers: 2 });
    got = await owner.stacks.get({ stackId });
    expect(got.status).toBe("partial");
    await owner.stacks.serviceAction({ stackId, service: "web", action: "start" });
    await owner.stacks.scale({ stackId, service: "web", replicas: 1 });
    got = await owner.stacks.get({ stackId });
    expect(got.status).toBe("running");
  });

  it("never shows a secret's value: not in answers, versions or the audit log; deleting a secret in use is refused naming the stack", async () => {
    const answers = JSON.stringify([await owner.stacks.get({ stackId }), await owner.stacks.versions({ stackId }), await owner.stacks.version({ stackId, version: 1 }), await owner.secrets.list()]);
    expect(answers).not.toContain(SECRET_VALUE);
    const versions = await env.database.db.stackVersion.findMany({ where: { stackId } });
    expect(JSON.stringify(versions)).not.toContain(SECRET_VALUE);
    const audit = await env.database.db.auditEvent.findMany();
    expect(JSON.stringify(audit, (_k, v) => (typeof v === "bigint" ? String(v) : v))).not.toContain(SECRET_VALUE);
    expect(JSON.stringify(await env.database.db.secret.findMany())).not.toContain(SECRET_VALUE);
    expect((await owner.secrets.list()).items).toMatchObject([{ name: "api_token", usedBy: 1 }]);
    const id = (await owner.secrets.list()).items[0]!.id;
    await expect(owner.secrets.delete({ id })).rejects.toThrow(/used by the stack "shop"/);
    const { caller: operator } = await env.callerFor("Operator");
    await expect(operator.secrets.create({ name: "other", value: SECRET_VALUE })).rejects.toThrow(/secrets.manage/);
    const denied = await env.database.db.auditEvent.findMany({ where: { action: "secrets.create" } });
    expect(denied.length).toBeGreaterThan(0);
    expect(JSON.stringify(denied.map((d) => d.params))).not.toContain(SECRET_VALUE);
  });

  it("down keeps named volumes; down with volumes removes them", async () => {
    const before = await client().volumes();
    expect(before.map((v) => v.Name)).toContain("shop_data");
    const down = await owner.stacks.down({ stackId });
    expect(down.removed).toBe(3);
    expect((await client().containers({ all: true })).filter((c) => c.Labels?.["com.docker.compose.project"] === "shop")).toEqual([]);
    expect((await client().volumes()).map((v) => v.Name)).toContain("shop_data");
    expect((await client().networks()).map((n) => n.Name)).not.toContain("shop_front");
    expect((await owner.stacks.get({ stackId })).status).toBe("down");

    // Up again: the volume's data is still there; then down with volumes removes it.
    expect(await owner.stacks.up({ hostId, name: "shop", source: source(`IMAGE=${image}\n`) })).toMatchObject({ version: 4, result: "applied" });
    const api = (await idsByService()).api![0]!;
    expect((await client().exec(api, ["cat", "/data/marker"])).stdout).toBe("kept\n");
    await owner.stacks.down({ stackId, volumes: true });
    expect((await client().volumes()).map((v) => v.Name)).not.toContain("shop_data");
    expect(ownerId).toBeTruthy();
  });
});
