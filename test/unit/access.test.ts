import { describe, expect, it } from "vitest";
import { canOnHost, hasGlobal, hasPermission, heldPermissions, holdsOn, hostCoverage, isOwner, missingOn, type Grant, type Viewer } from "../../server/auth/access";
import { AppError } from "../../server/errors";
import { ALL_PERMISSIONS, BUILT_IN_ROLES, PERMISSIONS, type Permission } from "../../lib/permissions";

function viewer(...grants: Grant[]): Viewer {
  return { user: { id: "u", email: "u@example.test", name: null }, sessionId: "s", grants };
}
const grant = (role: string, permissions: Permission[], scope: Grant["scope"]): Grant => ({ role, permissions: new Set(permissions), scope });

const hostA = { id: "hA", hostGroupId: "g1" };
const hostB = { id: "hB", hostGroupId: "g2" };
const loose = { id: "hC", hostGroupId: null };

describe("access checks fail closed", () => {
  it("a user with no bindings can do nothing", () => {
    const v = viewer();
    for (const p of ALL_PERMISSIONS) expect(hasPermission(v, p)).toBe(false);
    expect(canOnHost(v, "containers.deploy", hostA)).toBe(false);
    expect(heldPermissions(v)).toEqual([]);
  });

  it("unknown permission strings are never granted, even to a role that lists them", () => {
    const v = viewer(grant("Weird", ["made.up" as Permission], { type: "global" }));
    expect(hasPermission(v, "made.up" as Permission)).toBe(false);
    expect(canOnHost(v, "made.up" as Permission, hostA)).toBe(false);
  });

  it("host-group and host bindings cover only their hosts", () => {
    const v = viewer(grant("Operator", ["containers.deploy"], { type: "hostGroup", id: "g1" }), grant("Viewer", ["hosts.read"], { type: "host", id: "hB" }));
    expect(canOnHost(v, "containers.deploy", hostA)).toBe(true);
    expect(canOnHost(v, "containers.deploy", hostB)).toBe(false);
    expect(canOnHost(v, "containers.deploy", loose)).toBe(false);
    expect(canOnHost(v, "hosts.read", hostB)).toBe(true);
    expect(canOnHost(v, "hosts.read", hostA)).toBe(false);
    expect(hostCoverage(v, "containers.deploy")).toEqual({ all: false, hostIds: [], hostGroupIds: ["g1"] });
    expect(hasPermission(v, "containers.deploy")).toBe(true);
    expect(hasGlobal(v, "containers.deploy")).toBe(false);
  });

  it("global-only permissions can't come from a scoped binding", () => {
    const v = viewer(grant("Custom", ["users.manage", "audit.read"], { type: "hostGroup", id: "g1" }));
    expect(hasPermission(v, "users.manage")).toBe(false);
    expect(hasPermission(v, "audit.read")).toBe(false);
    expect(canOnHost(v, "users.manage", hostA)).toBe(false);
    expect(heldPermissions(v)).toEqual([]);
  });

  it("a global binding covers every host, and Owner is recognised only globally", () => {
    const v = viewer(grant("Owner", ALL_PERMISSIONS, { type: "global" }));
    expect(canOnHost(v, "containers.exec", loose)).toBe(true);
    expect(isOwner(v)).toBe(true);
    expect(isOwner(viewer(grant("Owner", ALL_PERMISSIONS, { type: "host", id: "hA" })))).toBe(false);
  });
});

describe("built-in roles", () => {
  const role = (name: string) => new Set(BUILT_IN_ROLES.find((r) => r.name === name)!.permissions);
  it("use only listed permissions, and the six names exist", () => {
    expect(BUILT_IN_ROLES.map((r) => r.name)).toEqual(["Owner", "Admin", "Operator", "Deployer", "Viewer", "Auditor"]);
    for (const r of BUILT_IN_ROLES) for (const p of r.permissions) expect(Object.hasOwn(PERMISSIONS, p)).toBe(true);
  });
  it("Viewer changes nothing; Auditor reads the audit log; Deployer can't exec or delete", () => {
    // "self" permissions (one's own API tokens) change nothing on hosts or for anyone else.
    for (const p of role("Viewer")) if (PERMISSIONS[p].scope !== "self") expect(p.endsWith(".read") || p === "containers.logs").toBe(true);
    expect(role("Auditor").has("audit.export")).toBe(true);
    expect(role("Auditor").has("containers.deploy")).toBe(false);
    expect(role("Deployer").has("containers.exec")).toBe(false);
    expect(role("Deployer").has("containers.delete")).toBe(false);
    expect(role("Operator").has("users.manage")).toBe(false);
  });
});

