import { describe, expect, it } from "vitest";
import { acceptFilters, boolFilter, matchKVList, matchPattern, matchPruneLabels, parseGoDuration, parseTimestamp, untilFilter } from "../../../agent/api/filters";

// Docker's filter semantics as dockerd applies them (moby api/types/filters).

describe("filters", () => {
  const labels = { "com.docker.compose.project": "shop", "com.docker.compose.oneoff": "False", empty: "" };

  it("label values must all hold; a bare key matches any value, key= only the empty one", () => {
    expect(matchKVList(["com.docker.compose.project=shop", "com.docker.compose.oneoff=False"], labels)).toBe(true);
    expect(matchKVList(["com.docker.compose.project=shop", "com.docker.compose.oneoff=True"], labels)).toBe(false);
    expect(matchKVList(["com.docker.compose.project"], labels)).toBe(true);
    expect(matchKVList(["empty="], labels)).toBe(true);
    expect(matchKVList(["missing"], labels)).toBe(false);
    expect(matchKVList(undefined, {})).toBe(true);
    expect(matchKVList(["constructor"], {})).toBe(false);
  });

  it("label! excludes only when every label! value holds", () => {
    const f = new Map([["label!", ["com.docker.compose.project=shop"]]]);
    expect(matchPruneLabels(f, labels)).toBe(false);
    expect(matchPruneLabels(f, { other: "x" })).toBe(true);
  });

  it("names and ids match as patterns; bad patterns match nothing", () => {
    expect(matchPattern(["shop_"], "shop_back")).toBe(true);
    expect(matchPattern(["^back"], "shop_back")).toBe(false);
    expect(matchPattern(["("], "(")).toBe(true);
    expect(matchPattern(["("], "x")).toBe(false);
  });

  it("refuses unknown keys and bad booleans with dockerd's words", () => {
    expect(() => acceptFilters(new Map([["colour", ["red"]]]), ["label"])).toThrow("invalid filter 'colour'");
    expect(boolFilter(new Map([["dangling", ["1"]]]), "dangling")).toBe(true);
    expect(() => boolFilter(new Map([["dangling", ["maybe"]]]), "dangling")).toThrow(/must be "true"/);
  });

  it("reads until as dockerd's GetTimestamp does: durations, Unix times, RFC 3339", () => {
    const now = Date.parse("2026-01-02T03:04:05Z");
    expect(parseGoDuration("1h30m")).toBe(5_400_000);
    expect(parseGoDuration("1.5s")).toBe(1500);
    expect(parseGoDuration("10")).toBeNull();
    expect(parseTimestamp("24h", now)).toBe(now - 86_400_000);
    expect(parseTimestamp("1700000000", now)).toBe(1_700_000_000_000);
    expect(parseTimestamp("1700000000.5", now)).toBe(1_700_000_000_500);
    expect(parseTimestamp("0", now)).toBe(0);
    expect(parseTimestamp("2026-01-01T00:00:00Z", now)).toBe(Date.parse("2026-01-01T00:00:00Z"));
    expect(parseTimestamp("soon", now)).toBeNull();
    expect(() => untilFilter(new Map([["until", ["1h", "2h"]]]), now)).toThrow("more than one until filter specified");
  });
});
