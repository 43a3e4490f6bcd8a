import { randomBytes } from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { SecretBox } from "../../../server/secrets/cipher";

// The webhook credential through the credential pipeline, with the database
// and the audit writer faked: what each refusal answers and records, the
// signature checked before anything else is said, the creator's rights as
// they are now, and the rate limit per webhook.

const calls = vi.hoisted(() => ({ records: [] as Record<string, unknown>[], disabled: new Set<string>(), updates: 0 }));

vi.mock("../../../server/audit/write", () => ({
  writeAudit: async (_db: unknown, input: Record<string, unknown>) => {
    calls.records.push(input);
    return { id: 1n, hash: "h" };
  },
}));
vi.mock("../../../server/auth/sessions", () => ({
  viewerForUser: async (_db: unknown, userId: string) =>
    calls.disabled.has(userId) ? null : { user: { id: userId, email: `${userId}@example.test`, name: null }, sessionId: null, grants: [] },
}));

const { createHookPipeline } = await import("../../../server/webhooks/pipeline");
const { generateWebhookSecret, hashWebhookSecret, signBody, SIGNING_KEY_PURPOSE } = await import("../../../server/webhooks/secret");
const { isAudited } = await import("../../../server/pipeline/audit-log");

const box = new SecretBox(randomBytes(32));
const secret = generateWebhookSecret();
interface Row {
  id: string;
  name: string;
  hash: string;
  signingKey: string;
  revokedAt: Date | null;
  expiresAt: Date | null;
  sourceCidrs: string[];
  createdById: string;
  lastUsedAt: Date | null;
  lastUsedIp: string | null;
  hostId: string;
}
let row: Row;
const db = {
  webhook: {
    findUnique: async ({ where }: { where: { hash?: string; id?: string } }) => ((where.hash ?? where.id) === row.hash || where.id === row.id ? row : null),
    updateMany: async () => {
      calls.updates++;
      return { count: 1 };
    },
  },
};
const meta = { requestId: "r1", ip: "192.0.2.7", userAgent: "ci" };
const request = (credential: unknown, ip = meta.ip) => ({ credential: credential as never, meta: { ...meta, ip }, authAction: "webhooks.deliver", rateAction: "webhooks.deliver", params: { method: "POST" } });
const refusal = (p: Promise<unknown>) => p.then(() => expect.fail("admitted"), (e: unknown) => e as { code: string; message: string });
const pipeline = (rate = { perSecond: 1, burst: 3 }) => createHookPipeline({ db: () => db as never, log: () => {}, rate });

beforeEach(() => {
  calls.records = [];
  calls.disabled.clear();
  calls.updates = 0;
  row = { id: "wh1", name: "ci", hash: hashWebhookSecret(secret), signingKey: box.seal(secret, SIGNING_KEY_PURPOSE), revokedAt: null, expiresAt: null, sourceCidrs: [], createdById: "u1", lastUsedAt: null, lastUsedIp: null, hostId: "h1" };
});

