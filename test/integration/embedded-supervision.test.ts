import { chmod, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../fixtures/fleet-env";
import { startGateway, type Gateway } from "../fixtures/gateway";
import { HttpClient } from "../fixtures/http-client";

// The embedded Postgres is supervised: when its postmaster is killed, the
// gateway answers /api/health with 503 while the database is down, starts it
// again, and requests work again by themselves. Real gateway (npm start), its
// own embedded Postgres.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };

describe("embedded Postgres supervision (real gateway)", () => {
  let dataDir: string;
  let gateway: Gateway;
  let owner: HttpClient;

  const health = async () => {
    const res = await fetch(`${gateway.url}/api/health`).catch(() => null);
    return res ? { status: res.status, body: (await res.json().catch(() => null)) as { ok: boolean } | null } : { status: 0, body: null };
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "berth-supervise-"));
    gateway = await startGateway({ BERTH_DATA_DIR: dataDir, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password });
    owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
  });

  afterAll(async () => {
    await gateway?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("kill -9 of the postmaster: /api/health answers 503 while it is down, then 200, and a signed-in query works again", async () => {
    expect((await health()).status).toBe(200);
    const pgdata = path.join(dataDir, "postgres");
    const pid = Number.parseInt((await readFile(path.join(pgdata, "postmaster.pid"), "utf8")).split("\n")[0]!, 10);
    const mode = (await stat(pgdata)).mode & 0o777;

    // Its data directory made unreadable first, so the restarts fail for as long as the test needs to see the 503.
    await chmod(pgdata, 0o000);
    try {
      process.kill(pid, "SIGKILL");
      const down = await waitFor(health, (h) => h.status === 503);
      expect(down).toEqual({ status: 503, body: { ok: false, database: "unavailable" } });
      // Still down, still answered (not 500), while the restarts keep failing.
      expect((await health()).status).toBe(503);
    } finally {
      await chmod(pgdata, mode);
    }

    // Bounded: the restart backoff is at most 5 s a step.
    const up = await waitFor(health, (h) => h.status === 200, 60_000);
    expect(up).toEqual({ status: 200, body: { ok: true, database: "up" } });
    const me = await owner.trpc<{ email: string }>("me.get", undefined, "query");
    expect(me.data?.email).toBe(OWNER.email);
    const created = await owner.trpc("roles.create", { name: "After restart", permissions: ["hosts.read"] });
    expect(created.error).toBeUndefined();
    expect(gateway.logs()).toMatch(/embedded Postgres exited unexpectedly/);
    expect(gateway.logs()).toMatch(/embedded Postgres is running again/);
    const newPid = Number.parseInt((await readFile(path.join(pgdata, "postmaster.pid"), "utf8")).split("\n")[0]!, 10);
    expect(newPid).not.toBe(pid);
  });
});
