import { describe, expect, it } from "vitest";
import { canOnHost, hasPermission, hostCoverage, isOwner, type Grant, type Viewer } from "../../../server/auth/access";
import { ALL_PERMISSIONS, BUILT_IN_ROLES, type Permission } from "../../../lib/permissions";
import { tokenGrants, tokenPermissions, type HostGroups, type TokenScope } from "../../../server/tokens/scope";

const grant = (role: string, permissions: Permission[], scope: Grant["scope"]): Grant => ({ role, permissions: new Set(permissions), scope });
const viewer = (grants: Grant[]): Viewer => ({ user: { id: "u", email: "u@example.test", name: null }, sessionId: null, grants });
const role = (name: string) => BUILT_IN_ROLES.find((r) => r.name === name)!.permissions;

// g1: hA, hA2; g2: hB; no group: hC.
const hostA = { id: "hA", hostGroupId: "g1" };
const hostA2 = { id: "hA2", hostGroupId: "g1" };
const hostB = { id: "hB", hostGroupId: "g2" };
const hostC = { id: "hC", hostGroupId: null };
const HOSTS: HostGroups = new Map([hostA, hostA2, hostB, hostC].map((h) => [h.id, h.hostGroupId]));

const unscoped = (permissions: string[] = []): TokenScope => ({ permissions, hostIds: [], hostGroupIds: [] });

function tokenViewer(owner: Grant[], scope: TokenScope): Viewer {
  return viewer(tokenGrants(owner, scope, HOSTS));
}

