import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SshLink } from "../../../server/fleet/link";
import { agentSettingsFor, startFleetEnv, waitFor, type Caller, type FleetEnv } from "../../fixtures/fleet-env";
import { localAgentSettings, type LocalAgent } from "../../fixtures/local-agent";
import { startSshHosts, type SshHostFleet } from "../../fixtures/ssh-hosts";

describe("when the SSH server forbids stream-local forwarding", () => {
  let hosts: SshHostFleet;
  let env: FleetEnv;
  let owner: Caller;

  beforeAll(async () => {
    hosts = await startSshHosts(1, { allowStreamLocalForwarding: false });
    env = await startFleetEnv();
    owner = (await env.callerFor("Owner")).caller;
  });

  afterAll(async () => {
    await env?.close();
    await hosts?.cleanup();
  });

  it("the gateway falls back to an exec channel running berth-agent dial-stdio, and everything works through it", async () => {
    const h = hosts.hosts[0]!;
    const auth = { method: "key" as const, privateKey: hosts.clientKey.privateKey };
    const added = await owner.hosts.add({ name: "no-forwarding", address: h.address, port: 22, username: "root", auth, fingerprint: await h.fingerprint(), agent: agentSettingsFor(h) });
    const installed = await owner.hosts.installAgent({ hostId: added.id });
    expect(installed.version).toMatch(/\d+\.\d+/);
    const host = await waitFor(() => owner.hosts.get({ hostId: added.id }), (v) => v.status === "connected" && v.agent === "ok");
    expect(host).toMatchObject({ status: "connected", agent: "ok", agentVersion: installed.version });
    const link = env.fleet.connection(added.id).requireLink();
    expect(link).toBeInstanceOf(SshLink);
    expect((link as SshLink).usesDialStdio).toBe(true);
    expect(await env.fleet.client(added.id).ping()).toBe("OK");
    const listed = await owner.containers.list({ hostId: added.id });
    expect(listed).toMatchObject({ stale: false, containers: [] });
  });
});

describe("this machine, without SSH", () => {
  let env: FleetEnv;
  let owner: Caller;
  let local: LocalAgent;
  let settings: Record<string, string>;

  beforeAll(async () => {
    local = await localAgentSettings();
    settings = local.settings;
    env = await startFleetEnv();
    owner = (await env.callerFor("Owner")).caller;
  });

  afterAll(async () => {
    await env?.close();
    await local?.teardown();
  });

  it("is added without credentials; the gateway runs its agent and restarts it if it dies", async () => {
    const added = await owner.hosts.addLocal({ name: "this-machine", agent: settings });
    expect(added).toMatchObject({ transport: "local", name: "this-machine" });
    const host = await waitFor(() => owner.hosts.get({ hostId: added.id }), (v) => v.status === "connected" && v.agent === "ok" && v.facts !== null);
    expect(host).toMatchObject({ status: "connected", agent: "ok" });
    expect(host.facts).toMatchObject({ os: "Linux", root: true });
    expect((await env.fleet.client(added.id).version()).Version).toBe(host.agentVersion);

    // A second "this machine" is refused.
    await expect(owner.hosts.addLocal({ name: "again" })).rejects.toThrow(/already a host/);

    // The agent dies: the gateway starts it again and the same client keeps working.
    const pid = env.fleet.localAgent(added.id)!.pid!;
    process.kill(pid, "SIGKILL");
    const back = await waitFor(
      () => env.fleet.client(added.id).ping().catch(() => "down"),
      (v) => v === "OK",
      20_000,
    );
    expect(back).toBe("OK");
    expect(env.fleet.localAgent(added.id)!.pid).not.toBe(pid);
  });
});

describe("hosts that can't be added", () => {
  let hosts: SshHostFleet;
  let env: FleetEnv;
  let owner: Caller;

  beforeAll(async () => {
    hosts = await startSshHosts(1, { fakeOs: "FreeBSD" });
    env = await startFleetEnv();
    owner = (await env.callerFor("Owner")).caller;
  });

  afterAll(async () => {
    await env?.close();
    await hosts?.cleanup();
  });

  it("a host that is not Linux is shown as such and refused", async () => {
    const h = hosts.hosts[0]!;
    const auth = { method: "key" as const, privateKey: hosts.clientKey.privateKey };
    const probe = await owner.hosts.probe({ address: h.address, port: 22, username: "root", auth });
    await expect(owner.hosts.add({ name: "bsd", address: h.address, port: 22, username: "root", auth, fingerprint: probe.fingerprint })).rejects.toThrow(
      /runs FreeBSD; Berth hosts must run Linux/,
    );
    expect(await env.database.db.host.count()).toBe(0);
  });

  it("a host that drops SSH packets times out with a clear message", async () => {
    const h = hosts.hosts[0]!;
    const drop = await h.run("nft add table inet blackhole && nft add chain inet blackhole in '{ type filter hook input priority 0; }' && nft add rule inet blackhole in tcp dport 22 drop");
    expect(drop.code).toBe(0);
    try {
      await expect(
        owner.hosts.probe({ address: h.address, port: 22, username: "root", auth: { method: "key", privateKey: hosts.clientKey.privateKey } }),
      ).rejects.toThrow(new RegExp(`${h.address.replace(/\./g, "\\.")}:22 did not answer within 10 s`));
    } finally {
      await h.run("nft delete table inet blackhole");
    }
  });
});
