import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sweepApprovals } from "../../../server/approvals/sweep";
import { waitForRollout } from "../../../server/rollouts/engine";
import { startRolloutWorker, stopRolloutWorker } from "../../../server/rollouts/worker";
import { agentSettingsFor, startFleetEnv, waitFor, type Caller, type FleetEnv } from "../../fixtures/fleet-env";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoCopy } from "../../fixtures/skopeo";
import { startSshHosts, type SshHostFleet } from "../../fixtures/ssh-hosts";
import { buildToolsImage } from "../../fixtures/test-images";

// Approvals end to end on a real SSH test host: a Deployer's update of a
// container on an approval-required group waits and leaves the container
// alone; the Deployer can't approve it; an Admin approves and the rollout
// replaces the container; a rejected or expired request never touches the
// host; one approved for later stays queued.

describe("approvals on an SSH test host", () => {
  let hosts: SshHostFleet;
  let env: FleetEnv;
  let registry: TestRegistry;
  let work: string;
  let owner: Caller;
  let admin: Caller;
  let deployer: Caller;
  let deployerId: string;
  let hostId: string;
  let deploymentId: string;
  let otherId: string;
  let image: string;

  const containerOf = async () => (await env.database.db.deployment.findUniqueOrThrow({ where: { id: deploymentId } })).containerId!;
  const inspect = (id: string) => owner.containers.inspect({ hostId, containerId: id });
  const approvalOf = (rolloutId: string) => env.database.db.approvalRequest.findUniqueOrThrow({ where: { rolloutId } });
  const update = (label: string) =>
    deployer.containers.update({ hostId, deploymentId, spec: { image, name: "approved-app", command: ["sleep", "600"], env: [{ name: "RELEASE", value: label, secret: false }] } });

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-approvals-ssh-"));
    hosts = await startSshHosts(1);
    env = await startFleetEnv();
    owner = (await env.callerFor("Owner")).caller;
    admin = (await env.callerFor("Admin")).caller;
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    const built = await buildToolsImage(path.join(work, "tools"));
    await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${registry.host}/test/tools:latest`);
    const groupId = (await owner.hosts.createGroup({ name: "production" })).id;
    const h = hosts.hosts[0]!;
    image = `${registry.hostFor(h.gatewayAddress)}/test/tools:latest`;
    const auth = { method: "key" as const, privateKey: hosts.clientKey.privateKey };
    const probe = await owner.hosts.probe({ address: h.address, port: 22, username: "root", auth });
    hostId = (
      await owner.hosts.add({
        name: "prod-1",
        address: h.address,
        port: 22,
        username: "root",
        auth,
        fingerprint: probe.fingerprint,
        hostGroupId: groupId,
        agent: agentSettingsFor(h, [registry.hostFor(h.gatewayAddress)]),
      })
    ).id;
    await owner.hosts.installAgent({ hostId });
    await waitFor(() => owner.hosts.get({ hostId }), (v) => v.status === "connected" && v.agent === "ok");
    ({ caller: deployer, userId: deployerId } = await env.callerFor("Deployer"));
    deploymentId = (await owner.containers.deploy({ hostId, spec: { image, name: "approved-app", command: ["sleep", "600"] } })).deploymentId;
    otherId = (await owner.containers.deploy({ hostId, spec: { image, name: "other-app", command: ["sleep", "600"] } })).deploymentId;
    await owner.approvals.setRule({ hostGroupId: groupId, expiryHours: 24 });
    // The gateway starts the worker at boot (server/background.ts); this process is the gateway here.
    startRolloutWorker({ fleet: env.fleet, box: env.box }, { db: () => env.database.db });
  });

  afterAll(async () => {
    await stopRolloutWorker();
    await env?.close();
    await hosts?.cleanup();
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("a Deployer's update waits, untouched; the Deployer can't approve it; an Admin approves and it runs", async () => {
    const before = await containerOf();
    const asked = await update("two");
    expect(asked.status).toBe("awaitingApproval");
    const waiting = await approvalOf(asked.rolloutId);
    expect(waiting).toMatchObject({ status: "waiting", requestedById: deployerId });
    expect(await containerOf()).toBe(before);
    expect((await inspect(before)).State.Running).toBe(true);

    await expect(deployer.approvals.approve({ id: waiting.id, comment: "self" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await env.database.db.auditEvent.findFirst({ where: { action: "approvals.approve", outcome: "denied", targetId: asked.rolloutId } })).toBeTruthy();

    const view = await admin.approvals.get({ id: waiting.id });
    expect(view.rollout.specDiff.map((c) => c.path)).toEqual(expect.arrayContaining([expect.stringContaining("env")]));
    await admin.approvals.approve({ id: waiting.id, comment: "release two" });
    const done = await waitForRollout(env.database.db, asked.rolloutId, 120_000);
    expect(done.status, done.reason ?? "").toBe("succeeded");
    const after = await containerOf();
    expect(after).not.toBe(before);
    const running = await inspect(after);
    expect(running.State.Running).toBe(true);
    expect(running.Config.Env).toContain("RELEASE=two");
  });

  it("a rejected request never touches the host: same container, same image", async () => {
    const before = await containerOf();
    const imageBefore = (await inspect(before)).Image;
    const asked = await update("three");
    const request = await approvalOf(asked.rolloutId);
    await admin.approvals.reject({ id: request.id, comment: "not now" });
    expect((await env.database.db.rollout.findUniqueOrThrow({ where: { id: asked.rolloutId } })).status).toBe("rejected");
    expect(await containerOf()).toBe(before);
    const still = await inspect(before);
    expect(still.State.Running).toBe(true);
    expect(still.Image).toBe(imageBefore);
    expect(still.Config.Env).not.toContain("RELEASE=three");
  });

  it("an expired request can't be approved and never runs", async () => {
    const before = await containerOf();
    const asked = await update("four");
    const request = await approvalOf(asked.rolloutId);
    await env.database.db.approvalRequest.update({ where: { id: request.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    await expect(admin.approvals.approve({ id: request.id })).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringContaining("expired") });
    expect((await env.database.db.rollout.findUniqueOrThrow({ where: { id: asked.rolloutId } })).status).toBe("expired");
    expect(await containerOf()).toBe(before);
  });

  it("approved to run later: it stays queued while the worker runs others, untouched; a newer approved request supersedes it", async () => {
    const before = await containerOf();
    const asked = await update("five");
    const request = await approvalOf(asked.rolloutId);
    const runAt = new Date(Date.now() + 3600_000);
    await admin.approvals.approve({ id: request.id, runAt });
    expect(await env.database.db.rollout.findUniqueOrThrow({ where: { id: asked.rolloutId } })).toMatchObject({ status: "queued", notBefore: runAt, startedAt: null });
    // The sweep wakes the worker only for rollouts that are due; this one isn't.
    expect((await sweepApprovals(env.database.db)).due).toBe(false);

    // The worker runs another deployment's approved rollout meanwhile, and leaves the scheduled one queued.
    const other = await deployer.containers.update({ hostId, deploymentId: otherId, spec: { image, name: "other-app", command: ["sleep", "600"], env: [{ name: "RELEASE", value: "x", secret: false }] } });
    await admin.approvals.approve({ id: (await approvalOf(other.rolloutId)).id });
    expect((await waitForRollout(env.database.db, other.rolloutId, 120_000)).status).toBe("succeeded");
    expect(await env.database.db.rollout.findUniqueOrThrow({ where: { id: asked.rolloutId } })).toMatchObject({ status: "queued", startedAt: null });
    expect(await containerOf()).toBe(before);
    expect((await inspect(before)).Config.Env).not.toContain("RELEASE=five");

    // A newer request of the same deployment, approved to run now, supersedes the scheduled one and runs.
    const now = await update("six");
    await admin.approvals.approve({ id: (await approvalOf(now.rolloutId)).id });
    expect(await env.database.db.rollout.findUniqueOrThrow({ where: { id: asked.rolloutId } })).toMatchObject({ status: "superseded", startedAt: null });
    expect((await waitForRollout(env.database.db, now.rolloutId, 120_000)).status).toBe("succeeded");
    expect((await inspect(await containerOf())).Config.Env).toContain("RELEASE=six");
  });

  it("a Deployer's first deploy waits with nothing on the host; once approved, its first rollout creates the container", async () => {
    const asked = await deployer.containers.deploy({ hostId, spec: { image, name: "first-app", command: ["sleep", "600"] } });
    expect(asked.containerId).toBe("");
    expect(asked.awaitingApproval?.rolloutId).toBeTruthy();
    const rolloutId = asked.awaitingApproval!.rolloutId;
    expect(await env.database.db.deployment.findUniqueOrThrow({ where: { id: asked.deploymentId } })).toMatchObject({ status: "awaitingApproval", containerId: null });
    await expect(inspect("first-app")).rejects.toBeTruthy();
    const request = await approvalOf(rolloutId);
    await expect(deployer.approvals.approve({ id: request.id })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await admin.approvals.approve({ id: request.id, comment: "first release" });
    const done = await waitForRollout(env.database.db, rolloutId, 120_000);
    expect(done.status, done.reason ?? "").toBe("succeeded");
    const saved = await env.database.db.deployment.findUniqueOrThrow({ where: { id: asked.deploymentId } });
    expect(saved.status).toBe("running");
    expect((await inspect(saved.containerId!)).State.Running).toBe(true);
  });
});