describe("a token's grants are its owner's, narrowed", () => {
  it("an unrestricted token does what the owner does, except managing tokens", () => {
    const owner = [grant("Owner", role("Owner"), { type: "global" })];
    const v = tokenViewer(owner, unscoped());
    for (const p of ALL_PERMISSIONS) expect(hasPermission(v, p), p).toBe(p !== "tokens.manage");
    for (const h of [hostA, hostB, hostC]) expect(canOnHost(v, "containers.deploy", h)).toBe(true);
  });

  it("a token is never its owner's role: isOwner is false even for an Owner's unrestricted token", () => {
    const v = tokenViewer([grant("Owner", role("Owner"), { type: "global" })], unscoped());
    expect(isOwner(viewer([grant("Owner", role("Owner"), { type: "global" })]))).toBe(true);
    expect(isOwner(v)).toBe(false);
  });

  it("a permission subset keeps only those permissions, and only where the owner holds them", () => {
    const owner = [grant("Operator", role("Operator"), { type: "hostGroup", id: "g1" }), grant("Viewer", role("Viewer"), { type: "global" })];
    const v = tokenViewer(owner, unscoped(["containers.read", "containers.deploy"]));
    expect(canOnHost(v, "containers.read", hostB)).toBe(true);
    expect(canOnHost(v, "containers.deploy", hostA)).toBe(true);
    // The owner can't deploy on g2, so neither can the token.
    expect(canOnHost(v, "containers.deploy", hostB)).toBe(false);
    expect(canOnHost(v, "containers.exec", hostA)).toBe(false);
    expect(canOnHost(v, "hosts.read", hostA)).toBe(false);
  });

  it("asking for a permission the owner lacks gains nothing; unknown strings are ignored", () => {
    const owner = [grant("Viewer", role("Viewer"), { type: "global" })];
    const v = tokenViewer(owner, unscoped(["containers.exec", "users.manage", "made.up"]));
    expect(v.grants).toEqual([]);
    for (const p of ALL_PERMISSIONS) expect(hasPermission(v, p)).toBe(false);
  });

  it("a host-scoped token narrows a global grant to its hosts and groups", () => {
    const owner = [grant("Operator", role("Operator"), { type: "global" })];
    const v = tokenViewer(owner, { permissions: [], hostIds: ["hC"], hostGroupIds: ["g2"] });
    expect(canOnHost(v, "containers.read", hostC)).toBe(true);
    expect(canOnHost(v, "containers.read", hostB)).toBe(true);
    expect(canOnHost(v, "containers.read", hostA)).toBe(false);
    expect(hostCoverage(v, "containers.read")).toEqual({ all: false, hostIds: ["hC"], hostGroupIds: ["g2"] });
  });

  it("a host-scoped token drops account-wide permissions (a users.manage token could mint an unscoped user)", () => {
    const owner = [grant("Admin", role("Admin"), { type: "global" })];
    const v = tokenViewer(owner, { permissions: [], hostIds: ["hA"], hostGroupIds: [] });
    for (const p of ["users.manage", "roles.manage", "audit.read", "registries.manage", "tokens.manage"] as Permission[]) {
      expect(hasPermission(v, p), p).toBe(false);
    }
    expect(canOnHost(v, "hosts.manage", hostA)).toBe(true);
  });

  it("a group grant meets a host scope only on that group's hosts", () => {
    const owner = [grant("Operator", role("Operator"), { type: "hostGroup", id: "g1" })];
    const v = tokenViewer(owner, { permissions: [], hostIds: ["hA", "hB", "hC"], hostGroupIds: [] });
    expect(canOnHost(v, "containers.read", hostA)).toBe(true);
    // In g1 but not named by the token.
    expect(canOnHost(v, "containers.read", hostA2)).toBe(false);
    // Named by the token, outside the owner's group.
    expect(canOnHost(v, "containers.read", hostB)).toBe(false);
    expect(canOnHost(v, "containers.read", hostC)).toBe(false);
  });

  it("a group grant and the same group in the token's scope cover the whole group", () => {
    const owner = [grant("Operator", role("Operator"), { type: "hostGroup", id: "g1" })];
    const v = tokenViewer(owner, { permissions: [], hostIds: [], hostGroupIds: ["g1", "g2"] });
    expect(canOnHost(v, "containers.read", hostA)).toBe(true);
    expect(canOnHost(v, "containers.read", hostA2)).toBe(true);
    expect(canOnHost(v, "containers.read", hostB)).toBe(false);
  });

  it("a host grant meets a group scope when the host is in that group now", () => {
    const owner = [grant("Viewer", role("Viewer"), { type: "host", id: "hA" }), grant("Viewer", role("Viewer"), { type: "host", id: "hC" })];
    const v = tokenViewer(owner, { permissions: [], hostIds: [], hostGroupIds: ["g1"] });
    expect(canOnHost(v, "containers.read", hostA)).toBe(true);
    expect(canOnHost(v, "containers.read", hostC)).toBe(false);
    // The host moved to g2: the group scope no longer reaches it.
    const moved = viewer(tokenGrants(owner, { permissions: [], hostIds: [], hostGroupIds: ["g1"] }, new Map([["hA", "g2"]])));
    expect(canOnHost(moved, "containers.read", { id: "hA", hostGroupId: "g2" })).toBe(false);
  });

  it("an owner with no grants gives a token nothing, and a removed role takes its permissions away", () => {
    expect(tokenGrants([], unscoped(), HOSTS)).toEqual([]);
    const before = [grant("Operator", role("Operator"), { type: "global" }), grant("Viewer", role("Viewer"), { type: "global" })];
    const after = before.slice(1);
    expect(canOnHost(tokenViewer(before, unscoped()), "containers.deploy", hostA)).toBe(true);
    expect(canOnHost(tokenViewer(after, unscoped()), "containers.deploy", hostA)).toBe(false);
    expect(canOnHost(tokenViewer(after, unscoped()), "containers.read", hostA)).toBe(true);
  });

  it("never widens: every token grant is a subset of an owner grant covering the same hosts", () => {
    const owners: Grant[][] = [
      [grant("Owner", role("Owner"), { type: "global" })],
      [grant("Operator", role("Operator"), { type: "hostGroup", id: "g1" }), grant("Viewer", role("Viewer"), { type: "host", id: "hB" })],
      [grant("Auditor", role("Auditor"), { type: "global" }), grant("Deployer", role("Deployer"), { type: "host", id: "hC" })],
    ];
    const scopes: TokenScope[] = [
      unscoped(),
      unscoped(["containers.deploy", "audit.read"]),
      { permissions: [], hostIds: ["hA", "hB"], hostGroupIds: [] },
      { permissions: ["containers.read"], hostIds: ["hC"], hostGroupIds: ["g1", "g2"] },
    ];
    for (const owner of owners) {
      const o = viewer(owner);
      for (const scope of scopes) {
        const t = tokenViewer(owner, scope);
        for (const p of ALL_PERMISSIONS) {
          if (hasPermission(t, p)) expect(hasPermission(o, p)).toBe(true);
          for (const h of [hostA, hostA2, hostB, hostC]) if (canOnHost(t, p, h)) expect(canOnHost(o, p, h), `${p} on ${h.id}`).toBe(true);
        }
      }
    }
  });

  it("tokenPermissions: empty means all but tokens.manage", () => {
    expect([...tokenPermissions([])].sort()).toEqual(ALL_PERMISSIONS.filter((p) => p !== "tokens.manage").sort());
    expect([...tokenPermissions(["tokens.manage", "hosts.read"])]).toEqual(["hosts.read"]);
  });
});
