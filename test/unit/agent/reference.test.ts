import { describe, expect, it } from "vitest";
import { familiarName, formatReference, isLoopbackRegistry, parseReference } from "../../../lib/image-reference";

const D = "sha256:" + "a".repeat(64);

describe("image references, normalised as Docker does", () => {
  it.each([
    ["busybox", "docker.io/library/busybox:latest", "busybox:latest"],
    ["busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"],
    ["library/busybox", "docker.io/library/busybox:latest", "busybox:latest"],
    ["docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"],
    ["index.docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest"],
    ["user/app:v1", "docker.io/user/app:v1", "user/app:v1"],
    ["localhost/app", "localhost/app:latest", "localhost/app:latest"],
    ["localhost:5000/team/app:v2", "localhost:5000/team/app:v2", "localhost:5000/team/app:v2"],
    ["127.0.0.1:5000/app", "127.0.0.1:5000/app:latest", "127.0.0.1:5000/app:latest"],
    ["ghcr.io/org/tool", "ghcr.io/org/tool:latest", "ghcr.io/org/tool:latest"],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`, `busybox@${D}`],
    [`reg.example.com:443/a/b:c@${D}`, `reg.example.com:443/a/b:c@${D}`, `reg.example.com:443/a/b:c@${D}`],
    ["a_b__c-d---e/x.y", "docker.io/a_b__c-d---e/x.y:latest", "a_b__c-d---e/x.y:latest"],
  ])("%s", (input, full, familiar) => {
    const ref = parseReference(input);
    expect(formatReference(ref)).toBe(full);
    expect(familiarName(ref)).toBe(familiar);
  });

  it("keeps the port heuristic: a first component with a port or dot is a registry", () => {
    expect(parseReference("myhost:5000/app").registry).toBe("myhost:5000");
    expect(parseReference("myhost/app").registry).toBe("docker.io");
    expect(parseReference("my.host/app").registry).toBe("my.host");
  });

  it.each([
    ["", /empty/],
    ["Busybox", /lowercase/],
    ["busybox:", /not a valid tag/],
    ["busybox:-bad", /not a valid tag/],
    ["busybox:" + "x".repeat(129), /not a valid tag/],
    ["busybox@sha256:abc", /sha256 digest has 64/],
    ["busybox@nope", /not a valid digest/],
    ["bad name", /whitespace/],
    ["UPPER.example.com/App", /lowercase/],
    ["a//b", /not a valid repository name component/],
    ["a_b.example/x", /not a valid registry host/],
    ["-lead", /not a valid repository name component/],
    ["reg:99999/app", /not a valid registry host/],
    ["x/" + "a".repeat(300), /longer than 255/],
    [":tag", /repository name is missing/],
  ])("rejects %j with a clear message", (input, message) => {
    expect(() => parseReference(input)).toThrow(message);
  });

  it("treats only loopback registries as insecure by default", () => {
    expect(isLoopbackRegistry("127.0.0.1:5000")).toBe(true);
    expect(isLoopbackRegistry("localhost:5000")).toBe(true);
    expect(isLoopbackRegistry("[::1]:5000")).toBe(true);
    expect(isLoopbackRegistry("10.0.0.1:5000")).toBe(false);
    expect(isLoopbackRegistry("docker.io")).toBe(false);
  });
});
