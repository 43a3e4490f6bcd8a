import { describe, expect, it } from "vitest";
import { deploySpecSchema } from "../../../lib/deploy/spec";
import { isDigestReference, matchingRepoDigest, repositoryOf } from "../../../server/rollouts/digests";
import { diffSpecs, needsStopFirst } from "../../../server/rollouts/spec-diff";
import { canRollBackTo } from "../../../server/rollouts/views";

// The pure parts of planning a deployment rollout: what changes (the
// approval's diff), which strategy, which digest the host's image has in the
// deployment's repository, and what can be rolled back to.

const spec = (over: Record<string, unknown> = {}) => deploySpecSchema.parse({ image: "registry.example.com/team/app:v1", name: "app", ...over });
const D1 = `sha256:${"a".repeat(64)}`;
const D2 = `sha256:${"b".repeat(64)}`;

describe("diffSpecs", () => {
  it("is empty for the same spec, and treats absent and empty defaults alike", () => {
    expect(diffSpecs(spec(), spec())).toEqual([]);
    const bare = { image: "registry.example.com/team/app:v1", name: "app" };
    expect(diffSpecs(bare as never, spec())).toEqual([]);
  });

  it("names each changed setting with before and after", () => {
    const changes = diffSpecs(spec(), spec({ image: "registry.example.com/team/app:v2", command: ["serve"], memoryBytes: 64 * 1024 * 1024 }));
    expect(changes).toEqual([
      { path: "command", before: null, after: ["serve"] },
      { path: "image", before: "registry.example.com/team/app:v1", after: "registry.example.com/team/app:v2" },
      { path: "memoryBytes", before: null, after: 64 * 1024 * 1024 },
    ]);
  });

  it("diffs env and labels per name, masking secret values on both sides", () => {
    const before = spec({ env: [{ name: "MODE", value: "a" }, { name: "KEY", value: "old-secret", secret: true }, { name: "GONE", value: "x" }], labels: { team: "a" } });
    const after = spec({ env: [{ name: "MODE", value: "b" }, { name: "KEY", value: "new-secret", secret: true }, { name: "NEW", value: "y" }], labels: { team: "b", tier: "web" } });
    const changes = diffSpecs(before, after);
    expect(changes).toEqual([
      { path: "env.GONE", before: "x", after: null },
      { path: "env.KEY", before: "••••••", after: "••••••" },
      { path: "env.MODE", before: "a", after: "b" },
      { path: "env.NEW", before: null, after: "y" },
      { path: "labels.team", before: "a", after: "b" },
      { path: "labels.tier", before: null, after: "web" },
    ]);
    expect(JSON.stringify(changes)).not.toMatch(/secret/);
  });

  it("an unchanged secret is no change", () => {
    const s = spec({ env: [{ name: "KEY", value: "same", secret: true }] });
    expect(diffSpecs(s, spec({ env: [{ name: "KEY", value: "same", secret: true }] }))).toEqual([]);
  });

  it("a first deploy lists everything set", () => {
    expect(diffSpecs(null, spec()).map((c) => c.path)).toEqual(expect.arrayContaining(["image", "name", "pullPolicy"]));
  });
});

describe("needsStopFirst", () => {
  it("is stop-first for a fixed published host port or the host's network, start-first otherwise", () => {
    expect(needsStopFirst(spec({ ports: [{ hostPort: 8080, containerPort: 80 }] }))).toBe(true);
    expect(needsStopFirst(spec({ network: "host" }))).toBe(true);
    expect(needsStopFirst(spec({ ports: [{ containerPort: 80 }] }))).toBe(false);
    expect(needsStopFirst(spec({ network: "backend", aliases: ["api"] }))).toBe(false);
  });
});

describe("digests", () => {
  it("knows a repository from a reference, with the registry's defaults", () => {
    expect(repositoryOf("busybox")).toBe("docker.io/library/busybox");
    expect(repositoryOf("busybox:1.36")).toBe(repositoryOf(`docker.io/library/busybox@${D1}`));
    expect(repositoryOf("127.0.0.1:5000/team/app:v1")).toBe("127.0.0.1:5000/team/app");
    expect(repositoryOf("a".repeat(64))).toBeNull();
    expect(repositoryOf("Not A Reference")).toBeNull();
  });

  it("picks the repo digest of the reference's own repository, written as the reference writes it", () => {
    const digests = [`other.example.com/x@${D2}`, `127.0.0.1:5000/team/app@${D1}`];
    expect(matchingRepoDigest("127.0.0.1:5000/team/app:v1", digests)).toBe(`127.0.0.1:5000/team/app@${D1}`);
    expect(matchingRepoDigest("busybox:latest", [`busybox@${D2}`])).toBe(`busybox@${D2}`);
    expect(matchingRepoDigest("127.0.0.1:5000/team/app:v1", [`other.example.com/x@${D2}`])).toBeNull();
    expect(matchingRepoDigest("127.0.0.1:5000/team/app:v1", null)).toBeNull();
    // Already pinned: that is its digest.
    expect(matchingRepoDigest(`127.0.0.1:5000/team/app@${D2}`, digests)).toBe(`127.0.0.1:5000/team/app@${D2}`);
    expect(isDigestReference(`127.0.0.1:5000/team/app@${D2}`)).toBe(true);
    expect(isDigestReference("127.0.0.1:5000/team/app:v1")).toBe(false);
  });
});

describe("canRollBackTo", () => {
  const row = { status: "succeeded", deploymentId: "d1", stackId: null, digestAfter: `r/app@${D1}`, specAfter: { image: "r/app:v1" }, versionAfter: null, digests: {} };
  it("offers a succeeded deployment rollout that recorded a digest and a spec", () => {
    expect(canRollBackTo(row)).toBe(true);
    expect(canRollBackTo({ ...row, status: "failed" })).toBe(false);
    expect(canRollBackTo({ ...row, digestAfter: null })).toBe(false);
    expect(canRollBackTo({ ...row, specAfter: null })).toBe(false);
  });
  it("offers a stack rollout with a version or a digest after", () => {
    const stack = { ...row, deploymentId: null, stackId: "s1", digestAfter: null, specAfter: null };
    expect(canRollBackTo({ ...stack, versionAfter: 3 })).toBe(true);
    expect(canRollBackTo({ ...stack, digests: { web: { before: null, after: `r/web@${D1}` } } })).toBe(true);
    expect(canRollBackTo(stack)).toBe(false);
  });
});
