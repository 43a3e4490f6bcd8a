import { describe, expect, it } from "vitest";
import { containerAbsPath, encodePathStat, goBase, goFileMode, rfc3339Nano } from "../../../agent/engine/archive-stat";

// The stat header of docker cp as the docker CLI decodes it: Go's
// os.FileMode bits and Go's RFC 3339 time, and paths as dockerd cleans them.

describe("goFileMode", () => {
  it("puts the file type in Go's high bits, the permissions and special bits as Go does", () => {
    expect(goFileMode(0o100644)).toBe(0o644);
    expect(goFileMode(0o040755)).toBe(2 ** 31 + 0o755);
    expect(goFileMode(0o120777)).toBe(2 ** 27 + 0o777);
    expect(goFileMode(0o020666)).toBe(2 ** 26 + 2 ** 21 + 0o666);
    expect(goFileMode(0o060660)).toBe(2 ** 26 + 0o660);
    expect(goFileMode(0o010600)).toBe(2 ** 25 + 0o600);
    expect(goFileMode(0o140755)).toBe(2 ** 24 + 0o755);
    expect(goFileMode(0o104755)).toBe(2 ** 23 + 0o755);
    expect(goFileMode(0o102755)).toBe(2 ** 22 + 0o755);
    expect(goFileMode(0o041777)).toBe(2 ** 31 + 2 ** 20 + 0o777);
  });
});

describe("rfc3339Nano", () => {
  it("writes nanoseconds without trailing zeros, and none when whole", () => {
    expect(rfc3339Nano(1_612_325_106_000_000_000n)).toBe("2021-02-03T04:05:06Z");
    expect(rfc3339Nano(1_612_325_106_120_000_000n)).toBe("2021-02-03T04:05:06.12Z");
    expect(rfc3339Nano(1_612_325_106_000_000_007n)).toBe("2021-02-03T04:05:06.000000007Z");
    expect(rfc3339Nano(0n)).toBe("1970-01-01T00:00:00Z");
  });
});

describe("paths as dockerd takes them", () => {
  it("cleans to an absolute path, keeping a trailing / or /.", () => {
    expect(containerAbsPath("etc/hosts")).toBe("/etc/hosts");
    expect(containerAbsPath("/srv/../etc//x")).toBe("/etc/x");
    expect(containerAbsPath("/srv/")).toBe("/srv/");
    expect(containerAbsPath("/srv/.")).toBe("/srv/.");
    expect(containerAbsPath("/../..")).toBe("/");
    expect(containerAbsPath("/")).toBe("/");
  });

  it("names the entry as Go's filepath.Base does", () => {
    expect(goBase("/srv/")).toBe("srv");
    expect(goBase("/srv/.")).toBe(".");
    expect(goBase("/")).toBe("/");
    expect(goBase("/etc/hosts")).toBe("hosts");
  });

  it("encodes the header as base64 of the JSON", () => {
    const stat = { name: "x", size: 1, mode: 0o644, mtime: "2021-02-03T04:05:06Z", linkTarget: "" };
    expect(JSON.parse(Buffer.from(encodePathStat(stat), "base64").toString("utf8"))).toEqual(stat);
  });
});
