import { describe, expect, it } from "vitest";
import { visibleNav } from "../../../components/shell/nav-items";
import { BUILT_IN_ROLES } from "../../../lib/permissions";

const labelsOf = (role: string) => visibleNav(BUILT_IN_ROLES.find((r) => r.name === role)!.permissions).map((i) => i.label);

describe("Stacks and Secrets in the navigation", () => {
  it("shows Stacks to every built-in role that may read stacks, Secrets only with secrets.manage", () => {
    for (const role of ["Owner", "Admin", "Operator", "Deployer", "Viewer"]) expect(labelsOf(role)).toContain("Stacks");
    expect(labelsOf("Owner")).toContain("Secrets");
    expect(labelsOf("Operator")).not.toContain("Secrets");
    expect(labelsOf("Viewer")).not.toContain("Secrets");
    expect(visibleNav(["containers.read"]).map((i) => i.label)).not.toContain("Stacks");
  });
});
