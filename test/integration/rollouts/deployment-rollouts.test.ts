import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stopRolloutWorker } from "../../../server/rollouts/worker";
import { agentSettingsFor, startFleetEnv, waitFor, type Caller, type FleetEnv } from "../../fixtures/fleet-env";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoCopy } from "../../fixtures/skopeo";
import { startSshHosts, type SshHostFleet, type SshTestHost } from "../../fixtures/ssh-hosts";
import { buildToolsImage, type BuiltImage } from "../../fixtures/test-images";

// Deployment rollouts against a real registry and an SSH test host: a new
// image pushed to the tag replaces the container (new digest recorded, both
// on the timeline); an image whose container exits at start fails the
// rollout with the old container serving again; a newer request supersedes a
// queued one; rollback goes back by digest after the tag moved; a requester
// who lost the permission fails closed.

const serve = (text: string) => ["sh", "-c", `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`];

describe("deployment rollouts", () => {
  let hosts: SshHostFleet;
  let env: FleetEnv;
  let registry: TestRegistry;
  let owner: Caller;
  let work: string;
  let hostId: string;
  let h: SshTestHost;
  const images: Record<string, BuiltImage> = {};
  const savedSettle = process.env.BERTH_ROLLOUT_SETTLE_SECONDS;

  const ref = (tag: string) => `${registry.hostFor(h.gatewayAddress)}/test/app:${tag}`;
  /** Pushes a built version to the tag (skopeo, as CI would). */
  const push = (version: string, tag: string) => skopeoCopy(`oci:${images[version]!.layoutDir}:${images[version]!.tag}`, `docker://${registry.host}/test/app:${tag}`);
  const digestOf = (version: string) => `${registry.hostFor(h.gatewayAddress)}/test/app@${images[version]!.manifestDigest}`;

  /** What the named container serves on its published port 80 (from the host's address). */
  async function served(name: string): Promise<string> {
    const c = await env.fleet.client(hostId).inspectContainer(name);
    const ports = (c.NetworkSettings as { Ports?: Record<string, { HostPort: string }[] | null> } | undefined)?.Ports ?? {};
    const port = ports["80/tcp"]?.[0]?.HostPort;
    if (!port) return "";
    return fetch(`http://${h.address}:${port}/`, { signal: AbortSignal.timeout(2_000) })
      .then((r) => r.text())
      .catch(() => "");
  }

  const rolloutOf = (id: string) => env.database.db.rollout.findUniqueOrThrow({ where: { id } });

  beforeAll(async () => {
    process.env.BERTH_ROLLOUT_SETTLE_SECONDS = "2";
    work = await mkdtemp(path.join(os.tmpdir(), "berth-rollouts-test-"));
    hosts = await startSshHosts(1);
    h = hosts.hosts[0]!;
    env = await startFleetEnv();
    owner = (await env.callerFor("Owner")).caller;
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    for (const v of ["v1", "v2", "v3"]) images[v] = await buildToolsImage(path.join(work, v), { labels: { version: v }, cmd: serve(`app-${v}`) });
    images.broken = await buildToolsImage(path.join(work, "broken"), {
      labels: { version: "broken" },
      cmd: ["sh", "-c", "echo starting the broken build; echo config file /etc/app.conf is missing >&2; exit 3"],
    });
    await push("v1", "stable");
    const auth = { method: "key" as const, privateKey: hosts.clientKey.privateKey };
    const probe = await owner.hosts.probe({ address: h.address, port: 22, username: "root", auth });
    const added = await owner.hosts.add({
      name: "rollout-host",
      address: h.address,
      port: 22,
      username: "root",
      auth,
      fingerprint: probe.fingerprint,
      hostGroupId: null,
      agent: agentSettingsFor(h, [registry.hostFor(h.gatewayAddress)]),
    });
    await owner.hosts.installAgent({ hostId: added.id });
    hostId = added.id;
    await waitFor(() => owner.hosts.get({ hostId }), (v) => v.status === "connected" && v.agent === "ok", 60_000);
  });

  afterAll(async () => {
    await stopRolloutWorker();
    await env?.close();
    await hosts?.cleanup();
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
    if (savedSettle === undefined) delete process.env.BERTH_ROLLOUT_SETTLE_SECONDS;
    else process.env.BERTH_ROLLOUT_SETTLE_SECONDS = savedSettle;
  });

  let appId: string;

  it("a new image pushed to the tag replaces the container start-first: new digest recorded, both on the timeline", async () => {
    const deployed = await owner.containers.deploy({ hostId, spec: { image: ref("stable"), name: "app", ports: [{ containerPort: 80, protocol: "tcp" }] } });
    appId = deployed.deploymentId;
    expect(await waitFor(() => served("app"), (t) => t.includes("app-v1"))).toContain("app-v1");

    await push("v2", "stable");
    const updated = await owner.containers.update({ hostId, deploymentId: appId });
    expect(updated).toMatchObject({ status: "succeeded", rolledBack: false, strategy: "start-first", digestBefore: digestOf("v1"), digestAfter: digestOf("v2") });
    const now = await owner.containers.inspect({ hostId, containerId: "app" });
    expect(now.Id).toBe(updated.containerId);
    expect(now.Id).not.toBe(deployed.containerId);
    expect(now.Config.Image).toBe(digestOf("v2"));
    expect(await waitFor(() => served("app"), (t) => t.includes("app-v2"))).toContain("app-v2");
    // Only the deployment's one container is left (no temporary or old one).
    const names = (await env.fleet.client(hostId).containers()).map((c) => c.Names[0]);
    expect(names.filter((n) => n?.startsWith("/app"))).toEqual(["/app"]);

    const timeline = await owner.rollouts.list({ deploymentId: appId });
    expect(timeline.items.map((r) => [r.trigger, r.status, r.digestAfter])).toEqual([
      ["form", "succeeded", digestOf("v2")],
      ["form", "succeeded", digestOf("v1")],
    ]);
    expect(timeline.items[0]).toMatchObject({ target: { kind: "deployment", id: appId, name: "app" }, canRollback: true, actor: { type: "user" } });
    const detail = await owner.rollouts.get({ id: updated.rolloutId });
    expect(detail.steps.map((s) => s.phase)).toEqual(expect.arrayContaining(["queued", "pull", "create", "gate", "switch", "stop", "done"]));
    const deployment = await owner.deployments.get({ id: appId });
    expect(deployment).toMatchObject({ digest: digestOf("v2"), status: "running", containerId: now.Id, lastRollout: { id: updated.rolloutId } });
    const audited = await env.database.db.auditEvent.findFirst({ where: { action: "rollouts.run", targetId: appId }, orderBy: { id: "desc" } });
    expect(audited).toMatchObject({ outcome: "success", actorType: "user" });
  });

  it("an image whose container exits at start fails the rollout; the old container serves again, the reason names the exit, the log tail has its output", async () => {
    // Start-first: the running container is never stopped.
    const before = await owner.containers.inspect({ hostId, containerId: "app" });
    await push("broken", "stable");
    const failed = await owner.containers.update({ hostId, deploymentId: appId });
    expect(failed).toMatchObject({ status: "failed", rolledBack: true, containerId: before.Id });
    expect(failed.message).toMatch(/the new container exited with code 3/);
    const row = await rolloutOf(failed.rolloutId);
    expect(row.reason).toMatch(/exited with code 3/);
    expect(row.logTail).toContain("config file /etc/app.conf is missing");
    expect(row.digestAfter).toBe(digestOf("broken"));
    expect((await owner.containers.inspect({ hostId, containerId: "app" })).Id).toBe(before.Id);
    expect(await waitFor(() => served("app"), (t) => t.includes("app-v2"))).toContain("app-v2");

    // Stop-first (a fixed host port): the old container is stopped, then brought back.
    const web = await owner.containers.deploy({ hostId, spec: { image: digestOf("v1"), name: "fixed", ports: [{ hostPort: 18091, containerPort: 80, protocol: "tcp" }] } });
    const page = () => fetch(`http://${h.address}:18091/`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.text()).catch(() => "");
    expect(await waitFor(page, (t) => t.includes("app-v1"))).toContain("app-v1");
    const stopFirst = await owner.containers.update({ hostId, deploymentId: web.deploymentId, image: ref("stable") });
    expect(stopFirst).toMatchObject({ status: "failed", rolledBack: true, strategy: "stop-first", containerId: web.containerId });
    expect(stopFirst.message).toMatch(/exited with code 3/);
    expect((await rolloutOf(stopFirst.rolloutId)).logTail).toContain("starting the broken build");
    expect(await waitFor(page, (t) => t.includes("app-v1"))).toContain("app-v1");
    const back = await owner.containers.inspect({ hostId, containerId: "fixed" });
    expect(back).toMatchObject({ Id: web.containerId, State: { Running: true } });
    expect((await env.database.db.deployment.findUniqueOrThrow({ where: { id: web.deploymentId } })).status).toBe("rolledBack");
    const names = (await env.fleet.client(hostId).containers()).map((c) => c.Names[0]);
    expect(names.filter((n) => n?.startsWith("/fixed"))).toEqual(["/fixed"]);
  });

  it("rolls back by digest after the tag moved: the chosen version runs again, pinned, through a new rollout", async () => {
    // The tag now points at the broken build; the first deploy ran v1.
    const timeline = await owner.rollouts.list({ deploymentId: appId, status: ["succeeded"] });
    const first = timeline.items.at(-1)!;
    expect(first.digestAfter).toBe(digestOf("v1"));
    const accepted = await owner.rollouts.rollback({ rolloutId: first.id });
    const done = await waitFor(() => rolloutOf(accepted.rolloutId), (r) => ["succeeded", "failed"].includes(r.status), 90_000);
    expect(done).toMatchObject({ status: "succeeded", trigger: "rollback", rollbackOfId: first.id, imageRef: digestOf("v1"), digestAfter: digestOf("v1") });
    const now = await owner.containers.inspect({ hostId, containerId: "app" });
    expect(now.Config.Image).toBe(digestOf("v1"));
    expect(await waitFor(() => served("app"), (t) => t.includes("app-v1"))).toContain("app-v1");
  });

  it("a newer request supersedes a queued one; rollouts of one deployment run one at a time", async () => {
    await push("v3", "stable");
    // After the rollback the deployment is pinned to v1's digest: naming the tag follows it again.
    const pinned = await owner.deployments.get({ id: appId });
    expect((pinned.spec as { image: string }).image).toBe(digestOf("v1"));
    const a = await owner.containers.update({ hostId, deploymentId: appId, image: ref("stable"), wait: false });
    await waitFor(() => rolloutOf(a.rolloutId), (r) => r.status === "running");
    const b = await owner.containers.update({ hostId, deploymentId: appId, image: ref("stable"), wait: false });
    const c = await owner.containers.update({ hostId, deploymentId: appId, image: ref("stable"), wait: false });
    expect((await rolloutOf(b.rolloutId)).status).toBe("superseded");
    expect((await rolloutOf(b.rolloutId)).reason).toContain(c.rolloutId);
    expect((await rolloutOf(c.rolloutId)).status).toBe("queued");
    const doneA = await waitFor(() => rolloutOf(a.rolloutId), (r) => r.finishedAt !== null, 90_000);
    const doneC = await waitFor(() => rolloutOf(c.rolloutId), (r) => r.finishedAt !== null, 90_000);
    expect([doneA.status, doneC.status]).toEqual(["succeeded", "succeeded"]);
    // C started only after A had finished.
    expect(doneC.startedAt!.getTime()).toBeGreaterThanOrEqual(doneA.finishedAt!.getTime());
    expect([doneA.digestAfter, doneC.digestAfter]).toEqual([digestOf("v3"), digestOf("v3")]);
    expect(((await owner.deployments.get({ id: appId })).spec as { image: string }).image).toBe(ref("stable"));
    const counts = await owner.rollouts.counts();
    expect(counts).toMatchObject({ running: 0, queued: 0 });
  });

  it("a requester who lost the permission before the rollout ran fails closed, audited as denied; nothing changes on the host", async () => {
    const { caller: deployer, userId } = await env.callerFor("Deployer");
    const before = await owner.containers.inspect({ hostId, containerId: "app" });
    // Something running first, so the Deployer's request waits in the queue.
    const busy = await owner.containers.update({ hostId, deploymentId: appId, wait: false });
    await waitFor(() => rolloutOf(busy.rolloutId), (r) => r.status === "running");
    const mine = await deployer.containers.update({ hostId, deploymentId: appId, wait: false });
    expect(mine.status).toBe("queued");
    await env.database.db.roleBinding.deleteMany({ where: { userId } });
    const done = await waitFor(() => rolloutOf(mine.rolloutId), (r) => r.finishedAt !== null, 90_000);
    expect(done.status).toBe("failed");
    expect(done.reason).toMatch(/no longer holds containers.deploy/);
    const event = await env.database.db.auditEvent.findFirst({ where: { action: "rollouts.run", actorId: userId } });
    expect(event).toMatchObject({ outcome: "denied", targetId: appId });
    const busyDone = await rolloutOf(busy.rolloutId);
    const after = await owner.containers.inspect({ hostId, containerId: "app" });
    // Only the owner's rollout replaced the container.
    expect(after.Id).toBe((await env.database.db.deployment.findUniqueOrThrow({ where: { id: appId } })).containerId);
    expect(busyDone.status).toBe("succeeded");
    expect(after.Id).not.toBe(before.Id);
  });

  it("a webhook can't swap the image for another repository; a bad reference is a clear error", async () => {
    await expect(owner.containers.update({ hostId, deploymentId: appId, image: `${registry.hostFor(h.gatewayAddress)}/test/other:v1` })).rejects.toThrow(
      /must be of the deployment's repository/,
    );
    await expect(owner.containers.update({ hostId, deploymentId: appId, image: "Not A Reference" })).rejects.toThrow(/invalid reference|reference/);
  });
});
