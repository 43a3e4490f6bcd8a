import { appendFile, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256File } from "../../../server/fleet/install/installer";
import { agentSettingsFor, startFleetEnv, waitFor, type Caller, type FleetEnv } from "../../fixtures/fleet-env";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoCopy } from "../../fixtures/skopeo";
import { startSshHosts, type SshHostFleet, type SshTestHost } from "../../fixtures/ssh-hosts";
import { buildToolsImage } from "../../fixtures/test-images";

// The gateway's fleet against three real sshd hosts, each in its own network
// namespace, with the agent installed over SSH and driven through the tunnel.

describe("hosts over SSH", () => {
  let hosts: SshHostFleet;
  let env: FleetEnv;
  let registry: TestRegistry;
  let owner: Caller;
  let work: string;
  const ids: string[] = [];

  const imageFor = (h: SshTestHost) => `${registry.hostFor(h.gatewayAddress)}/test/tools:latest`;
  const get = (hostId: string) => owner.hosts.get({ hostId });

  async function addKeyHost(h: SshTestHost, name: string, key: { privateKey: string; passphrase?: string }) {
    const auth = { method: "key" as const, ...key };
    const probe = await owner.hosts.probe({ address: h.address, port: h.port, username: "root", auth });
    return owner.hosts.add({
      name,
      address: h.address,
      port: h.port,
      username: "root",
      auth,
      fingerprint: probe.fingerprint,
      agent: agentSettingsFor(h, [registry.hostFor(h.gatewayAddress)]),
    });
  }

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-ssh-test-"));
    hosts = await startSshHosts(3);
    env = await startFleetEnv();
    owner = (await env.callerFor("Owner")).caller;
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    const built = await buildToolsImage(path.join(work, "tools"));
    await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${registry.host}/test/tools:latest`);
  });

  afterAll(async () => {
    await env?.close();
    await hosts?.cleanup();
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("adds a host with a key: shows the fingerprint to confirm, pins it, installs the agent and reports facts", async () => {
    const h = hosts.hosts[0]!;
    const auth = { method: "key" as const, privateKey: hosts.clientKey.privateKey };
    const probe = await owner.hosts.probe({ address: h.address, port: 22, username: "root", auth });
    expect(probe.fingerprint).toBe(await h.fingerprint());
    // The probe stops at the host key: no login was attempted with the credential.
    const sshdLog = await readFile(path.join(path.dirname(h.agent.socket), "sshd", "sshd.log"), "utf8");
    expect(sshdLog).not.toMatch(/Accepted publickey|Failed publickey|Failed password/);

    const added = await owner.hosts.add({
      name: "alpha",
      address: h.address,
      port: 22,
      username: "root",
      auth,
      fingerprint: probe.fingerprint,
      agent: agentSettingsFor(h, [registry.hostFor(h.gatewayAddress)]),
    });
    ids[0] = added.id;
    expect(added.hostKeyFingerprint).toBe(probe.fingerprint);
    // The credential never comes back, and is sealed at rest.
    expect(JSON.stringify(added)).not.toContain("PRIVATE KEY");
    const row = await env.database.db.host.findUniqueOrThrow({ where: { id: added.id } });
    expect(row.credential).toMatch(/^v1\./);
    expect(row.credential).not.toContain("PRIVATE KEY");

    const check = await owner.hosts.prereqs({ hostId: added.id });
    expect(check.missing).toEqual([]);
    expect(check.facts.agentVersion).toBeUndefined();

    const installed = await owner.hosts.installAgent({ hostId: added.id, installPackages: false });
    expect(installed.sha256).toBe(await sha256File(env.bundle));
    expect(await readFile(path.join(h.agent.installDir, "berth-agent.mjs"))).toEqual(await readFile(env.bundle));

    const host = await waitFor(() => get(added.id), (v) => v.status === "connected" && v.agent === "ok" && v.facts !== null);
    expect(host).toMatchObject({ status: "connected", agent: "ok", stale: false, agentVersion: installed.version });
    expect(host.facts).toMatchObject({ os: "Linux", namespaces: true, overlay: true, root: true });
    expect(host.facts!.cpus).toBeGreaterThan(0);
    expect(host.facts!.memoryBytes).toBeGreaterThan(0);
    expect(host.facts!.runc).toMatch(/\d/);
    expect(host.facts!.cgroup).toMatch(/^v[12]$/);
    // Load and memory are sampled while connected, for the hosts list's sparklines.
    const sampled = await waitFor(() => get(added.id), (v) => v.samples.length > 0);
    expect(sampled.samples[0]!.load).toBeGreaterThanOrEqual(0);
    expect(sampled.samples[0]!.memory).toBeGreaterThan(0);
    expect(sampled.samples[0]!.memory).toBeLessThan(1);
    const audit = await env.database.db.auditEvent.findMany({ where: { action: { in: ["hosts.add", "hosts.installAgent"] }, outcome: "success" } });
    expect(audit.map((a) => a.action).sort()).toEqual(["hosts.add", "hosts.installAgent"]);
    expect(JSON.stringify(audit.map((a) => a.params))).not.toContain("PRIVATE KEY");
  });

  it("adds a host with a password; a non-root user without sudo is reported as the missing prerequisite", async () => {
    const h = hosts.hosts[1]!;
    const auth = { method: "password" as const, password: h.password.password };
    const probe = await owner.hosts.probe({ address: h.address, port: 22, username: h.password.user, auth });
    expect(probe.fingerprint).toBe(await h.fingerprint());
    const added = await owner.hosts.add({ name: "bravo", address: h.address, port: 22, username: h.password.user, auth, fingerprint: probe.fingerprint });
    ids[1] = added.id;
    const host = await waitFor(() => get(added.id), (v) => v.status === "connected" && v.facts !== null);
    expect(host.status).toBe("connected");
    expect(host.authMethod).toBe("password");
    expect(JSON.stringify(host)).not.toContain(h.password.password);
    const check = await owner.hosts.prereqs({ hostId: added.id });
    expect(check.missing.map((m) => m.name)).toEqual(["root"]);
    await expect(owner.hosts.installAgent({ hostId: added.id })).rejects.toThrow(/not root and has no passwordless sudo/);
  });

  it("replaced credentials take effect at once: a wrong password shows auth failed, the right one reconnects", async () => {
    const h = hosts.hosts[1]!;
    const hostId = ids[1]!;
    await owner.hosts.update({ hostId, auth: { method: "password", password: "not-the-password" } });
    const failed = await waitFor(() => get(hostId), (v) => v.status === "authFailed");
    expect(failed).toMatchObject({ status: "authFailed", stale: true });
    expect(failed.statusMessage).toMatch(/refused the password/);
    await owner.hosts.update({ hostId, auth: { method: "password", password: h.password.password }, labels: ["edge", "eu"] });
    const back = await waitFor(() => get(hostId), (v) => v.status === "connected");
    expect(back).toMatchObject({ status: "connected", labels: ["edge", "eu"] });
    const audit = await env.database.db.auditEvent.findMany({ where: { action: "hosts.update", hostId } });
    expect(audit).toHaveLength(2);
    expect(JSON.stringify(audit.map((a) => a.params))).not.toContain(h.password.password);
  });

  it("a user scoped to one host group sees and touches only that group's hosts", async () => {
    const group = await owner.hosts.createGroup({ name: "group-a" });
    await owner.hosts.update({ hostId: ids[0]!, hostGroupId: group.id });
    const { caller: scoped, userId } = await env.callerFor("Admin", { hostGroupId: group.id });
    expect((await scoped.hosts.list()).map((x) => x.id)).toEqual([ids[0]]);
    expect((await scoped.hosts.overview()).totals.hosts).toBe(1);
    await expect(scoped.hosts.get({ hostId: ids[1]! })).rejects.toThrow(/FORBIDDEN|permission/);
    await expect(scoped.containers.list({ hostId: ids[1]! })).rejects.toThrow(/permission/);
    await expect(scoped.hosts.remove({ hostId: ids[1]! })).rejects.toThrow(/permission/);
    // Not even a group admin may move its host into another group, or add hosts.
    await expect(scoped.hosts.update({ hostId: ids[0]!, hostGroupId: null })).rejects.toThrow(/everywhere/);
    await expect(scoped.hosts.probe({ address: "10.0.0.1", port: 22, username: "root", auth: { method: "password", password: "x" } })).rejects.toThrow(/everywhere/);
    const denials = await env.database.db.auditEvent.count({ where: { actorId: userId, outcome: "denied" } });
    expect(denials).toBe(5);
    expect((await scoped.containers.list({ hostId: ids[0]! })).stale).toBe(false);
  });

  it("bad addresses, refused credentials and an unconfirmed key each get a clear message", async () => {
    const h = hosts.hosts[1]!;
    await expect(owner.hosts.probe({ address: h.address, port: 2222, username: "root", auth: { method: "password", password: "x" } })).rejects.toThrow(
      /Connection refused by .*:2222/,
    );
    // Credentials are first used when adding (after the key is confirmed); refused ones are named there.
    const fingerprint = await h.fingerprint();
    const addWith = (name: string, username: string, auth: { method: "password"; password: string } | { method: "key"; privateKey: string }) =>
      owner.hosts.add({ name, address: h.address, port: 22, username, auth, fingerprint });
    await expect(addWith("bad-password", h.password.user, { method: "password", password: "wrong-password" })).rejects.toThrow(/refused the password for user/);
    await expect(addWith("bad-key", "root", { method: "key", privateKey: hosts.passphraseKey.privateKey })).rejects.toThrow(/private key can't be used/);
    await expect(owner.hosts.probe({ address: "not a host!", port: 22, username: "root", auth: { method: "password", password: "x" } })).rejects.toThrow(
      /not a hostname or IP address/,
    );
    // A fingerprint the host doesn't present is refused before anything is stored.
    await expect(
      owner.hosts.add({
        name: "wrong-key",
        address: h.address,
        port: 22,
        username: "root",
        auth: { method: "key", privateKey: hosts.clientKey.privateKey },
        fingerprint: "SHA256:" + "A".repeat(43),
      }),
    ).rejects.toThrow(/now presents SHA256:.*not the SHA256:A+ you confirmed/);
    expect(await env.database.db.host.findUnique({ where: { name: "wrong-key" } })).toBeNull();
  });

  it("deploys and lists a container through the gateway's client and streams its logs over the tunnel", async () => {
    const h = hosts.hosts[0]!;
    const client = env.fleet.client(ids[0]!);
    const progress: string[] = [];
    await client.pull(imageFor(h), { onProgress: (p) => p.status && progress.push(p.status) });
    expect(progress.some((s) => /Downloaded newer image|Image is up to date/.test(s))).toBe(true);
    const created = await client.createContainer(
      { Image: imageFor(h), Cmd: ["sh", "-c", "for i in 1 2 3; do echo line-$i; done; echo to-stderr >&2; exec sleep 600"] },
      "web",
    );
    await client.startContainer(created.Id);

    const listed = await owner.containers.list({ hostId: ids[0]! });
    expect(listed.stale).toBe(false);
    expect(listed.containers.find((c) => c.Id === created.Id)).toMatchObject({ Names: ["/web"], State: "running" });

    const controller = new AbortController();
    const seen: string[] = [];
    for await (const frame of client.logs(created.Id, { follow: true, signal: controller.signal })) {
      seen.push(`${frame.stream}:${frame.text.trim()}`);
      if (seen.join("\n").includes("to-stderr")) controller.abort();
      if (seen.length > 20) break;
    }
    expect(seen.join("\n")).toContain("stdout:line-1");
    expect(seen.join("\n")).toContain("stderr:to-stderr");
    const lines = await owner.containers.logs({ hostId: ids[0]!, containerId: created.Id, tail: 10 });
    expect(lines.map((l) => l.text.trim())).toEqual(expect.arrayContaining(["line-1", "line-2", "line-3", "to-stderr"]));

    // Following over the console's subscription; when the browser goes away (abort), the agent's stream closes.
    const agentConnections = async () => {
      const r = await h.run(`ss -xH state connected src ${h.agent.socket} | wc -l`);
      return Number(r.stdout.trim());
    };
    const baseline = await agentConnections();
    const browser = new AbortController();
    const { caller: viewer } = await env.callerFor("Viewer", undefined, browser.signal);
    const followed: string[] = [];
    const subscription = await viewer.containers.follow({ hostId: ids[0]!, containerId: created.Id, tail: 0 });
    const reading = (async () => {
      for await (const frame of subscription) followed.push(frame.text);
    })();
    expect(await waitFor(agentConnections, (n) => n > baseline)).toBeGreaterThan(baseline);
    await client.exec(created.Id, ["sh", "-c", "echo late-line > /proc/1/fd/1"]);
    await waitFor(async () => followed.join(""), (t) => t.includes("late-line"));
    expect(followed.join("")).toContain("late-line");
    browser.abort();
    await reading.catch(() => undefined);
    expect(await waitFor(agentConnections, (n) => n <= baseline)).toBeLessThanOrEqual(baseline);

    // Live state: the fleet learnt of the new container from the agent's event stream.
    const snapshot = await waitFor(async () => env.fleet.snapshot(ids[0]!), (s) => Boolean(s.containers?.some((c) => c.Id === created.Id && c.State === "running")));
    expect(snapshot.containers!.find((c) => c.Id === created.Id)?.State).toBe("running");
  });

  it("upgrades the agent while a container runs: same container, same PID, new agent process", async () => {
    const h = hosts.hosts[0]!;
    const client = env.fleet.client(ids[0]!);
    const before = await client.inspectContainer("web");
    expect(before.State.Running).toBe(true);
    const oldAgentPid = (await readFile(path.join(h.agent.installDir, "agent.pid"), "utf8")).trim();

    expect((await get(ids[0]!)).upgradeAvailable).toBe(false);
    // A different build of the agent: same code, different bytes.
    await appendFile(env.bundle, `\n// upgrade ${Date.now()}\n`);
    expect((await get(ids[0]!)).upgradeAvailable).toBe(true);
    const upgraded = await owner.hosts.upgradeAgent({ hostId: ids[0]! });
    expect(upgraded.sha256).toBe(await sha256File(env.bundle));
    expect(await readFile(path.join(h.agent.installDir, "berth-agent.mjs"))).toEqual(await readFile(env.bundle));
    const newAgentPid = (await readFile(path.join(h.agent.installDir, "agent.pid"), "utf8")).trim();
    expect(newAgentPid).not.toBe(oldAgentPid);

    const after = (await waitFor(() => client.inspectContainer("web").catch(() => null), (v) => Boolean(v?.State.Running)))!;
    expect(after.State.Running).toBe(true);
    expect(after.State.Pid).toBe(before.State.Pid);
    expect(after.Id).toBe(before.Id);
    expect((await waitFor(() => get(ids[0]!), (v) => !v.upgradeAvailable)).upgradeAvailable).toBe(false);
  });

  it("three hosts at once: the overview answers while one is down, which shows unreachable; it comes back by itself", async () => {
    const h = hosts.hosts[2]!;
    const added = await addKeyHost(h, "charlie", { privateKey: hosts.passphraseKey.privateKey, passphrase: hosts.passphraseKey.passphrase });
    ids[2] = added.id;
    await owner.hosts.installAgent({ hostId: added.id });
    await waitFor(() => get(added.id), (v) => v.status === "connected" && v.agent === "ok");
    const overview = await owner.hosts.overview();
    expect(overview.totals).toMatchObject({ hosts: 3, connected: 3 });

    await h.cutLink();
    // Keepalives (1.5 s × 2 in tests; 3 s × 2 by default) notice the dead link well inside 15 s.
    const down = await waitFor(() => get(added.id), (v) => v.status === "unreachable", 15_000);
    expect(down).toMatchObject({ status: "unreachable", stale: true });

    // Other hosts' pages still load, and the down host's page answers from its last known state.
    const during = await owner.hosts.overview();
    expect(during.hosts.find((x) => x.id === ids[0])).toMatchObject({ status: "connected", stale: false });
    expect(during.hosts.find((x) => x.id === added.id)).toMatchObject({ status: "unreachable", stale: true });
    expect(during.totals.needsAttention).toBeGreaterThanOrEqual(1);
    expect((await owner.containers.list({ hostId: ids[0]! })).stale).toBe(false);
    const staleList = await owner.containers.list({ hostId: added.id });
    expect(staleList.stale).toBe(true);
    expect(staleList.message).toMatch(/unreachable/);

    await h.restoreLink();
    const back = await waitFor(() => get(added.id), (v) => v.status === "connected" && v.agent === "ok", 30_000);
    expect(back).toMatchObject({ status: "connected", stale: false });

    // Live state resumes: a container made now shows up through the events stream.
    const client = env.fleet.client(added.id);
    await client.pull(imageFor(h));
    const c = await client.createContainer({ Image: imageFor(h), Cmd: ["sleep", "600"] }, "after-reconnect");
    await client.startContainer(c.Id);
    const seen = await waitFor(async () => env.fleet.snapshot(added.id), (s) => Boolean(s.containers?.some((x) => x.Id === c.Id && x.State === "running")));
    expect(seen.containers!.some((x) => x.Id === c.Id)).toBe(true);
  });

  it("a changed host key refuses the connection, is audited, and only hosts.manage can re-pin it", async () => {
    const h = hosts.hosts[2]!;
    const hostId = ids[2]!;
    const pinned = (await get(hostId)).hostKeyFingerprint;
    const fresh = await h.regenerateHostKey();
    // As after a reinstall: sshd and the open session end, and the next connection meets the new key.
    await h.stopSshd();
    await h.run(`for p in $(ip netns pids ${h.netns}); do [ "$(cat /proc/$p/comm 2>/dev/null)" = sshd ] && kill $p; done; true`);
    await h.startSshd();

    const refused = await waitFor(() => get(hostId), (v) => v.status === "hostKeyChanged", 20_000);
    expect(refused).toMatchObject({ status: "hostKeyChanged", hostKeyFingerprint: pinned, presentedFingerprint: fresh, stale: true });
    const event = await env.database.db.auditEvent.findFirst({ where: { action: "hosts.host_key_changed", hostId }, orderBy: { id: "desc" } });
    expect(event).toMatchObject({ outcome: "denied", actorType: "system" });
    expect(event!.params).toMatchObject({ pinned, presented: fresh });
    await expect(env.fleet.client(hostId).ping()).rejects.toThrow(/host key changed/);

    const { caller: operator, userId } = await env.callerFor("Operator");
    await expect(operator.hosts.repin({ hostId, fingerprint: fresh })).rejects.toThrow(/hosts.manage/);
    const denial = await env.database.db.auditEvent.findFirst({ where: { action: "hosts.repin", actorId: userId } });
    expect(denial?.outcome).toBe("denied");
    await expect(owner.hosts.repin({ hostId, fingerprint: "SHA256:" + "B".repeat(43) })).rejects.toThrow(/presented/);

    const repinned = await owner.hosts.repin({ hostId, fingerprint: fresh });
    expect(repinned).toEqual({ previous: pinned, pinned: fresh });
    const back = await waitFor(() => get(hostId), (v) => v.status === "connected" && v.agent === "ok");
    expect(back).toMatchObject({ status: "connected", hostKeyFingerprint: fresh, presentedFingerprint: null });
    const audited = await env.database.db.auditEvent.findFirst({ where: { action: "hosts.repin", outcome: "success" } });
    expect(audited!.params).toMatchObject({ previous: pinned, pinned: fresh });
  });

  it("uninstall stops the agent but leaves containers running and data in place", async () => {
    const h = hosts.hosts[2]!;
    const hostId = ids[2]!;
    const before = await env.fleet.client(hostId).inspectContainer("after-reconnect");
    await owner.hosts.uninstallAgent({ hostId, removeData: false });
    const host = await waitFor(() => get(hostId), (v) => v.agent === "missing");
    expect(host.agent).toBe("missing");
    const alive = await h.run(`kill -0 ${before.State.Pid} && echo alive`);
    expect(alive.stdout.trim()).toBe("alive");
    const state = await h.run(`ls ${h.agent.root}/containers`);
    expect(state.stdout).toContain(before.Id);
    // Re-install picks the running container up again.
    await owner.hosts.installAgent({ hostId });
    const again = await waitFor(() => env.fleet.client(hostId).inspectContainer("after-reconnect").catch(() => null), (v) => Boolean(v?.State.Running));
    expect(again?.State.Pid).toBe(before.State.Pid);
  });
});
