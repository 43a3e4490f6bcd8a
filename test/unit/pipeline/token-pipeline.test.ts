import { beforeEach, describe, expect, it, vi } from "vitest";

// The token pipeline's authenticate and limit steps, and the Admission's
// authorise step, with the token lookup and the audit writer faked: what each
// refusal answers, what it records, and what it never looks up.

const calls = vi.hoisted(() => ({ authenticate: 0, records: [] as Record<string, unknown>[] }));

vi.mock("../../../server/tokens/viewer-for-token", () => ({
  authenticateToken: async (_db: unknown, secret: string) => {
    calls.authenticate++;
    if (secret.endsWith("good")) {
      return {
        ok: true,
        viewer: {
          user: { id: "u1", email: "owner@example.test", name: null },
          sessionId: null,
          grants: [{ role: "Viewer (token)", permissions: new Set(["hosts.read"]), scope: { type: "global" } }],
          token: { id: "t1", name: "cli", expiresAt: null },
          actor: { type: "token", id: "t1", label: "cli (owner@example.test)" },
        },
      };
    }
    return { ok: false, reason: "unknown", actor: null };
  },
}));
vi.mock("../../../server/auth/generation", () => ({ syncAccessGeneration: async () => "1", authGeneration: () => 1 }));
vi.mock("../../../server/audit/write", () => ({
  writeAudit: async (_db: unknown, input: Record<string, unknown>) => {
    calls.records.push(input);
    return { id: 1n, hash: "h" };
  },
}));

const { createTokenPipeline } = await import("../../../server/pipeline/token-pipeline");
const { isAudited } = await import("../../../server/pipeline/audit-log");

const wording = {
  missing: "send a token",
  malformed: "malformed header",
  refusals: { unknown: "invalid API token", expired: "expired", revoked: "revoked", ownerDisabled: "owner disabled" },
  tooManyRequests: (s: number) => `too many requests; retry in ${s} s`,
  rateLimitAudit: (refused: number) => `rate limit (${refused} refused)`,
  tooManyFailures: (s: number) => `too many failed authentications; retry in ${s} s`,
};
const GOOD = `berth_${"a".repeat(36)}good`;
const BAD = `berth_${"b".repeat(40)}`;
const meta = { requestId: "r1", ip: "10.0.0.9", userAgent: "test" };

function pipeline(blockFloods: boolean, rate = { perSecond: 1, burst: 2 }) {
  return createTokenPipeline({ db: () => ({}) as never, log: () => {}, rate, authFailureRate: { perSecond: 1, burst: 3 }, blockFloods, wording });
}
const request = (authorization: string | null) => ({ authorization, meta, authAction: "test.auth", rateAction: "test.request", params: { method: "GET", path: "/x" } });
const refusal = (p: Promise<unknown>) => p.then(() => expect.fail("admitted"), (e: unknown) => e as { code: string; message: string; details: Record<string, unknown> });

beforeEach(() => {
  calls.authenticate = 0;
  calls.records = [];
});

