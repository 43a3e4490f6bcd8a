import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addHostOverApi } from "../../fixtures/console-hosts";
import { createTestDatabase, type TestDatabase } from "../../fixtures/database";
import { waitFor } from "../../fixtures/fleet-env";
import { startGateway, type Gateway } from "../../fixtures/gateway";
import { HttpClient } from "../../fixtures/http-client";
import { OpenApiClient } from "../../fixtures/openapi-client";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoCopy } from "../../fixtures/skopeo";
import { startSshHosts, type SshHostFleet } from "../../fixtures/ssh-hosts";
import { buildToolsImage, type BuiltImage } from "../../fixtures/test-images";

// The rollouts' REST endpoints on the real gateway (npm run build first), a
// real registry and an SSH test host, every answer checked against the
// OpenAPI document: update as a rollout, the timeline, one rollout, rollback
// by digest, cancel, and a token that may only read.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };

interface Update {
  rolloutId: string;
  status: string;
  rolledBack: boolean;
  digestBefore: string | null;
  digestAfter: string | null;
  strategy: string | null;
  containerId: string;
  statusUrl: string;
}
interface RolloutBody {
  id: string;
  status: string;
  trigger: string;
  imageRef: string | null;
  digestAfter: string | null;
  canRollback: boolean;
  actor: { type: string };
  steps?: { phase: string }[];
  specDiff?: { path: string }[];
}

