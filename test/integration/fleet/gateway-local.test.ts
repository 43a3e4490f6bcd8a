import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../fixtures/database";
import { waitFor } from "../../fixtures/fleet-env";
import { startGateway, type Gateway } from "../../fixtures/gateway";
import { HttpClient } from "../../fixtures/http-client";
import { localAgentSettings, type LocalAgent } from "../../fixtures/local-agent";

const OWNER = { email: "owner@example.test", password: "owner-password-123" };

/** GET /_ping on a unix socket: "OK", or null while nothing answers. */
function ping(socket: string): Promise<string | null> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: socket, path: "/_ping", timeout: 2_000 }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve(body));
    });
    req.on("error", () => resolve(null));
    req.on("timeout", () => {
      req.destroy();
      resolve(null);
    });
  });
}

// The real gateway process: "Add this machine" gives a working host, and the
// gateway brings its agent back at boot, before anyone opens the console.
describe("the gateway with this machine as a host", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let dataDir: string;
  let local: LocalAgent;
  let agent: Record<string, string>;

  const start = async () => {
    gateway = await startGateway({
      DATABASE_URL: database.url,
      BERTH_ADMIN_EMAIL: OWNER.email,
      BERTH_ADMIN_PASSWORD: OWNER.password,
      BERTH_DATA_DIR: dataDir,
    });
  };

  beforeAll(async () => {
    database = await createTestDatabase("gwlocal");
    dataDir = await mkdtemp(path.join(os.tmpdir(), "berth-gw-local-"));
    local = await localAgentSettings();
    agent = local.settings;
    await start();
  });

  afterAll(async () => {
    await gateway?.stop();
    await database?.close();
    await local?.teardown();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("adds this machine over HTTP, runs its agent, stops it with the gateway and starts it again at boot", async () => {
    const owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    const added = await owner.trpc<{ id: string; transport: string }>("hosts.addLocal", { name: "this-machine", agent });
    expect(added.error).toBeUndefined();
    expect(added.data!.transport).toBe("local");
    const hostId = added.data!.id;
    const connected = await waitFor(
      async () => (await owner.trpc<{ status: string; agent: string; credential?: unknown }>("hosts.get", { hostId }, "query")).data,
      (h) => h?.status === "connected" && h.agent === "ok",
    );
    expect(connected).toMatchObject({ status: "connected", agent: "ok" });
    expect(await ping(agent.socket!)).toBe("OK");

    // Stopping the gateway stops the agent it runs…
    await gateway.stop();
    expect(await ping(agent.socket!)).toBeNull();
    // …and starting it again starts the agent before any request reaches the console.
    await start();
    expect(await waitFor(() => ping(agent.socket!), (v) => v === "OK")).toBe("OK");
  });
});
