import { describe, expect, it } from "vitest";
import { approvalNeed } from "../../../server/approvals/required";
import { canDecide, decisionRefusal, type DecisionFacts, runAtRefusal } from "../../../server/approvals/decision-rules";
import { decodeCursor, encodeCursor } from "../../../server/approvals/list-approvals";
import { requesterLabel } from "../../../server/approvals/open-request";
import { approvedByOf } from "../../../server/approvals/views";
import type { Grant, Viewer } from "../../../server/auth/access";
import type { Db } from "../../../server/db";
import type { RolloutRequester } from "../../../server/rollouts/types";
import type { Permission } from "../../../lib/permissions";

// The rules of who may decide an approval request and when, the rule lookup
// that sends a rollout for approval, and the inbox cursor: pure, with fakes.

const grant = (permissions: Permission[], scope: Grant["scope"]): Grant => ({ role: "r", permissions: new Set(permissions), scope });
const viewer = (id: string, ...grants: Grant[]): Viewer => ({ user: { id, email: `${id}@example.test`, name: null }, sessionId: null, grants });

const host = { id: "h1", hostGroupId: "g1" };
const otherHost = { id: "h2", hostGroupId: "g2" };
const now = new Date("2026-12-07T12:00:00Z");
const facts = (over: Partial<DecisionFacts> = {}): DecisionFacts => ({
  status: "waiting",
  expiresAt: new Date(now.getTime() + 3600_000),
  requestedById: "deployer",
  otherRequesterIds: [],
  decidedLabel: null,
  ...over,
});

const approver = viewer("admin", grant(["deploys.approve", "hosts.read"], { type: "global" }));
const groupApprover = viewer("lead", grant(["deploys.approve"], { type: "hostGroup", id: "g1" }));
const deployer = viewer("deployer", grant(["containers.deploy", "hosts.read"], { type: "global" }));
const selfApprover = viewer("deployer", grant(["deploys.approve", "containers.deploy"], { type: "global" }));

describe("who may decide an approval request", () => {
  it("an approver on the host (globally or through its group) may approve and reject a waiting request", () => {
    for (const v of [approver, groupApprover]) {
      expect(decisionRefusal("approve", v, host, facts(), now)).toBeNull();
      expect(decisionRefusal("reject", v, host, facts(), now)).toBeNull();
      expect(canDecide(v, host, facts(), now)).toBe(true);
    }
  });

  it("without deploys.approve on that host: FORBIDDEN, naming the permission", () => {
    expect(decisionRefusal("approve", deployer, host, facts({ requestedById: "someone" }), now)).toMatchObject({ code: "FORBIDDEN", message: expect.stringContaining("deploys.approve") });
    expect(decisionRefusal("reject", groupApprover, otherHost, facts(), now)).toMatchObject({ code: "FORBIDDEN" });
  });

  it("never the requester, even one who holds deploys.approve", () => {
    const refusal = decisionRefusal("approve", selfApprover, host, facts(), now);
    expect(refusal).toMatchObject({ code: "FORBIDDEN", message: expect.stringContaining("You asked for this rollout") });
    expect(canDecide(selfApprover, host, facts(), now)).toBe(false);
  });

  it("nor the creator of the webhook or watch that asked, nor the rollout's user", () => {
    expect(decisionRefusal("approve", approver, host, facts({ requestedById: "x", otherRequesterIds: [null, "admin"] }), now)).toMatchObject({ code: "FORBIDDEN" });
    expect(decisionRefusal("reject", approver, host, facts({ requestedById: null, otherRequesterIds: ["admin"] }), now)).toMatchObject({ code: "FORBIDDEN" });
    // Unknown requesters (null) match nobody.
    expect(decisionRefusal("approve", approver, host, facts({ requestedById: null, otherRequesterIds: [null, undefined] }), now)).toBeNull();
  });

  it("only a waiting request: a decided one is a CONFLICT naming who decided", () => {
    expect(decisionRefusal("approve", approver, host, facts({ status: "approved", decidedLabel: "lead@example.test" }), now)).toMatchObject({
      code: "CONFLICT",
      message: expect.stringContaining("already been approved by lead@example.test"),
    });
    expect(decisionRefusal("reject", approver, host, facts({ status: "cancelled" }), now)).toMatchObject({ code: "CONFLICT", message: expect.stringContaining("cancelled") });
    expect(decisionRefusal("approve", approver, host, facts({ status: "expired" }), now)).toMatchObject({ code: "CONFLICT", message: expect.stringContaining("expired") });
  });

  it("an expired request is refused even while it still says waiting (before the sweep)", () => {
    const late = facts({ expiresAt: new Date(now.getTime() - 1) });
    expect(decisionRefusal("approve", approver, host, late, now)).toMatchObject({ code: "CONFLICT", message: expect.stringContaining("expired at") });
    expect(decisionRefusal("approve", approver, host, facts({ expiresAt: now }), now)).toMatchObject({ code: "CONFLICT" });
    expect(canDecide(approver, host, late, now)).toBe(false);
  });

  it("rights are judged before state: a non-approver is told FORBIDDEN even on an expired request", () => {
    expect(decisionRefusal("approve", deployer, host, facts({ requestedById: "x", status: "expired" }), now)).toMatchObject({ code: "FORBIDDEN" });
  });

  it("only the requester can cancel, and only while waiting", () => {
    expect(decisionRefusal("cancel", deployer, host, facts(), now)).toBeNull();
    expect(decisionRefusal("cancel", approver, host, facts(), now)).toMatchObject({ code: "FORBIDDEN", message: expect.stringContaining("Only the requester") });
    expect(decisionRefusal("cancel", deployer, host, facts({ status: "rejected" }), now)).toMatchObject({ code: "CONFLICT" });
    expect(decisionRefusal("cancel", deployer, host, facts({ expiresAt: new Date(now.getTime() - 1) }), now)).toMatchObject({ code: "CONFLICT" });
  });
});

