import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../fixtures/database";
import { addUser, type TestUser } from "../fixtures/console-users";
import { startGateway, type Gateway } from "../fixtures/gateway";
import { HttpClient } from "../fixtures/http-client";
import { FORMULA_START, readAsSpreadsheet } from "../fixtures/spreadsheet-csv";

// Issue 15 item 14, against the real gateway over HTTP: what a signed-in user
// may read (saved registries, other groups' deploy policies), API tokens after
// a password reset, the CSV export in every locale, and names that Postgres
// can't store or that hide text.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };

describe("access and input checks (real gateway)", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let owner: HttpClient;
  let groupA: string;
  let groupB: string;
  let hostInA: string;
  let looseHost: string;

  const lastEvent = (where: Record<string, unknown>) => database.db.auditEvent.findFirst({ where, orderBy: { id: "desc" } });
  const api = (path: string, secret: string) => fetch(`${gateway.url}/api/v1${path}`, { headers: { authorization: `Bearer ${secret}` } });

  beforeAll(async () => {
    database = await createTestDatabase("checks");
    gateway = await startGateway({
      DATABASE_URL: database.url,
      BERTH_ADMIN_EMAIL: OWNER.email,
      BERTH_ADMIN_PASSWORD: OWNER.password,
      // As behind a reverse proxy: the failed sign-ins below come from distinct client IPs, so none is locked out.
      BERTH_TRUST_PROXY: "1",
    });
    owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    groupA = (await owner.trpc<{ id: string }>("hosts.createGroup", { name: "group-a" })).data!.id;
    groupB = (await owner.trpc<{ id: string }>("hosts.createGroup", { name: "group-b" })).data!.id;
    hostInA = (await database.db.host.create({ data: { name: "host-a", address: "192.0.2.1", hostGroupId: groupA } })).id;
    looseHost = (await database.db.host.create({ data: { name: "loose", address: "192.0.2.3" } })).id;
  });

  afterAll(async () => {
    await gateway?.stop();
    await database?.close();
  });

  describe("saved registries", () => {
    it("registries.list needs registries.manage; deployers and pullers see ids, names and addresses only, Viewers nothing", async () => {
      const created = await owner.trpc<{ id: string }>("registries.create", { name: "team", address: "registry.example.test:5000", username: "robot", password: "s3cret-registry" });
      expect(created.error, JSON.stringify(created.error)).toBeUndefined();
      const full = await owner.trpc<{ id: string; username: string }[]>("registries.list", undefined, "query");
      expect(full.data).toEqual([expect.objectContaining({ id: created.data!.id, name: "team", address: "registry.example.test:5000", username: "robot" })]);

      const viewer = await addUser(owner, database.db, "reg-viewer@example.test", [{ role: "Viewer" }]);
      const viewerList = await viewer.client.trpc("registries.list", undefined, "query");
      expect(viewerList.error?.code).toBe("FORBIDDEN");
      expect(await lastEvent({ actorId: viewer.id, action: "registries.list" })).toMatchObject({ outcome: "denied" });
      expect((await viewer.client.trpc("registries.choices", undefined, "query")).error?.code).toBe("FORBIDDEN");

      // The deploy form's picker: what a Deployer needs to choose one, nothing more.
      const deployer = await addUser(owner, database.db, "reg-deployer@example.test", [{ role: "Deployer", scope: { type: "hostGroup", id: groupA } }]);
      expect((await deployer.client.trpc("registries.list", undefined, "query")).error?.code).toBe("FORBIDDEN");
      const choices = await deployer.client.trpc<Record<string, unknown>[]>("registries.choices", undefined, "query");
      expect(choices.error).toBeUndefined();
      expect(choices.data).toEqual([{ id: created.data!.id, name: "team", address: "registry.example.test:5000" }]);
    });
  });

  describe("deploy policies", () => {
    it("policy.get answers for the groups (and the no-group default) whose hosts the viewer can read, and refuses the rest", async () => {
      for (const [hostGroupId, path] of [
        [groupA, "/srv/a"],
        [groupB, "/srv/b"],
        [null, "/srv/default"],
      ] as const) {
        const set = await owner.trpc("policy.set", { hostGroupId, rules: { bindMountAllowlist: [path] } });
        expect(set.error, JSON.stringify(set.error)).toBeUndefined();
      }
      const get = (user: TestUser, hostGroupId: string | null) =>
        user.client.trpc<{ bindMountAllowlist: string[] }>("policy.get", { hostGroupId }, "query");

      const onGroupA = await addUser(owner, database.db, "pol-group@example.test", [{ role: "Viewer", scope: { type: "hostGroup", id: groupA } }]);
      expect((await get(onGroupA, groupA)).data?.bindMountAllowlist).toEqual(["/srv/a"]);
      const refused = await get(onGroupA, groupB);
      expect(refused.error?.code).toBe("FORBIDDEN");
      expect(JSON.stringify(refused)).not.toContain("/srv/b");
      expect(await lastEvent({ actorId: onGroupA.id, action: "policy.get" })).toMatchObject({ outcome: "denied" });
      expect((await get(onGroupA, null)).error?.code).toBe("FORBIDDEN");
      expect((await get(onGroupA, "no-such-group")).error?.code).toBe("FORBIDDEN");

      // A host in a group follows that group's policy: who reads the host reads it.
      const onHostInA = await addUser(owner, database.db, "pol-host@example.test", [{ role: "Viewer", scope: { type: "host", id: hostInA } }]);
      expect((await get(onHostInA, groupA)).data?.bindMountAllowlist).toEqual(["/srv/a"]);
      expect((await get(onHostInA, groupB)).error?.code).toBe("FORBIDDEN");
      expect((await get(onHostInA, null)).error?.code).toBe("FORBIDDEN");

      // A host in no group follows the default.
      const onLoose = await addUser(owner, database.db, "pol-loose@example.test", [{ role: "Viewer", scope: { type: "host", id: looseHost } }]);
      expect((await get(onLoose, null)).data?.bindMountAllowlist).toEqual(["/srv/default"]);
      expect((await get(onLoose, groupA)).error?.code).toBe("FORBIDDEN");

      // Everywhere: everything.
      const global = await addUser(owner, database.db, "pol-global@example.test", [{ role: "Viewer" }]);
      expect((await get(global, groupB)).data?.bindMountAllowlist).toEqual(["/srv/b"]);
      expect((await get(global, null)).data?.bindMountAllowlist).toEqual(["/srv/default"]);
    });
  });

  describe("password resets", () => {
    it("setting a user's password ends their API tokens (listed as revoked, audited); other users' tokens keep working", async () => {
      const deployer = await addUser(owner, database.db, "reset-me@example.test", [{ role: "Deployer" }]);
      const bystander = await addUser(owner, database.db, "bystander@example.test", [{ role: "Deployer" }]);
      const mine = await deployer.client.trpc<{ secret: string; token: { id: string } }>("tokens.create", { name: "ci" });
      const theirs = await bystander.client.trpc<{ secret: string }>("tokens.create", { name: "ci" });
      expect(mine.error ?? theirs.error).toBeUndefined();
      expect((await api("/hosts", mine.data!.secret)).status).toBe(200);

      const reset = await owner.trpc<{ revokedApiTokens: number }>("users.setPassword", { userId: deployer.id, password: "a-brand-new-password" });
      expect(reset.error).toBeUndefined();
      expect(reset.data!.revokedApiTokens).toBe(1);

      const refused = await api("/hosts", mine.data!.secret);
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/revoked/);
      expect((await api("/hosts", theirs.data!.secret)).status).toBe(200);

      const event = await lastEvent({ action: "users.setPassword", outcome: "success", targetId: deployer.id });
      expect(event!.params).toMatchObject({ userId: deployer.id, revoked: [{ type: "apiToken", id: mine.data!.token.id, name: "ci" }] });
      expect(JSON.stringify(event!.params)).not.toContain("a-brand-new-password");

      const again = new HttpClient(gateway.url);
      expect((await again.signIn(deployer.email, "a-brand-new-password")).ok).toBe(true);
      const listed = await again.trpc<{ id: string; status: string }[]>("tokens.list", undefined, "query");
      expect(listed.data).toEqual([expect.objectContaining({ id: mine.data!.token.id, status: "revoked" })]);
    });
  });

  describe("CSV export", () => {
    it("no cell starts a formula whichever list separator the spreadsheet splits on", async () => {
      const hostile = ["csv1;=1+2", "csv2;-2+3;+4", "csv3\t@SUM(1+1)", "csv4|=cmd", "csv5; =1+1", 'csv6;"=1+1"', "=csv7", "csv8,=1+2"];
      for (const [i, ua] of hostile.entries()) {
        const attacker = new HttpClient(gateway.url, { "user-agent": ua, "x-forwarded-for": `203.0.113.${i + 1}` });
        expect((await attacker.signIn(`nobody-csv-${i}@example.test`, "wrong-password-123")).ok).toBe(false);
      }
      const res = await owner.fetch(`/api/audit/export?format=csv&action=auth.sign_in&outcome=denied`);
      expect(res.status).toBe(200);
      const text = await res.text();
      for (const separator of [",", ";", "\t", "|"]) {
        const cells = readAsSpreadsheet(text, separator).flat();
        expect(cells.filter((c) => FORMULA_START.test(c)), `separator ${JSON.stringify(separator)}`).toEqual([]);
      }
      // Read with the file's own separator, every row has its 17 cells and the user agent is all there, only defused.
      const rows = readAsSpreadsheet(text, ",");
      const uaColumn = rows[0]!.indexOf("userAgent");
      expect(rows.every((r) => r.length === 17)).toBe(true);
      const agents = rows.slice(1).map((r) => r[uaColumn]!.replaceAll("'", ""));
      for (const ua of hostile) expect(agents).toContain(ua.replaceAll("'", ""));

      // NDJSON keeps the exact values.
      const ndjson = await (await owner.fetch(`/api/audit/export?format=ndjson&action=auth.sign_in&outcome=denied`)).text();
      const exact = ndjson.trim().split("\n").map((l) => (JSON.parse(l) as { userAgent: string }).userAgent);
      for (const ua of hostile) expect(exact).toContain(ua);
    });
  });

  describe("names", () => {
    it("a NUL or another control character in a name is refused with 400 and a clear message; nothing is stored", async () => {
      const cases: [string, unknown, () => Promise<unknown>][] = [
        ["hosts.createGroup", { name: "evil\u0000group" }, () => database.db.hostGroup.findFirst({ where: { name: { startsWith: "evil" } } })],
        ["hosts.createGroup", { name: "bell\u0007" }, () => database.db.hostGroup.findFirst({ where: { name: { startsWith: "bell" } } })],
        ["hosts.createGroup", { name: "ok-name", description: "line\nbreak\u0000" }, () => database.db.hostGroup.findFirst({ where: { name: "ok-name" } })],
        ["hosts.createGroup", { name: "right-to-left\u202Eexe.txt" }, () => database.db.hostGroup.findFirst({ where: { name: { startsWith: "right" } } })],
        ["users.create", { email: "nul@example.test", name: "Nul\u0000Name", password: "nul-password-123" }, () => database.db.user.findFirst({ where: { email: "nul@example.test" } })],
        ["tokens.create", { name: "tok\u0000en" }, () => database.db.apiToken.findFirst({ where: { name: { startsWith: "tok" } } })],
        ["roles.create", { name: "Fine name", description: "desc\u0000", permissions: ["hosts.read"] }, () => database.db.role.findFirst({ where: { name: "Fine name" } })],
      ];
      for (const [procedure, input, stored] of cases) {
        const res = await owner.trpc(procedure, input);
        expect(res.status, `${procedure} ${JSON.stringify(input)}`).toBe(400);
        expect(res.error?.code).toBe("BAD_REQUEST");
        expect(res.error!.message).toMatch(/control character|invisible/);
        expect(await stored(), procedure).toBeNull();
      }
      // The refusal is audited, the NUL left out of the record.
      expect(await lastEvent({ action: "hosts.createGroup", outcome: "error" })).not.toBeNull();
      // Ordinary names, Unicode and emoji included, still work.
      const ok = await owner.trpc<{ name: string }>("hosts.createGroup", { name: "Équipe 🚀 ops" });
      expect(ok.error).toBeUndefined();
      expect(ok.data!.name).toBe("Équipe 🚀 ops");
    });
  });
});