describe("rollouts over REST (real gateway)", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let hosts: SshHostFleet;
  let registry: TestRegistry;
  let work: string;
  let owner: HttpClient;
  let api: OpenApiClient;
  let reader: OpenApiClient;
  let hostId: string;
  let deploymentId: string;
  let repo: string;
  const images: Record<string, BuiltImage> = {};

  const push = (v: string) => skopeoCopy(`oci:${images[v]!.layoutDir}:${images[v]!.tag}`, `docker://${registry.host}/test/api-app:live`);
  const digestOf = (v: string) => `${repo}@${images[v]!.manifestDigest}`;
  const created = async (input: Record<string, unknown>) => {
    const res = await owner.trpc<{ secret: string; token: { id: string } }>("tokens.create", input);
    expect(res.error, JSON.stringify(res.error)).toBeUndefined();
    return res.data!;
  };
  const token = async (input: Record<string, unknown>) => (await created(input)).secret;
  const rollout = async (id: string) => {
    const r = await api.call<RolloutBody>("getRollout", { path: { rolloutId: id } });
    expect(r.schemaErrors).toEqual([]);
    return r;
  };

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-rollouts-rest-"));
    database = await createTestDatabase("rolloutsrest");
    hosts = await startSshHosts(1);
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    for (const v of ["v1", "v2"]) images[v] = await buildToolsImage(path.join(work, v), { labels: { v }, cmd: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"] });
    await push("v1");
    gateway = await startGateway({ DATABASE_URL: database.url, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password, BERTH_ROLLOUT_SETTLE_SECONDS: "1" });
    owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    const h = hosts.hosts[0]!;
    repo = `${registry.hostFor(h.gatewayAddress)}/test/api-app`;
    hostId = await addHostOverApi(owner, h, { name: "rest-host", privateKey: hosts.clientKey.privateKey, insecureRegistries: [registry.hostFor(h.gatewayAddress)], installPackages: false, logs: () => gateway.logs() });
    const deployed = await owner.trpc<{ deploymentId: string }>("containers.deploy", { hostId, spec: { image: `${repo}:live`, name: "api-app" } });
    expect(deployed.error, JSON.stringify(deployed.error)).toBeUndefined();
    deploymentId = deployed.data!.deploymentId;
    api = await OpenApiClient.load(gateway.url, await token({ name: "ci" }));
    reader = api.withToken(await token({ name: "reader", permissions: ["containers.read"] }));
  });

  afterAll(async () => {
    await gateway?.stop();
    await hosts?.cleanup();
    await registry?.stop();
    await database?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("POST …/update rolls the deployment out to the image pushed to the tag and answers the rollout; GET /rollouts/{id} has its steps", async () => {
    await push("v2");
    const res = await api.call<Update>("updateDeployment", { path: { hostId, deploymentId }, body: { image: `${repo}:live` } });
    expect(res.status, res.text).toBe(200);
    expect(res.schemaErrors).toEqual([]);
    expect(res.body).toMatchObject({ status: "succeeded", rolledBack: false, strategy: "start-first", digestBefore: digestOf("v1"), digestAfter: digestOf("v2") });
    expect(res.body.statusUrl).toBe(`/api/v1/rollouts/${res.body.rolloutId}`);
    const one = await rollout(res.body.rolloutId);
    expect(one.body).toMatchObject({ trigger: "api", actor: { type: "token" }, canRollback: true });
    expect(one.body.steps!.map((s) => s.phase)).toEqual(expect.arrayContaining(["pull", "gate", "switch", "done"]));
    const audited = await database.db.auditEvent.findFirst({ where: { action: "api.v1.deployments.update" }, orderBy: { id: "desc" } });
    expect(audited).toMatchObject({ outcome: "success", actorType: "token" });
  });

  it("GET /deployments/{id}/rollouts is the timeline, newest first; GET /rollouts filters by status", async () => {
    const timeline = await api.call<{ items: RolloutBody[]; nextCursor: string | null }>("listDeploymentRollouts", { path: { deploymentId } });
    expect(timeline.status).toBe(200);
    expect(timeline.schemaErrors).toEqual([]);
    expect(timeline.body.items.map((r) => [r.trigger, r.digestAfter])).toEqual([
      ["api", digestOf("v2")],
      ["form", digestOf("v1")],
    ]);
    const page = await api.call<{ items: RolloutBody[]; nextCursor: string | null }>("listRollouts", { query: { status: "succeeded", limit: 1 } });
    expect(page.schemaErrors).toEqual([]);
    expect(page.body.items.length).toBe(1);
    const next = await api.call<{ items: RolloutBody[] }>("listRollouts", { query: { status: "succeeded", limit: 1, cursor: page.body.nextCursor! } });
    expect(next.body.items[0]!.id).toBe(timeline.body.items[1]!.id);
    expect((await api.call("listRollouts", { query: { status: "nonsense" } })).status).toBe(400);
  });

  it("POST /rollouts/{id}/rollback goes back to that rollout's digest: 202, then the rollout succeeds", async () => {
    const timeline = await api.call<{ items: RolloutBody[] }>("listDeploymentRollouts", { path: { deploymentId } });
    const first = timeline.body.items.at(-1)!;
    const res = await api.call<{ rolloutId: string; status: string; statusUrl: string }>("rollbackRollout", { path: { rolloutId: first.id } });
    expect(res.status, res.text).toBe(202);
    expect(res.schemaErrors).toEqual([]);
    const done = await waitFor(() => rollout(res.body.rolloutId), (r) => ["succeeded", "failed"].includes(r.body.status), 60_000);
    expect(done.body).toMatchObject({ status: "succeeded", trigger: "rollback", imageRef: digestOf("v1"), digestAfter: digestOf("v1") });
    expect(done.body.specDiff!.map((c) => c.path)).toContain("image");
  });

  it("POST /rollouts/{id}/cancel cancels a queued one; one that ran answers 409", async () => {
    const running = await api.call<Update>("updateDeployment", { path: { hostId, deploymentId }, query: { wait: false }, body: { image: `${repo}:live` } });
    expect(running.status).toBe(202);
    await waitFor(() => rollout(running.body.rolloutId), (r) => r.body.status === "running", 30_000);
    const queued = await api.call<Update>("updateDeployment", { path: { hostId, deploymentId }, query: { wait: false }, body: {} });
    expect(queued.body.status).toBe("queued");
    const cancelled = await api.call("cancelRollout", { path: { rolloutId: queued.body.rolloutId } });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect((await rollout(queued.body.rolloutId)).body.status).toBe("cancelled");
    await waitFor(() => rollout(running.body.rolloutId), (r) => r.body.status === "succeeded", 60_000);
    const late = await api.call<{ error: { message: string } }>("cancelRollout", { path: { rolloutId: running.body.rolloutId } });
    expect(late.status).toBe(409);
    expect(late.body.error.message).toMatch(/can no longer be cancelled/);
  });

  it("a token that may only read sees the timeline but can't update or roll back (403, audited); another repository is a 400", async () => {
    expect((await reader.call("listDeploymentRollouts", { path: { deploymentId } })).status).toBe(200);
    const denied = await reader.call("updateDeployment", { path: { hostId, deploymentId }, body: {} });
    expect(denied.status).toBe(403);
    const first = (await reader.call<{ items: RolloutBody[] }>("listDeploymentRollouts", { path: { deploymentId } })).body.items.at(-1)!;
    expect((await reader.call("rollbackRollout", { path: { rolloutId: first.id } })).status).toBe(403);
    const audited = await database.db.auditEvent.findFirst({ where: { action: "api.v1.deployments.update", outcome: "denied" } });
    expect(audited).not.toBeNull();
    const other = await api.call<{ error: { message: string } }>("updateDeployment", { path: { hostId, deploymentId }, body: { image: `${registry.host}/test/else:v1` } });
    expect(other.status).toBe(400);
    expect(other.body.error.message).toMatch(/must be of the deployment's repository/);
  });

  it("a rollout asked for through a token revoked before it ran fails closed (audited denied); nothing changes", async () => {
    const other = await created({ name: "short-lived" });
    const shortLived = api.withToken(other.secret);
    const busy = await api.call<Update>("updateDeployment", { path: { hostId, deploymentId }, query: { wait: false }, body: { image: `${repo}:live` } });
    await waitFor(() => rollout(busy.body.rolloutId), (r) => r.body.status === "running", 30_000);
    const mine = await shortLived.call<Update>("updateDeployment", { path: { hostId, deploymentId }, query: { wait: false }, body: { image: `${repo}:live` } });
    expect(mine.body.status).toBe("queued");
    const revoked = await owner.trpc("tokens.revoke", { id: other.token.id });
    expect(revoked.error, JSON.stringify(revoked.error)).toBeUndefined();
    const done = await waitFor(() => rollout(mine.body.rolloutId), (r) => ["succeeded", "failed"].includes(r.body.status), 60_000);
    expect(done.body).toMatchObject({ status: "failed", reason: expect.stringMatching(/token that asked for it has been revoked/) });
    const event = await database.db.auditEvent.findFirst({ where: { action: "rollouts.run", actorId: other.token.id } });
    expect(event).toMatchObject({ outcome: "denied", actorType: "token" });
  });
});
