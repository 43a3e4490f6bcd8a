import { describe, expect, it } from "vitest";
import { AppError, type AppErrorCode } from "../../../server/errors";
import { fleetToAppError } from "../../../server/fleet/app-errors";
import { FleetError, type FleetErrorCode, isFleetError } from "../../../server/fleet/errors";

describe("fleet/app-errors fleetToAppError", () => {
  const cases: [FleetErrorCode, AppErrorCode][] = [
    ["UNREACHABLE", "UNAVAILABLE"],
    ["TIMEOUT", "TIMEOUT"],
    ["AUTH_REFUSED", "PRECONDITION_FAILED"],
    ["BAD_CREDENTIAL", "BAD_REQUEST"],
    ["HOST_KEY_CHANGED", "CONFLICT"],
    ["NOT_LINUX", "PRECONDITION_FAILED"],
    ["AGENT_UNREACHABLE", "UNAVAILABLE"],
    ["AGENT_ERROR", "BAD_REQUEST"],
    ["INSTALL_FAILED", "PRECONDITION_FAILED"],
  ];
  for (const [fleet, app] of cases) {
    it(`maps ${fleet} to ${app}, keeping message and cause`, () => {
      const e = new FleetError(fleet, `message for ${fleet}`);
      const mapped = fleetToAppError(e);
      expect(mapped).toBeInstanceOf(AppError);
      expect(mapped.code).toBe(app);
      expect(mapped.message).toBe(`message for ${fleet}`);
      expect(mapped.cause).toBe(e);
    });
  }

  it("keeps the agent's own HTTP status meaning", () => {
    const code = (status?: number) => fleetToAppError(new FleetError("AGENT_ERROR", "m", { status })).code;
    expect(code(404)).toBe("NOT_FOUND");
    expect(code(409)).toBe("CONFLICT");
    expect(code(500)).toBe("UNAVAILABLE");
    expect(code(503)).toBe("UNAVAILABLE");
    expect(code(400)).toBe("BAD_REQUEST");
    expect(code(undefined)).toBe("BAD_REQUEST");
  });

  it("uses the status only for AGENT_ERROR", () => {
    expect(fleetToAppError(new FleetError("TIMEOUT", "m", { status: 404 })).code).toBe("TIMEOUT");
  });

  it("isFleetError recognises fleet errors by name", () => {
    expect(isFleetError(new FleetError("TIMEOUT", "m"))).toBe(true);
    expect(isFleetError(Object.assign(new Error("m"), { name: "FleetError", code: "TIMEOUT" }))).toBe(true);
    expect(isFleetError(new AppError("TIMEOUT", "m"))).toBe(false);
    expect(isFleetError("TIMEOUT")).toBe(false);
  });
});
