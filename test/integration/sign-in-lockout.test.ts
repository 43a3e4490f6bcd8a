import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../fixtures/database";
import { startGateway, type Gateway } from "../fixtures/gateway";
import { HttpClient } from "../fixtures/http-client";

// Sign-in limits against the real gateway over HTTP and a real Postgres:
// attempts race each other for real (one Node process, a pool of connections),
// and the outcome is read from what was stored: login attempts and audit events.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };

describe("sign-in limits (real gateway, real Postgres)", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let owner: HttpClient;

  /** A client whose requests come from `ip` (the gateway trusts X-Forwarded-For here, as behind a reverse proxy). */
  const from = (ip: string) => new HttpClient(gateway.url, { "x-forwarded-for": ip });

  async function createViewer(email: string, password: string) {
    const roleId = (await database.db.role.findUniqueOrThrow({ where: { name: "Viewer" } })).id;
    const created = await owner.trpc<{ id: string }>("users.create", { email, password, roleId });
    expect(created.error).toBeUndefined();
    return created.data!.id;
  }

  const signInEvents = (email: string) =>
    database.db.auditEvent.findMany({ where: { action: "auth.sign_in", actorLabel: email }, orderBy: { id: "asc" } });

  beforeAll(async () => {
    database = await createTestDatabase("lockout");
    gateway = await startGateway({
      DATABASE_URL: database.url,
      BERTH_ADMIN_EMAIL: OWNER.email,
      BERTH_ADMIN_PASSWORD: OWNER.password,
      BERTH_TRUST_PROXY: "1",
    });
    owner = from("192.0.2.1");
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
  });

  afterAll(async () => {
    await gateway?.stop();
    await database?.close();
  });

  it("40 parallel wrong passwords and a right one from one address: five are judged, the rest refused and audited, the right one never gets in once locked", async () => {
    const email = "burst@example.test";
    const password = "burst-password-123";
    await createViewer(email, password);
    const ip = "198.51.100.40";

    const wrong = Array.from({ length: 40 }, () => from(ip));
    const right = from(ip);
    const results = await Promise.all([
      ...wrong.map((c, i) => c.signIn(email, `wrong-password-${i}`)),
      right.signIn(email, password),
    ]);
    const rightResult = results[40]!;
    const wrongResults = results.slice(0, 40);

    // Exactly five wrong passwords were judged; every other wrong one was refused unjudged.
    expect(wrongResults.filter((r) => r.location.includes("code=invalid"))).toHaveLength(5);
    expect(wrongResults.filter((r) => r.location.includes("code=locked"))).toHaveLength(35);
    const failures = await database.db.loginAttempt.findMany({ where: { email, ip, success: false }, orderBy: { id: "asc" } });
    expect(failures).toHaveLength(5);

    // The right password either was judged before the fifth failure, or it was refused like the rest.
    const success = await database.db.loginAttempt.findFirst({ where: { email, ip, success: true } });
    if (rightResult.ok) {
      expect(success).not.toBeNull();
      expect(success!.id < failures[4]!.id).toBe(true);
      expect(right.hasSession()).toBe(true);
    } else {
      expect(rightResult.location).toContain("code=locked");
      expect(success).toBeNull();
      expect(right.hasSession()).toBe(false);
    }

    // Every attempt is in the audit log: five wrong passwords, the refusals, and the right one's outcome.
    const events = await signInEvents(email);
    expect(events).toHaveLength(41);
    expect(events.filter((e) => e.errorMessage === "wrong email or password")).toHaveLength(5);
    const refusals = events.filter((e) => e.outcome === "denied" && /locked out after 5 failed attempts/.test(e.errorMessage ?? ""));
    expect(refusals).toHaveLength(rightResult.ok ? 35 : 36);
    expect(events.filter((e) => e.outcome === "success")).toHaveLength(rightResult.ok ? 1 : 0);

    // Once locked, the right password from that address stays refused (and audited).
    const after = from(ip);
    const refused = await after.signIn(email, password);
    expect(refused.location).toContain("code=locked");
    expect(after.hasSession()).toBe(false);
    expect((await signInEvents(email)).at(-1)).toMatchObject({ outcome: "denied", sourceIp: ip });
  });

  it("failures from elsewhere lock an account only for unknown addresses: its owner still signs in from their usual one", async () => {
    const email = "daily@example.test";
    const password = "daily-password-123";
    const userId = await createViewer(email, password);
    const usual = "198.18.0.10";
    const first = from(usual);
    expect((await first.signIn(email, password)).ok).toBe(true);

    // Someone else fails five times, each time from a new address.
    for (let i = 0; i < 5; i++) {
      const r = await from(`198.18.1.${i + 1}`).signIn(email, `guess-${i}`);
      expect(r.location).toContain("code=invalid");
    }

    // From an address the account has never signed in from, even the right password is refused, and audited.
    const stranger = from("198.18.2.1");
    expect((await stranger.signIn(email, password)).location).toContain("code=locked");
    expect(stranger.hasSession()).toBe(false);
    expect((await signInEvents(email)).at(-1)).toMatchObject({ outcome: "denied", sourceIp: "198.18.2.1" });
    expect((await signInEvents(email)).at(-1)!.errorMessage).toMatch(/locked out after 5 failed attempts/);

    // From the usual address the owner gets in with the right password.
    const again = from(usual);
    expect((await again.signIn(email, password)).ok).toBe(true);
    expect(again.hasSession()).toBe(true);
    expect((await again.trpc<{ email: string }>("me.get", undefined, "query")).data?.email).toBe(email);
    expect((await signInEvents(email)).at(-1)).toMatchObject({ outcome: "success", actorId: userId, sourceIp: usual });

    // That success does not hand the guesser five fresh tries: unknown addresses stay locked.
    const guesser = from("198.18.1.6");
    expect((await guesser.signIn(email, "guess-6")).location).toContain("code=locked");
    expect((await signInEvents(email)).at(-1)).toMatchObject({ outcome: "denied", sourceIp: "198.18.1.6" });

    // The per-address limit still holds at the usual address.
    for (let i = 0; i < 5; i++) expect((await from(usual).signIn(email, `typo-${i}`)).location).toContain("code=invalid");
    const typist = from(usual);
    expect((await typist.signIn(email, password)).location).toContain("code=locked");
    expect(typist.hasSession()).toBe(false);
    expect((await signInEvents(email)).at(-1)!.errorMessage).toMatch(/locked out after 5 failed attempts from this address/);
  });
});
