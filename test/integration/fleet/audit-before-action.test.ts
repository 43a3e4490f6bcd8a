import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditChain } from "../../../server/audit/verify";
import { refuseAuditRecords } from "../../fixtures/audit-refusal";
import { agentSettingsFor, startFleetEnv, waitFor, type Caller, type FleetEnv } from "../../fixtures/fleet-env";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoCopy } from "../../fixtures/skopeo";
import { startSshHosts, type SshHostFleet } from "../../fixtures/ssh-hosts";
import { buildToolsImage } from "../../fixtures/test-images";

// "An action whose audit record can't be written must not run": before a
// mutation first reaches a host, its intent is recorded; when Postgres refuses
// that record, the host is never contacted. Real SSH host, real agent, real
// Postgres (whose refusal is a real trigger on the audit table).

describe("audit intent before acting on a host", () => {
  let hosts: SshHostFleet;
  let env: FleetEnv;
  let registry: TestRegistry;
  let owner: Caller;
  let work: string;
  let hostId: string;
  let image: string;

  const refuseDeployAudit = (on: boolean) => refuseAuditRecords(env.database.url, "containers.deploy", on);

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-intent-test-"));
    hosts = await startSshHosts(1);
    env = await startFleetEnv();
    owner = (await env.callerFor("Owner")).caller;
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    const h = hosts.hosts[0]!;
    const built = await buildToolsImage(path.join(work, "tools"));
    await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${registry.host}/test/tools:latest`);
    image = `${registry.hostFor(h.gatewayAddress)}/test/tools:latest`;
    const auth = { method: "key" as const, privateKey: hosts.clientKey.privateKey };
    const probe = await owner.hosts.probe({ address: h.address, port: 22, username: "root", auth });
    const added = await owner.hosts.add({
      name: "intent-host",
      address: h.address,
      port: 22,
      username: "root",
      auth,
      fingerprint: probe.fingerprint,
      agent: agentSettingsFor(h, [registry.hostFor(h.gatewayAddress)]),
    });
    await owner.hosts.installAgent({ hostId: added.id });
    hostId = added.id;
    await waitFor(() => owner.hosts.get({ hostId }), (v) => v.status === "connected" && v.agent === "ok");
  });

  afterAll(async () => {
    await env?.close();
    await hosts?.cleanup();
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("when the audit record can't be written, the deploy is refused and no container is created on the host", async () => {
    await refuseDeployAudit(true);
    try {
      await expect(
        owner.containers.deploy({ hostId, spec: { image, name: "unaudited", command: ["sleep", "600"] } }),
      ).rejects.toThrow(/audit log can't be written/);
    } finally {
      await refuseDeployAudit(false);
    }
    const containers = await env.fleet.client(hostId).containers({ all: true });
    expect(containers.flatMap((c) => c.Names)).not.toContain("/unaudited");
    expect(await env.database.db.deployment.count()).toBe(0);
    // Nothing of the attempt could be stored, and nothing was half-written: the chain verifies.
    expect(await env.database.db.auditEvent.count({ where: { action: { startsWith: "containers.deploy" } } })).toBe(0);
    expect((await verifyAuditChain(env.database.db)).ok).toBe(true);
  });

  it("with the audit log writable again, the same deploy runs: intent first, then the outcome", async () => {
    const result = await owner.containers.deploy({ hostId, spec: { image, name: "audited", command: ["sleep", "600"] } });
    const containers = await env.fleet.client(hostId).containers({ all: true });
    expect(containers.flatMap((c) => c.Names)).toContain("/audited");
    const events = await env.database.db.auditEvent.findMany({ where: { action: { startsWith: "containers.deploy" } }, orderBy: { id: "asc" } });
    expect(events.map((e) => [e.action, e.outcome])).toEqual([
      ["containers.deploy.intent", "success"],
      ["containers.deploy", "success"],
    ]);
    expect(events[0]!.requestId).toBe(events[1]!.requestId);
    expect(events[1]!.targetId).toBe(result.containerId);
    await owner.containers.action({ hostId, containerId: result.containerId, action: "remove" });
  });
});
