import { describe, expect, it, vi } from "vitest";
import { AppError } from "../../../server/errors";
import { statusOf, toRestError } from "../../../server/rest/errors";

// The stats route: a subscription that ends before its first sample is a 503
// with a message (never 200 null), and the call carries the client's signal.

const captured = vi.hoisted(() => ({ run: null as null | ((r: unknown) => Promise<unknown>), signal: undefined as AbortSignal | undefined, samples: [] as unknown[] }));

vi.mock("@/server/rest/endpoint", () => ({
  endpointRoute: (_ep: unknown, run: (r: unknown) => Promise<unknown>) => ((captured.run = run), run),
  otherMethods: () => ({ POST: null, PUT: null, PATCH: null, DELETE: null }),
}));
vi.mock("@/server/rest/caller", () => ({
  callerFor: (_viewer: unknown, _meta: unknown, signal?: AbortSignal) => {
    captured.signal = signal;
    return {
      containers: {
        stats: async () =>
          (async function* () {
            for (const s of captured.samples) yield s;
          })(),
      },
    };
  },
}));

await import("../../../app/api/v1/hosts/[hostId]/containers/[containerId]/stats/route");

const request = (signal: AbortSignal) => ({ viewer: {}, meta: { requestId: "r" }, path: { hostId: "h1", containerId: "web" }, signal });

describe("stats route", () => {
  it("answers the first sample, calling with the request's abort signal", async () => {
    const controller = new AbortController();
    captured.samples = [{ cpuPercent: 1 }, { cpuPercent: 2 }];
    await expect(captured.run!(request(controller.signal))).resolves.toEqual({ cpuPercent: 1 });
    expect(captured.signal).toBe(controller.signal);
  });

  it("no sample is a 503 with a message naming the container, not 200 null", async () => {
    captured.samples = [];
    const e = await captured.run!(request(new AbortController().signal)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AppError);
    const rest = toRestError(e);
    expect(statusOf(rest.code)).toBe(503);
    expect(rest.message).toMatch(/No stats sample .*web/);
  });
});
