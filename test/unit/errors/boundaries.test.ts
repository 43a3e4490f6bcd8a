import { TRPCError } from "@trpc/server";
import { describe, expect, it, vi } from "vitest";
import { AppError, isAppError } from "../../../lib/app-error";
import { PolicyDeniedError } from "../../../lib/policy/check";
import { InputError } from "../../../lib/errors";
import { CreateBodyError } from "../../../server/docker-proxy/create-spec";
import { dockerAnswerOf } from "../../../server/docker-proxy/docker-errors";
import { toAppError } from "../../../server/errors";
import { FleetError } from "../../../server/fleet/errors";
import { errorResponse, toRestError } from "../../../server/rest/errors";

// One error family (AppError and its subclasses), mapped once per boundary:
// REST (server/rest/errors.ts) and the Docker-API proxy (docker-errors.ts);
// tRPC's mapAppErrors uses the same toAppError. An agent's internal error
// (5xx) never reaches a client: it reads "the agent on host X failed
// (request id …)" and the agent's words go to the gateway log.

const agentFailure = () => new FleetError("AGENT_ERROR", "runc: open /run/berth/secret-path: permission denied", { status: 500, host: "web-1" });

describe("the AppError family", () => {
  it("FleetError, PolicyDeniedError and CreateBodyError are AppErrors, recognised by mark across module copies", () => {
    for (const e of [agentFailure(), new PolicyDeniedError([]), new CreateBodyError("bad"), new AppError("CONFLICT", "x")]) expect(isAppError(e)).toBe(true);
    expect(isAppError(new Error("x"))).toBe(false);
    expect(isAppError(Object.assign(new Error("x"), { name: "AppError", code: "CONFLICT" }))).toBe(false);
    const denied = new PolicyDeniedError([{ rule: "allowPrivileged", label: "Allow privileged containers", message: "m", field: "privileged" }]);
    expect(denied).toMatchObject({ code: "FORBIDDEN", name: "PolicyDeniedError", details: { policyViolations: denied.violations } });
  });

  it("toAppError: a host's 4xx keeps its words; its 5xx is hidden behind the request id and logged; input errors are BAD_REQUEST; anything else is a bug (null)", () => {
    const log = vi.fn();
    const notFound = toAppError(new FleetError("AGENT_ERROR", "No such container: web", { status: 404, host: "web-1" }), { requestId: "r1", log });
    expect(notFound).toMatchObject({ code: "NOT_FOUND", message: "No such container: web" });
    expect(log).not.toHaveBeenCalled();

    const hidden = toAppError(agentFailure(), { requestId: "r2", log });
    expect(hidden).toMatchObject({ code: "UNAVAILABLE", message: "The agent on host web-1 failed (request id r2)." });
    expect(log).toHaveBeenCalledTimes(1);
    expect(log.mock.calls[0]![0]).toContain("request r2: the agent on host web-1 answered HTTP 500: runc: open /run/berth/secret-path");

    expect(toAppError(new InputError("bad image reference"), { requestId: null })).toMatchObject({ code: "BAD_REQUEST", message: "bad image reference" });
    expect(toAppError(new Error("connection string postgres://secret@db"), { requestId: null })).toBeNull();
  });
});

describe("REST boundary", () => {
  it("an agent's internal error is a 503 that names the host and request id, never the agent's words", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const viaProcedure = new TRPCError({ code: "SERVICE_UNAVAILABLE", message: "x", cause: toAppError(agentFailure(), { requestId: "req-9" })! });
      for (const thrown of [agentFailure(), viaProcedure]) {
        const res = errorResponse(toRestError(thrown, "req-9"), "req-9");
        expect(res.status).toBe(503);
        const body = (await res.json()) as { error: { code: string; message: string } };
        expect(body.error).toMatchObject({ code: "UNAVAILABLE", message: "The agent on host web-1 failed (request id req-9)." });
        expect(JSON.stringify(body)).not.toContain("secret-path");
      }
    } finally {
      log.mockRestore();
    }
  });

  it("an authentication refusal carries its challenge, a rate refusal its Retry-After", () => {
    const challenge = (invalidToken: boolean) =>
      errorResponse(toRestError(new AppError("UNAUTHORIZED", "m", { details: { invalidToken } })), "r").headers.get("www-authenticate");
    expect(challenge(true)).toBe('Bearer realm="berth", error="invalid_token"');
    expect(challenge(false)).toBe('Bearer realm="berth"');
    const limited = errorResponse(toRestError(new AppError("TOO_MANY_REQUESTS", "m", { details: { retryAfterSeconds: 3 } })), "r");
    expect([limited.status, limited.headers.get("retry-after")]).toEqual([429, "3"]);
  });
});

describe("Docker-API proxy boundary", () => {
  const answer = (e: unknown, log = vi.fn()) => dockerAnswerOf(e, "req-1", log);

  it("maps codes to Docker statuses once, with the headers the docker CLI reads", () => {
    expect(answer(new AppError("BAD_REQUEST", "invalid JSON"))).toEqual({ status: 400, message: "invalid JSON", headers: {} });
    expect(answer(new AppError("UNAUTHORIZED", "invalid API token"))).toEqual({ status: 401, message: "invalid API token", headers: { "www-authenticate": 'Bearer realm="berth"' } });
    expect(answer(new AppError("TOO_MANY_REQUESTS", "slow down", { details: { retryAfterSeconds: 2 } }))).toMatchObject({ status: 429, headers: { "retry-after": "2" } });
    expect(answer(new PolicyDeniedError([]))?.status).toBe(403);
    expect(answer(new CreateBodyError("invalid body: Image is required"))).toMatchObject({ status: 400, message: "invalid body: Image is required" });
    expect(answer(new AppError("PAYLOAD_TOO_LARGE", "too big"))?.status).toBe(413);
    // A host that is up but whose agent isn't is a bad gateway; anything else unavailable is 503.
    expect(answer(new AppError("UNAVAILABLE", "host h can't be reached", { details: { upstream: "agent" } }))?.status).toBe(502);
    expect(answer(new AppError("UNAVAILABLE", "the gateway is shutting down"))?.status).toBe(503);
  });

  it("hides an agent's internal error and leaves bugs to the caller (500 with the request id)", () => {
    const log = vi.fn();
    expect(answer(agentFailure(), log)).toEqual({ status: 503, message: "The agent on host web-1 failed (request id req-1).", headers: {} });
    expect(log).toHaveBeenCalledTimes(1);
    expect(answer(new TypeError("x is undefined"))).toBeNull();
    expect(answer(new AppError("INTERNAL", "db down"))).toBeNull();
  });
});
