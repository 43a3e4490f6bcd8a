import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Viewer } from "../../../server/auth/access";
import { loadGrants } from "../../../server/auth/access";
import { requestRollout, waitForRollout } from "../../../server/rollouts/engine";
import type { RolloutStep } from "../../../server/rollouts/types";
import { agentSettingsFor, startFleetEnv, waitFor, type Caller, type FleetEnv } from "../../fixtures/fleet-env";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoCopy } from "../../fixtures/skopeo";
import { startSshHosts, type SshHostFleet } from "../../fixtures/ssh-hosts";
import { buildSimpleImage, buildToolsImage, type BuiltImage } from "../../fixtures/test-images";

// Stack rollouts on a real SSH test host with the real registry: a new image
// pushed to a service's tag is rolled out to that service only, health-gated,
// start-first, while the other service keeps reaching it by its alias with no
// failed request; an image whose container exits fails the rollout with the
// exit named and the old containers serving; services roll in dependency
// order and one that fails puts those already rolled back.

/** The api answers "api" over HTTP, if its image has httpd (the `simple` image has not: it exits 3). */
const API_COMMAND = `["sh", "-c", "test -e /bin/httpd || { echo no httpd in this image; exit 3; }; mkdir -p /www; echo api > /www/index.html; trap 'exit 0' TERM; httpd -f -p 80 -h /www & wait"]`;

function shopCompose(app: string, tools: string): string {
  return `services:
  api:
    image: ${app}
    command: ${API_COMMAND}
    stop_grace_period: 1s
    networks:
      front:
        aliases: [backend]
  web:
    image: ${tools}
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
    stop_grace_period: 1s
    depends_on: [api]
    networks: [front]
networks:
  front: {}
`;
}

/** worker runs on any busybox image; gate (after it) needs httpd, so the `simple` image fails it alone. */
function pairCompose(image: string): string {
  return `services:
  gate:
    image: ${image}
    command: ${API_COMMAND}
    stop_grace_period: 1s
    depends_on: [worker]
  worker:
    image: ${image}
    command: ["sh", "-c", "trap 'exit 0' TERM; busybox sleep 100000 & wait"]
    stop_grace_period: 1s
`;
}

/** A bounded loop of HTTP requests to the api's alias inside web; stops early once /tmp/stop exists. */
const REQUEST_LOOP = `ok=0; fail=0; i=0
while [ $i -lt 3000 ] && [ ! -e /tmp/stop ]; do
  i=$((i+1))
  out=$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 backend 80 | tail -1)
  if [ "$out" = "api" ]; then ok=$((ok+1)); touch /tmp/started; else fail=$((fail+1)); echo "failed: [$out]"; fi
  sleep 0.02
done
echo "ok=$ok fail=$fail"`;

