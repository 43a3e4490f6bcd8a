import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addHostOverApi } from "../../fixtures/console-hosts";
import { createTestDatabase, type TestDatabase } from "../../fixtures/database";
import { launchBrowser, screenshot, signInThroughForm } from "../../fixtures/browser";
import { waitFor } from "../../fixtures/fleet-env";
import { startGateway, type Gateway } from "../../fixtures/gateway";
import { HttpClient } from "../../fixtures/http-client";
import { OpenApiClient } from "../../fixtures/openapi-client";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoCopy } from "../../fixtures/skopeo";
import { startSshHosts, type SshHostFleet, type SshTestHost } from "../../fixtures/ssh-hosts";
import { buildToolsImage } from "../../fixtures/test-images";

// The stats collector against a real gateway process and a real SSH test host
// running our agent: a container that burns a CPU and holds 32 MiB gets
// minute rows with plausible values, so does the host; the history (tRPC and
// REST) answers them oldest first; rows older than 24 h are pruned; and the
// history is refused without the permission on the host.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };
const MiB = 1024 * 1024;

interface Point {
  at: string | Date;
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number | null;
  netRxBytes: number;
}

describe("stats history on a real SSH host", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let hosts: SshHostFleet;
  let host: SshTestHost;
  let registry: TestRegistry;
  let work: string;
  let owner: HttpClient;
  let api: OpenApiClient;
  let hostId: string;
  let containerId: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-stats-"));
    database = await createTestDatabase("stats");
    hosts = await startSshHosts(1);
    host = hosts.hosts[0]!;
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    const built = await buildToolsImage(path.join(work, "tools"));
    await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${registry.host}/test/tools:latest`);
    gateway = await startGateway({ DATABASE_URL: database.url, BERTH_ADMIN_EMAIL: OWNER.email, BERTH_ADMIN_PASSWORD: OWNER.password, BERTH_STATS_INTERVAL_MS: "1000" });
    owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    hostId = await addHostOverApi(owner, host, {
      name: "stats-host",
      privateKey: hosts.clientKey.privateKey,
      insecureRegistries: [registry.hostFor(host.gatewayAddress)],
      installPackages: false,
      logs: () => gateway.logs(),
    });
    const token = await owner.trpc<{ secret: string }>("tokens.create", { name: "stats" });
    expect(token.error, JSON.stringify(token.error)).toBeUndefined();
    api = await OpenApiClient.load(gateway.url, token.data!.secret);

    // Holds 32 MiB in the shell's memory, then keeps one CPU busy.
    const deployed = await api.call<{ containerId: string }>("deployContainer", {
      path: { hostId },
      body: {
        image: `${registry.hostFor(host.gatewayAddress)}/test/tools:latest`,
        name: "burner",
        command: ["sh", "-c", "x=$(head -c 33554432 /dev/zero | tr '\\0' a); yes > /dev/null"],
        memoryBytes: 128 * MiB,
      },
    });
    expect(deployed.status, deployed.text).toBe(201);
    containerId = deployed.body.containerId;
  });

  afterAll(async () => {
    await gateway?.stop();
    await hosts?.cleanup();
    await registry?.stop();
    await database?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("writes minute rows for a busy container and for the host, with plausible values", async () => {
    const row = await waitFor(
      () => database.db.statSample.findFirst({ where: { hostId, containerId }, orderBy: { at: "desc" } }),
      (r) => r !== null && r.cpuPercent > 10 && r.memoryBytes > BigInt(32 * MiB),
      60_000,
    );
    expect(row, gateway.logs()).not.toBeNull();
    expect(row!.containerName).toBe("burner");
    expect(row!.at.getTime() % 60_000).toBe(0);
    // One busy process: about one CPU (100 %), never wildly more on this machine's cores.
    expect(row!.cpuPercent).toBeLessThanOrEqual(100 * os.availableParallelism() + 5);
    expect(row!.memoryBytes).toBeLessThan(BigInt(128 * MiB));
    expect(row!.memoryLimitBytes).toBe(BigInt(128 * MiB));

    const hostRow = await waitFor(
      () => database.db.statSample.findFirst({ where: { hostId, containerId: "" }, orderBy: { at: "desc" } }),
      (r) => r !== null && r.cpuPercent > 0,
      30_000,
    );
    expect(hostRow!.at.getTime() % 60_000).toBe(0);
    expect(hostRow!.cpuPercent).toBeLessThanOrEqual(100);
    expect(hostRow!.memoryLimitBytes).toBe(BigInt(os.totalmem()));
    expect(hostRow!.memoryBytes > 0n && hostRow!.memoryBytes < hostRow!.memoryLimitBytes!).toBe(true);
    // One row per minute: the samples within a minute replace each other.
    const rows = await database.db.statSample.findMany({ where: { hostId, containerId } });
    expect(new Set(rows.map((r) => r.at.getTime())).size).toBe(rows.length);
  });

  it("answers the history oldest first, over tRPC and REST, by id, prefix or name", async () => {
    const now = Date.now();
    const minute = (ago: number) => new Date(Math.floor(now / 60_000) * 60_000 - ago * 60_000);
    const base = { hostId, containerId, containerName: "burner", memoryBytes: 1n, netRxBytes: 0n, netTxBytes: 0n, blockReadBytes: 0n, blockWriteBytes: 0n };
    await database.db.statSample.createMany({
      data: [
        { ...base, at: minute(90), cpuPercent: 12.5, memoryLimitBytes: BigInt(128 * MiB) },
        { ...base, at: minute(30), cpuPercent: 42, memoryLimitBytes: null },
        // Outside a 1-hour window, inside 24 hours.
        { ...base, at: minute(23 * 60), cpuPercent: 1 },
      ],
    });

    const res = await owner.trpc<{ points: Point[]; resolutionSeconds: number }>("stats.history", { hostId, containerId, hours: 24 }, "query");
    expect(res.error, JSON.stringify(res.error)).toBeUndefined();
    expect(res.data!.resolutionSeconds).toBe(60);
    const times = res.data!.points.map((p) => new Date(p.at).getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times[0]).toBe(minute(23 * 60).getTime());
    expect(res.data!.points.slice(0, 3).map((p) => p.cpuPercent)).toEqual([1, 12.5, 42]);
    expect(res.data!.points.at(-1)!.memoryBytes).toBeGreaterThan(32 * MiB);

    const lastHour = await api.call<{ points: Point[] }>("containerStatsHistory", { path: { hostId, containerId: "burner" }, query: { hours: 1 } });
    expect(lastHour.status, lastHour.text).toBe(200);
    expect(lastHour.schemaErrors).toEqual([]);
    expect(lastHour.body.points[0]!.cpuPercent).toBe(42);
    expect(lastHour.body.points.every((p) => new Date(p.at).getTime() >= now - 3_600_000 - 60_000)).toBe(true);

    const byPrefix = await api.call<{ points: Point[] }>("containerStatsHistory", { path: { hostId, containerId: containerId.slice(0, 12) }, query: { hours: 1 } });
    expect(byPrefix.body.points.length).toBe(lastHour.body.points.length);

    const hostSeries = await api.call<{ points: Point[] }>("hostStatsHistory", { path: { hostId }, query: {} });
    expect(hostSeries.status, hostSeries.text).toBe(200);
    expect(hostSeries.schemaErrors).toEqual([]);
    expect(hostSeries.body.points.length).toBeGreaterThan(0);
    expect(hostSeries.body.points.at(-1)!.memoryLimitBytes).toBe(os.totalmem());

    const bad = await api.call("containerStatsHistory", { path: { hostId, containerId: "burner" }, query: { hours: 48 } });
    expect(bad.status).toBe(400);
  });

  it("prunes rows older than 24 hours and keeps the rest", async () => {
    const now = Date.now();
    const at = (msAgo: number) => new Date(Math.floor((now - msAgo) / 60_000) * 60_000);
    const base = { hostId, containerName: "gone", cpuPercent: 5, memoryBytes: 1n };
    await database.db.statSample.createMany({
      data: [
        ...Array.from({ length: 50 }, (_, i) => ({ ...base, containerId: "old", at: at(25 * 3_600_000 + i * 60_000) })),
        { ...base, containerId: "old", at: at(24 * 3_600_000 + 120_000) },
        { ...base, containerId: "recent", at: at(22 * 3_600_000) },
      ],
    });
    const left = await waitFor(
      () => database.db.statSample.count({ where: { hostId, containerId: "old" } }),
      (n) => n === 0,
      30_000,
    );
    expect(left).toBe(0);
    expect(await database.db.statSample.count({ where: { hostId, containerId: "recent" } })).toBe(1);
    expect(await database.db.statSample.count({ where: { at: { lt: new Date(Date.now() - 24 * 3_600_000) } } })).toBe(0);
  });

  it("refuses the history without the permission on the host, and audits the refusal", async () => {
    const role = await database.db.role.create({ data: { name: "Host reader", permissions: ["hosts.read"] } });
    const email = "host-reader@example.test";
    const password = "host-reader-password-123";
    const created = await owner.trpc("users.create", { email, password, roleId: role.id });
    expect(created.error, JSON.stringify(created.error)).toBeUndefined();
    const reader = new HttpClient(gateway.url);
    expect((await reader.signIn(email, password)).ok).toBe(true);

    const hostOnly = await reader.trpc<{ points: Point[] }>("stats.history", { hostId, hours: 1 }, "query");
    expect(hostOnly.error, JSON.stringify(hostOnly.error)).toBeUndefined();
    expect(hostOnly.data!.points.length).toBeGreaterThan(0);

    const refused = await reader.trpc("stats.history", { hostId, containerId, hours: 1 }, "query");
    expect(refused.error?.code).toBe("FORBIDDEN");
    expect(refused.error?.message).toContain("containers.read");
    const unknownHost = await reader.trpc("stats.history", { hostId: "no-such-host", hours: 1 }, "query");
    expect(unknownHost.error?.code).toBe("FORBIDDEN");

    const nobody = new HttpClient(gateway.url);
    const anonymous = await nobody.trpc("stats.history", { hostId, hours: 1 }, "query");
    expect(anonymous.error?.code).toBe("UNAUTHORIZED");

    const denials = await database.db.auditEvent.findMany({ where: { action: "stats.history", outcome: "denied" } });
    expect(denials.some((d) => d.hostId === hostId && d.actorLabel?.includes(email))).toBe(true);
  });
  it("shows the last 24 hours as charts on the container and host pages, with hover values and an empty state", async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await signInThroughForm(page, gateway.url, OWNER.email, OWNER.password);

      await page.goto(`${gateway.url}/containers/${hostId}/${containerId}`);
      const history = page.getByTestId("stats-history");
      await history.locator("[data-testid=history-chart]").first().waitFor({ timeout: 30_000 });
      expect(Number(await history.getAttribute("data-points"))).toBeGreaterThan(0);
      const charts = history.getByTestId("history-chart");
      expect(await charts.evaluateAll((els) => els.map((e) => e.getAttribute("data-title")))).toEqual(["CPU (100 % = one CPU)", "Memory (of 128 MiB)", "Network"]);
      // Axis labels: the top value and the window's ends.
      expect(await charts.first().locator("svg text").allTextContents()).toContain("0.0 %");
      // Hovering the right end of the CPU chart shows the latest minute's value.
      const svg = charts.first().locator("svg");
      await svg.scrollIntoViewIfNeeded();
      const box = (await svg.boundingBox())!;
      await svg.hover({ position: { x: box.width - 2, y: box.height / 2 } });
      await expect.poll(() => charts.first().getByTestId("history-hover").textContent()).toMatch(/CPU \d+(\.\d)? %/);
      await screenshot(page, "stats-history-container");

      await page.goto(`${gateway.url}/hosts/${hostId}`);
      await page.getByTestId("stats-history").locator("[data-testid=history-chart]").first().waitFor({ timeout: 30_000 });
      expect(await page.getByTestId("history-chart").first().getAttribute("data-title")).toBe("CPU (% of all CPUs)");

      await page.goto(`${gateway.url}/containers/${hostId}/never-ran`);
      await page.getByTestId("stats-history-empty").waitFor({ timeout: 30_000 });
      expect(await page.getByTestId("stats-history-empty").textContent()).toContain("the first point appears within a minute");
    } finally {
      await browser.close();
    }
  });
});
