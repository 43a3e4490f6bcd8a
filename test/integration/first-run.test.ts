import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type Gateway } from "../fixtures/gateway";

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, "../..");

function postmasterPid(dataDir: string): number | null {
  const file = path.join(dataDir, "postgres", "postmaster.pid");
  if (!existsSync(file)) return null;
  return Number(readFileSync(file, "utf8").split("\n")[0]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// `npm start` with no configuration: embedded Postgres in BERTH_DATA_DIR, and a one-time set-up link.
describe("first run with no configuration (embedded Postgres)", () => {
  let dataDir: string;
  let gateway: Gateway;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "berth-first-run-"));
    gateway = await startGateway({ BERTH_DATA_DIR: dataDir });
  });
  afterAll(async () => gateway?.stop());

  it("prints a one-time set-up link once, and the sign-in page says how to become the first owner", async () => {
    const links = gateway.logs().match(/\/setup\?token=[\w-]+/g) ?? [];
    expect(links).toHaveLength(1);
    const signIn = await (await fetch(`${gateway.url}/sign-in`)).text();
    expect(signIn).toContain("Berth has no owner yet");
    expect(signIn).toContain("BERTH_ADMIN_EMAIL");

    const setup = await (await fetch(`${gateway.url}${links[0]}`)).text();
    expect(setup).toContain("Create owner");
    const forged = await (await fetch(`${gateway.url}/setup?token=forged-token`)).text();
    expect(forged).toContain("invalid, already used or expired");
    expect(forged).not.toContain("Create owner");
  });

  it("keeps its database in BERTH_DATA_DIR, with secrets in 0600 files", async () => {
    expect(existsSync(path.join(dataDir, "postgres", "PG_VERSION"))).toBe(true);
    for (const f of ["postgres-password", "auth-secret"]) {
      const mode = (await import("node:fs")).statSync(path.join(dataDir, f)).mode & 0o777;
      expect(mode, f).toBe(0o600);
    }
  });

  it("command-line tasks use the running gateway's database instead of starting a second one", async () => {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "scripts/audit-verify.ts"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, BERTH_DATA_DIR: dataDir } as unknown as NodeJS.ProcessEnv,
    });
    expect(stdout).toMatch(/audit chain OK: \d+ events verified/);
    expect((await fetch(`${gateway.url}/api/health`)).status).toBe(200);
  });

  it("recovers from a Postgres orphaned by a killed run", async () => {
    const orphan = postmasterPid(dataDir)!;
    expect(alive(orphan)).toBe(true);
    gateway.process.kill("SIGKILL");
    await new Promise((r) => gateway.process.once("exit", r));
    expect(alive(orphan)).toBe(true); // Postgres outlived its parent.

    gateway = await startGateway({ BERTH_DATA_DIR: dataDir });
    expect(gateway.logs()).toContain("stopping an orphaned Postgres");
    expect(alive(orphan)).toBe(false);
    expect((await fetch(`${gateway.url}/sign-in`)).status).toBe(200);
    // Still no owner, so a fresh link replaces the old one.
    expect(gateway.logs().match(/\/setup\?token=[\w-]+/g)).toHaveLength(1);
  });

  it("stops Postgres cleanly on SIGTERM", async () => {
    const pid = postmasterPid(dataDir)!;
    await gateway.stop();
    expect(gateway.process.exitCode).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(postmasterPid(dataDir)).toBeNull();
  });

  it("refuses bad configuration with the variable's name", async () => {
    const start = (env: Record<string, string>): Promise<{ code: number; stderr: string }> =>
      run(process.execPath, ["--import", "tsx", "server/main.ts"], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, BERTH_DATA_DIR: dataDir, ...env } as unknown as NodeJS.ProcessEnv,
      }).then(
        (r) => ({ code: 0, stderr: r.stderr }),
        (e: { code: number; stderr: string }) => e,
      );
    const badPort = await start({ PORT: "not-a-port", DATABASE_URL: "mysql://nope" });
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toMatch(/PORT: .*expected number/);
    expect(badPort.stderr).toContain("DATABASE_URL: must be a postgres:// or postgresql:// URL");
    const half = await start({ BERTH_ADMIN_EMAIL: "owner@example.test" });
    expect(half.code).toBe(2);
    expect(half.stderr).toContain("BERTH_ADMIN_PASSWORD: BERTH_ADMIN_EMAIL and BERTH_ADMIN_PASSWORD must be set together");
  });
});
