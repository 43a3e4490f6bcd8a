import { describe, expect, it, vi } from "vitest";

// The audit export stream when the database fails part-way: the download is
// broken off (not closed as if complete) and the failure is reported once.

vi.mock("../../../server/audit/query", () => ({
  // One row, then the database goes away.
  async *iterateAudit() {
    yield {
      id: 1n,
      createdAt: new Date("2026-11-30T00:00:00Z"),
      actorType: "token",
      actorId: "t1",
      actorLabel: "=cmd",
      sourceIp: null,
      userAgent: null,
      action: "api.v1.hosts.list",
      targetType: null,
      targetId: null,
      hostId: null,
      params: {},
      outcome: "denied",
      errorMessage: null,
      requestId: "r1",
      prevHash: null,
      hash: "h1",
    };
    throw new Error("connection terminated");
  },
}));

const { auditExportResponse } = await import("../../../server/rest/streams");

describe("audit export stream", () => {
  it("a database failure mid-stream errors the stream after the rows already sent and calls onError once", async () => {
    const onError = vi.fn();
    const res = auditExportResponse({} as never, {}, "csv", onError);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    let failure: unknown = null;
    for (let i = 0; i < 10; i++) {
      try {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
      } catch (e) {
        failure = e;
        break;
      }
    }
    expect(text).toMatch(/^id,createdAt,/);
    // The formula in the label is neutralised.
    expect(text).toContain(",'=cmd,");
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe("connection terminated");
    expect(onError).toHaveBeenCalledTimes(1);
    expect((onError.mock.calls[0]![0] as Error).message).toBe("connection terminated");
  });
});
