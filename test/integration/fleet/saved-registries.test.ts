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

// Saved registry credentials on a real SSH host: a private image pulls with
// them, and they are only ever offered to the registry they were saved for.

describe("saved registries", () => {
  let hosts: SshHostFleet;
  let env: FleetEnv;
  let owner: Caller;
  let privateRegistry: TestRegistry;
  let otherRegistry: TestRegistry;
  let work: string;
  let hostId: string;
  let savedId: string;

  const host = (): SshTestHost => hosts.hosts[0]!;
  const privateImage = () => `${privateRegistry.hostFor(host().gatewayAddress)}/team/tools:v1`;
  const otherImage = () => `${otherRegistry.hostFor(host().gatewayAddress)}/team/tools:v1`;
  const containerNames = async () => (await owner.containers.list({ hostId })).containers.map((c) => c.Names[0] ?? c.Id);

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-registries-test-"));
    hosts = await startSshHosts(1);
    env = await startFleetEnv();
    owner = (await env.callerFor("Owner")).caller;
    privateRegistry = await startRegistry({ auth: "htpasswd", listenHost: "0.0.0.0" });
    otherRegistry = await startRegistry({ auth: "htpasswd", username: "other", password: "other-password-1", listenHost: "0.0.0.0" });
    const built = await buildToolsImage(path.join(work, "tools"));
    await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${privateRegistry.host}/team/tools:v1`, {
      destCreds: `${privateRegistry.username}:${privateRegistry.password}`,
    });
    const auth = { method: "key" as const, privateKey: hosts.clientKey.privateKey };
    const probe = await owner.hosts.probe({ address: host().address, port: 22, username: "root", auth });
    const insecure = [privateRegistry.hostFor(host().gatewayAddress), otherRegistry.hostFor(host().gatewayAddress)];
    const added = await owner.hosts.add({
      name: "registry-host",
      address: host().address,
      port: 22,
      username: "root",
      auth,
      fingerprint: probe.fingerprint,
      hostGroupId: null,
      agent: agentSettingsFor(host(), insecure),
    });
    hostId = added.id;
    await owner.hosts.installAgent({ hostId });
    await waitFor(() => owner.hosts.get({ hostId }), (v) => v.status === "connected" && v.agent === "ok");
    const saved = await owner.registries.create({
      name: "team-private",
      address: privateRegistry.hostFor(host().gatewayAddress),
      username: privateRegistry.username!,
      password: privateRegistry.password!,
    });
    savedId = saved.id;
  });

  afterAll(async () => {
    await env?.close();
    await hosts?.cleanup();
    await privateRegistry?.stop();
    await otherRegistry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("a private image is refused without credentials and pulls with the saved registry", async () => {
    await expect(owner.images.pull({ hostId, reference: privateImage() })).rejects.toThrow(/requires a username and password/);
    await owner.images.pull({ hostId, reference: privateImage(), registryId: savedId });
    const images = await owner.images.list({ hostId });
    expect(images.flatMap((i) => i.tags)).toContain(privateImage());
  });

  it("a saved registry's credentials are never sent to another registry: the pull is refused before the host is asked", async () => {
    const before = otherRegistry.requests().length;
    const error = await owner.images.pull({ hostId, reference: otherImage(), registryId: savedId }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain(`the saved registry "team-private" is ${privateRegistry.hostFor(host().gatewayAddress)}`);
    expect(error?.message).toContain("its credentials are only sent to");
    // Nothing reached the other registry (its access log is unchanged).
    expect(otherRegistry.requests().length).toBe(before);
    const event = await env.database.db.auditEvent.findFirst({ where: { action: "images.pull" }, orderBy: { id: "desc" } });
    expect(event?.outcome).toBe("error");
    expect(JSON.stringify(event?.params)).not.toContain(privateRegistry.password!);
  });

  it("deploying with a saved registry that isn't the image's is refused the same way, and no container is made", async () => {
    const before = await containerNames();
    const requestsBefore = otherRegistry.requests().length;
    const name = `mismatch-${randomUUID().slice(0, 8)}`;
    await expect(
      owner.containers.deploy({
        hostId,
        spec: { image: otherImage(), name, registryId: savedId, pullPolicy: "always", command: ["sleep", "60"] },
      }),
    ).rejects.toThrow(/its credentials are only sent to/);
    expect(await containerNames()).toEqual(before);
    expect(otherRegistry.requests().length).toBe(requestsBefore);
  });
});
