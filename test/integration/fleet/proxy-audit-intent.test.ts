import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditChain } from "../../../server/audit/verify";
import { agentCall } from "../../fixtures/agent-socket";
import { addHostOverApi } from "../../fixtures/console-hosts";
import { refuseAuditRecords } from "../../fixtures/audit-refusal";
import { createTestDatabase, type TestDatabase } from "../../fixtures/database";
import { waitFor } from "../../fixtures/fleet-env";
import { startGateway, type Gateway } from "../../fixtures/gateway";
import { HttpClient } from "../../fixtures/http-client";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoCopy } from "../../fixtures/skopeo";
import { startSshHosts, type SshHostFleet, type SshTestHost } from "../../fixtures/ssh-hosts";
import { buildSimpleImage } from "../../fixtures/test-images";

// "An action whose audit record can't be written must not run", through the
// Docker-API proxy as through tRPC: a mutation's intent is recorded before
// it is forwarded; when Postgres refuses that record (a real trigger on the
// audit table), the call is answered 503 and never reaches the agent. A real
// gateway, a real SSH test host with a real agent, a real Postgres.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };

describe("the Docker-API proxy records a mutation's intent before forwarding it", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let hosts: SshHostFleet;
  let host: SshTestHost;
  let registry: TestRegistry;
  let work: string;
  let hostId: string;
  let token: string;
  let image: string;

  const refuseCreateAudit = (on: boolean) => refuseAuditRecords(database.url, "docker.containers.create", on);

  const proxy = (method: string, urlPath: string, body?: unknown) =>
    fetch(`${gateway.url}/api/docker/${hostId}/v1.43${urlPath}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  const agentContainerNames = async () => {
    const r = await agentCall(host.agent.socket, "GET", "/containers/json?all=1");
    expect(r.status, r.text).toBe(200);
    return (JSON.parse(r.text) as { Names: string[] }[]).flatMap((c) => c.Names);
  };

  const createEvents = () => database.db.auditEvent.findMany({ where: { action: { startsWith: "docker.containers.create" } }, orderBy: { id: "asc" } });

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-proxy-intent-"));
    database = await createTestDatabase("pintent");
    hosts = await startSshHosts(1);
    host = hosts.hosts[0]!;
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    const built = await buildSimpleImage(path.join(work, "simple"));
    await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${registry.host}/test/simple:latest`);
    image = `${registry.hostFor(host.gatewayAddress)}/test/simple:latest`;

    gateway = await startGateway({ DATABASE_URL: database.url, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password });
    const owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    hostId = await addHostOverApi(owner, host, {
      name: "intent-proxy-host",
      privateKey: hosts.clientKey.privateKey,
      insecureRegistries: [registry.hostFor(host.gatewayAddress)],
      installPackages: false,
      logs: () => gateway.logs(),
    });
    const created = await owner.trpc<{ secret: string }>("tokens.create", { name: "intent cli" });
    expect(created.error, JSON.stringify(created.error)).toBeUndefined();
    token = created.data!.secret;

    // The image on the host, pulled through the proxy (so a create can succeed when it is let through).
    const pulled = await proxy("POST", `/images/create?fromImage=${encodeURIComponent(image)}`);
    const progress = await pulled.text();
    expect(pulled.status, progress).toBe(200);
    expect(progress).not.toContain('"error"');
  });

  afterAll(async () => {
    await gateway?.stop();
    await hosts?.cleanup();
    await registry?.stop();
    await database?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("when the audit log refuses the intent, a create is answered 503 and no container is created on the host", async () => {
    await refuseCreateAudit(true);
    let answer: { status: number; message: string };
    try {
      const res = await proxy("POST", "/containers/create?name=unaudited", { Image: image, Cmd: ["true"] });
      answer = { status: res.status, message: ((await res.json()) as { message: string }).message };
    } finally {
      await refuseCreateAudit(false);
    }
    expect(answer).toEqual({ status: 503, message: expect.stringMatching(/audit log can't be written/) });
    expect(await agentContainerNames()).not.toContain("/unaudited");
    // Nothing of the attempt could be stored, and nothing was half-written: the chain verifies.
    expect(await createEvents()).toEqual([]);
    expect((await verifyAuditChain(database.db)).ok).toBe(true);
  });

  it("with the audit log writable again, the same create runs: intent first, then the outcome, under one request id", async () => {
    const res = await proxy("POST", "/containers/create?name=audited", { Image: image, Cmd: ["true"] });
    const body = (await res.json()) as { Id: string };
    expect(res.status, JSON.stringify(body)).toBe(201);
    try {
      expect(await agentContainerNames()).toContain("/audited");
      // The outcome is recorded as the answer ends, just after the client has it.
      const events = await waitFor(createEvents, (e) => e.length >= 2, 10_000);
      expect(events.map((e) => [e.action, e.outcome, e.actorType, e.hostId])).toEqual([
        ["docker.containers.create.intent", "success", "token", hostId],
        ["docker.containers.create", "success", "token", hostId],
      ]);
      expect(events[0]!.requestId).toBe(events[1]!.requestId);
      expect(events[0]!.params).toMatchObject({ endpoint: "POST /containers/create", image, name: "audited" });
    } finally {
      await agentCall(host.agent.socket, "DELETE", `/containers/${body.Id}?force=1`);
    }
  });
});
