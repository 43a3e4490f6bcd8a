import { describe, expect, it } from "vitest";
import { csvCell, csvHeader, formatRow } from "../../server/audit/export";
import type { AuditRow } from "../../server/audit/query";
import { hashPassword, verifyPassword } from "../../server/auth/password";
import { visibleNav } from "../../components/shell/nav-items";
import { EnvError, parseEnv } from "../../server/env";

describe("environment", () => {
  it("has safe defaults with nothing set", () => {
    const env = parseEnv({});
    expect(env).toMatchObject({ HOST: "127.0.0.1", PORT: 3000, BERTH_DATA_DIR: ".data", BERTH_TRUST_PROXY: false });
    expect(env.DATABASE_URL).toBeUndefined();
  });
  it("names each bad variable", () => {
    expect(() => parseEnv({ PORT: "70000", AUTH_SECRET: "short" })).toThrow(EnvError);
    try {
      parseEnv({ PORT: "70000", AUTH_SECRET: "short", BERTH_ADMIN_EMAIL: "nope" });
    } catch (e) {
      expect((e as Error).message).toMatch(/PORT:/);
      expect((e as Error).message).toMatch(/AUTH_SECRET: must be at least 32 characters/);
      expect((e as Error).message).toMatch(/BERTH_ADMIN_EMAIL:/);
    }
  });
  it("sizes the Docker-API proxy's per-token limit for docker-compose by default, and refuses a limit of zero", () => {
    expect(parseEnv({})).toMatchObject({ BERTH_DOCKER_API_RATE: 100, BERTH_DOCKER_API_BURST: 600 });
    expect(parseEnv({ BERTH_DOCKER_API_RATE: "5", BERTH_DOCKER_API_BURST: "10" })).toMatchObject({ BERTH_DOCKER_API_RATE: 5, BERTH_DOCKER_API_BURST: 10 });
    expect(() => parseEnv({ BERTH_DOCKER_API_RATE: "0" })).toThrow(/BERTH_DOCKER_API_RATE:/);
    expect(() => parseEnv({ BERTH_DOCKER_API_BURST: "lots" })).toThrow(/BERTH_DOCKER_API_BURST:/);
  });
  it("treats empty strings as unset", () => {
    expect(parseEnv({ DATABASE_URL: "", BERTH_ADMIN_EMAIL: " ", BERTH_ADMIN_PASSWORD: "" }).DATABASE_URL).toBeUndefined();
  });
});

describe("CSV export encoding", () => {
  const row: AuditRow = {
    id: 7n,
    createdAt: new Date("2026-01-02T03:04:05.006Z"),
    actorType: "user",
    actorId: "u",
    actorLabel: 'Quote "me", please',
    sourceIp: "127.0.0.1",
    userAgent: null,
    action: "users.create",
    targetType: null,
    targetId: null,
    hostId: null,
    params: { a: "b,c" },
    outcome: "success",
    errorMessage: "=HYPERLINK(\"x\")",
    requestId: "r",
    prevHash: "0".repeat(64),
    hash: "a".repeat(64),
  };
  it("quotes commas and quotes, and defuses spreadsheet formulas", () => {
    const line = formatRow(row, "csv");
    expect(line.endsWith("\r\n")).toBe(true);
    expect(line).toContain('"Quote ""me"", please"');
    expect(line).toContain('"{""a"":""b,c""}"');
    expect(line).toContain(`"'=HYPERLINK(""x"")"`);
    expect(line.split(",")[0]).toBe("7");
    expect(csvHeader().split(",")).toHaveLength(17);
  });
  it("defuses a formula wherever a spreadsheet could start a cell, whatever its list separator", () => {
    expect(csvCell("a;=1+2")).toBe(`"a;'=1+2"`);
    expect(csvCell("a; =1")).toBe(`"a; '=1"`);
    expect(csvCell('a;"=1"')).toBe(`"a;""'=1"""`);
    expect(csvCell("x\t@SUM(1)")).toBe(`"x\t'@SUM(1)"`);
    expect(csvCell("\t=x")).toBe(`"'\t'=x"`);
    expect(csvCell("a|+1")).toBe(`"a|'+1"`);
    expect(csvCell("line\n-2")).toBe(`"line\n'-2"`);
    expect(csvCell("\uFF1D1+1")).toBe("'\uFF1D1+1");
    // Cells with nothing to defuse or quote stay as they are.
    expect(csvCell("users.create")).toBe("users.create");
    expect(csvCell("2026-01-02T03:04:05.006Z")).toBe("2026-01-02T03:04:05.006Z");
    expect(csvCell("a-b=c")).toBe("a-b=c");
  });
  it("NDJSON keeps exact values, one event per line", () => {
    const parsed = JSON.parse(formatRow(row, "ndjson"));
    expect(parsed).toMatchObject({ id: "7", createdAt: "2026-01-02T03:04:05.006Z", errorMessage: '=HYPERLINK("x")', params: { a: "b,c" } });
  });
});

describe("passwords and navigation", () => {
  it("scrypt hashes verify only the right password", async () => {
    const h = await hashPassword("correct horse battery");
    expect(h).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(await verifyPassword("correct horse battery", h)).toBe(true);
    expect(await verifyPassword("correct horse batterY", h)).toBe(false);
    expect(await verifyPassword("anything", null)).toBe(false);
    expect(await verifyPassword("anything", "garbage")).toBe(false);
  });
  it("hides Users & roles and Audit from a Viewer", () => {
    const labels = visibleNav(["hosts.read", "containers.read", "images.read", "containers.logs"]).map((i) => i.label);
    expect(labels).toEqual(["Dashboard", "Hosts", "Containers", "Deployments", "Rollouts", "Images", "Networks", "Volumes", "Policy", "Settings"]);
    expect(labels).not.toContain("Deploy");
    expect(visibleNav(["roles.manage"]).map((i) => i.label)).toContain("Users & roles");
  });
});
