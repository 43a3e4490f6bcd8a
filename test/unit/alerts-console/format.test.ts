import { describe, expect, it } from "vitest";
import { formatRepeat, formatSeconds, labelsToText, logWindow, parseLabels } from "../../../components/alerts/format";
import { visibleNav } from "../../../components/shell/nav-items";
import { BUILT_IN_ROLES } from "../../../lib/permissions";

describe("alert console formatting", () => {
  it("writes durations as people read them", () => {
    expect(formatSeconds(0)).toBe("at once");
    expect(formatSeconds(90)).toBe("1 min 30 s");
    expect(formatSeconds(3600)).toBe("1 h");
    expect(formatRepeat(0)).toBe("never");
    expect(formatRepeat(240)).toBe("every 4 h");
  });

  it("reads a label selector line by line, keeps commas in values and names a line without a key", () => {
    expect(parseLabels("app=web\n  tier = front \nmonitored\n\n")).toEqual({ labels: { app: "web", tier: "front", monitored: "" }, error: null });
    expect(parseLabels("list=a,b")).toEqual({ labels: { list: "a,b" }, error: null });
    expect(parseLabels("app=web\n=oops").error).toContain("Label 2");
    expect(labelsToText({ app: "web", monitored: "" })).toBe("app=web\nmonitored");
    expect(parseLabels(labelsToText({ app: "web", monitored: "" })).labels).toEqual({ app: "web", monitored: "" });
  });

  it("reads the log from 5 minutes before the alert fired until a minute after it resolved", () => {
    const fired = new Date("2026-12-07T10:00:00Z");
    const t = fired.getTime() / 1000;
    expect(logWindow(fired, null)).toEqual({ since: t - 300, until: t + 300 });
    expect(logWindow(fired, new Date("2026-12-07T10:30:00Z"))).toEqual({ since: t - 300, until: t + 1800 + 60 });
  });
});

describe("Alerts in the navigation", () => {
  const labelsOf = (role: string) => visibleNav(BUILT_IN_ROLES.find((r) => r.name === role)!.permissions).map((i) => i.label);
  it("shows Alerts to the roles that read alerts, not to the Auditor", () => {
    for (const role of ["Owner", "Admin", "Operator", "Deployer", "Viewer"]) expect(labelsOf(role)).toContain("Alerts");
    expect(labelsOf("Auditor")).not.toContain("Alerts");
  });
});
