import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFleetEnv, waitFor, type Caller, type FleetEnv } from "../../fixtures/fleet-env";
import { startSshHosts, type SshHostFleet, type SshTestHost } from "../../fixtures/ssh-hosts";

// A host whose key changed is refused, and checked again slowly with the same
// care (the key is verified before any credential is offered). When the
// pinned key comes back, it reconnects by itself. A real sshd in its own
// network namespace, re-keyed and then given its first key back.

/** What sshd logs (LogLevel VERBOSE) for any authentication attempt, successful or not. */
const AUTH_ATTEMPT = /Accepted |Failed |Postponed |Partial |authenticating user|Invalid user|userauth/i;
/** A client that ended the handshake itself (the gateway refusing the key); the fixture's TCP readiness probes log differently. */
const KEY_REFUSED = /Received disconnect from \S+ port \d+:3: .*\[preauth\]/g;

describe("a host whose key changed and came back", () => {
  let hosts: SshHostFleet;
  let h: SshTestHost;
  let env: FleetEnv;
  let owner: Caller;
  let hostId: string;
  let pinned: string;

  const get = () => owner.hosts.get({ hostId });

  beforeAll(async () => {
    hosts = await startSshHosts(1);
    h = hosts.hosts[0]!;
    env = await startFleetEnv();
    owner = (await env.callerFor("Owner")).caller;
    const auth = { method: "key" as const, privateKey: hosts.clientKey.privateKey };
    const probe = await owner.hosts.probe({ address: h.address, port: h.port, username: "root", auth });
    const added = await owner.hosts.add({ name: "rekeyed", address: h.address, port: h.port, username: "root", auth, fingerprint: probe.fingerprint });
    hostId = added.id;
    pinned = probe.fingerprint;
    expect(await waitFor(get, (v) => v.status === "connected")).toMatchObject({ status: "connected" });
  });

  afterAll(async () => {
    await env?.close();
    await hosts?.cleanup();
  });

  it("is refused while another key is presented, never offered credentials, and reconnects by itself when the pinned key returns", async () => {
    // Everything the wrong-key sshd will see is logged after this point.
    const before = (await h.sshdLog()).length;
    const fresh = await h.regenerateHostKey();
    await h.stopSshd();
    await h.dropSessions();
    await h.startSshd();

    const refused = await waitFor(get, (v) => v.status === "hostKeyChanged");
    expect(refused).toMatchObject({ status: "hostKeyChanged", hostKeyFingerprint: pinned, presentedFingerprint: fresh, stale: true });
    const changed = await env.database.db.auditEvent.findFirst({ where: { action: "hosts.host_key_changed", hostId } });
    expect(changed).toMatchObject({ outcome: "denied", actorType: "system" });
    expect(changed!.params).toMatchObject({ pinned, presented: fresh });
    // The gateway's own log names the host and both keys.
    expect(env.logs.find((l) => l.includes("host key changed"))).toEqual(expect.stringContaining("rekeyed"));
    expect(env.logs.find((l) => l.includes("host key changed"))).toEqual(expect.stringContaining(fresh));
    expect(env.logs.find((l) => l.includes("host key changed"))).toEqual(expect.stringContaining(pinned));

    // It keeps checking: the wrong-key sshd sees more handshakes, each ended by the gateway at the key.
    const probed = await waitFor(
      async () => (await h.sshdLog()).slice(before),
      (log) => (log.match(KEY_REFUSED) ?? []).length >= 3,
    );
    expect((probed.match(KEY_REFUSED) ?? []).length).toBeGreaterThanOrEqual(3);
    expect((await get()).status).toBe("hostKeyChanged");

    // Naming the key that is still pinned changes nothing; it is not refused.
    expect(await owner.hosts.repin({ hostId, fingerprint: pinned })).toEqual({ previous: pinned, pinned });
    expect(await get()).toMatchObject({ status: "hostKeyChanged", hostKeyFingerprint: pinned });

    const restoredAt = (await h.sshdLog()).length;
    expect(await h.restoreOriginalHostKey()).toBe(pinned);
    const back = await waitFor(get, (v) => v.status === "connected");
    expect(back).toMatchObject({ status: "connected", hostKeyFingerprint: pinned, presentedFingerprint: null });
    const row = await env.database.db.host.findUniqueOrThrow({ where: { id: hostId } });
    expect(row).toMatchObject({ status: "connected", hostKeyFingerprint: pinned, presentedFingerprint: null });
    expect(await env.database.db.auditEvent.findFirst({ where: { action: "hosts.host_key_restored", hostId } })).toMatchObject({ outcome: "success", actorType: "system" });
    expect(env.logs.some((l) => l.includes("rekeyed") && l.includes(`pinned host key ${pinned} again`))).toBe(true);

    // The sshd with the wrong key never saw an authentication attempt; the one with the right key did.
    const log = await h.sshdLog();
    const wrongKey = log.slice(before, restoredAt);
    expect(wrongKey.split("\n").filter((l) => AUTH_ATTEMPT.test(l))).toEqual([]);
    expect(log.slice(restoredAt)).toMatch(/Accepted publickey for root/);
  });
});
