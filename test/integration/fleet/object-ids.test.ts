import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../fixtures/database";
import { waitFor } from "../../fixtures/fleet-env";
import { startGateway, type Gateway } from "../../fixtures/gateway";
import { HttpClient } from "../../fixtures/http-client";
import { localAgentSettings, type LocalAgent } from "../../fixtures/local-agent";

// Container, image, network and volume ids and names are validated at the
// gateway's input (issue 15 item 14): "." or ".." reached the agent as a path
// segment, which resolved it to another endpoint (GET /containers/./json is
// GET /containers/json, the list), and the console answered 500. Against the
// real gateway over HTTP with this machine's agent as the host.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };

describe("ids and names of Docker objects are checked at the gateway's input (real gateway, real agent)", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let agent: LocalAgent;
  let owner: HttpClient;
  let hostId: string;

  beforeAll(async () => {
    database = await createTestDatabase("objids");
    agent = await localAgentSettings();
    gateway = await startGateway({ DATABASE_URL: database.url, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password });
    owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    const added = await owner.trpc<{ id: string }>("hosts.addLocal", { name: "this-machine", agent: agent.settings });
    expect(added.error, JSON.stringify(added.error)).toBeUndefined();
    hostId = added.data!.id;
    const host = await waitFor(
      async () => (await owner.trpc<{ status: string; agent: string }>("hosts.get", { hostId }, "query")).data,
      (h) => h?.status === "connected" && h.agent === "ok",
      60_000,
    );
    expect(host, gateway.logs()).toMatchObject({ status: "connected", agent: "ok" });
  });

  afterAll(async () => {
    await gateway?.stop();
    await agent?.teardown();
    await database?.close();
  });

  it("'.', '..' and other ids that aren't Docker's syntax are refused with 400 naming the field, for every procedure that takes one", async () => {
    const calls: [string, Record<string, unknown>, "query" | "mutation"][] = [];
    for (const bad of [".", "..", "../json", "a/b", ""]) {
      calls.push(
        ["containers.inspect", { hostId, containerId: bad }, "query"],
        ["containers.logs", { hostId, containerId: bad }, "query"],
        ["containers.action", { hostId, containerId: bad, action: "start" }, "mutation"],
        ["containers.bulk", { action: "stop", items: [{ hostId, containerId: bad }] }, "mutation"],
        ["networks.remove", { hostId, network: bad }, "mutation"],
        ["volumes.remove", { hostId, volume: bad }, "mutation"],
      );
    }
    // An image name may have slashes (team/app); dot segments it may not.
    for (const bad of [".", "..", "../json", "team/../app", ""]) {
      calls.push(
        ["images.remove", { hostId, image: bad }, "mutation"],
        ["images.tag", { hostId, image: bad, target: "localhost/renamed:1" }, "mutation"],
      );
    }
    for (const [procedure, input, type] of calls) {
      const res = await owner.trpc(procedure, input, type);
      const what = `${procedure} ${JSON.stringify(input)}: ${JSON.stringify(res.error)}`;
      expect(res.status, what).toBe(400);
      expect(res.error?.code, what).toBe("BAD_REQUEST");
    }
    const inspect = await owner.trpc("containers.inspect", { hostId, containerId: "." }, "query");
    expect(inspect.error!.message).toMatch(/containerId/);
    expect(inspect.error!.message).toMatch(/letters, digits/);
  });

  it("well-formed ids and names still reach the agent: one that names nothing is 404", async () => {
    expect((await owner.trpc("containers.inspect", { hostId, containerId: "no-such-container" }, "query")).error?.code).toBe("NOT_FOUND");
    expect((await owner.trpc("networks.remove", { hostId, network: "no-such-network" })).error?.code).toBe("NOT_FOUND");
    expect((await owner.trpc("volumes.remove", { hostId, volume: "no-such-volume" })).error?.code).toBe("NOT_FOUND");
    expect((await owner.trpc("images.remove", { hostId, image: "sha256:" + "0".repeat(64) })).error?.code).toBe("NOT_FOUND");
    const listed = await owner.trpc<unknown[]>("networks.list", { hostId }, "query");
    expect(listed.error).toBeUndefined();
  });
});