describe("stack rollouts on an SSH test host", () => {
  let hosts: SshHostFleet;
  let env: FleetEnv;
  let registry: TestRegistry;
  let owner: Caller;
  let ownerViewer: Viewer;
  let work: string;
  let hostId: string;
  let reg: string;
  let v1: BuiltImage;
  let v2: BuiltImage;
  let bad: BuiltImage;
  let shopId: string;

  const client = () => env.fleet.client(hostId);
  const containersOf = async (stackId: string) => {
    const got = await owner.stacks.get({ stackId });
    return Object.fromEntries(got.services.map((s) => [s.name, s.containers.map((c) => ({ id: c.id, name: c.name, state: c.state }))]));
  };
  const push = (image: BuiltImage, ref: string) => skopeoCopy(`oci:${image.layoutDir}:${image.tag}`, `docker://${registry.host}/${ref}`);
  /** Through the engine: requested (planned, judged, queued), run by its worker, waited for. */
  const roll = async (stackId: string, image: string | null) => {
    const accepted = await requestRollout(
      { db: env.database.db, services: { fleet: env.fleet, box: env.box } },
      { target: { kind: "stack", stackId }, image, trigger: "api", requester: { actor: { type: "user", id: ownerViewer.user.id, label: ownerViewer.user.email }, viewer: ownerViewer } },
    );
    expect(accepted.status).toBe("queued");
    return waitForRollout(env.database.db, accepted.rolloutId, 120_000);
  };
  const digestOf = (image: BuiltImage, repo: string) => `${reg}/${repo}@${image.manifestDigest}`;
  const imageOf = async (containerId: string) => {
    const c = await client().inspectContainer(containerId);
    return ((await client().inspectImage(c.Image)) as { RepoDigests?: string[] } | null)?.RepoDigests ?? [];
  };

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-stack-rollout-"));
    hosts = await startSshHosts(1, { networkPoolPrefix: 22 });
    env = await startFleetEnv();
    let ownerId: string;
    ({ caller: owner, userId: ownerId } = await env.callerFor("Owner"));
    const user = await env.database.db.user.findUniqueOrThrow({ where: { id: ownerId } });
    ownerViewer = { user: { id: user.id, email: user.email, name: null }, sessionId: null, grants: await loadGrants(env.database.db, user.id) };
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    v1 = await buildToolsImage(path.join(work, "v1"), { labels: { "org.berth.test.version": "1" } });
    v2 = await buildToolsImage(path.join(work, "v2"), { labels: { "org.berth.test.version": "2" } });
    bad = await buildSimpleImage(path.join(work, "bad"));
    expect(new Set([v1.manifestDigest, v2.manifestDigest, bad.manifestDigest]).size).toBe(3);
    await push(v1, "test/app:latest");
    await push(v1, "test/tools:latest");
    await push(v1, "test/pair:latest");
    const h = hosts.hosts[0]!;
    reg = registry.hostFor(h.gatewayAddress);
    const auth = { method: "key" as const, privateKey: hosts.clientKey.privateKey };
    const probe = await owner.hosts.probe({ address: h.address, port: 22, username: "root", auth });
    const group = await owner.hosts.createGroup({ name: "rollout-group" });
    const added = await owner.hosts.add({
      name: "rollout-host",
      address: h.address,
      port: 22,
      username: "root",
      auth,
      fingerprint: probe.fingerprint,
      hostGroupId: group.id,
      agent: agentSettingsFor(h, [reg]),
    });
    await owner.hosts.installAgent({ hostId: added.id });
    hostId = added.id;
    await waitFor(() => owner.hosts.get({ hostId }), (v) => v.status === "connected" && v.agent === "ok", 60_000);
    const applied = await owner.stacks.up({ hostId, name: "shop", source: { files: [{ path: "compose.yaml", content: shopCompose(`${reg}/test/app:latest`, `${reg}/test/tools:latest`) }] } });
    expect(applied).toMatchObject({ version: 1, result: "applied" });
    shopId = applied.stackId;
  });

  afterAll(async () => {
    await env?.close();
    await hosts?.cleanup();
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("rolls a new image of the api's tag out to the api only, start-first, while web keeps reaching it by its alias with no failed request", async () => {
    const before = await containersOf(shopId);
    expect(await imageOf(before.api![0]!.id)).toContain(digestOf(v1, "test/app"));
    await push(v2, "test/app:latest");

    // web asks for the api by its alias in a bounded loop for the whole rollout.
    const web = before.web![0]!.id;
    const loop = client().exec(web, ["sh", "-c", REQUEST_LOOP], { timeoutMs: 180_000 });
    await waitFor(() => client().exec(web, ["test", "-e", "/tmp/started"]), (r) => r.exitCode === 0);
    const rollout = await roll(shopId, `${reg}/test/app:latest`);
    await client().exec(web, ["touch", "/tmp/stop"]);
    const requests = await loop;

    expect(rollout).toMatchObject({ status: "succeeded", trigger: "api", services: ["api"], versionBefore: 1, versionAfter: 2, strategy: "start-first", reason: null });
    expect(rollout.digests).toEqual({ api: { before: digestOf(v1, "test/app"), after: digestOf(v2, "test/app") } });
    expect(requests.stdout).toMatch(/ok=[1-9]\d* fail=0\n$/);

    // The api was replaced (by a container of the new digest, under its name); web is the same container.
    const after = await containersOf(shopId);
    expect(after.web).toEqual(before.web);
    expect(after.api).toHaveLength(1);
    expect(after.api![0]).toMatchObject({ name: "shop-api-1", state: "running" });
    expect(after.api![0]!.id).not.toBe(before.api![0]!.id);
    expect(await imageOf(after.api![0]!.id)).toContain(digestOf(v2, "test/app"));
    const all = await client().containers({ all: true });
    expect(all.filter((c) => c.Labels?.["com.docker.compose.project"] === "shop").map((c) => c.Names[0]).sort()).toEqual(["/shop-api-1", "/shop-web-1"]);

    // The new version pins the image by digest (a later rollback is by digest), and is the stack's current one.
    const stack = await owner.stacks.get({ stackId: shopId });
    expect(stack.version).toBe(2);
    const v = await env.database.db.stackVersion.findUniqueOrThrow({ where: { stackId_number: { stackId: shopId, number: 2 } } });
    expect(v.result).toBe("applied");
    const model = v.model as { services: { name: string; spec: { image: string } }[] };
    // Pinned by digest, the tag kept beside it (what the service follows: a watch, an update).
    expect(model.services.find((s) => s.name === "api")!.spec.image).toBe(`${reg}/test/app:latest@${v2.manifestDigest}`);
    expect(model.services.find((s) => s.name === "web")!.spec.image).toBe(`${reg}/test/tools:latest`);
    // The timeline: pulled before anything was created, the gate passed, the old one taken off its network.
    const steps = rollout.steps as unknown as RolloutStep[];
    const at = (re: RegExp) => steps.findIndex((s) => re.test(s.message));
    expect(at(/Pulling/)).toBeGreaterThan(-1);
    expect(at(/Pulling/)).toBeLessThan(at(/^Creating shop-api-1-next-/));
    expect(at(/^Taking shop-api-1 off its networks/)).toBeGreaterThan(at(/shop-api-1-next-\w+ is running steadily/));
  });

  it("an image whose container exits fails the rollout: the exit is named, its output kept, the old api serving, the version unchanged", async () => {
    const before = await containersOf(shopId);
    await push(bad, "test/app:latest");
    const rollout = await roll(shopId, `${reg}/test/app:latest`);
    expect(rollout.status).toBe("failed");
    expect(rollout.reason).toMatch(/api: the new container exited with code 3/);
    expect(rollout.logTail).toContain("no httpd in this image");
    expect(rollout.versionAfter).toBeNull();

    const after = await containersOf(shopId);
    expect(after).toEqual(before);
    const web = after.web![0]!.id;
    const answer = await client().exec(web, ["sh", "-c", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 backend 80 | tail -1"]);
    expect(answer.stdout.trim()).toBe("api");
    expect(await imageOf(after.api![0]!.id)).toContain(digestOf(v2, "test/app"));
    const stack = await env.database.db.stack.findUniqueOrThrow({ where: { id: shopId } });
    expect(stack).toMatchObject({ currentVersion: 2, status: "applied" });
    expect(stack.lastError).toMatch(/exited with code 3/);
    const failed = await env.database.db.stackVersion.findUniqueOrThrow({ where: { stackId_number: { stackId: shopId, number: 3 } } });
    expect(failed.result).toBe("failed");
    const all = await client().containers({ all: true });
    expect(all.filter((c) => c.Labels?.["com.docker.compose.project"] === "shop").map((c) => c.Names[0]).sort()).toEqual(["/shop-api-1", "/shop-web-1"]);
  });

  it("rolls services in dependency order, and one failing puts the services already rolled back on their old containers", async () => {
    const applied = await owner.stacks.up({ hostId, name: "pair", source: { files: [{ path: "compose.yaml", content: pairCompose(`${reg}/test/pair:latest`) }] } });
    expect(applied.result).toBe("applied");
    const before = await containersOf(applied.stackId);
    await push(bad, "test/pair:latest");
    const rollout = await roll(applied.stackId, `${reg}/test/pair:latest`);

    // Planned worker first (gate depends on it), though the file names gate first.
    expect(rollout.services).toEqual(["worker", "gate"]);
    expect(rollout.status).toBe("failed");
    expect(rollout.reason).toMatch(/^gate: the new container exited with code 3/);
    const steps = (rollout.steps as unknown as RolloutStep[]).map((s) => s.message);
    const workerPassed = steps.findIndex((m) => /^pair-worker-1-next-\w+ is running steadily/.test(m));
    expect(workerPassed).toBeGreaterThan(-1);
    expect(workerPassed).toBeLessThan(steps.findIndex((m) => /^Creating pair-gate-1-next-/.test(m)));
    expect(steps.some((m) => /^Putting the old container of pair-worker-1 back/.test(m))).toBe(true);

    // worker runs its old container again (same id, old image); gate never stopped.
    const after = await containersOf(applied.stackId);
    expect(after).toEqual(before);
    expect(after.worker![0]!.state).toBe("running");
    expect(await imageOf(after.worker![0]!.id)).toContain(digestOf(v1, "test/pair"));
    expect((await env.database.db.stack.findUniqueOrThrow({ where: { id: applied.stackId } })).currentVersion).toBe(1);
  });

  it("keeps a timeline: the apply and the rollouts, each with its versions and digests; rolling back goes to version 1's digest, not the moved tag", async () => {
    const timeline = await env.database.db.rollout.findMany({ where: { stackId: shopId }, orderBy: { createdAt: "asc" } });
    expect(timeline.map((r) => [r.trigger, r.status, r.versionBefore, r.versionAfter])).toEqual([
      ["form", "succeeded", null, 1],
      ["api", "succeeded", 1, 2],
      ["api", "failed", 2, null],
    ]);
    expect(timeline[0]!.digests).toEqual({ api: { before: null, after: digestOf(v1, "test/app") }, web: { before: null, after: digestOf(v1, "test/tools") } });
    expect(timeline[0]!.actorType).toBe("user");

    // The tag now points at the image that exits; version 1 is rolled back to by its digest.
    const before = await containersOf(shopId);
    const result = await owner.stacks.rollback({ stackId: shopId, version: 1 });
    expect(result).toMatchObject({ version: 4, result: "applied", error: null });
    const rollout = await env.database.db.rollout.findUniqueOrThrow({ where: { id: result.rolloutId } });
    expect(rollout).toMatchObject({ trigger: "rollback", status: "succeeded", rollbackOfId: timeline[0]!.id, services: ["api"], versionBefore: 2, versionAfter: 4 });
    expect(rollout.digests).toEqual({ api: { before: digestOf(v2, "test/app"), after: digestOf(v1, "test/app") } });
    const after = await containersOf(shopId);
    expect(after.web).toEqual(before.web);
    expect(await imageOf(after.api![0]!.id)).toContain(digestOf(v1, "test/app"));
    const versions = await owner.stacks.versions({ stackId: shopId });
    expect(versions.items.map((v) => [v.version, v.result, v.rollbackOf])).toEqual([
      [4, "applied", 1],
      [3, "failed", null],
      [2, "applied", null],
      [1, "applied", null],
    ]);
  });

  it("where the host's group requires approval, a Deployer's apply and roll back wait for an approver: the answer names the rollout, nothing changes", async () => {
    const groupId = (await owner.hosts.get({ hostId })).hostGroupId as string;
    const rule = await env.database.db.approvalRule.create({ data: { scopeKey: `hostGroup:${groupId}`, hostGroupId: groupId, expiryHours: 1 } });
    try {
      const { caller: deployer } = await env.callerFor("Deployer");
      const before = await containersOf(shopId);
      const stackBefore = await env.database.db.stack.findUniqueOrThrow({ where: { id: shopId } });
      const edited = shopCompose(`${reg}/test/app:latest`, `${reg}/test/tools:latest`).replace("stop_grace_period: 1s\n    networks:\n      front:", "stop_grace_period: 2s\n    networks:\n      front:");
      const applied = await deployer.stacks.up({ hostId, name: "shop", source: { files: [{ path: "compose.yaml", content: edited }] } });
      expect(applied).toMatchObject({ stackId: shopId, result: "awaitingApproval", error: null, version: stackBefore.currentVersion });
      const back = await deployer.stacks.rollback({ stackId: shopId, version: 2 });
      expect(back).toMatchObject({ result: "awaitingApproval", error: null });
      for (const id of [applied.rolloutId, back.rolloutId]) {
        const row = await env.database.db.rollout.findUniqueOrThrow({ where: { id }, include: { approval: true } });
        expect(row).toMatchObject({ status: "awaitingApproval", stackId: shopId });
        expect(row.approval).toMatchObject({ status: "waiting" });
      }
      expect((await env.database.db.rollout.findUniqueOrThrow({ where: { id: applied.rolloutId } })).specDiff).toEqual(
        // The current version pins images by digest (the roll back); the files name the tag.
        expect.arrayContaining([
          { path: "services.api", before: "configuration", after: "changed" },
          { path: "services.api.image", before: `${reg}/test/app:latest@${v1.manifestDigest}`, after: `${reg}/test/app:latest` },
        ]),
      );
      expect((await env.database.db.rollout.findUniqueOrThrow({ where: { id: back.rolloutId } })).trigger).toBe("rollback");
      expect(await containersOf(shopId)).toEqual(before);
      expect((await env.database.db.stack.findUniqueOrThrow({ where: { id: shopId } })).currentVersion).toBe(stackBefore.currentVersion);
    } finally {
      await env.database.db.approvalRule.delete({ where: { id: rule.id } });
    }
  });

  it("an update with no image pulls the tags the files name again: the service whose tag moved rolls, the other is left alone", async () => {
    const before = await containersOf(shopId);
    await push(v2, "test/app:latest");
    const rollout = await roll(shopId, null);
    expect(rollout).toMatchObject({ status: "succeeded", services: ["api", "web"], reason: null });
    expect(rollout.digests).toEqual({ api: { before: digestOf(v1, "test/app"), after: digestOf(v2, "test/app") } });
    const after = await containersOf(shopId);
    expect(after.web).toEqual(before.web);
    expect(after.api![0]!.id).not.toBe(before.api![0]!.id);
    expect(await imageOf(after.api![0]!.id)).toContain(digestOf(v2, "test/app"));
  });

  it("a service publishing a fixed host port rolls stop-first through the same gate; a failure brings the old container back on the port", async () => {
    const port = 18_000 + Math.floor(Math.random() * 1000);
    const compose = `services:\n  pub:\n    image: ${reg}/test/pub:latest\n    command: ${API_COMMAND}\n    stop_grace_period: 1s\n    ports: ["${port}:80"]\n`;
    await push(v1, "test/pub:latest");
    const applied = await owner.stacks.up({ hostId, name: "pub", source: { files: [{ path: "compose.yaml", content: compose }] } });
    expect(applied, applied.error ?? "").toMatchObject({ result: "applied" });
    const address = hosts.hosts[0]!.address;
    const get = async () => (await fetch(`http://${address}:${port}/`, { signal: AbortSignal.timeout(5_000) })).text();
    expect(await get()).toBe("api\n");
    const first = await containersOf(applied.stackId);

    await push(v2, "test/pub:latest");
    const ok = await roll(applied.stackId, `${reg}/test/pub:latest`);
    expect(ok).toMatchObject({ status: "succeeded", strategy: "stop-first" });
    expect((ok.steps as unknown as RolloutStep[]).some((s) => s.message === `Rolling pub stop-first (it publishes the fixed host port ${port})`)).toBe(true);
    const second = await containersOf(applied.stackId);
    expect(second.pub![0]!.id).not.toBe(first.pub![0]!.id);
    expect(await imageOf(second.pub![0]!.id)).toContain(digestOf(v2, "test/pub"));
    expect(await get()).toBe("api\n");

    await push(bad, "test/pub:latest");
    const failed = await roll(applied.stackId, `${reg}/test/pub:latest`);
    expect(failed).toMatchObject({ status: "failed", strategy: "stop-first" });
    expect(failed.reason).toMatch(/^pub: the new container exited with code 3/);
    expect(await containersOf(applied.stackId)).toEqual(second);
    expect(await get()).toBe("api\n");
  });

  it("refuses an image of a repository no service uses, clearly, recording nothing", async () => {
    const count = await env.database.db.rollout.count();
    await expect(roll(shopId, `${reg}/test/other:1`)).rejects.toThrow(`no service of stack shop uses repository ${reg}/test/other`);
    expect(await env.database.db.rollout.count()).toBe(count);
  });
});
