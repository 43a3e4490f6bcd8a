import { describe, expect, it } from "vitest";
import { digestChanges, formatDuration, isActive, shortDigest, targetHref } from "../../../components/rollouts/format";
import { visibleNav } from "../../../components/shell/nav-items";
import { draftOf, settingsOf, windowText } from "../../../components/watch/window";
import { parseAddresses, webhookState } from "../../../components/webhooks/rules";
import { BUILT_IN_ROLES } from "../../../lib/permissions";

const labelsOf = (role: string) => visibleNav(BUILT_IN_ROLES.find((r) => r.name === role)!.permissions).map((i) => i.label);
const D1 = `sha256:${"a".repeat(64)}`;
const D2 = `sha256:${"b".repeat(64)}`;

describe("continuous delivery in the navigation", () => {
  it("shows Deployments and Rollouts to readers, Approvals to approvers and deployers, with the approvals badge", () => {
    for (const role of ["Owner", "Admin", "Operator", "Deployer", "Viewer"]) {
      expect(labelsOf(role)).toContain("Deployments");
      expect(labelsOf(role)).toContain("Rollouts");
    }
    expect(labelsOf("Owner")).toContain("Approvals");
    expect(labelsOf("Deployer")).toContain("Approvals");
    expect(labelsOf("Viewer")).not.toContain("Approvals");
    expect(visibleNav(["deploys.approve"]).find((i) => i.label === "Approvals")?.badge).toBe("approvals");
    expect(visibleNav([]).map((i) => i.label)).not.toContain("Deployments");
  });
});

describe("rollout formatting", () => {
  it("shortens digests and durations the way the timeline shows them", () => {
    expect(shortDigest(D1)).toBe("aaaaaaaaaaaa");
    expect(shortDigest(null)).toBe("—");
    expect(shortDigest(`10.0.0.1:5000/test/app@${D2}`)).toBe("bbbbbbbbbbbb");
    expect(formatDuration(1200)).toBe("1.2 s");
    expect(formatDuration(75_000)).toBe("1 min 15 s");
    expect(formatDuration(3_600_000 + 120_000)).toBe("1 h 2 min");
    expect(formatDuration(null)).toBe("—");
  });

  it("lists a deployment's digest change, or each stack service's", () => {
    expect(digestChanges({ digestBefore: D1, digestAfter: D2, digests: {} })).toEqual([{ service: null, before: D1, after: D2 }]);
    expect(digestChanges({ digestBefore: null, digestAfter: null, digests: { web: { before: D1, after: D2 } } })).toEqual([{ service: "web", before: D1, after: D2 }]);
    expect(digestChanges({ digestBefore: null, digestAfter: null, digests: {} })).toEqual([]);
  });

  it("knows which statuses can still change and where a target lives", () => {
    expect(["awaitingApproval", "queued", "running"].every((s) => isActive(s as never))).toBe(true);
    expect(isActive("succeeded")).toBe(false);
    expect(targetHref({ kind: "stack", id: "s 1", name: "x" })).toBe("/stacks/s%201");
    expect(targetHref({ kind: "deployment", id: "d1", name: "x" })).toBe("/deployments/d1");
  });
});

describe("webhook form", () => {
  it("accepts addresses and networks, names the first bad one", () => {
    expect(parseAddresses("203.0.113.0/24, 10.0.0.1\n2001:db8::/32")).toEqual({ cidrs: ["203.0.113.0/24", "10.0.0.1", "2001:db8::/32"], error: null });
    expect(parseAddresses("")).toEqual({ cidrs: [], error: null });
    expect(parseAddresses("10.0.0.1, example.com").error).toContain("example.com");
    expect(parseAddresses("10.0.0.300").error).toContain("10.0.0.300");
  });

  it("says whether a webhook is active, revoked or expired", () => {
    const now = Date.parse("2026-12-07T00:00:00Z");
    expect(webhookState({ revokedAt: null, expiresAt: null }, now)).toBe("active");
    expect(webhookState({ revokedAt: new Date(now - 1), expiresAt: null }, now)).toBe("revoked");
    expect(webhookState({ revokedAt: null, expiresAt: new Date(now - 1) }, now)).toBe("expired");
    expect(webhookState({ revokedAt: null, expiresAt: new Date(now + 1000) }, now)).toBe("active");
  });
});

describe("watch form", () => {
  it("turns the draft into watches.set settings", () => {
    const d = { ...draftOf(null, "UTC"), intervalMinutes: "10", minAgeMinutes: "30", useWindow: true, days: [5, 1], start: "02:00", end: "05:00", timeZone: "Europe/Berlin", preApproved: true };
    expect(settingsOf(d, true).settings).toEqual({
      enabled: true,
      intervalSeconds: 600,
      minAgeSeconds: 1800,
      window: { days: [1, 5], start: "02:00", end: "05:00", timeZone: "Europe/Berlin" },
      preApproved: true,
    });
    // Pre-approved is only sent by an approver.
    expect(settingsOf(d, false).settings?.preApproved).toBe(false);
  });

  it("names each bad field and sends nothing", () => {
    const d = { ...draftOf(null, "UTC"), intervalMinutes: "0", minAgeMinutes: "-1", useWindow: true, start: "25:00", timeZone: "Mars/Olympus" };
    const { settings, problems } = settingsOf(d, true);
    expect(settings).toBeNull();
    expect(Object.keys(problems).sort()).toEqual(["intervalMinutes", "minAgeMinutes", "start", "timeZone"]);
  });

  it("reads an existing watch back into the form and describes its window", () => {
    const w = { enabled: false, intervalSeconds: 300, minAgeSeconds: 3600, window: { days: [1, 2], start: "01:00", end: "03:00", timeZone: "UTC" }, preApproved: false };
    expect(draftOf(w, "Europe/Berlin")).toMatchObject({ enabled: false, intervalMinutes: "5", minAgeMinutes: "60", useWindow: true, timeZone: "UTC" });
    expect(windowText(w.window)).toBe("Mon, Tue, 01:00–03:00 UTC");
    expect(windowText(null)).toBe("any time");
  });
});