describe("when an approved rollout may run", () => {
  it("now, or a chosen time up to 30 days ahead; not in the past", () => {
    expect(runAtRefusal(null, now)).toBeNull();
    expect(runAtRefusal(new Date(now.getTime() + 3600_000), now)).toBeNull();
    expect(runAtRefusal(new Date(now.getTime() - 30_000), now)).toBeNull();
    expect(runAtRefusal(new Date(now.getTime() - 3600_000), now)).toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining("in the past") });
    expect(runAtRefusal(new Date(now.getTime() + 31 * 24 * 3600_000), now)).toMatchObject({ code: "BAD_REQUEST" });
    expect(runAtRefusal(new Date(Number.NaN), now)).toMatchObject({ code: "BAD_REQUEST" });
  });
});

describe("whether a rollout must wait for approval (approvalNeed)", () => {
  const rulesDb = (rules: { scopeKey: string; expiryHours: number }[]) =>
    ({
      approvalRule: { findMany: async ({ where }: { where: { scopeKey: { in: string[] } } }) => rules.filter((r) => where.scopeKey.in.includes(r.scopeKey)) },
    }) as unknown as Db;
  const person = (v: Viewer): RolloutRequester => ({ actor: { type: "user", id: v.user.id, label: v.user.email }, viewer: v });

  it("no rule on the host or its group: no approval", async () => {
    expect(await approvalNeed(rulesDb([{ scopeKey: "hostGroup:g2", expiryHours: 5 }]), host, person(deployer))).toEqual({ required: false, expiryHours: 0 });
  });

  it("a rule on the group: a deployer waits; an approver doesn't; the shortest expiry of host and group rules applies", async () => {
    const db = rulesDb([
      { scopeKey: "hostGroup:g1", expiryHours: 72 },
      { scopeKey: "host:h1", expiryHours: 4 },
    ]);
    expect(await approvalNeed(db, host, person(deployer))).toEqual({ required: true, expiryHours: 4 });
    expect(await approvalNeed(db, host, person(approver))).toMatchObject({ required: false });
  });

  it("a webhook or watch waits even when an approver made it, unless it is pre-approved", async () => {
    const db = rulesDb([{ scopeKey: "host:h1", expiryHours: 24 }]);
    const hook: RolloutRequester = { actor: { type: "webhook", id: "w1", label: "ci" }, viewer: approver, webhookId: "w1" };
    expect(await approvalNeed(db, host, hook)).toEqual({ required: true, expiryHours: 24 });
    expect(await approvalNeed(db, host, { ...hook, preApproved: true })).toMatchObject({ required: false });
    // Pre-approved by someone who no longer holds deploys.approve there: it waits.
    expect(await approvalNeed(db, host, { ...hook, viewer: deployer, preApproved: true })).toEqual({ required: true, expiryHours: 24 });
  });
});

describe("inbox details", () => {
  it("the cursor round-trips and a tampered one is a clear BAD_REQUEST", () => {
    const at = new Date("2026-12-07T10:00:00.123Z");
    const c = encodeCursor({ status: "waiting", createdAt: at, id: "cmabc123" });
    expect(decodeCursor(c)).toEqual({ group: 0, at, id: "cmabc123" });
    expect(decodeCursor(encodeCursor({ status: "approved", createdAt: at, id: "x" })).group).toBe(1);
    expect(() => decodeCursor("2.1.x")).toThrow(/Invalid cursor/);
    expect(() => decodeCursor("0.1.a;drop")).toThrow(/Invalid cursor/);
  });

  it("names who asked, and shows who approved only once approved", () => {
    expect(requesterLabel({ actor: { type: "user", id: "d", label: "d@x" }, viewer: deployer })).toBe("d@x");
    expect(requesterLabel({ actor: { type: "webhook", id: "w", label: "ci-main" }, viewer: deployer })).toBe("webhook ci-main for deployer@example.test");
    expect(requesterLabel({ actor: { type: "system", id: null, label: "system" }, viewer: deployer })).toBe("registry watch for deployer@example.test");
    expect(approvedByOf({ status: "approved", decidedLabel: "admin@x" })).toBe("admin@x");
    expect(approvedByOf({ status: "rejected", decidedLabel: "admin@x" })).toBeNull();
    expect(approvedByOf(null)).toBeNull();
  });
});
