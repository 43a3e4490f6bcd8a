import { describe, expect, it } from "vitest";
import { imageTargetsOf, imageTargetViolations } from "../../../server/docker-proxy/image-targets";

const q = (s: string) => new URLSearchParams(s);
const allow = { registryAllowlist: ["allowed.reg", "127.0.0.1:5000"] };

describe("image names given by tag, build, commit, import and load, under a registry allowlist", () => {
  it("reads the target names of each call", () => {
    expect(imageTargetsOf("docker.images.tag", q("repo=allowed.reg/app&tag=1"))).toEqual({ kind: "names", names: ["allowed.reg/app:1"] });
    expect(imageTargetsOf("docker.images.build", q("t=a:1&t=evil.io/b&t="))).toEqual({ kind: "names", names: ["a:1", "evil.io/b"] });
    expect(imageTargetsOf("docker.images.commit", q("container=web&repo=x&tag=y"))).toEqual({ kind: "names", names: ["x:y"] });
    expect(imageTargetsOf("docker.images.commit", q("container=web"))).toEqual({ kind: "names", names: [] });
    expect(imageTargetsOf("docker.images.pull", q("fromSrc=-&repo=evil.io/x"))).toEqual({ kind: "names", names: ["evil.io/x"] });
    expect(imageTargetsOf("docker.images.pull", q("fromImage=evil.io/x&tag=1"))).toBeNull();
    expect(imageTargetsOf("docker.images.load", q("quiet=1"))).toEqual({ kind: "archive" });
    expect(imageTargetsOf("docker.containers.create", q(""))).toBeNull();
  });

  it("refuses names outside the allowlist, naming the rule; allows those inside", () => {
    const tag = imageTargetViolations(imageTargetsOf("docker.images.tag", q("repo=evil.io/app")), allow);
    expect(tag).toHaveLength(1);
    expect(tag[0]).toMatchObject({ rule: "registryAllowlist", label: "Registry allowlist" });
    expect(tag[0]!.message).toContain('Image name "evil.io/app" is in registry "evil.io"');
    expect(tag[0]!.message).toContain('rule "Registry allowlist"');
    expect(imageTargetViolations(imageTargetsOf("docker.images.tag", q("repo=allowed.reg/app&tag=2")), allow)).toEqual([]);
    expect(imageTargetViolations(imageTargetsOf("docker.images.tag", q("repo=ALLOWED.REG/app")), allow)).toEqual([]);
    // Docker Hub by default: "app" is docker.io/library/app.
    expect(imageTargetViolations(imageTargetsOf("docker.images.build", q("t=127.0.0.1:5000/a&t=app")), allow).map((v) => v.message)).toEqual([
      expect.stringContaining('"app" is in registry "docker.io"'),
    ]);
    expect(imageTargetViolations(imageTargetsOf("docker.images.commit", q("repo=evil.io/x")), allow)).toHaveLength(1);
    expect(imageTargetViolations(imageTargetsOf("docker.images.pull", q("fromSrc=-&repo=evil.io/x")), allow)).toHaveLength(1);
    expect(imageTargetViolations(imageTargetsOf("docker.images.tag", q("repo=Not Valid")), allow)[0]!.message).toContain("can't be checked");
  });

  it("refuses docker load under an allowlist (the names are inside the archive), and allows it without one", () => {
    const load = imageTargetViolations({ kind: "archive" }, allow);
    expect(load).toHaveLength(1);
    expect(load[0]!.message).toMatch(/docker load can't be checked against the allowed registries/);
    expect(imageTargetViolations({ kind: "archive" }, { registryAllowlist: [] })).toEqual([]);
    expect(imageTargetViolations(imageTargetsOf("docker.images.tag", q("repo=evil.io/app")), { registryAllowlist: [] })).toEqual([]);
  });
});
