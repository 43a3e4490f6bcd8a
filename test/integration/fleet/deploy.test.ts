import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentSettingsFor, startFleetEnv, waitFor, type Caller, type FleetEnv } from "../../fixtures/fleet-env";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoCopy } from "../../fixtures/skopeo";
import { startSshHosts, type SshHostFleet, type SshTestHost } from "../../fixtures/ssh-hosts";
import { buildToolsImage } from "../../fixtures/test-images";

// Deploying through the gateway to real SSH test hosts: the deploy policy,
// pull progress, the saved deployment, update with rollback, and who may do what.

describe("deploy by spec", () => {
  let hosts: SshHostFleet;
  let env: FleetEnv;
  let registry: TestRegistry;
  let owner: Caller;
  let work: string;
  const ids: string[] = [];
  let groupA: string;

  const image = (h: SshTestHost, tag = "latest") => `${registry.hostFor(h.gatewayAddress)}/test/tools:${tag}`;
  const audit = (where: Record<string, unknown>) => env.database.db.auditEvent.findMany({ where, orderBy: { id: "asc" } });

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-deploy-test-"));
    hosts = await startSshHosts(2);
    env = await startFleetEnv();
    owner = (await env.callerFor("Owner")).caller;
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    const built = await buildToolsImage(path.join(work, "tools"));
    for (const tag of ["latest", "v1"]) await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${registry.host}/test/tools:${tag}`);
    groupA = (await owner.hosts.createGroup({ name: "group-a" })).id;
    for (const [i, h] of hosts.hosts.entries()) {
      const auth = { method: "key" as const, privateKey: hosts.clientKey.privateKey };
      const probe = await owner.hosts.probe({ address: h.address, port: 22, username: "root", auth });
      const added = await owner.hosts.add({
        name: `host-${i}`,
        address: h.address,
        port: 22,
        username: "root",
        auth,
        fingerprint: probe.fingerprint,
        hostGroupId: i === 0 ? groupA : null,
        agent: agentSettingsFor(h, [registry.hostFor(h.gatewayAddress)]),
      });
      await owner.hosts.installAgent({ hostId: added.id });
      ids.push(added.id);
    }
    for (const id of ids) await waitFor(() => owner.hosts.get({ hostId: id }), (v) => v.status === "connected" && v.agent === "ok");
  });

  afterAll(async () => {
    await env?.close();
    await hosts?.cleanup();
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("the owner deploys busybox httpd with a published port and a memory limit: pull progress, running container, page served", async () => {
    const h = hosts.hosts[0]!;
    const token = randomUUID();
    const events: { phase: string; message: string; layer?: unknown }[] = [];
    const subscription = await owner.operations.progress({ token });
    const collecting = (async () => {
      for await (const e of subscription) events.push(e);
    })();
    const result = await owner.containers.deploy({
      hostId: ids[0]!,
      progressToken: token,
      spec: {
        image: image(h),
        name: "web",
        command: ["sh", "-c", "mkdir -p /www && echo hello-from-berth > /www/index.html && exec httpd -f -p 80 -h /www"],
        ports: [{ hostPort: 18081, containerPort: 80, protocol: "tcp" }],
        memoryBytes: 64 * 1024 * 1024,
        env: [
          { name: "MODE", value: "demo", secret: false },
          { name: "API_KEY", value: "s3cr3t-value", secret: true },
        ],
        restartPolicy: { name: "unless-stopped" },
      },
    });
    await collecting;
    expect(events.map((e) => e.phase)).toEqual(expect.arrayContaining(["pull", "create", "start", "done"]));
    expect(events.some((e) => e.layer)).toBe(true);
    expect(result.name).toBe("web");

    const inspect = await owner.containers.inspect({ hostId: ids[0]!, containerId: result.containerId });
    expect(inspect.State.Running).toBe(true);
    expect(inspect.HostConfig).toMatchObject({ Memory: 64 * 1024 * 1024 });
    // The secret is in the container, but never in what the console gets back.
    expect(inspect.Config.Env).toContain("API_KEY=••••••");
    expect(JSON.stringify(inspect)).not.toContain("s3cr3t-value");
    const saved = await env.database.db.deployment.findFirstOrThrow({ where: { name: "web" } });
    expect(JSON.stringify(saved.spec)).not.toContain("s3cr3t-value");
    const inContainer = await env.fleet.client(ids[0]!).exec(result.containerId, ["sh", "-c", "echo $API_KEY"]);
    expect(inContainer.stdout.trim()).toBe("s3cr3t-value");

    const page = await waitFor(
      () => fetch(`http://${h.address}:18081/`).then((r) => r.text()).catch(() => ""),
      (t) => t.includes("hello-from-berth"),
    );
    expect(page).toContain("hello-from-berth");

    // The fleet-wide list comes from live state, fed by the agent's event stream.
    const all = await waitFor(() => owner.containers.all({ name: "web" }), (r) => r.items[0]?.state === "running");
    expect(all.items.map((c) => [c.hostId, c.name, c.state])).toEqual([[ids[0], "web", "running"]]);
    const [event] = await audit({ action: "containers.deploy", outcome: "success" });
    expect(event).toMatchObject({ actorType: "user", hostId: ids[0] });
    expect(JSON.stringify(event!.params)).not.toContain("s3cr3t-value");
  });

  it("a Deployer is denied privileged and a bind mount of /, with the rules named, and both denials are audited", async () => {
    const h = hosts.hosts[1]!;
    const { caller: deployer, userId } = await env.callerFor("Deployer");
    await expect(deployer.containers.deploy({ hostId: ids[1]!, spec: { image: image(h), privileged: true } })).rejects.toThrow(
      /Denied by the deploy policy: Allow privileged containers/,
    );
    await expect(
      deployer.containers.deploy({ hostId: ids[1]!, spec: { image: image(h), mounts: [{ type: "bind", source: "/", target: "/host", readOnly: true }] } }),
    ).rejects.toThrow(/Bind-mount path allowlist/);
    // Ticking "override" doesn't help someone who may not override.
    await expect(deployer.containers.deploy({ hostId: ids[1]!, spec: { image: image(h), privileged: true }, overridePolicy: true })).rejects.toThrow(/Allow privileged/);
    const denials = await audit({ action: "containers.deploy", actorId: userId });
    expect(denials.map((d) => d.outcome)).toEqual(["denied", "denied", "denied"]);
    expect(denials[1]!.errorMessage).toMatch(/Bind-mount path allowlist/);
    // The form's live check names the same rules, field by field.
    const check = await deployer.policy.check({ hostId: ids[1]!, spec: { image: image(h), privileged: true, mounts: [{ type: "bind", source: "/", target: "/host", readOnly: false }] } });
    expect(check.violations.map((v) => [v.rule, v.field])).toEqual([
      ["allowPrivileged", "privileged"],
      ["bindMountAllowlist", "mounts.0.source"],
    ]);
    expect(check.mayOverride).toBe(false);
    expect((await env.fleet.client(ids[1]!).containers()).length).toBe(0);
  });

  it("an admin may override the policy only by ticking the box, and the overridden rules are audited", async () => {
    const h = hosts.hosts[1]!;
    await expect(owner.containers.deploy({ hostId: ids[1]!, spec: { image: image(h), privileged: true, command: ["sleep", "600"] } })).rejects.toThrow(/Allow privileged/);
    const result = await owner.containers.deploy({ hostId: ids[1]!, spec: { image: image(h), name: "priv", privileged: true, command: ["sleep", "600"] }, overridePolicy: true });
    expect(result.overridden.map((v) => v.rule)).toEqual(["allowPrivileged"]);
    const [event] = await audit({ action: "containers.deploy", outcome: "success", hostId: ids[1] });
    expect(event!.params).toMatchObject({ overridden: ["allowPrivileged"] });
    // A policy that allows it needs no override.
    await owner.policy.set({ hostGroupId: null, rules: { allowPrivileged: true } });
    const check = await owner.policy.check({ hostId: ids[1]!, spec: { image: image(h), privileged: true } });
    expect(check.violations).toEqual([]);
    await owner.policy.set({ hostGroupId: null, rules: {} });
  });

  it("a Viewer sees containers but can't deploy, stop or remove them", async () => {
    const { caller: viewer } = await env.callerFor("Viewer");
    const all = await waitFor(() => viewer.containers.all({}), (r) => r.items.some((c) => c.name === "priv"));
    expect(all.items.map((c) => c.name)).toEqual(expect.arrayContaining(["web", "priv"]));
    const web = all.items.find((c) => c.name === "web")!;
    await expect(viewer.containers.action({ hostId: web.hostId, containerId: web.id, action: "stop" })).rejects.toThrow(/containers.control/);
    await expect(viewer.containers.bulk({ action: "remove", items: [{ hostId: web.hostId, containerId: web.id }] })).rejects.toThrow(/containers.delete/);
    await expect(viewer.containers.deploy({ hostId: web.hostId, spec: { image: "busybox" } })).rejects.toThrow(/containers.deploy/);
    expect((await owner.containers.inspect({ hostId: web.hostId, containerId: web.id })).State.Running).toBe(true);
  });

  it("a user scoped to host group A can't see or touch host B's containers through any route", async () => {
    const { caller: scoped } = await env.callerFor("Operator", { hostGroupId: groupA });
    const all = await scoped.containers.all({});
    expect(new Set(all.items.map((c) => c.hostId))).toEqual(new Set([ids[0]]));
    const priv = (await owner.containers.all({ name: "priv" })).items[0]!;
    await expect(scoped.containers.list({ hostId: ids[1]! })).rejects.toThrow(/permission/);
    await expect(scoped.containers.inspect({ hostId: ids[1]!, containerId: priv.id })).rejects.toThrow(/permission/);
    await expect(scoped.containers.logs({ hostId: ids[1]!, containerId: priv.id })).rejects.toThrow(/permission/);
    await expect(scoped.containers.action({ hostId: ids[1]!, containerId: priv.id, action: "stop" })).rejects.toThrow(/permission/);
    await expect(scoped.containers.bulk({ action: "stop", items: [{ hostId: ids[1]!, containerId: priv.id }] })).rejects.toThrow(/every host/);
    await expect(scoped.containers.deploy({ hostId: ids[1]!, spec: { image: "busybox" } })).rejects.toThrow(/permission/);
    await expect(scoped.images.list({ hostId: ids[1]! })).rejects.toThrow(/permission/);
    await expect(scoped.containers.all({ hostIds: [ids[1]!] })).resolves.toMatchObject({ total: 0 });
    expect((await owner.containers.inspect({ hostId: ids[1]!, containerId: priv.id })).State.Running).toBe(true);
  });

  it("update with a tag that doesn't exist, or an image that won't start, rolls back to the running container", async () => {
    const h = hosts.hosts[0]!;
    const deployed = await owner.containers.deploy({ hostId: ids[0]!, spec: { image: image(h, "v1"), name: "app", command: ["sleep", "600"] } });
    const before = await owner.containers.inspect({ hostId: ids[0]!, containerId: deployed.containerId });

    await expect(
      owner.containers.update({ hostId: ids[0]!, deploymentId: deployed.deploymentId, spec: { image: image(h, "no-such-tag"), name: "app", command: ["sleep", "600"] } }),
    ).rejects.toThrow(/no-such-tag|not found|manifest unknown/i);
    const still = await owner.containers.inspect({ hostId: ids[0]!, containerId: "app" });
    expect(still).toMatchObject({ Id: before.Id, State: { Running: true, Pid: before.State.Pid } });

    const failed = await owner.containers.update({ hostId: ids[0]!, deploymentId: deployed.deploymentId, spec: { image: image(h, "v1"), name: "app", command: ["sh", "-c", "exit 3"] } });
    expect(failed.rolledBack).toBe(true);
    expect(failed.message).toMatch(/exit(ed with)? code 3/);
    const back = await owner.containers.inspect({ hostId: ids[0]!, containerId: "app" });
    expect(back).toMatchObject({ Id: before.Id, State: { Running: true } });
    const names = (await env.fleet.client(ids[0]!).containers()).map((c) => c.Names[0]);
    expect(names.filter((n) => n?.startsWith("/app"))).toEqual(["/app"]);
    expect((await env.database.db.deployment.findUniqueOrThrow({ where: { id: deployed.deploymentId } })).status).toBe("rolledBack");

    // A good update replaces the container and keeps the name.
    const good = await owner.containers.update({ hostId: ids[0]!, deploymentId: deployed.deploymentId });
    expect(good.rolledBack).toBe(false);
    const replaced = await owner.containers.inspect({ hostId: ids[0]!, containerId: "app" });
    expect(replaced.Id).not.toBe(before.Id);
    expect(replaced.State.Running).toBe(true);
  });

  it("stop and remove, one and in bulk, each audited", async () => {
    const web = (await owner.containers.all({ name: "web" })).items[0]!;
    await owner.containers.action({ hostId: web.hostId, containerId: web.id, action: "stop" });
    expect((await owner.containers.inspect({ hostId: web.hostId, containerId: web.id })).State.Running).toBe(false);
    const priv = (await owner.containers.all({ name: "priv" })).items[0]!;
    const results = await owner.containers.bulk({ action: "remove", items: [{ hostId: web.hostId, containerId: web.id }, { hostId: priv.hostId, containerId: priv.id }] });
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    const left = await waitFor(() => owner.containers.all({ name: "web" }), (r) => r.total === 0);
    expect(left.total).toBe(0);
    expect((await audit({ action: "containers.action", outcome: "success" })).length).toBeGreaterThanOrEqual(1);
    expect((await audit({ action: "containers.bulk", outcome: "success" })).length).toBe(1);
    // The name of a deployment whose container is gone can be deployed again.
    const h = hosts.hosts[0]!;
    const again = await owner.containers.deploy({ hostId: ids[0]!, spec: { image: image(h), name: "web", command: ["sleep", "600"] } });
    const saved = await owner.containers.deployment({ hostId: ids[0]!, deploymentId: again.deploymentId });
    expect(saved).toMatchObject({ name: "web", containerId: again.containerId, spec: { command: ["sleep", "600"] } });
  });
});
