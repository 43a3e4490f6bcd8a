import { createHash, createHmac } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addHostOverApi } from "../../fixtures/console-hosts";
import { addUser } from "../../fixtures/console-users";
import { createTestDatabase, type TestDatabase } from "../../fixtures/database";
import { waitFor } from "../../fixtures/fleet-env";
import { startGateway, type Gateway } from "../../fixtures/gateway";
import { HttpClient } from "../../fixtures/http-client";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoCopy } from "../../fixtures/skopeo";
import { startSshHosts, type SshHostFleet } from "../../fixtures/ssh-hosts";
import { buildToolsImage, type BuiltImage } from "../../fixtures/test-images";

// Deploy webhooks on the real gateway (npm run build first), a real registry
// and an SSH test host: CI pushes a new image with skopeo and calls the
// webhook; the rollout replaces the container with the new digest. Every
// refusal is a clear JSON error, audited, and leaves the container alone.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };
const ENVELOPE = "application/vnd.docker.distribution.events.v1+json";

interface Created {
  webhook: { id: string; prefix: string };
  secret: string;
  url: string;
  statusUrlTemplate: string;
  signedUrl: string;
  signatureHeader: string;
}

describe("deploy webhooks", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let hosts: SshHostFleet;
  let registry: TestRegistry;
  let work: string;
  let owner: HttpClient;
  let hostId: string;
  let deploymentId: string;
  let repo: string;
  const images: Record<"v1" | "v2" | "v3", BuiltImage> = {} as never;

  const db = () => database.db;
  const container = async () => {
    const d = await db().deployment.findUniqueOrThrow({ where: { id: deploymentId } });
    const res = await owner.trpc<{ Id: string; Image: string; State: { Running: boolean } }>("containers.inspect", { hostId, containerId: d.containerId ?? d.name }, "query");
    expect(res.error, JSON.stringify(res.error)).toBeUndefined();
    return res.data!;
  };
  const create = async (input: Record<string, unknown>, client = owner) => client.trpc<Created>("webhooks.create", { deploymentId, name: "ci", ...input });
  const made = async (input: Record<string, unknown> = {}) => {
    const res = await create(input);
    expect(res.error, JSON.stringify(res.error)).toBeUndefined();
    return res.data!;
  };
  const post = (url: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(url, { method: "POST", headers: body === undefined ? headers : { "content-type": "application/json", ...headers }, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
  const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;
  const rollouts = () => db().rollout.count({ where: { deploymentId } });
  const lastAudit = async (action: string) => db().auditEvent.findFirstOrThrow({ where: { action }, orderBy: { id: "desc" } });
  const push = (image: BuiltImage, tag: string) => skopeoCopy(`oci:${image.layoutDir}:${image.tag}`, `docker://${registry.host}/test/web:${tag}`);
  const manifestDigest = async (tag: string) => {
    const res = await fetch(`http://${registry.host}/v2/test/web/manifests/${tag}`, { method: "HEAD", headers: { accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json" } });
    return res.headers.get("docker-content-digest")!;
  };

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-webhooks-"));
    database = await createTestDatabase("webhooks");
    hosts = await startSshHosts(1);
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    for (const v of ["v1", "v2", "v3"] as const) images[v] = await buildToolsImage(path.join(work, v), { labels: { "org.berth.version": v } });
    await push(images.v1, "release");
    await push(images.v1, "v1");
    gateway = await startGateway({ DATABASE_URL: database.url, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password, BERTH_ROLLOUT_SETTLE_SECONDS: "1" });
    owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    const h = hosts.hosts[0]!;
    repo = `${registry.hostFor(h.gatewayAddress)}/test/web`;
    hostId = await addHostOverApi(owner, h, { name: "hook-host", privateKey: hosts.clientKey.privateKey, insecureRegistries: [registry.hostFor(h.gatewayAddress)], installPackages: false, logs: () => gateway.logs() });
    const deployed = await owner.trpc<{ deploymentId: string }>("containers.deploy", {
      hostId,
      spec: { image: `${repo}:release`, name: "web", command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"] },
    });
    expect(deployed.error, JSON.stringify(deployed.error)).toBeUndefined();
    deploymentId = deployed.data!.deploymentId;
    expect((await container()).Image).toBe(images.v1.configDigest);
  });

  afterAll(async () => {
    await gateway?.stop();
    await hosts?.cleanup();
    await registry?.stop();
    await database?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("is created with its secret shown once: stored as a hash and sealed, listed by prefix only, audited", async () => {
    const created = await made({ name: "ci-main" });
    expect(created.secret).toMatch(/^bwh_[A-Za-z0-9_-]{43}$/);
    expect(created.url).toBe(`${gateway.url}/api/hooks/${created.secret}`);
    expect(created.statusUrlTemplate).toBe(`${gateway.url}/api/hooks/${created.secret}/rollouts/{rolloutId}`);
    expect(created.signedUrl).toBe(`${gateway.url}/api/hooks/signed/${created.webhook.id}`);
    expect(created.signatureHeader).toBe("X-Berth-Signature-256");
    const row = await db().webhook.findUniqueOrThrow({ where: { id: created.webhook.id } });
    expect(row.hash).toBe(createHash("sha256").update(created.secret).digest("hex"));
    expect(row.signingKey).not.toContain(created.secret);
    expect(row.prefix).toBe(created.secret.slice(0, 10));
    const list = await owner.trpc<{ id: string; prefix: string }[]>("webhooks.list", { deploymentId }, "query");
    expect(list.data!.map((w) => w.id)).toContain(created.webhook.id);
    expect(JSON.stringify(list.data)).not.toContain(created.secret);
    const audit = await lastAudit("webhooks.create");
    expect(audit).toMatchObject({ outcome: "success", actorType: "user", hostId });
    expect(JSON.stringify(audit.params)).not.toContain(created.secret);
  });

  it("refuses to create with bad source addresses, a bad pattern, or pre-approved by someone who may not approve", async () => {
    const bad = await create({ sourceCidrs: ["10.0.0.1/8", "not-an-ip"] });
    expect(bad.error?.message).toMatch(/did you mean 10\.0\.0\.0\/8.*not an IPv4 or IPv6/s);
    expect((await create({ tagPattern: "v[0-9]" })).error?.message).toMatch(/not a tag pattern/);
    const deployer = await addUser(owner, db(), "deployer@example.test", [{ role: "Deployer" }]);
    const pre = await create({ preApproved: true }, deployer.client);
    expect(pre.error).toMatchObject({ code: "FORBIDDEN", message: expect.stringMatching(/deploys\.approve/) });
    expect(await lastAudit("webhooks.create")).toMatchObject({ outcome: "denied", actorId: deployer.id });
    // Without pre-approved, a Deployer may.
    expect((await create({}, deployer.client)).error).toBeUndefined();
  });

  it("CI pushes v2 to the tag and calls the URL: 202 with a rollout, the status URL follows it to succeeded, the container runs v2", async () => {
    const hook = await made({ name: "ci-push" });
    await push(images.v2, "release");
    const before = await container();
    const res = await post(hook.url);
    expect(res.status).toBe(202);
    const accepted = (await res.json()) as { rolloutId: string; status: string; statusUrl: string };
    expect(accepted).toMatchObject({ status: "queued", statusUrl: hook.statusUrlTemplate.replace("{rolloutId}", accepted.rolloutId) });
    const final = await waitFor(
      async () => (await (await fetch(accepted.statusUrl)).json()) as { status: string; finished: boolean; digestAfter: string | null },
      (s) => s.finished,
      90_000,
    );
    expect(final, gateway.logs().slice(-3000)).toMatchObject({ status: "succeeded" });
    const after = await container();
    expect(after.Image).toBe(images.v2.configDigest);
    expect(after.Id).not.toBe(before.Id);
    expect(after.State.Running).toBe(true);
    const rollout = await db().rollout.findUniqueOrThrow({ where: { id: accepted.rolloutId } });
    expect(rollout).toMatchObject({ trigger: "webhook", webhookId: hook.webhook.id, actorType: "webhook", actorId: hook.webhook.id, actorLabel: "ci-push" });
    const audit = await db().auditEvent.findMany({ where: { action: { startsWith: "webhooks.deliver" }, actorId: hook.webhook.id }, orderBy: { id: "asc" } });
    expect(audit.map((a) => [a.action, a.outcome, a.actorType])).toEqual([
      ["webhooks.deliver.intent", "success", "webhook"],
      ["webhooks.deliver", "success", "webhook"],
    ]);
    expect(JSON.stringify(audit.map((a) => [a.params, a.errorMessage]))).not.toContain(hook.secret);
    const row = await db().webhook.findUniqueOrThrow({ where: { id: hook.webhook.id } });
    expect(row.lastUsedAt).not.toBeNull();
    expect(row.lastUsedIp).toBe("127.0.0.1");
    // The status URL only shows this webhook's rollouts.
    const other = await made({ name: "other" });
    const foreign = await fetch(other.statusUrlTemplate.replace("{rolloutId}", accepted.rolloutId));
    expect(foreign.status).toBe(404);
  });

  it("with ?wait=true and an image, answers when the rollout ends: 200 succeeded, the container runs that tag", async () => {
    const hook = await made({ name: "ci-wait", tagPattern: "v*" });
    const res = await post(`${hook.url}?wait=true&timeout=120`, { image: `${repo}:v1` });
    const body = (await res.json()) as { status: string; rolloutId: string; finished: boolean; imageRef: string };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ status: "succeeded", finished: true, imageRef: `${repo}:v1` });
    expect((await container()).Image).toBe(images.v1.configDigest);
  });

  describe("refusals: a clear JSON error, audited, nothing deployed", () => {
    let count: number;
    let running: string;
    beforeAll(async () => {
      count = await rollouts();
      running = (await container()).Id;
    });
    const untouched = async () => {
      expect(await rollouts()).toBe(count);
      expect((await container()).Id).toBe(running);
    };

    it("an unknown or malformed secret: 401, audited as anonymous", async () => {
      const unknown = await post(`${gateway.url}/api/hooks/bwh_${"A".repeat(43)}`);
      expect(unknown.status).toBe(401);
      expect(await errorOf(unknown)).toMatchObject({ code: "UNAUTHORIZED", message: expect.stringMatching(/Unknown webhook/) });
      expect(await lastAudit("webhooks.deliver")).toMatchObject({ outcome: "denied", actorType: "anonymous", errorMessage: "unknown webhook secret" });
      const malformed = await post(`${gateway.url}/api/hooks/not-a-secret`);
      expect(malformed.status).toBe(401);
      await untouched();
    });

    it("revoked: 401 (revoking is audited)", async () => {
      const hook = await made({ name: "revoked" });
      expect((await owner.trpc("webhooks.revoke", { id: hook.webhook.id })).error).toBeUndefined();
      expect(await lastAudit("webhooks.revoke")).toMatchObject({ outcome: "success", targetId: hook.webhook.id });
      const res = await post(hook.url);
      expect(res.status).toBe(401);
      expect((await errorOf(res)).message).toBe("This webhook has been revoked.");
      expect(await lastAudit("webhooks.deliver")).toMatchObject({ outcome: "denied", actorType: "webhook", actorId: hook.webhook.id, errorMessage: "webhook revoked" });
      await untouched();
    });

    it("expired: 401", async () => {
      const hook = await made({ name: "expiring", expiresInDays: 1 });
      // A day passes.
      await db().webhook.update({ where: { id: hook.webhook.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
      const res = await post(hook.url);
      expect(res.status).toBe(401);
      expect((await errorOf(res)).message).toMatch(/^This webhook expired on /);
      expect(await lastAudit("webhooks.deliver")).toMatchObject({ outcome: "denied", actorId: hook.webhook.id, errorMessage: "webhook expired" });
      await untouched();
    });

    it("a tag not matching the pattern, or a digest where a pattern is set: 403", async () => {
      const hook = await made({ name: "only-v", tagPattern: "v*" });
      const res = await post(hook.url, { image: `${repo}:release` });
      expect(res.status).toBe(403);
      expect((await errorOf(res)).message).toBe(`The tag "release" does not match this webhook's pattern "v*".`);
      expect(await lastAudit("webhooks.deliver")).toMatchObject({ outcome: "denied", actorType: "webhook", hostId, errorMessage: expect.stringMatching(/does not match/) });
      const byDigest = await post(hook.url, { image: `${repo}@sha256:${"c".repeat(64)}` });
      expect(byDigest.status).toBe(403);
      expect((await errorOf(byDigest)).message).toMatch(/names a digest and no tag/);
      await untouched();
    });

    it("a source address not allowed: 403", async () => {
      const hook = await made({ name: "from-10", sourceCidrs: ["10.0.0.0/8", "2001:db8::/32"] });
      const res = await post(hook.url);
      expect(res.status).toBe(403);
      expect((await errorOf(res)).message).toBe("Calls to this webhook are not accepted from 127.0.0.1.");
      expect(await lastAudit("webhooks.deliver")).toMatchObject({ outcome: "denied", actorId: hook.webhook.id, errorMessage: "source address 127.0.0.1 not allowed" });
      await untouched();
    });

    it("a malformed body (400), a wrong content type (415), an oversized body (413), another repository (422)", async () => {
      const hook = await made({ name: "bodies" });
      const cases: [Response, number, RegExp][] = [
        [await post(hook.url, "{not json"), 400, /Malformed JSON/],
        [await post(hook.url, { image: "web:not a tag!" }), 400, /"image" is not an image reference/],
        [await post(hook.url, { image: `${repo}:v1`, extra: 1 }), 400, /Unknown field in the body: extra/],
        [await post(hook.url, "image=x", { "content-type": "application/x-www-form-urlencoded" }), 415, /application\/json/],
        [await post(hook.url, JSON.stringify({ image: "x".repeat(70_000) })), 413, /larger than 65536 bytes/],
        [await post(hook.url, { image: `${registry.hostFor(hosts.hosts[0]!.gatewayAddress)}/test/other:v1` }), 422, /is not in the repository deployment web runs/],
      ];
      for (const [res, status, message] of cases) {
        expect(res.status).toBe(status);
        expect((await errorOf(res)).message).toMatch(message);
      }
      const records = await db().auditEvent.findMany({ where: { action: "webhooks.deliver", outcome: { in: ["denied", "error"] } }, orderBy: { id: "desc" }, take: 6 });
      expect(records.map((r) => r.outcome).reverse()).toEqual(["error", "error", "error", "error", "error", "denied"]);
      await untouched();
    });

    it("a signed envelope with a bad, missing or tampered signature: 401; the wrong content type: 415", async () => {
      const hook = await made({ name: "signed-bad" });
      const body = JSON.stringify({ events: [{ action: "push", target: { mediaType: "application/vnd.oci.image.manifest.v1+json", repository: "test/web", tag: "v1", digest: await manifestDigest("v1") } }] });
      const sig = `sha256=${createHmac("sha256", hook.secret).update(body).digest("hex")}`;
      const tampered = body.replace('"v1"', '"v2"');
      for (const [b, headers] of [
        [tampered, { "x-berth-signature-256": sig }],
        [body, {}],
        [body, { "x-berth-signature-256": `sha256=${"0".repeat(64)}` }],
      ] as [string, Record<string, string>][]) {
        const res = await post(hook.signedUrl, b, { "content-type": ENVELOPE, ...headers });
        expect(res.status).toBe(401);
        expect((await errorOf(res)).message).toMatch(/^Bad signature/);
      }
      expect(await lastAudit("webhooks.deliver")).toMatchObject({ outcome: "denied", actorType: "anonymous", errorMessage: expect.stringMatching(/^bad signature/) });
      const wrongType = await post(hook.signedUrl, body, { "content-type": "text/plain", "x-berth-signature-256": sig });
      expect(wrongType.status).toBe(415);
      await untouched();
    });
  });

  it("a signed registry envelope: the manifest push of the deployment's repository rolls out by digest, the rest is ignored", async () => {
    const hook = await made({ name: "registry" });
    await push(images.v3, "v3");
    const digest = await manifestDigest("v3");
    const envelope = {
      events: [
        { id: "1", timestamp: new Date().toISOString(), action: "push", target: { mediaType: "application/octet-stream", repository: "test/web", digest: `sha256:${"d".repeat(64)}` } },
        { id: "2", timestamp: new Date().toISOString(), action: "push", target: { mediaType: "application/vnd.oci.image.manifest.v1+json", repository: "test/web", tag: "v3", digest, url: `http://${registry.host}/v2/test/web/manifests/${digest}` } },
        { id: "3", timestamp: new Date().toISOString(), action: "pull", target: { repository: "test/web", tag: "v3", digest } },
      ],
    };
    const body = JSON.stringify(envelope);
    const sign = (b: string) => `sha256=${createHmac("sha256", hook.secret).update(b).digest("hex")}`;
    const res = await post(`${hook.signedUrl}?wait=true&timeout=120`, body, { "content-type": ENVELOPE, "x-berth-signature-256": sign(body) });
    const answer = (await res.json()) as { status: string; imageRef: string; statusUrl: string | null };
    expect(res.status, JSON.stringify(answer)).toBe(200);
    expect(answer).toMatchObject({ status: "succeeded", imageRef: `${repo}@${digest}`, statusUrl: null });
    expect((await container()).Image).toBe(images.v3.configDigest);

    // Only another repository's push: answered 200 "ignored" (a registry retries anything else), nothing requested.
    const count = await rollouts();
    const other = JSON.stringify({ events: [{ action: "push", target: { mediaType: "application/vnd.oci.image.manifest.v1+json", repository: "test/other", tag: "v1", digest } }] });
    const ignored = await post(hook.signedUrl, other, { "content-type": ENVELOPE, "x-berth-signature-256": sign(other) });
    expect(ignored.status).toBe(200);
    expect(await ignored.json()).toMatchObject({ rolloutId: null, status: "ignored", ignored: [{ repository: "test/other", reason: "not the repository deployment web runs" }] });
    expect(await rollouts()).toBe(count);
  });

  it("where the host requires approval, a call waits for an approver unless the webhook is pre-approved by an approver", async () => {
    // The approvals part's console sets the rule; here it is stored directly.
    const rule = await db().approvalRule.create({ data: { scopeKey: `host:${hostId}`, hostId, expiryHours: 1 } });
    try {
      const plain = await made({ name: "needs-approval" });
      const waiting = await post(plain.url);
      expect(waiting.status).toBe(202);
      const w = (await waiting.json()) as { rolloutId: string; status: string };
      expect(w.status).toBe("awaitingApproval");
      expect(await db().approvalRequest.count({ where: { rolloutId: w.rolloutId } })).toBe(1);
      // The owner holds deploys.approve: a pre-approved webhook's rollout is queued at once.
      const pre = await made({ name: "pre-approved", preApproved: true });
      const queued = (await (await post(pre.url)).json()) as { rolloutId: string; status: string };
      expect(queued.status).toBe("queued");
      await waitFor(async () => (await db().rollout.findUniqueOrThrow({ where: { id: queued.rolloutId } })).status, (s) => ["succeeded", "failed"].includes(s), 90_000);
    } finally {
      await db().approvalRule.delete({ where: { id: rule.id } });
    }
  });

  it("a webhook whose creator was disabled is refused (it acts with their rights as they are now)", async () => {
    const user = await addUser(owner, db(), "leaver@example.test", [{ role: "Deployer" }]);
    const created = await create({ name: "leaver" }, user.client);
    expect(created.error).toBeUndefined();
    expect((await owner.trpc("users.setDisabled", { userId: user.id, disabled: true })).error).toBeUndefined();
    const count = await rollouts();
    const res = await post(created.data!.url);
    expect(res.status).toBe(403);
    expect((await errorOf(res)).message).toMatch(/its creator is disabled/);
    expect(await rollouts()).toBe(count);
  });

  it("management over REST with a token: create (201, secret once), list, revoke", async () => {
    const token = (await owner.trpc<{ secret: string }>("tokens.create", { name: "rest-hooks" })).data!.secret;
    const api = (p: string, init: RequestInit = {}) => fetch(`${gateway.url}/api/v1${p}`, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } });
    const res = await api("/webhooks", { method: "POST", body: JSON.stringify({ deploymentId, name: "rest", sourceCidrs: ["127.0.0.1"] }) });
    expect(res.status).toBe(201);
    const created = (await res.json()) as Created & { webhook: { sourceCidrs: string[] } };
    expect(created.webhook.sourceCidrs).toEqual(["127.0.0.1/32"]);
    const list = (await (await api(`/webhooks?deploymentId=${deploymentId}`)).json()) as { id: string }[];
    expect(list.map((w) => w.id)).toContain(created.webhook.id);
    expect(JSON.stringify(list)).not.toContain(created.secret);
    expect((await api(`/webhooks/${created.webhook.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await post(created.url)).status).toBe(401);
    expect((await api("/webhooks", { method: "POST", body: JSON.stringify({ deploymentId, name: "x", surprise: 1 }) })).status).toBe(400);
  });

  it("a webhook made through an API token acts within that token: revoking the token stops it", async () => {
    const made = (await owner.trpc<{ secret: string; token: { id: string } }>("tokens.create", { name: "hook-maker" })).data!;
    const res = await fetch(`${gateway.url}/api/v1/webhooks`, {
      method: "POST",
      headers: { authorization: `Bearer ${made.secret}`, "content-type": "application/json" },
      body: JSON.stringify({ deploymentId, name: "through-token" }),
    });
    expect(res.status).toBe(201);
    const hook = (await res.json()) as Created;
    expect((await db().webhook.findUniqueOrThrow({ where: { id: hook.webhook.id } })).tokenId).toBe(made.token.id);
    expect((await owner.trpc("tokens.revoke", { id: made.token.id })).error).toBeUndefined();
    const count = await rollouts();
    const call = await post(hook.url);
    expect(call.status).toBe(403);
    expect((await errorOf(call)).message).toMatch(/API token it was made through is revoked or expired/);
    expect(await rollouts()).toBe(count);
    expect(await lastAudit("webhooks.deliver")).toMatchObject({ outcome: "denied", actorType: "webhook", actorId: hook.webhook.id });
  });
});
