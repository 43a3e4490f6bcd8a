import { describe, expect, it } from "vitest";
import { ApiError, INTERNAL_MESSAGE, toApiError, toClientError } from "../../../agent/api/errors";
import { BuildError } from "../../../agent/build/builder";
import { ContextError } from "../../../agent/build/context";
import { DockerfileError } from "../../../agent/build/dockerfile";
import { EngineError } from "../../../agent/engine/errors";
import { UserResolveError } from "../../../agent/engine/resolve-user";
import { AgentError, type AgentErrorCode } from "../../../agent/errors";
import { ImageError } from "../../../agent/images/errors";
import { LocalRegistryRefused } from "../../../agent/images/registry-address";
import { NetworkToolError } from "../../../agent/network/exec";
import { NetworkError } from "../../../agent/network/manager";
import { SubnetError } from "../../../agent/network/subnet";
import { RuncError } from "../../../agent/runtime/runc";
import { SpecError } from "../../../agent/runtime/spec-error";
import { CorruptLayerError, UnsafeLayerError } from "../../../agent/snapshots/errors";
import { SnapshotError } from "../../../agent/snapshots/snapshotter";
import { VolumeError } from "../../../agent/volumes/store";
import { MountError } from "../../../lib/docker/mounts";
import { InvalidReferenceError } from "../../../lib/image-reference";

// The one mapping from the agent's errors to Docker API answers (api/errors.ts).

const answer = (e: unknown) => {
  const a = toApiError(e);
  return [a.status, a.message];
};

describe("AgentError codes → Docker statuses", () => {
  it("gives every code its status", () => {
    const cases: [AgentErrorCode, number][] = [
      ["INVALID", 400],
      ["INVALID_REFERENCE", 400],
      ["INVALID_ARCHIVE", 400],
      ["UNSUPPORTED", 400],
      ["UNSAFE_LAYER", 400],
      ["CORRUPT_LAYER", 400],
      ["RUNTIME", 400],
      ["BUILD_FAILED", 400],
      ["UNAUTHORIZED", 401],
      ["FORBIDDEN", 403],
      ["DENIED", 403],
      ["NOT_FOUND", 404],
      ["CONFLICT", 409],
      ["IN_USE", 409],
      ["NOT_MODIFIED", 304],
      ["DIGEST_MISMATCH", 500],
      ["SIZE_MISMATCH", 500],
      ["UNREACHABLE", 500],
      ["REGISTRY_ERROR", 500],
      ["MOUNT_FAILED", 500],
      ["IO", 500],
      ["INTERNAL", 500],
    ];
    for (const [code, status] of cases) expect(answer(new AgentError(code, `about ${code}`)), code).toEqual([status, `about ${code}`]);
  });

  it("maps each part's errors by their code, whatever the subclass", () => {
    expect(answer(new SnapshotError("IN_USE", "snapshot x is the parent of snapshot y"))).toEqual([409, "snapshot x is the parent of snapshot y"]);
    expect(answer(new SnapshotError("MOUNT_FAILED", "mount: bad"))).toEqual([500, "mount: bad"]);
    expect(answer(new UnsafeLayerError("../x", "it leads outside the root"))).toEqual([400, 'unsafe layer entry "../x": it leads outside the root']);
    expect(answer(new CorruptLayerError(null, "unexpected end of data"))).toEqual([400, "corrupt layer: unexpected end of data"]);
    expect(answer(new SubnetError("invalid IPv4 address: 999.1.1.1"))).toEqual([400, "invalid IPv4 address: 999.1.1.1"]);
    expect(answer(new VolumeError("NOT_FOUND", "get v: no such volume"))).toEqual([404, "get v: no such volume"]);
    expect(answer(new NetworkError("CONFLICT", "network with name n already exists"))).toEqual([409, "network with name n already exists"]);
    expect(answer(new UserResolveError("unable to find user ghost"))).toEqual([400, "unable to find user ghost"]);
    expect(answer(new SpecError("Minimum memory limit allowed is 6MB"))).toEqual([400, "Minimum memory limit allowed is 6MB"]);
    expect(answer(new ContextError("forbidden path outside the build context: ../x"))).toEqual([400, "forbidden path outside the build context: ../x"]);
    expect(answer(new DockerfileError(3, "unknown instruction: FOO"))).toEqual([400, "unknown instruction: FOO"]);
    expect(answer(new BuildError("The command '/bin/sh -c false' returned a non-zero code: 1", 1))).toEqual([400, "The command '/bin/sh -c false' returned a non-zero code: 1"]);
    expect(answer(new RuncError("runc pause failed: container not running", ""))).toEqual([500, "runc pause failed: container not running"]);
    expect(answer(new NetworkToolError("ip link add: File exists", "File exists"))).toEqual([500, "ip link add: File exists"]);
    expect(answer(new LocalRegistryRefused("127.0.0.1:5432", "127.0.0.1", "loopback"))[0]).toBe(500);
  });

  it("is one family: every part's error is an AgentError with its own name", () => {
    const errors = [new EngineError("CONFLICT", "x"), new ImageError("NOT_FOUND", "x"), new SpecError("x"), new UserResolveError("x"), new RuncError("x", ""), new UnsafeLayerError(null, "x")];
    for (const e of errors) expect(e).toBeInstanceOf(AgentError);
    expect(errors.map((e) => e.name)).toEqual(["EngineError", "ImageError", "SpecError", "UserResolveError", "RuncError", "UnsafeLayerError"]);
  });

  it("maps lib's InputError (and its subclasses) to 400", () => {
    expect(answer(new MountError("invalid mount config: bad"))).toEqual([400, "invalid mount config: bad"]);
    expect(answer(new InvalidReferenceError("invalid reference format"))[0]).toBe(400);
  });
});

describe("what a client is told", () => {
  it("a reported error as it is, and nothing logged", () => {
    const log: string[] = [];
    const a = toClientError(new EngineError("INTERNAL", "the agent is shutting down"), (l) => log.push(l));
    expect([a.status, a.message, log]).toEqual([500, "the agent is shutting down", []]);
    const passed = new ApiError(413, "request body is too large");
    expect(toClientError(passed, (l) => log.push(l))).toBe(passed);
  });

  it("an unexpected error only as an internal error, its detail and stack in the log", () => {
    const log: string[] = [];
    const failure = Object.assign(new Error("ENOENT: no such file or directory, open '/var/lib/berth/containers/abc/container.json'"), { code: "ENOENT" });
    const a = toClientError(failure, (l) => log.push(l));
    expect([a.status, a.message]).toEqual([500, INTERNAL_MESSAGE]);
    expect(a.message).not.toContain("/var/lib/berth");
    expect(log).toHaveLength(1);
    expect(log[0]).toContain("berth-agent: internal error: Error: ENOENT: no such file or directory, open '/var/lib/berth/containers/abc/container.json'");
    expect(log[0]).toContain("api-errors.test.ts");
    expect(toClientError("thrown string", () => {}).message).toBe(INTERNAL_MESSAGE);
  });
});
