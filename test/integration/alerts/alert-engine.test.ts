import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentSettingsFor, startFleetEnv, waitFor, type Caller, type FleetEnv } from "../../fixtures/fleet-env";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoCopy } from "../../fixtures/skopeo";
import { startSshHosts, type SshHostFleet, type SshTestHost } from "../../fixtures/ssh-hosts";
import { buildToolsImage } from "../../fixtures/test-images";
import { startAlerting } from "../../../server/alerts/start";

// The alert engine against a real SSH test host, its agent and Postgres: the
// evaluator (a short tick here) hears the fleet's signals — the host's link,
// the agent's /events stream — and opens, fires and resolves alerts, queueing
// one notification per channel of the rule (a webhook channel whose receiver
// the test runs on 127.0.0.1). What is asserted is what is stored: the Alert
// rows with their timeline, and the AlertNotification rows the delivery
// worker sends.

describe("alert engine", () => {
  let hosts: SshHostFleet;
  let env: FleetEnv;
  let owner: Caller;
  let registry: TestRegistry;
  let work: string;
  let hostId: string;
  let channelId: string;
  let stopAlerting: () => Promise<void>;
  let receiver: http.Server;
  const received: unknown[] = [];

  const host = (): SshTestHost => hosts.hosts[0]!;
  const image = () => `${registry.hostFor(host().gatewayAddress)}/test/tools:latest`;
  const db = () => env.database.db;
  const ruleNamed = (name: string) => db().alertRule.findUniqueOrThrow({ where: { name } });
  const alertsOf = (ruleId: string, subjectKey?: string) => db().alert.findMany({ where: { ruleId, ...(subjectKey ? { subjectKey } : {}) }, orderBy: { startsAt: "asc" } });
  const notificationsOf = (alertId: string) => db().alertNotification.findMany({ where: { alertId }, orderBy: { createdAt: "asc" } });

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-alerts-test-"));
    hosts = await startSshHosts(1);
    env = await startFleetEnv();
    owner = (await env.callerFor("Owner")).caller;
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    const built = await buildToolsImage(path.join(work, "tools"));
    await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${registry.host}/test/tools:latest`);
    receiver = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        try {
          received.push(JSON.parse(body));
        } catch {
          received.push(body);
        }
        res.writeHead(200).end("ok");
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    channelId = (
      await db().alertChannel.create({ data: { name: "test-hook", kind: "webhook", config: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` } } })
    ).id;
    stopAlerting = startAlerting(null, { db: db(), tickMs: 200, quietMs: 60_000, verifyEveryMs: 3_600_000, log: () => {} });
    // The defaults are seeded on start.
    await waitFor(() => db().alertRule.count(), (n) => n >= 6);

    const auth = { method: "key" as const, privateKey: hosts.clientKey.privateKey };
    const probe = await owner.hosts.probe({ address: host().address, port: 22, username: "root", auth });
    const added = await owner.hosts.add({
      name: "alert-host",
      address: host().address,
      port: 22,
      username: "root",
      auth,
      fingerprint: probe.fingerprint,
      hostGroupId: null,
      agent: agentSettingsFor(host(), [registry.hostFor(host().gatewayAddress)]),
    });
    hostId = added.id;
    await owner.hosts.installAgent({ hostId });
    await waitFor(() => owner.hosts.get({ hostId }), (v) => v.status === "connected" && v.agent === "ok");
  });

  afterAll(async () => {
    await stopAlerting?.();
    await env?.close();
    await hosts?.cleanup();
    await registry?.stop();
    receiver?.closeAllConnections();
    await new Promise((r) => receiver?.close(r));
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("seeds the default rules once, as built-in rules that can be changed but not removed", async () => {
    const rules = await owner.alerts.rules();
    expect(rules.map((r) => r.kind).sort()).toEqual(["auditChainBroken", "containerOom", "containerUnhealthy", "diskUsage", "hostUnreachable", "restartLoop"]);
    expect(rules.every((r) => r.builtIn && r.enabled)).toBe(true);
    const oom = rules.find((r) => r.kind === "containerOom")!;
    await expect(owner.alerts.removeRule({ id: oom.id })).rejects.toThrow(/disable it instead/);
    await expect(owner.alerts.updateRule({ id: oom.id, params: { percent: 5 } })).rejects.toThrow(/percent/);
    await expect(owner.alerts.createRule({ name: "bad scope", kind: "hostUnreachable", scopeKey: "host:nope" })).rejects.toThrow(/doesn't exist/);
    await expect(owner.alerts.createRule({ name: "bad params", kind: "restartLoop", params: { restarts: 1 } })).rejects.toThrow(/restarts/);
    expect(await db().alertRule.count()).toBe(6);
    const denied = await db().auditEvent.findFirst({ where: { action: "alerts.removeRule", outcome: "error" } });
    expect(denied).not.toBeNull();
    // Every rule points at the test's channel from here on.
    for (const r of rules) await owner.alerts.updateRule({ id: r.id, channelIds: [channelId], ...(r.kind === "hostUnreachable" ? { forSeconds: 2 } : {}) });
    const audit = await db().auditEvent.findFirst({ where: { action: "alerts.updateRule", outcome: "success" }, orderBy: { id: "desc" } });
    expect(audit?.targetType).toBe("alertRule");
  });

  it("a host whose sshd stops: 'host unreachable' pending, firing after its 'for', resolved when sshd is back", async () => {
    const rule = await ruleNamed("Host unreachable");
    const subject = `host:${hostId}`;
    await host().stopSshd();
    await host().dropSessions();
    const pending = await waitFor(() => alertsOf(rule.id, subject), (a) => a.length > 0, 30_000);
    expect(pending[0]!.status).toMatch(/pending|firing/);
    const firing = await waitFor(() => alertsOf(rule.id, subject), (a) => a[0]?.status === "firing", 30_000);
    const alert = firing[0]!;
    // It waited for "for" (2 s) after the condition first held.
    expect(alert.firedAt!.getTime() - alert.startsAt.getTime()).toBeGreaterThanOrEqual(2_000);
    expect((await notificationsOf(alert.id)).map((n) => [n.kind, n.channelId, n.status])).toEqual([["firing", channelId, expect.any(String)]]);
    const view = await owner.alerts.get({ id: alert.id });
    expect(view.host?.name).toBe("alert-host");
    expect(view.timeline.map((t) => t.event)).toEqual(["pending", "fired", "notified"]);
    expect((await owner.alerts.count()).firing).toBeGreaterThanOrEqual(1);

    await host().startSshd();
    const resolved = await waitFor(() => db().alert.findUniqueOrThrow({ where: { id: alert.id } }), (a) => a.status === "resolved", 60_000);
    expect(resolved.resolvedAt).not.toBeNull();
    expect((await notificationsOf(alert.id)).map((n) => n.kind)).toEqual(["firing", "resolved"]);
    // Still exactly one alert for the outage.
    expect(await alertsOf(rule.id, subject)).toHaveLength(1);
    await waitFor(() => owner.hosts.get({ hostId }), (v) => v.status === "connected" && v.agent === "ok", 30_000);
  });

  it("a container that allocates past its memory limit: an OOM alert", async () => {
    const rule = await ruleNamed("Container killed by OOM");
    await owner.containers.deploy({
      hostId,
      spec: { image: image(), name: "hog", memoryBytes: 32 * 1024 * 1024, command: ["sh", "-c", "sleep 1; x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo ${#x}"] },
    });
    const alerts = await waitFor(() => alertsOf(rule.id, `container:${hostId}/hog`), (a) => a[0]?.status === "firing", 30_000);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.containerName).toBe("hog");
    expect(alerts[0]!.summary).toContain("OOM");
    expect((await notificationsOf(alerts[0]!.id)).map((n) => n.kind)).toEqual(["firing"]);
    const listed = await owner.alerts.list({ ruleId: rule.id, limit: 10 });
    expect(listed.items.map((a) => a.container?.name)).toContain("hog");
  });

  it("a restart loop (restart policy always, exits at once) is one alert, not one per restart", async () => {
    const rule = await ruleNamed("Container restart loop");
    const deployed = await owner.containers.deploy({ hostId, spec: { image: image(), name: "looper", restartPolicy: { name: "always" }, command: ["sh", "-c", "sleep 0.3; exit 3"] } });
    const subject = `container:${hostId}/looper`;
    await waitFor(() => alertsOf(rule.id, subject), (a) => a[0]?.status === "firing", 60_000);
    // Let it go on restarting well past the threshold (3 restarts).
    await waitFor(
      async () => (await owner.containers.inspect({ hostId, containerId: deployed.containerId })).RestartCount,
      (n) => (n ?? 0) >= 6,
      60_000,
    );
    const alerts = await alertsOf(rule.id, subject);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.status).toBe("firing");
    expect((await notificationsOf(alerts[0]!.id)).map((n) => n.kind)).toEqual(["firing"]);
    expect(Number((alerts[0]!.details as { restarts?: number }).restarts)).toBeGreaterThanOrEqual(3);
    await owner.containers.action({ hostId, containerId: deployed.containerId, action: "remove" });
    await waitFor(() => alertsOf(rule.id, subject), (a) => a[0]?.status === "resolved", 30_000);
  });

  it("a silence holds notifications back, and its end sends them again", async () => {
    const rule = await ruleNamed("Container killed by OOM");
    const silence = await owner.alerts.silence({ ruleId: rule.id, scopeKey: `host:${hostId}`, comment: "planned load test", endsAt: new Date(Date.now() + 3_600_000) });
    expect(silence.active).toBe(true);
    await owner.containers.deploy({
      hostId,
      spec: { image: image(), name: "hog2", memoryBytes: 32 * 1024 * 1024, command: ["sh", "-c", "sleep 1; x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo ${#x}"] },
    });
    const [alert] = await waitFor(() => alertsOf(rule.id, `container:${hostId}/hog2`), (a) => a[0]?.status === "firing", 30_000);
    expect(alert!.silenceId).toBe(silence.id);
    expect(await notificationsOf(alert!.id)).toEqual([]);
    const view = await owner.alerts.get({ id: alert!.id });
    expect(view.silencedBy?.comment).toBe("planned load test");
    expect(view.timeline.some((t) => t.event === "silenced" && t.message.includes("planned load test"))).toBe(true);

    const ended = await owner.alerts.endSilence({ id: silence.id });
    expect(ended.active).toBe(false);
    const resumed = await waitFor(() => notificationsOf(alert!.id), (n) => n.length > 0, 10_000);
    expect(resumed.map((n) => n.kind)).toEqual(["firing"]);
    expect((await db().alert.findUniqueOrThrow({ where: { id: alert!.id } })).silenceId).toBeNull();
    const audits = await db().auditEvent.findMany({ where: { action: { in: ["alerts.silence", "alerts.endSilence"] }, outcome: "success" } });
    expect(audits.map((a) => a.action).sort()).toEqual(["alerts.endSilence", "alerts.silence"]);
  });

  it("who may see and silence what: a viewer of nothing sees no alerts and may not silence", async () => {
    const { caller: auditor } = await env.callerFor("Auditor");
    await expect(auditor.alerts.list({ limit: 10 })).rejects.toThrow(/alerts.read/);
    expect(await auditor.alerts.count()).toEqual({ firing: 0, critical: 0 });
    await expect(auditor.alerts.silence({ scopeKey: `host:${hostId}`, comment: "no", endsAt: new Date(Date.now() + 60_000) })).rejects.toThrow(/alerts.silence/);
    const { caller: viewer } = await env.callerFor("Viewer");
    const seen = await viewer.alerts.list({ limit: 100 });
    expect(seen.items.length).toBeGreaterThan(0);
    await expect(viewer.alerts.createRule({ name: "mine", kind: "containerOom" })).rejects.toThrow(/alerts.manage/);
    expect(await db().auditEvent.count({ where: { action: "alerts.silence", outcome: "denied" } })).toBe(1);
  });

  it("verifying the audit chain on demand: a good chain fires nothing", async () => {
    const result = await owner.alerts.verifyAudit();
    expect(result.ok).toBe(true);
    expect(result.checked).toBeGreaterThan(0);
    const rule = await ruleNamed("Audit chain broken");
    expect(await alertsOf(rule.id)).toEqual([]);
  });
});
