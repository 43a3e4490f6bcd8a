import { describe, expect, it } from "vitest";
import { FleetError } from "../../../server/fleet/errors";
import type { Db } from "../../../server/db";
import type { FleetServices } from "../../../server/fleet/instance";
import { checkTag, digestIn, followedTag, holdsDigest, registryKey } from "../../../server/watch/tag-digests";
import { updatesAvailable, UpdateTracker } from "../../../server/watch/update-available";

// checkTag against fakes of the database and the host's agent: what is kept,
// and how 429s and errors hold the registry (or one tag) back.

type Row = { reference: string; digest: string | null; checkedAt: Date; error: string | null; retryAfter: Date | null };

function fakeDb() {
  const rows = new Map<string, Row>();
  const tagDigest = {
    findUnique: async ({ where }: { where: { reference: string } }) => rows.get(where.reference) ?? null,
    findMany: async ({ where }: { where: { reference: { in: string[] } } }) => where.reference.in.map((r) => rows.get(r)).filter(Boolean),
    upsert: async ({ where, create, update }: { where: { reference: string }; create: Row; update: Partial<Row> }) => {
      const row = rows.get(where.reference);
      rows.set(where.reference, row ? { ...row, ...update } : create);
    },
    update: async ({ where, data }: { where: { reference: string }; data: Partial<Row> }) => rows.set(where.reference, { ...rows.get(where.reference)!, ...data }),
  };
  return { rows, db: { tagDigest, registry: { findMany: async () => [] } } as unknown as Db };
}

const DIGEST_A = `sha256:${"a".repeat(64)}`;
const DIGEST_B = `sha256:${"b".repeat(64)}`;

function fakeServices(answer: () => Promise<unknown>) {
  const calls: string[] = [];
  const services = {
    box: {},
    fleet: {
      client: () => ({
        distribution: async (name: string) => {
          calls.push(name);
          return answer();
        },
      }),
    },
  } as unknown as FleetServices;
  return { services, calls };
}

const rateLimited = () => Object.assign(new FleetError("AGENT_ERROR", "registry r.example:5000 is rate limiting requests (429): retry after 120 s", { status: 429 }), { retryAfterSeconds: 120 });

describe("checkTag", () => {
  const now = new Date("2026-12-07T12:00:00Z");
  const later = (s: number) => new Date(now.getTime() + s * 1000);

  it("keeps the digest the host's agent answers for the tag", async () => {
    const { db, rows } = fakeDb();
    const { services, calls } = fakeServices(async () => ({ Descriptor: { digest: DIGEST_A, mediaType: "m", size: 1 }, Platforms: [], Created: "2026-01-01T00:00:00Z" }));
    const check = await checkTag(db, services, { hostId: "h", reference: "r.example:5000/team/app:v1", now });
    expect(check).toMatchObject({ reference: "r.example:5000/team/app:v1", digest: DIGEST_A, created: "2026-01-01T00:00:00Z", error: null, skipped: false });
    expect(calls).toEqual(["r.example:5000/team/app:v1"]);
    expect(rows.get("r.example:5000/team/app:v1")?.digest).toBe(DIGEST_A);
  });

  it("a 429 holds the whole registry until its Retry-After; nothing is asked of it meanwhile", async () => {
    const { db, rows } = fakeDb();
    const { services, calls } = fakeServices(async () => Promise.reject(rateLimited()));
    const first = await checkTag(db, services, { hostId: "h", reference: "r.example:5000/team/app:v1", now });
    expect(first.error).toContain("429");
    expect(first.retryAfter?.toISOString()).toBe(later(120).toISOString());
    expect(rows.get(registryKey("r.example:5000"))?.retryAfter?.toISOString()).toBe(later(120).toISOString());
    // Another tag of the same registry, even a forced check, is not asked.
    const other = await checkTag(db, services, { hostId: "h", reference: "r.example:5000/team/other:v2", force: true, now: later(60) });
    expect(other.skipped).toBe(true);
    expect(calls).toHaveLength(1);
    // Another registry is.
    await checkTag(db, services, { hostId: "h", reference: "s.example/x:v1", now: later(60) }).catch(() => null);
    expect(calls).toHaveLength(2);
  });

  it("registry errors back off exponentially; an answer clears the hold", async () => {
    const { db, rows } = fakeDb();
    let fail = true;
    const { services } = fakeServices(async () => {
      if (fail) throw new FleetError("AGENT_ERROR", "registry r.example answered 503", { status: 500 });
      return { Descriptor: { digest: DIGEST_B, mediaType: "m", size: 1 }, Platforms: [] };
    });
    let at = now;
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await checkTag(db, services, { hostId: "h", reference: "r.example/app:v1", now: at });
      delays.push((c.retryAfter!.getTime() - at.getTime()) / 1000);
      at = c.retryAfter!;
    }
    expect(delays).toEqual([30, 60, 120, 240]);
    fail = false;
    const ok = await checkTag(db, services, { hostId: "h", reference: "r.example/app:v1", now: at });
    expect(ok.digest).toBe(DIGEST_B);
    expect(rows.get(registryKey("r.example"))?.retryAfter).toBeNull();
  });

  it("an unknown tag holds only that tag; a host that can't be reached holds nothing", async () => {
    const { db, rows } = fakeDb();
    const { services } = fakeServices(async () => Promise.reject(new FleetError("AGENT_ERROR", "manifest unknown: no such tag", { status: 404 })));
    await checkTag(db, services, { hostId: "h", reference: "r.example/app:gone", now });
    expect(rows.get("r.example/app:gone")?.retryAfter).not.toBeNull();
    expect(rows.get(registryKey("r.example"))).toBeUndefined();

    const down = fakeServices(async () => Promise.reject(new FleetError("AGENT_UNREACHABLE", "The agent on h can't be reached")));
    const c = await checkTag(db, down.services, { hostId: "h", reference: "r.example/app:v9", now });
    expect(c.error).toContain("can't be reached");
    expect(rows.get("r.example/app:v9")).toBeUndefined();
  });
});