describe("own-account permissions", () => {
  it("tokens.manage counts from a binding on any scope, and every built-in role has it", () => {
    const v = viewer(grant("Viewer", ["hosts.read", "tokens.manage"], { type: "hostGroup", id: "g1" }));
    expect(hasPermission(v, "tokens.manage")).toBe(true);
    expect(heldPermissions(v)).toEqual(["hosts.read", "tokens.manage"]);
    expect(canOnHost(v, "tokens.manage", hostA)).toBe(false);
    for (const r of BUILT_IN_ROLES) expect(r.permissions, r.name).toContain("tokens.manage");
  });
});

describe("grant only what you hold, within your scope", () => {
  const groupOperator = viewer(
    grant("User admin", ["users.manage"], { type: "global" }),
    grant("Operator", ["containers.deploy", "hosts.read", "tokens.manage"], { type: "hostGroup", id: "g1" }),
    grant("Viewer", ["hosts.read"], { type: "host", id: "hB" }),
  );
  it("host permissions: held everywhere covers all; a group covers the group and its hosts; a host only itself", () => {
    expect(holdsOn(groupOperator, "containers.deploy", { type: "hostGroup", id: "g1" })).toBe(true);
    expect(holdsOn(groupOperator, "containers.deploy", { type: "host", id: "hA", hostGroupId: "g1" })).toBe(true);
    expect(holdsOn(groupOperator, "containers.deploy", { type: "hostGroup", id: "g2" })).toBe(false);
    expect(holdsOn(groupOperator, "containers.deploy", { type: "host", id: "hB", hostGroupId: "g2" })).toBe(false);
    expect(holdsOn(groupOperator, "containers.deploy", { type: "global" })).toBe(false);
    // A host grant doesn't cover its group.
    expect(holdsOn(groupOperator, "hosts.read", { type: "host", id: "hB", hostGroupId: "g2" })).toBe(true);
    expect(holdsOn(groupOperator, "hosts.read", { type: "hostGroup", id: "g2" })).toBe(false);
    expect(holdsOn(groupOperator, "hosts.read", { type: "host", id: "hC", hostGroupId: null })).toBe(false);
  });
  it("global permissions only when held everywhere, wherever the target; self ones when held at all", () => {
    expect(holdsOn(groupOperator, "users.manage", { type: "hostGroup", id: "g1" })).toBe(true);
    const scopedAdmin = viewer(grant("Custom", ["users.manage", "hosts.read"], { type: "hostGroup", id: "g1" }));
    expect(holdsOn(scopedAdmin, "users.manage", { type: "hostGroup", id: "g1" })).toBe(false);
    expect(holdsOn(groupOperator, "tokens.manage", { type: "global" })).toBe(true);
    expect(holdsOn(viewer(), "tokens.manage", { type: "global" })).toBe(false);
  });
  it("missingOn lists what the viewer lacks there, sorted and once; unknown strings always", () => {
    expect(missingOn(groupOperator, ["hosts.read", "containers.deploy", "users.manage"], { type: "hostGroup", id: "g1" })).toEqual([]);
    expect(missingOn(groupOperator, ["hosts.read", "containers.deploy", "containers.deploy", "audit.read", "made.up"], { type: "global" })).toEqual([
      "audit.read",
      "containers.deploy",
      "hosts.read",
      "made.up",
    ]);
    expect(missingOn(viewer(), [], { type: "global" })).toEqual([]);
  });
});

describe("asked about nobody", () => {
  // What a page or procedure that forgot to require a viewer would pass.
  const nobody = null as unknown as Viewer;
  const unauthorized = (ask: () => unknown) => {
    let thrown: unknown;
    try {
      ask();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect((thrown as AppError).code).toBe("UNAUTHORIZED");
  };
  it("every access helper throws a typed UNAUTHORIZED, for known and unknown permissions alike", () => {
    unauthorized(() => hasPermission(nobody, "hosts.read"));
    unauthorized(() => hasPermission(nobody, "made.up" as Permission));
    unauthorized(() => hasGlobal(nobody, "users.manage"));
    unauthorized(() => canOnHost(nobody, "containers.deploy", hostA));
    unauthorized(() => canOnHost(nobody, "made.up" as Permission, hostA));
    unauthorized(() => hostCoverage(nobody, "containers.read"));
    unauthorized(() => holdsOn(nobody, "hosts.read", { type: "global" }));
    unauthorized(() => missingOn(nobody, [], { type: "global" }));
    unauthorized(() => isOwner(nobody));
    unauthorized(() => heldPermissions(nobody));
    unauthorized(() => hasPermission(undefined as unknown as Viewer, "hosts.read"));
  });
});
