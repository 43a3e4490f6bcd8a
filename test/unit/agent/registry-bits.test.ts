import { describe, expect, it } from "vitest";
import { limiter } from "../../../agent/images/limit";
import { parsePlatform, selectPlatform } from "../../../agent/images/platform";
import { parseChallenge } from "../../../agent/images/www-authenticate";

const D = (c: string) => `sha256:${c.repeat(64)}`;

describe("registry protocol pieces", () => {
  it("parses Bearer and Basic challenges", () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"')).toEqual({
      scheme: "bearer",
      params: { realm: "https://auth.example/token", service: "registry.example", scope: "repository:a/b:pull,push" },
    });
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({ scheme: "basic", params: { realm: "Registry Realm" } });
    expect(parseChallenge('Bearer realm="x\\"y", error=insufficient_scope')?.params).toEqual({ realm: 'x"y', error: "insufficient_scope" });
    expect(parseChallenge(null)).toBeNull();
  });

  it("selects the wanted platform from an index, or says what there is", () => {
    const manifests = [
      { mediaType: "m", digest: D("a"), size: 1, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
      { mediaType: "m", digest: D("b"), size: 1, platform: { os: "linux", architecture: "amd64" } },
    ];
    expect(selectPlatform(manifests, parsePlatform("linux/amd64")).digest).toBe(D("b"));
    expect(selectPlatform(manifests, parsePlatform("linux/arm64/v8")).digest).toBe(D("a"));
    expect(() => selectPlatform(manifests, parsePlatform("linux/s390x"))).toThrow(/no image for platform linux\/s390x \(the index has: linux\/arm64\/v8, linux\/amd64\)/);
    expect(() => parsePlatform("amd64")).toThrow(/expected os\/arch/);
  });

  it("runs at most n tasks at once", async () => {
    const run = limiter(2);
    let active = 0;
    let peak = 0;
    let queued = 0;
    await Promise.all(
      Array.from({ length: 6 }, () =>
        run(
          async () => {
            active++;
            peak = Math.max(peak, active);
            await new Promise((r) => setImmediate(r));
            active--;
          },
          () => queued++,
        ),
      ),
    );
    expect(peak).toBe(2);
    expect(queued).toBe(4);
  });
});
