import { describe, expect, it, vi } from "vitest";

// The export route's wiring for a database failure mid-stream: logged with the
// request id, and an error record for the export next to its success record.

const captured = vi.hoisted(() => ({ run: null as null | ((r: unknown) => Promise<unknown>), onError: null as null | ((e: unknown) => Promise<void>) }));
const audit = vi.hoisted(() => vi.fn(async () => {}));

vi.mock("@/server/rest/endpoint", () => ({
  endpointRoute: (_ep: unknown, run: (r: unknown) => Promise<unknown>) => ((captured.run = run), run),
  otherMethods: () => ({ POST: null, PUT: null, PATCH: null, DELETE: null }),
}));
vi.mock("@/server/rest/handler", () => ({ audit }));
vi.mock("@/server/rest/streams", () => ({
  auditExportResponse: (_db: unknown, _filter: unknown, _format: unknown, onError: (e: unknown) => Promise<void>) => ((captured.onError = onError), new Response("")),
}));
vi.mock("@/server/db", () => ({ db: () => ({}) }));
vi.mock("@/server/auth/access", () => ({ hasPermission: () => true }));

await import("../../../app/api/v1/audit/export/route");

describe("audit export route", () => {
  it("keeps the success record written before reading, and adds an error record (and a log line with the request id) when reading fails", async () => {
    const recordSuccess = vi.fn(async () => {});
    const meta = { requestId: "req-123", ip: "127.0.0.1", userAgent: null };
    const actor = { type: "token", id: "tok1", label: "t" };
    const note: { params?: Record<string, unknown> } = {};
    await captured.run!({ viewer: { actor }, query: { format: "csv", action: "api.v1" }, audit: note, meta, request: new Request("http://gw.test/api/v1/audit/export?format=csv"), recordSuccess });
    expect(recordSuccess).toHaveBeenCalledTimes(1);
    expect(audit).not.toHaveBeenCalled();

    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    await captured.onError!(new Error("connection terminated"));
    expect(log.mock.calls.some((c) => String(c[0]).includes("req-123"))).toBe(true);
    log.mockRestore();
    expect(audit).toHaveBeenCalledTimes(1);
    expect(audit).toHaveBeenCalledWith(
      meta,
      expect.objectContaining({ actor, action: "api.v1.audit.export", outcome: "error", params: expect.objectContaining({ path: "/api/v1/audit/export", format: "csv", action: "api.v1" }) }),
    );
  });
});
