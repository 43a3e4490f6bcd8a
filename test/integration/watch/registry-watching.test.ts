import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentSettingsFor, startFleetEnv, waitFor, type Caller, type FleetEnv } from "../../fixtures/fleet-env";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoCopy, skopeoInspect } from "../../fixtures/skopeo";
import { startSshHosts, type SshHostFleet, type SshTestHost } from "../../fixtures/ssh-hosts";
import { buildToolsImage, type BuiltImage } from "../../fixtures/test-images";
import { claimDueWatches, startWatcher } from "../../../server/watch/scheduler";
import { checkTag, registryKey } from "../../../server/watch/tag-digests";

// Registry watching on a real SSH test host against the real registry: the
// watcher (a short interval here) asks the host's agent for the tag's digest,
// notices a push made with skopeo, and rolls the new digest out only when the
// image is old enough and the maintenance window is open. "Update available"
// shows on the container list after a push, watching or not.

describe("registry watching", () => {
  let hosts: SshHostFleet;
  let env: FleetEnv;
  let owner: Caller;
  let registry: TestRegistry;
  let work: string;
  let hostId: string;
  let stopWatcher: () => Promise<void>;
  // A registry that rate limits every manifest request (429, Retry-After: 120), as the host reaches it.
  let busy: http.Server;
  const busyRequests: string[] = [];
  const busyHost = () => `${host().gatewayAddress}:${(busy.address() as AddressInfo).port}`;
  const built: BuiltImage[] = [];

  const host = (): SshTestHost => hosts.hosts[0]!;
  const repo = () => `${registry.hostFor(host().gatewayAddress)}/team/app`;
  const pushed = async (n: number, tag: string) => {
    await skopeoCopy(`oci:${built[n]!.layoutDir}:${built[n]!.tag}`, `docker://${registry.host}/team/app:${tag}`);
    const digest = ((await skopeoInspect(`docker://${registry.host}/team/app:${tag}`)) as { Digest: string }).Digest;
    return digest;
  };
  const deployApp = async (name: string, tag: string) => {
    const result = await owner.containers.deploy({ hostId, spec: { image: `${repo()}:${tag}`, name, command: ["sleep", "3600"] } });
    return result.deploymentId;
  };
  const rolloutsOf = (deploymentId: string) => env.database.db.rollout.findMany({ where: { deploymentId, trigger: "watcher" } });

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-watch-test-"));
    hosts = await startSshHosts(1);
    env = await startFleetEnv();
    owner = (await env.callerFor("Owner")).caller;
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    // Two different images (their labels differ, so do their digests).
    for (const label of ["one", "two", "three"]) built.push(await buildToolsImage(path.join(work, label), { labels: { "org.berth.version": label } }));
    busy = http.createServer((req, res) => {
      busyRequests.push(`${req.method} ${req.url}`);
      if (req.url === "/v2/") return res.writeHead(200, { "content-type": "application/json" }).end("{}");
      res.writeHead(429, { "retry-after": "120", "content-type": "application/json" }).end(JSON.stringify({ errors: [{ code: "TOOMANYREQUESTS", message: "slow down" }] }));
    });
    await new Promise<void>((r) => busy.listen(0, "0.0.0.0", r));
    const auth = { method: "key" as const, privateKey: hosts.clientKey.privateKey };
    const probe = await owner.hosts.probe({ address: host().address, port: 22, username: "root", auth });
    const added = await owner.hosts.add({
      name: "watch-host",
      address: host().address,
      port: 22,
      username: "root",
      auth,
      fingerprint: probe.fingerprint,
      hostGroupId: null,
      agent: agentSettingsFor(host(), [registry.hostFor(host().gatewayAddress), busyHost()]),
    });
    hostId = added.id;
    await owner.hosts.installAgent({ hostId });
    await waitFor(() => owner.hosts.get({ hostId }), (v) => v.status === "connected" && v.agent === "ok");
    stopWatcher = startWatcher({ fleet: env.fleet, box: env.box }, { db: env.database.db, tickMs: 200, trackerEveryMs: 300, tracker: { refreshSeconds: 1 }, log: () => {} });
  });

  afterAll(async () => {
    await stopWatcher?.();
    await env?.close();
    await hosts?.cleanup();
    await registry?.stop();
    busy?.closeAllConnections();
    await new Promise((r) => busy?.close(r));
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("shows 'update available' on the container list after a push to its tag, without watching", async () => {
    const first = await pushed(0, "plain");
    await deployApp("plain-app", "plain");
    const row = async () => (await owner.containers.all({ name: "plain-app" })).items.find((r) => r.name === "plain-app");
    // The tracker has checked the tag (its TagDigest is the running digest) and sees no update.
    await waitFor(() => env.database.db.tagDigest.findUnique({ where: { reference: `${repo()}:plain` } }), (r) => r?.digest === first);
    expect((await row())?.updateAvailable).toBe(false);

    const second = await pushed(1, "plain");
    expect(second).not.toBe(first);
    const after = await waitFor(row, (r) => r?.updateAvailable === true);
    expect(after?.updateAvailable).toBe(true);
    // Nothing was rolled out: it is only shown.
    const deployment = await env.database.db.deployment.findFirstOrThrow({ where: { name: "plain-app" } });
    expect(await rolloutsOf(deployment.id)).toEqual([]);
    // The container page says so too.
    const detail = await owner.containers.inspect({ hostId, containerId: after!.id });
    expect(detail.updateAvailable).toBe(true);
  });

  it("a new digest younger than the minimum age is seen but not rolled out, and the watch says why", async () => {
    await pushed(0, "aged");
    const deploymentId = await deployApp("aged-app", "aged");
    await owner.watches.set({ deploymentId, enabled: true, intervalSeconds: 10, minAgeSeconds: 86_400, window: null, preApproved: false });
    const fresh = await pushed(1, "aged");
    // The watch is checked at once when set; "check now" asks again without waiting for the interval.
    const watch = (await owner.watches.get({ deploymentId }))!;
    const after = await waitFor(() => owner.watches.checkNow({ id: watch.id }), (w) => w.seenDigest === fresh);
    expect(after.seenDigest).toBe(fresh);
    expect(after.updateAvailable).toBe(true);
    expect(after.state.kind).toBe("waitingForAge");
    expect(after.state.message).toContain("86400 s old");
    expect(after.state.until!.getTime()).toBeGreaterThan(Date.now() + 86_000_000);
    expect(await rolloutsOf(deploymentId)).toEqual([]);
    const audit = await env.database.db.auditEvent.findFirst({ where: { action: "watches.set", targetId: deploymentId } });
    expect(audit?.outcome).toBe("success");
  });

  it("outside the maintenance window a new digest is not rolled out", async () => {
    await pushed(0, "windowed");
    const deploymentId = await deployApp("windowed-app", "windowed");
    // A window on a day that isn't today (UTC): closed now.
    const closedDay = (new Date().getUTCDay() + 3) % 7;
    await owner.watches.set({ deploymentId, enabled: true, intervalSeconds: 10, minAgeSeconds: 0, window: { days: [closedDay], start: "00:00", end: "00:00", timeZone: "UTC" }, preApproved: false });
    const fresh = await pushed(1, "windowed");
    const watch = (await owner.watches.get({ deploymentId }))!;
    const after = await waitFor(() => owner.watches.checkNow({ id: watch.id }), (w) => w.seenDigest === fresh);
    expect(after.state.kind).toBe("outsideWindow");
    expect(after.state.until!.getUTCDay()).toBe(closedDay);
    expect(await rolloutsOf(deploymentId)).toEqual([]);
  });

  it("a watched deployment picks up a new digest on its own and the container ends up on it, once", async () => {
    await pushed(0, "live");
    const deploymentId = await deployApp("live-app", "live");
    await owner.watches.set({ deploymentId, enabled: true, intervalSeconds: 10, minAgeSeconds: 0, window: null, preApproved: false });
    const fresh = await pushed(2, "live");
    // No one calls anything: the watcher's next check (the interval is short) notices the push and asks for a rollout.
    const asked = await waitFor(() => owner.watches.get({ deploymentId }), (w) => w?.seenDigest === fresh && ["rolloutRequested", "refused", "upToDate"].includes(w.state.kind), 40_000);
    expect(asked?.state.message).not.toContain("refused");
    expect(["rolloutRequested", "upToDate"]).toContain(asked?.state.kind);
    const done = await waitFor(
      () => rolloutsOf(deploymentId),
      (rs) => rs.some((r) => r.status === "succeeded"),
      100_000,
    );
    expect(done).toHaveLength(1);
    expect(done[0]!.trigger).toBe("watcher");
    expect(done[0]!.actorType).toBe("system");
    expect(done[0]!.actorLabel).toBe("watcher");
    expect(done[0]!.imageRef).toBe(`${repo()}:live@${fresh}`);
    // The container now runs the new digest.
    const deployment = await env.database.db.deployment.findUniqueOrThrow({ where: { id: deploymentId } });
    const running = await env.fleet.client(hostId).inspectContainer(deployment.containerId!);
    expect(running.State.Running).toBe(true);
    const image = await env.fleet.client(hostId).inspectImage(running.Image);
    expect(JSON.stringify(image)).toContain(fresh);
    // Up to date now; more checks ask for no second rollout of the same digest.
    const watch = await waitFor(() => owner.watches.get({ deploymentId }), (w) => w?.state.kind === "upToDate");
    expect(watch?.currentDigest).toBe(fresh);
    await owner.watches.checkNow({ id: watch!.id });
    expect(await rolloutsOf(deploymentId)).toHaveLength(1);
    const audit = await env.database.db.auditEvent.findFirst({ where: { action: "watches.rollout", targetId: deploymentId } });
    expect(audit?.actorType).toBe("system");
    expect(audit?.outcome).toBe("success");
  });

  it("a stack's service follows its tag too: forStack lists each service, its watch and whether an update is available", async () => {
    const first = await pushed(0, "stacked");
    const compose = `services:\n  web:\n    image: ${repo()}:stacked\n    command: ["sleep", "3600"]\n  side:\n    image: ${repo()}:stacked\n    command: ["sleep", "3600"]\n`;
    const applied = await owner.stacks.up({ hostId, name: "watched-stack", source: { files: [{ path: "compose.yaml", content: compose }] } });
    const stackId = applied.stackId;
    const set = await owner.watches.set({ stackId, service: "web", enabled: true, intervalSeconds: 10, minAgeSeconds: 86_400, window: null, preApproved: false });
    expect(set.target).toEqual({ kind: "stack", id: stackId, service: "web" });
    expect(set.reference).toBe(`${repo()}:stacked`);
    const checked = await waitFor(() => owner.watches.checkNow({ id: set.id }), (w) => w.currentDigest === first);
    expect(checked.state.kind).toBe("upToDate");

    const fresh = await pushed(1, "stacked");
    const after = await waitFor(() => owner.watches.checkNow({ id: set.id }), (w) => w.seenDigest === fresh);
    expect(after.state.kind).toBe("waitingForAge");
    const services = await owner.watches.forStack({ stackId });
    expect(services.map((s) => s.service).sort()).toEqual(["side", "web"]);
    expect(services.find((s) => s.service === "web")).toMatchObject({ updateAvailable: true, watch: { id: set.id, seenDigest: fresh } });
    // Not watched, but the same tag moved: an update is available all the same.
    expect(services.find((s) => s.service === "side")).toMatchObject({ updateAvailable: true, watch: null });
    expect(await env.database.db.rollout.count({ where: { stackId, trigger: "watcher" } })).toBe(0);
  });

  it("a registry's 429 reaches the gateway through the host: the registry is left alone until its Retry-After", async () => {
    const services = { fleet: env.fleet, box: env.box };
    const before = Date.now();
    const first = await checkTag(env.database.db, services, { hostId, reference: `${busyHost()}/team/app:v1` });
    expect(first.error).toContain("429");
    const hold = await env.database.db.tagDigest.findUniqueOrThrow({ where: { reference: registryKey(busyHost()) } });
    expect(hold.retryAfter!.getTime()).toBeGreaterThanOrEqual(before + 119_000);
    expect(hold.retryAfter!.getTime()).toBeLessThan(Date.now() + 121_000);
    const asked = busyRequests.filter((r) => r.includes("/manifests/")).length;
    // The agent didn't retry; and now nothing of that registry is asked, another tag included.
    expect(asked).toBe(1);
    const again = await checkTag(env.database.db, services, { hostId, reference: `${busyHost()}/team/other:v2`, force: true });
    expect(again.skipped).toBe(true);
    expect(busyRequests.filter((r) => r.includes("/manifests/")).length).toBe(asked);
  });

  it("changing a watch needs the deploy permission on the host; pre-approval needs deploys.approve; both refusals audited", async () => {
    await pushed(0, "guarded");
    const deploymentId = await deployApp("guarded-app", "guarded");
    const viewer = await env.callerFor("Viewer");
    const deployer = await env.callerFor("Deployer");
    const settings = { deploymentId, enabled: true, intervalSeconds: 60, minAgeSeconds: 0, window: null, preApproved: false };
    await expect(viewer.caller.watches.set(settings)).rejects.toThrow(/containers.deploy/);
    await expect(deployer.caller.watches.set({ ...settings, preApproved: true })).rejects.toThrow(/deploys.approve/);
    const denials = await env.database.db.auditEvent.findMany({ where: { action: "watches.set", outcome: "denied", actorId: { in: [viewer.userId, deployer.userId] } } });
    expect(denials.map((d) => d.actorId).sort()).toEqual([viewer.userId, deployer.userId].sort());
    expect(await env.database.db.imageWatch.count({ where: { deploymentId } })).toBe(0);
    // A bad time zone is refused before anything is stored.
    await expect(owner.watches.set({ ...settings, window: { days: [1], start: "22:00", end: "02:00", timeZone: "Mars/Olympus" } })).rejects.toThrow(/IANA time zone/);
    // The deployer may watch without pre-approval; the viewer may read it but not remove it.
    const set = await deployer.caller.watches.set(settings);
    expect((await viewer.caller.watches.get({ deploymentId }))?.id).toBe(set.id);
    await expect(viewer.caller.watches.remove({ id: set.id })).rejects.toThrow(/containers.deploy/);
    await deployer.caller.watches.remove({ id: set.id });
    expect(await owner.watches.get({ deploymentId })).toBeNull();
    // Set at once from several places, a target still has one watch.
    const sets = await Promise.all([1, 2, 3].map((n) => owner.watches.set({ ...settings, intervalSeconds: 60 * n })));
    expect(new Set(sets.map((w) => w.id)).size).toBe(1);
    expect(await env.database.db.imageWatch.count({ where: { deploymentId } })).toBe(1);
  });

  it("due watches are claimed once: concurrent claims (as on several gateways) never share a watch", async () => {
    await stopWatcher();
    const db = env.database.db;
    await db.imageWatch.updateMany({ data: { enabled: false } });
    const past = new Date(Date.now() - 60_000);
    const created = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        db.imageWatch.create({ data: { hostId, deploymentId: `claim-test-${i}`, createdById: "nobody", intervalSeconds: 600, nextCheckAt: past } }),
      ),
    );
    const [a, b, c] = await Promise.all([claimDueWatches(db, 3), claimDueWatches(db, 3), claimDueWatches(db, 3)]);
    const all = [...a!, ...b!, ...c!];
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual(created.map((w) => w.id).sort());
    // Claimed watches are due again only after their interval.
    expect(await claimDueWatches(db, 10)).toEqual([]);
    const moved = await db.imageWatch.findMany({ where: { id: { in: all } } });
    for (const w of moved) expect(w.nextCheckAt.getTime()).toBeGreaterThan(Date.now() + 500_000);
  });
});