describe("tags and digests", () => {
  it("a reference follows its tag; a bare digest or an image id follows none", () => {
    expect(followedTag("busybox")).toBe("docker.io/library/busybox:latest");
    expect(followedTag("r.example:5000/app:v1@" + DIGEST_A)).toBe("r.example:5000/app:v1");
    expect(followedTag("r.example:5000/app@" + DIGEST_A)).toBeNull();
    expect(followedTag("a".repeat(64))).toBeNull();
  });

  it("RepoDigests are matched by repository, familiar names included", () => {
    expect(holdsDigest("busybox:latest", [`busybox@${DIGEST_A}`], DIGEST_A)).toBe(true);
    expect(holdsDigest("busybox:latest", [`other@${DIGEST_A}`], DIGEST_A)).toBe(false);
    expect(digestIn("r.example/app:v1", [`r.example/other@${DIGEST_B}`, `r.example/app@${DIGEST_A}`])).toBe(DIGEST_A);
  });

  it("update available: a running container by tag whose image lacks the tag's digest", async () => {
    const { db, rows } = fakeDb();
    rows.set("r.example/app:v1", { reference: "r.example/app:v1", digest: DIGEST_B, checkedAt: new Date(), error: null, retryAfter: null });
    const tracker = new UpdateTracker();
    tracker.noteImages("h", [
      { Id: "old", RepoDigests: [`r.example/app@${DIGEST_A}`] },
      { Id: "new", RepoDigests: [`r.example/app@${DIGEST_B}`] },
      { Id: "built", RepoDigests: [] },
    ]);
    const rowsIn = [
      { hostId: "h", image: "r.example/app:v1", imageId: "old", state: "running" },
      { hostId: "h", image: "r.example/app:v1", imageId: "new", state: "running" },
      { hostId: "h", image: "r.example/app:v1", imageId: "old", state: "exited" },
      { hostId: "h", image: "r.example/app:v1", imageId: "built", state: "running" },
      { hostId: "h", image: `r.example/app@${DIGEST_A}`, imageId: "old", state: "running" },
      { hostId: "other", image: "r.example/app:v1", imageId: "old", state: "running" },
    ];
    expect(await updatesAvailable(db, rowsIn, tracker)).toEqual([true, false, false, false, false, false]);
  });
});