describe("the webhook credential", () => {
  it("a good secret admits the webhook as actor with its creator's grants, and records the use", async () => {
    const caller = await pipeline().admit(request({ kind: "secret", secret }));
    expect(caller.actor).toEqual({ type: "webhook", id: "wh1", label: "ci" });
    expect(caller.viewer.user.id).toBe("u1");
    expect(caller.viewer.webhook.id).toBe("wh1");
    expect(calls.updates).toBe(1);
    expect(calls.records).toEqual([]);
  });

  it("unknown, revoked, expired, a foreign address and a disabled creator are refused, each audited with its reason", async () => {
    const p = pipeline({ perSecond: 100, burst: 100 });
    expect(await refusal(p.admit(request({ kind: "secret", secret: generateWebhookSecret() })))).toMatchObject({ code: "UNAUTHORIZED", message: expect.stringMatching(/^Unknown webhook/) });
    row.revokedAt = new Date();
    expect(await refusal(p.admit(request({ kind: "secret", secret })))).toMatchObject({ code: "UNAUTHORIZED", message: "This webhook has been revoked." });
    row.revokedAt = null;
    row.expiresAt = new Date(Date.now() - 1);
    expect(await refusal(p.admit(request({ kind: "secret", secret })))).toMatchObject({ code: "UNAUTHORIZED", message: expect.stringMatching(/^This webhook expired on/) });
    row.expiresAt = null;
    row.sourceCidrs = ["10.0.0.0/8"];
    const foreign = await refusal(p.admit(request({ kind: "secret", secret })));
    expect(foreign).toMatchObject({ code: "FORBIDDEN", message: "Calls to this webhook are not accepted from 192.0.2.7." });
    expect(isAudited(foreign)).toBe(true);
    row.sourceCidrs = [];
    calls.disabled.add("u1");
    expect(await refusal(p.admit(request({ kind: "secret", secret })))).toMatchObject({ code: "FORBIDDEN", message: expect.stringMatching(/disabled/) });
    expect(calls.records.map((r) => [(r.actor as { type: string }).type, r.outcome, r.errorMessage])).toEqual([
      ["anonymous", "denied", "unknown webhook secret"],
      ["webhook", "denied", "webhook revoked"],
      ["webhook", "denied", "webhook expired"],
      ["webhook", "denied", "source address 192.0.2.7 not allowed"],
      ["webhook", "denied", "creator unavailable: its creator is disabled or no longer exists"],
    ]);
    expect(JSON.stringify(calls.records)).not.toContain(secret);
    expect(calls.updates).toBe(0);
  });

  it("a signed call: the signature is checked first (a revoked webhook's id with a bad signature learns nothing)", async () => {
    const body = Buffer.from('{"events":[]}');
    const good = { kind: "signed", webhookId: "wh1", signature: signBody(secret, body), body, box: async () => box };
    expect((await pipeline().admit(request(good))).actor.id).toBe("wh1");
    row.revokedAt = new Date();
    const bad = await refusal(pipeline().admit(request({ ...good, signature: signBody(generateWebhookSecret(), body) })));
    expect(bad).toMatchObject({ code: "UNAUTHORIZED", message: expect.stringMatching(/^Bad signature: a signature that doesn't match the body/) });
    expect(calls.records.at(-1)).toMatchObject({ outcome: "denied", actor: { type: "anonymous" }, errorMessage: expect.stringMatching(/^bad signature/) });
    expect(await refusal(pipeline().admit(request(good)))).toMatchObject({ message: "This webhook has been revoked." });
  });

  it("limits calls per webhook, and stops an address that keeps failing before anything is looked up", async () => {
    const p = pipeline({ perSecond: 1, burst: 3 });
    for (let i = 0; i < 3; i++) await p.admit(request({ kind: "secret", secret }));
    expect(await refusal(p.admit(request({ kind: "secret", secret })))).toMatchObject({ code: "TOO_MANY_REQUESTS", message: expect.stringMatching(/Too many calls to this webhook/) });
    // Another webhook's bucket is its own; an address guessing secrets is cut off after the failure burst (20).
    const q = pipeline();
    let codes: string[] = [];
    for (let i = 0; i < 25; i++) codes.push((await refusal(q.admit(request({ kind: "secret", secret: generateWebhookSecret() }, "198.51.100.1")))).code);
    expect(codes.slice(0, 20).every((c) => c === "UNAUTHORIZED")).toBe(true);
    expect(codes.slice(21)).toEqual(["TOO_MANY_REQUESTS", "TOO_MANY_REQUESTS", "TOO_MANY_REQUESTS", "TOO_MANY_REQUESTS"]);
    // Another address is not affected.
    codes = [(await q.admit(request({ kind: "secret", secret }, "198.51.100.2"))).actor.type];
    expect(codes).toEqual(["webhook"]);
  });
});
