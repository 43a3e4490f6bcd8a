import { describe, expect, it } from "vitest";
import { ExecOwners } from "../../../server/docker-proxy/exec-owners";

describe("exec ids tied to the user and host that created them", () => {
  it("only the creator, on the same host, owns an exec", () => {
    const m = new ExecOwners();
    m.record("e1", { userId: "alice", hostId: "h1" });
    expect(m.owns("e1", { userId: "alice", hostId: "h1" })).toBe(true);
    expect(m.owns("e1", { userId: "bob", hostId: "h1" })).toBe(false);
    expect(m.owns("e1", { userId: "alice", hostId: "h2" })).toBe(false);
    expect(m.owns("unknown", { userId: "alice", hostId: "h1" })).toBe(false);
  });

  it("forgets execs after the expiry, counted from the last use", () => {
    let now = 0;
    const m = new ExecOwners({ ttlMs: 1_000, now: () => now });
    m.record("e1", { userId: "a", hostId: "h" });
    now = 900;
    expect(m.owns("e1", { userId: "a", hostId: "h" })).toBe(true);
    now = 1_800;
    expect(m.owns("e1", { userId: "a", hostId: "h" })).toBe(true);
    now = 2_800;
    expect(m.owns("e1", { userId: "a", hostId: "h" })).toBe(false);
    expect(m.size).toBe(0);
  });

  it("stays bounded: the least recently used go first", () => {
    const m = new ExecOwners({ maxEntries: 3 });
    for (const id of ["a", "b", "c"]) m.record(id, { userId: "u", hostId: "h" });
    expect(m.owns("a", { userId: "u", hostId: "h" })).toBe(true);
    m.record("d", { userId: "u", hostId: "h" });
    expect(m.size).toBe(3);
    expect(m.owns("b", { userId: "u", hostId: "h" })).toBe(false);
    expect(m.owns("a", { userId: "u", hostId: "h" })).toBe(true);
    expect(m.owns("d", { userId: "u", hostId: "h" })).toBe(true);
  });
});
