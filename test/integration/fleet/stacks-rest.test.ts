import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addHostOverApi } from "../../fixtures/console-hosts";
import { createTestDatabase, type TestDatabase } from "../../fixtures/database";
import { startGateway, type Gateway } from "../../fixtures/gateway";
import { HttpClient } from "../../fixtures/http-client";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoCopy } from "../../fixtures/skopeo";
import { startSshHosts, type SshHostFleet } from "../../fixtures/ssh-hosts";
import { buildToolsImage } from "../../fixtures/test-images";

// The stacks REST API on the real gateway (npm run build first): an apply
// streamed as NDJSON with an API token, list/get/versions/down, a refusal as
// a plain JSON error, and a token scoped to another host refused with 403.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };

describe("stacks over /api/v1", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let hosts: SshHostFleet;
  let registry: TestRegistry;
  let work: string;
  let owner: HttpClient;
  let hostId: string;
  let otherHostId: string;
  let image: string;

  const api = (token: string, p: string, init: RequestInit = {}) =>
    fetch(`${gateway.url}/api/v1${p}`, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...(init.headers as Record<string, string>) } });
  const tokenFor = async (scope: { hostIds?: string[] }) => {
    const made = await owner.trpc<{ secret: string }>("tokens.create", { name: `t-${Math.random().toString(36).slice(2, 8)}`, ...scope });
    expect(made.error).toBeUndefined();
    return made.data!.secret;
  };
  const compose = () => `services:\n  web:\n    image: ${image}\n    command: ["sh", "-c", "exec sleep 100000"]\n    stop_signal: SIGKILL\n  worker:\n    image: ${image}\n    command: ["sh", "-c", "exec sleep 100000"]\n    stop_signal: SIGKILL\n    depends_on: [web]\n`;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-stacks-rest-"));
    database = await createTestDatabase("stacksrest");
    hosts = await startSshHosts(2);
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    const built = await buildToolsImage(path.join(work, "tools"));
    await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${registry.host}/test/tools:latest`);
    gateway = await startGateway({ DATABASE_URL: database.url, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password });
    owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    const ids: string[] = [];
    for (const [i, h] of hosts.hosts.entries()) {
      ids.push(await addHostOverApi(owner, h, { name: `rest-host-${i}`, privateKey: hosts.clientKey.privateKey, insecureRegistries: [registry.hostFor(h.gatewayAddress)], installPackages: false, logs: () => gateway.logs() }));
    }
    [hostId, otherHostId] = ids as [string, string];
    image = `${registry.hostFor(hosts.hosts[0]!.gatewayAddress)}/test/tools:latest`;
  });

  afterAll(async () => {
    await gateway?.stop();
    await hosts?.cleanup();
    await registry?.stop();
    await database?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("applies with a token: NDJSON progress per service then the result; list, get, versions and down answer", async () => {
    const token = await tokenFor({});
    const res = await api(token, `/hosts/${hostId}/stacks`, { method: "POST", body: JSON.stringify({ name: "api-stack", source: { files: [{ path: "compose.yaml", content: compose() }] } }) });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/x-ndjson");
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const result = lines.at(-1)!;
    expect(result).toMatchObject({ type: "result", ok: true, version: 1, result: "applied", error: null });
    expect(lines.some((l) => l.type === "progress" && l.service === "web")).toBe(true);
    expect(lines.some((l) => l.type === "progress" && l.service === "worker" && l.phase === "start")).toBe(true);
    const stackId = result.stackId as string;

    const list = (await (await api(token, "/stacks")).json()) as { items: { id: string; status: string }[] };
    expect(list.items).toMatchObject([{ id: stackId, status: "running" }]);
    const one = (await (await api(token, `/stacks/${stackId}`)).json()) as { services: { name: string; containers: { name: string }[] }[] };
    expect(one.services.map((s) => s.containers.map((c) => c.name))).toEqual([["api-stack-web-1"], ["api-stack-worker-1"]]);
    const versions = (await (await api(token, `/stacks/${stackId}/versions`)).json()) as { items: { version: number; result: string }[] };
    expect(versions.items).toMatchObject([{ version: 1, result: "applied" }]);

    // A token limited to the other host may not see or change this one.
    const scoped = await tokenFor({ hostIds: [otherHostId] });
    expect((await api(scoped, `/hosts/${hostId}/stacks`, { method: "POST", body: JSON.stringify({ name: "nope", source: { files: [{ path: "compose.yaml", content: compose() }] } }) })).status).toBe(403);
    expect((await api(scoped, `/stacks/${stackId}`)).status).toBe(403);
    expect((await api(scoped, `/stacks/${stackId}/down`, { method: "POST", body: "{}" })).status).toBe(403);
    expect(((await (await api(scoped, "/stacks")).json()) as { items: unknown[] }).items).toEqual([]);

    const down = await api(token, `/stacks/${stackId}/down`, { method: "POST", body: JSON.stringify({ volumes: true }) });
    expect(await down.json()).toEqual({ removed: 2 });
    const audit = await database.db.auditEvent.findMany({ where: { action: { in: ["api.v1.stacks.apply", "api.v1.stacks.down"] } }, orderBy: { id: "asc" } });
    expect(audit.map((a) => [a.action, a.outcome])).toEqual([
      ["api.v1.stacks.apply", "success"],
      ["api.v1.stacks.apply", "denied"],
      ["api.v1.stacks.down", "denied"],
      ["api.v1.stacks.down", "success"],
    ]);
  });

  it("refuses a file with an unknown key as a plain JSON 400 naming its path, and an unknown body field", async () => {
    const token = await tokenFor({});
    const bad = await api(token, `/hosts/${hostId}/stacks`, { method: "POST", body: JSON.stringify({ name: "typo", source: { files: [{ path: "compose.yaml", content: `services:\n  web:\n    image: ${image}\n    imagee: x\n` }] } }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/services\.web\.imagee/);
    const unknown = await api(token, `/hosts/${hostId}/stacks`, { method: "POST", body: JSON.stringify({ name: "x", source: { files: [] }, surprise: true }) });
    expect(unknown.status).toBe(400);
    expect(await database.db.stack.count({ where: { name: { in: ["typo", "x"] } } })).toBe(0);
  });
});