describe("authenticate", () => {
  it("no token, a malformed header and an unknown token are UNAUTHORIZED, audited (the challenge says invalid_token only when one was sent)", async () => {
    const p = pipeline(false);
    expect(await refusal(p.admit(request(null)))).toMatchObject({ code: "UNAUTHORIZED", message: "send a token", details: { invalidToken: false } });
    expect(await refusal(p.admit(request("Basic abc")))).toMatchObject({ code: "UNAUTHORIZED", message: "malformed header", details: { invalidToken: true } });
    const unknown = await refusal(p.admit(request(`Bearer ${BAD}`)));
    expect(unknown).toMatchObject({ code: "UNAUTHORIZED", message: "invalid API token" });
    expect(isAudited(unknown)).toBe(true);
    expect(calls.records.map((r) => [r.action, r.outcome, r.errorMessage])).toEqual([
      ["test.auth", "denied", "no bearer token"],
      ["test.auth", "denied", "malformed bearer token"],
      ["test.auth", "denied", "token unknown"],
    ]);
    expect(calls.records[2]!.params).toMatchObject({ method: "GET", path: "/x", prefix: expect.stringMatching(/^berth_/) });
  });

  it("past the failure rate, records are summarised; without blockFloods every attempt is still checked and answered 401", async () => {
    const p = pipeline(false);
    for (let i = 0; i < 10; i++) expect(await refusal(p.admit(request(`Bearer ${BAD}`)))).toMatchObject({ code: "UNAUTHORIZED" });
    expect(calls.authenticate).toBe(10);
    p.flushPending();
    const summaries = calls.records.filter((r) => /summarised/.test(String(r.errorMessage)));
    expect(calls.records.length).toBeLessThan(10);
    // Every refusal is on record: one by one up to the burst, the rest counted in summaries.
    const counted = calls.records.length - summaries.length + summaries.reduce((n, r) => n + Number((r.params as { refused: number }).refused), 0);
    expect(counted).toBe(10);
  });

  it("with blockFloods, an address past the failure rate is answered 429 with Retry-After, without a lookup", async () => {
    const p = pipeline(true);
    const statuses: string[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await refusal(p.admit(request(`Bearer ${BAD}`)))).code);
    expect(statuses).toEqual(["UNAUTHORIZED", "UNAUTHORIZED", "UNAUTHORIZED", "UNAUTHORIZED"]);
    const looked = calls.authenticate;
    const flooded = await refusal(p.admit(request(`Bearer ${GOOD}`)));
    expect(flooded).toMatchObject({ code: "TOO_MANY_REQUESTS", message: expect.stringMatching(/too many failed authentications/), details: { retryAfterSeconds: expect.any(Number) } });
    expect(calls.authenticate).toBe(looked);
  });
});

describe("limit", () => {
  it("a token over its rate is TOO_MANY_REQUESTS with Retry-After, audited under the rate action", async () => {
    const p = pipeline(false, { perSecond: 1, burst: 2 });
    expect((await p.admit(request(`Bearer ${GOOD}`))).viewer.token.id).toBe("t1");
    await p.admit(request(`Bearer ${GOOD}`));
    const limited = await refusal(p.admit(request(`Bearer ${GOOD}`)));
    expect(limited).toMatchObject({ code: "TOO_MANY_REQUESTS", message: "too many requests; retry in 1 s", details: { retryAfterSeconds: 1 } });
    expect(calls.records).toEqual([expect.objectContaining({ action: "test.request", outcome: "denied", errorMessage: "rate limit (1 refused)", actor: expect.objectContaining({ type: "token", id: "t1" }) })]);
    // The token's authentication was remembered (≤ 1 s, dropped on any access change): looked up once.
    expect(calls.authenticate).toBe(1);
  });
});

describe("authorise", () => {
  it("a permission the token's viewer lacks is FORBIDDEN, audited with the denial's action and host", async () => {
    const caller = await pipeline(false).admit(request(`Bearer ${GOOD}`));
    await expect(caller.authorise({ permissions: ["hosts.read"], message: () => "no", denial: { action: "test.read" } })).resolves.toBeUndefined();
    const host = { id: "h1", hostGroupId: null };
    const denied = await refusal(
      caller.authorise({ permissions: ["containers.deploy"], host, message: (missing) => `needs ${missing.join(", ")}`, denial: { action: "test.deploy", hostId: "h1" } }),
    );
    expect(denied).toMatchObject({ code: "FORBIDDEN", message: "needs containers.deploy" });
    expect(isAudited(denied)).toBe(true);
    expect(calls.records.at(-1)).toMatchObject({ action: "test.deploy", outcome: "denied", hostId: "h1", errorMessage: "needs containers.deploy" });
    // No such host: everything is missing (fails closed).
    expect(await refusal(caller.authorise({ permissions: ["hosts.read"], host: null, message: (m) => m.join(), denial: { action: "test.read" } }))).toMatchObject({ code: "FORBIDDEN" });
  });
});
