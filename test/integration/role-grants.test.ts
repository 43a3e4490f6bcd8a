import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../fixtures/database";
import { addUser, roleId, type TestUser } from "../fixtures/console-users";
import { startGateway, type Gateway } from "../fixtures/gateway";
import { HttpClient } from "../fixtures/http-client";

// "Grant only what you hold, within your scope" (issue 15 item 9), against the
// real gateway over HTTP: holding users.manage or roles.manage must not let
// anyone hand out (to themselves or others) permissions they don't hold where
// the grant applies. Hosts and groups are plain rows: enough for scoping.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };

describe("role bindings, role edits and tokens grant only what the granter holds (real gateway)", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let owner: HttpClient;
  let groupA: string;
  let groupB: string;
  let hostInA: string;
  let hostInB: string;
  /** users.manage everywhere, and nothing else. */
  let userAdmin: TestUser;
  /** users.manage everywhere, Operator on group A only. */
  let groupAdmin: TestUser;
  /** roles.manage and hosts.read everywhere. */
  let roleAdmin: TestUser;
  let plain: TestUser;

  const lastEvent = (where: Record<string, unknown>) => database.db.auditEvent.findFirst({ where, orderBy: { id: "desc" } });
  const bindingsOf = async (userId: string) =>
    (await database.db.roleBinding.findMany({ where: { userId }, include: { role: true } })).map((b) => `${b.role.name}@${b.scopeKey}`).sort();

  async function expectDenied(user: TestUser, action: string, res: { error?: { code: string; message: string } }, missing: RegExp) {
    expect(res.error?.code, JSON.stringify(res.error)).toBe("FORBIDDEN");
    expect(res.error!.message).toMatch(missing);
    expect(await lastEvent({ actorId: user.id, action })).toMatchObject({ outcome: "denied", errorMessage: res.error!.message });
  }

  beforeAll(async () => {
    database = await createTestDatabase("grants");
    gateway = await startGateway({ DATABASE_URL: database.url, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password });
    owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    groupA = (await owner.trpc<{ id: string }>("hosts.createGroup", { name: "group-a" })).data!.id;
    groupB = (await owner.trpc<{ id: string }>("hosts.createGroup", { name: "group-b" })).data!.id;
    hostInA = (await database.db.host.create({ data: { name: "host-a", address: "192.0.2.1", hostGroupId: groupA } })).id;
    hostInB = (await database.db.host.create({ data: { name: "host-b", address: "192.0.2.2", hostGroupId: groupB } })).id;

    for (const [name, permissions] of [
      ["User admin", ["users.manage"]],
      ["Role admin", ["roles.manage", "hosts.read"]],
    ] as const) {
      expect((await owner.trpc("roles.create", { name, permissions })).error).toBeUndefined();
    }
    userAdmin = await addUser(owner, database.db, "useradmin@example.test", [{ role: "User admin" }]);
    groupAdmin = await addUser(owner, database.db, "groupadmin@example.test", [{ role: "User admin" }, { role: "Operator", scope: { type: "hostGroup", id: groupA } }]);
    roleAdmin = await addUser(owner, database.db, "roleadmin@example.test", [{ role: "Role admin" }]);
    plain = await addUser(owner, database.db, "plain@example.test", []);
  });

  afterAll(async () => {
    await gateway?.stop();
    await database?.close();
  });

  it("users.manage alone can't grant its holder, or anyone, a role with permissions it doesn't hold", async () => {
    const admin = await roleId(database.db, "Admin");
    const self = await userAdmin.client.trpc("users.bindRole", { userId: userAdmin.id, roleId: admin, scope: { type: "global" } });
    await expectDenied(userAdmin, "users.bindRole", self, /hosts\.manage/);
    expect(await bindingsOf(userAdmin.id)).toEqual(["User admin@global"]);

    const other = await userAdmin.client.trpc("users.bindRole", { userId: plain.id, roleId: await roleId(database.db, "Viewer"), scope: { type: "global" } });
    await expectDenied(userAdmin, "users.bindRole", other, /hosts\.read/);
    expect(await bindingsOf(plain.id)).toEqual([]);

    // A new user with a first role: the same rule.
    const created = await userAdmin.client.trpc("users.create", { email: "made@example.test", password: "made-password-123", roleId: admin });
    await expectDenied(userAdmin, "users.create", created, /hosts\.manage/);
    expect(await database.db.user.findUnique({ where: { email: "made@example.test" } })).toBeNull();

    // A role the granter holds everywhere is fine: its own.
    const same = await userAdmin.client.trpc("users.bindRole", { userId: plain.id, roleId: await roleId(database.db, "User admin"), scope: { type: "global" } });
    expect(same.error).toBeUndefined();
    expect(await bindingsOf(plain.id)).toEqual(["User admin@global"]);
  });

  it("a granter's scope bounds the grant: Operator on group A can be handed out on A and its hosts, not on B or everywhere", async () => {
    const operator = await roleId(database.db, "Operator");
    const target = await addUser(owner, database.db, "target@example.test", []);
    const bind = (scope: unknown) => groupAdmin.client.trpc<{ id: string }>("users.bindRole", { userId: target.id, roleId: operator, scope });

    expect((await bind({ type: "hostGroup", id: groupA })).error).toBeUndefined();
    expect((await bind({ type: "host", id: hostInA })).error).toBeUndefined();
    await expectDenied(groupAdmin, "users.bindRole", await bind({ type: "hostGroup", id: groupB }), /containers\.deploy/);
    await expectDenied(groupAdmin, "users.bindRole", await bind({ type: "host", id: hostInB }), /containers\.deploy/);
    await expectDenied(groupAdmin, "users.bindRole", await bind({ type: "global" }), /containers\.deploy/);
    expect(await bindingsOf(target.id)).toEqual([`Operator@host:${hostInA}`, `Operator@hostGroup:${groupA}`]);

    // Removing a binding takes the same: the one on A may go, one the owner made everywhere may not.
    const everywhere = await owner.trpc<{ id: string }>("users.bindRole", { userId: target.id, roleId: operator, scope: { type: "global" } });
    expect(everywhere.error).toBeUndefined();
    const rows = await database.db.roleBinding.findMany({ where: { userId: target.id } });
    const onA = rows.find((b) => b.scopeKey === `hostGroup:${groupA}`)!;
    const global = rows.find((b) => b.scopeKey === "global")!;
    await expectDenied(groupAdmin, "users.unbindRole", await groupAdmin.client.trpc("users.unbindRole", { bindingId: global.id }), /containers\.deploy/);
    expect(await database.db.roleBinding.findUnique({ where: { id: global.id } })).not.toBeNull();
    // …and so does changing a user who holds more than the granter (here Operator everywhere).
    await expectDenied(groupAdmin, "users.unbindRole", await groupAdmin.client.trpc("users.unbindRole", { bindingId: onA.id }), /containers\.deploy/);
    expect((await owner.trpc("users.unbindRole", { bindingId: global.id })).error).toBeUndefined();
    expect((await groupAdmin.client.trpc("users.unbindRole", { bindingId: onA.id })).error).toBeUndefined();
    expect(await bindingsOf(target.id)).toEqual([`Operator@host:${hostInA}`]);
  });

  it("users.manage can't take over a user who holds more: their password and account stay as they are", async () => {
    const admin = await addUser(owner, database.db, "admin@example.test", [{ role: "Admin" }]);
    const reset = await userAdmin.client.trpc("users.setPassword", { userId: admin.id, password: "taken-over-password" });
    await expectDenied(userAdmin, "users.setPassword", reset, /hosts\.manage/);
    expect((await new HttpClient(gateway.url).signIn(admin.email, "taken-over-password")).ok).toBe(false);
    expect((await new HttpClient(gateway.url).signIn(admin.email, admin.password)).ok).toBe(true);

    const disable = await userAdmin.client.trpc("users.setDisabled", { userId: admin.id, disabled: true });
    await expectDenied(userAdmin, "users.setDisabled", disable, /hosts\.manage/);
    expect((await database.db.user.findUniqueOrThrow({ where: { id: admin.id } })).disabled).toBe(false);

    // A user who holds nothing beyond the granter can still be reset.
    const fresh = await addUser(owner, database.db, "fresh@example.test", []);
    expect((await userAdmin.client.trpc("users.setPassword", { userId: fresh.id, password: "fresh-password-456" })).error).toBeUndefined();
    expect((await new HttpClient(gateway.url).signIn(fresh.email, "fresh-password-456")).ok).toBe(true);

    // The Owner rules stay: an Admin holds everything, yet can't grant Owner; it can grant Admin.
    const owners = await admin.client.trpc("users.bindRole", { userId: fresh.id, roleId: await roleId(database.db, "Owner"), scope: { type: "global" } });
    expect(owners.error?.code).toBe("FORBIDDEN");
    expect((await admin.client.trpc("users.bindRole", { userId: fresh.id, roleId: await roleId(database.db, "Admin"), scope: { type: "global" } })).error).toBeUndefined();
  });

  it("roles.manage can only put permissions it holds everywhere into a role, on create and on edit", async () => {
    const tooMuch = await roleAdmin.client.trpc("roles.create", { name: "Sneaky", permissions: ["hosts.read", "users.manage"] });
    await expectDenied(roleAdmin, "roles.create", tooMuch, /users\.manage/);
    expect(await database.db.role.findUnique({ where: { name: "Sneaky" } })).toBeNull();

    const fine = await roleAdmin.client.trpc<{ id: string }>("roles.create", { name: "Readers", permissions: ["hosts.read"] });
    expect(fine.error).toBeUndefined();

    // Its own role, bound to itself: adding what it doesn't hold is refused.
    const own = await database.db.role.findUniqueOrThrow({ where: { name: "Role admin" } });
    const grow = await roleAdmin.client.trpc("roles.update", { id: own.id, name: own.name, permissions: [...own.permissions, "hosts.manage"] });
    await expectDenied(roleAdmin, "roles.update", grow, /hosts\.manage/);
    expect((await database.db.role.findUniqueOrThrow({ where: { id: own.id } })).permissions.sort()).toEqual(["hosts.read", "roles.manage"]);

    // A role bound to others that holds more than the editor can't be changed by it, not even narrowed.
    const userAdminRole = await database.db.role.findUniqueOrThrow({ where: { name: "User admin" } });
    const retarget = await roleAdmin.client.trpc("roles.update", { id: userAdminRole.id, name: userAdminRole.name, permissions: ["hosts.read"] });
    await expectDenied(roleAdmin, "roles.update", retarget, /users\.manage/);
    expect((await database.db.role.findUniqueOrThrow({ where: { id: userAdminRole.id } })).permissions).toEqual(["users.manage"]);

    // Held only on a group is not held everywhere: group admin can't make roles either way, and an
    // Operator-on-group-A role editor (owner-made) can't put containers.deploy in a role.
    const scopedEditor = await addUser(owner, database.db, "scoped-editor@example.test", [
      { role: "Role admin" },
      { role: "Operator", scope: { type: "hostGroup", id: groupA } },
    ]);
    const scoped = await scopedEditor.client.trpc("roles.create", { name: "Deployers A", permissions: ["containers.deploy"] });
    await expectDenied(scopedEditor, "roles.create", scoped, /containers\.deploy/);
  });

  it("tokens: a token can't be given permissions its owner doesn't hold (already so; checked here)", async () => {
    const deployer = await addUser(owner, database.db, "deployer@example.test", [{ role: "Deployer" }]);
    const res = await deployer.client.trpc("tokens.create", { name: "escalate", permissions: ["containers.read", "users.manage"] });
    await expectDenied(deployer, "tokens.create", res, /users\.manage/);
    expect(await database.db.apiToken.count({ where: { userId: deployer.id } })).toBe(0);
  });
});
