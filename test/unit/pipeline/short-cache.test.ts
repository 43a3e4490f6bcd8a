import { describe, expect, it } from "vitest";
import { ShortCache } from "../../../server/pipeline/short-cache";
import { authGeneration, bumpAuthGeneration, changesAccess, syncAccessGeneration } from "../../../server/auth/generation";
import type { Db } from "../../../server/db";

function setup() {
  let now = 1_000_000;
  let generation = 7;
  const cache = new ShortCache<string>({ ttlMs: 1_000, maxEntries: 3, now: () => now, generation: () => generation });
  return { cache, tick: (ms: number) => (now += ms), bump: () => (generation += 1), gen: () => generation, at: () => now };
}

describe("the proxy's short authentication cache", () => {
  it("remembers for less than a second", () => {
    const { cache, tick, gen } = setup();
    cache.set("k", "viewer", gen());
    expect(cache.get("k")).toBe("viewer");
    tick(999);
    expect(cache.get("k")).toBe("viewer");
    tick(1);
    expect(cache.get("k")).toBeUndefined();
  });

  it("forgets at once when access changed (token revoked, user disabled, roles changed)", () => {
    const { cache, bump, gen } = setup();
    cache.set("k", "viewer", gen());
    bump();
    expect(cache.get("k")).toBeUndefined();
  });

  it("never stores a result read before a change that happened during the lookup", () => {
    const { cache, bump, gen } = setup();
    const before = gen();
    bump();
    cache.set("k", "stale", before);
    expect(cache.get("k")).toBeUndefined();
  });

  it("never serves a token past its expiry", () => {
    const { cache, tick, gen, at } = setup();
    cache.set("k", "viewer", gen(), at() + 200);
    tick(199);
    expect(cache.get("k")).toBe("viewer");
    tick(1);
    expect(cache.get("k")).toBeUndefined();
  });

  it("stays bounded", () => {
    const { cache, gen } = setup();
    for (const k of ["a", "b", "c", "d"]) cache.set(k, k, gen());
    expect(cache.get("a")).toBeUndefined();
    expect(cache.get("d")).toBe("d");
  });

  it("the process-wide generation moves with access-changing audit actions only", () => {
    const g = authGeneration();
    bumpAuthGeneration();
    expect(authGeneration()).toBe(g + 1);
    for (const a of ["tokens.revoke", "users.setDisabled", "users.bindRole", "roles.update", "hosts.remove", "hosts.update"]) expect(changesAccess(a)).toBe(true);
    for (const a of ["docker.containers.create", "containers.exec.start", "images.pull", "api.v1.hosts.list"]) expect(changesAccess(a)).toBe(false);
  });
});

describe("the database's access generation", () => {
  const fakeDb = (read: () => unknown) => ({ $queryRaw: async () => read() }) as unknown as Db;

  it("drops remembered entries when another process (or SQL) moved the database's counter, and only then", async () => {
    let value: bigint = 7n;
    const db = fakeDb(() => [{ value }]);
    await syncAccessGeneration(db);
    const cache = new ShortCache<string>();
    cache.set("k", "v", cache.generation());
    await syncAccessGeneration(db);
    expect(cache.get("k")).toBe("v");
    value = 8n;
    await syncAccessGeneration(db);
    expect(cache.get("k")).toBeUndefined();
  });

  it("trusts nothing remembered when the row can't be read", async () => {
    const db = fakeDb(() => [{ value: 1n }]);
    await syncAccessGeneration(db);
    const cache = new ShortCache<string>();
    cache.set("k", "v", cache.generation());
    await syncAccessGeneration(fakeDb(() => {
      throw new Error("relation does not exist");
    }));
    expect(cache.get("k")).toBeUndefined();
    cache.set("k", "v", cache.generation());
    await syncAccessGeneration(fakeDb(() => []));
    expect(cache.get("k")).toBeUndefined();
  });
});
