import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, withPg, type TestDatabase } from "../../fixtures/database";
import { waitFor } from "../../fixtures/fleet-env";
import { startGateway, type Gateway } from "../../fixtures/gateway";
import { HttpClient } from "../../fixtures/http-client";
import { OpenApiClient } from "../../fixtures/openapi-client";

// The alert endpoints of /api/v1 and the engine inside the real gateway
// (built Next app, real Postgres, the evaluator started at boot with a short
// tick): the default rules are there on a new install, bad input is a clear
// 400 that stores nothing, silences need alerts.silence over their scope,
// and signals from inside the gateway (a sign-in lockout, a broken audit
// chain found by an on-demand verify) become firing alerts.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };

interface RuleBody {
  id: string;
  name: string;
  kind: string;
  builtIn: boolean;
  forSeconds: number;
  params: Record<string, unknown>;
}

describe("REST API v1: alerts (real gateway)", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let owner: HttpClient;
  let api: OpenApiClient;
  let narrow: OpenApiClient;
  let hostId: string;

  beforeAll(async () => {
    database = await createTestDatabase("apiv1alerts");
    gateway = await startGateway({
      DATABASE_URL: database.url,
      BERTH_ADMIN_EMAIL: OWNER.email,
      BERTH_ADMIN_PASSWORD: OWNER.password,
      BERTH_TRUST_PROXY: "1",
      BERTH_ALERT_TICK_MS: "200",
    });
    owner = new HttpClient(gateway.url, { "x-forwarded-for": "192.0.2.1" });
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    hostId = (await database.db.host.create({ data: { name: "alerts-doc-host", address: "192.0.2.40" }, select: { id: true } })).id;
    const other = await database.db.host.create({ data: { name: "alerts-other-host", address: "192.0.2.41" }, select: { id: true } });
    const full = await owner.trpc<{ secret: string }>("tokens.create", { name: "everything" });
    api = await OpenApiClient.load(gateway.url, full.data!.secret);
    const limited = await owner.trpc<{ secret: string }>("tokens.create", { name: "other-host-only", hostIds: [other.id] });
    expect(limited.error, JSON.stringify(limited.error)).toBeUndefined();
    narrow = api.withToken(limited.data!.secret);
  });

  afterAll(async () => {
    await gateway?.stop();
    await database?.close();
  });

  it("a new install has the default rules; rules are added, changed and removed, and the answers fit the document", async () => {
    const rules = await waitFor(() => api.call<RuleBody[]>("listAlertRules"), (r) => r.status === 200 && r.body.length === 6);
    expect(rules.schemaErrors).toEqual([]);
    expect(rules.body.every((r) => r.builtIn)).toBe(true);

    const created = await api.call<RuleBody>("createAlertRule", { body: { name: "Web restarts", kind: "restartLoop", labelSelector: { tier: "web" }, params: { restarts: 5, minutes: 10 } } });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    expect(created.schemaErrors).toEqual([]);
    expect(created.body).toMatchObject({ kind: "restartLoop", builtIn: false, params: { restarts: 5, minutes: 10 } });

    const changed = await api.call<RuleBody>("updateAlertRule", { path: { ruleId: created.body.id }, body: { forSeconds: 120 } });
    expect(changed.status).toBe(200);
    expect(changed.body.forSeconds).toBe(120);
    expect((await api.call<RuleBody>("getAlertRule", { path: { ruleId: created.body.id } })).body.forSeconds).toBe(120);

    const builtIn = rules.body[0]!;
    const refused = await api.call<{ error: { message: string } }>("deleteAlertRule", { path: { ruleId: builtIn.id } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/disable it instead/);
    expect((await api.call("deleteAlertRule", { path: { ruleId: created.body.id } })).status).toBe(200);
    expect(await database.db.alertRule.count()).toBe(6);

    const audit = await database.db.auditEvent.findFirst({ where: { action: "api.v1.alertRules.create", outcome: "success" } });
    expect(audit?.targetId).toBe(created.body.id);
  });

  it("bad input is a 400 naming the problem, and nothing is stored", async () => {
    const badParams = await api.call("createAlertRule", { body: { name: "x", kind: "diskUsage", params: { percent: 500 } } });
    expect(badParams.status).toBe(400);
    expect(JSON.stringify(badParams.body)).toContain("percent");
    const badKind = await api.call("createAlertRule", { rawBody: JSON.stringify({ name: "y", kind: "nope" }) });
    expect(badKind.status).toBe(400);
    const badScope = await api.call("createAlertRule", { body: { name: "z", kind: "hostUnreachable", scopeKey: "host:missing" } });
    expect(badScope.status).toBe(400);
    expect(JSON.stringify(badScope.body)).toContain("doesn't exist");
    const unknownKey = await api.call("createAlertRule", { rawBody: JSON.stringify({ name: "w", kind: "containerOom", forSecs: 5 }) });
    expect(unknownKey.status).toBe(400);
    const past = await api.call("createSilence", { body: { scopeKey: `host:${hostId}`, comment: "late", endsAt: "2001-01-01T00:00:00Z" } });
    expect(past.status).toBe(400);
    expect(JSON.stringify(past.body)).toContain("future");
    expect(await database.db.alertRule.count()).toBe(6);
    expect(await database.db.silence.count()).toBe(0);
  });

  it("silences: made and ended with alerts.silence over their scope; a token without it is refused and audited", async () => {
    const endsAt = new Date(Date.now() + 3_600_000).toISOString();
    const denied = await narrow.call("createSilence", { body: { scopeKey: `host:${hostId}`, comment: "not mine", endsAt } });
    expect(denied.status).toBe(403);
    const made = await api.call<{ id: string; active: boolean; createdByLabel: string }>("createSilence", { body: { scopeKey: `host:${hostId}`, comment: "maintenance", endsAt } });
    expect(made.status, JSON.stringify(made.body)).toBe(200);
    expect(made.schemaErrors).toEqual([]);
    expect(made.body).toMatchObject({ active: true, createdByLabel: OWNER.email });
    const listed = await api.call<{ id: string }[]>("listSilences");
    expect(listed.body.map((s) => s.id)).toEqual([made.body.id]);
    expect((await narrow.call<{ id: string }[]>("listSilences")).body).toEqual([]);
    const ended = await api.call<{ active: boolean }>("endSilence", { path: { silenceId: made.body.id } });
    expect(ended.body.active).toBe(false);
    expect((await api.call("endSilence", { path: { silenceId: made.body.id } })).status).toBe(400);
    expect(await database.db.auditEvent.count({ where: { action: "api.v1.silences.create", outcome: "denied" } })).toBe(1);
  });

  it("a sign-in lockout fires a signInLockout rule's alert, listed by GET /alerts", async () => {
    const rule = await api.call<RuleBody>("createAlertRule", { body: { name: "Lockouts", kind: "signInLockout", severity: "critical" } });
    expect(rule.status).toBe(200);
    const attacker = new HttpClient(gateway.url, { "x-forwarded-for": "198.51.100.77" });
    for (let i = 0; i < 7; i++) await attacker.signIn("victim@example.test", `wrong-password-${i}`);
    const alerts = await waitFor(
      () => api.call<{ items: { ruleId: string; status: string; summary: string }[] }>("listAlerts", { query: { status: "firing" } }),
      (r) => r.body.items.some((a) => a.ruleId === rule.body.id),
    );
    expect(alerts.schemaErrors).toEqual([]);
    const alert = alerts.body.items.find((a) => a.ruleId === rule.body.id)!;
    expect(alert.summary).toContain("victim@example.test");
    // A token scoped to one host doesn't see alerts about no host.
    const hidden = await narrow.call<{ items: unknown[] }>("listAlerts");
    expect(hidden.body.items).toEqual([]);
  });

  it("a broken audit chain, found by an on-demand verify, fires the built-in auditChainBroken alert", async () => {
    const good = await owner.trpc<{ ok: boolean }>("alerts.verifyAudit");
    expect(good.data?.ok).toBe(true);
    const victim = await database.db.auditEvent.findFirstOrThrow({ orderBy: { id: "asc" }, select: { id: true } });
    await withPg(database.url, async (c) => {
      await c.query(`ALTER TABLE "AuditEvent" DISABLE TRIGGER "AuditEvent_no_update_delete"`);
      await c.query(`UPDATE "AuditEvent" SET "action" = 'forged' WHERE id = $1`, [victim.id]);
      await c.query(`ALTER TABLE "AuditEvent" ENABLE TRIGGER "AuditEvent_no_update_delete"`);
    });
    const bad = await owner.trpc<{ ok: boolean; message: string }>("alerts.verifyAudit");
    expect(bad.data?.ok).toBe(false);
    expect(bad.data?.message).toContain(String(victim.id));
    const rule = await database.db.alertRule.findFirstOrThrow({ where: { kind: "auditChainBroken" } });
    const [alert] = await waitFor(() => database.db.alert.findMany({ where: { ruleId: rule.id } }), (a) => a[0]?.status === "firing");
    expect(alert!.summary).toContain("Audit chain verification failed");
    const detail = await api.call<{ timeline: { event: string }[] }>("getAlert", { path: { alertId: alert!.id } });
    expect(detail.status).toBe(200);
    expect(detail.schemaErrors).toEqual([]);
    expect(detail.body.timeline.map((t) => t.event)).toEqual(["pending", "fired", "notified"]);
  });
});
