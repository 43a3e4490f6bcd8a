import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { PolicyDeniedError } from "../../../lib/policy/check";
import { errorResponse, toRestError } from "../../../server/rest/errors";

// A deploy the policy refuses reaches an API client as 403 naming each rule, however it was thrown.

const violations = [
  { rule: "allowPrivileged" as const, label: "Allow privileged containers", message: "privileged mode is not allowed", field: "privileged" },
  { rule: "bindMountAllowlist" as const, label: "Bind-mount path allowlist", message: "/ is not on the allowlist", field: "mounts.0.source" },
];

describe("policy denials over REST", () => {
  it("a PolicyDeniedError, bare or as a tRPC error's cause, is FORBIDDEN with its violations", () => {
    const denied = new PolicyDeniedError(violations as never);
    for (const thrown of [denied, new TRPCError({ code: "FORBIDDEN", message: denied.message, cause: denied })]) {
      const e = toRestError(thrown);
      expect(e.code).toBe("FORBIDDEN");
      expect(e.message).toBe("Denied by the deploy policy: Allow privileged containers; Bind-mount path allowlist.");
      expect(e.violations?.map((v) => [v.rule, v.field])).toEqual([
        ["allowPrivileged", "privileged"],
        ["bindMountAllowlist", "mounts.0.source"],
      ]);
    }
  });

  it("the answer is 403 JSON carrying the violations; other errors carry none", async () => {
    const res = errorResponse(toRestError(new PolicyDeniedError(violations as never)), "req-1");
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: { code: string; requestId: string; violations: unknown[] } };
    expect(body.error).toMatchObject({ code: "FORBIDDEN", requestId: "req-1" });
    expect(body.error.violations).toHaveLength(2);
    const other = (await errorResponse(toRestError(new TRPCError({ code: "FORBIDDEN", message: "You need the containers.deploy permission." })), "req-2").json()) as { error: Record<string, unknown> };
    expect(other.error).not.toHaveProperty("violations");
  });

  it("unexpected errors never show their message", async () => {
    const e = toRestError(new Error("connection string postgres://secret@db"));
    expect(e.code).toBe("INTERNAL");
    const body = (await errorResponse(e, "req-3").json()) as { error: { message: string } };
    expect(body.error.message).toBe("Something went wrong on the server. (request id req-3)");
  });
});
