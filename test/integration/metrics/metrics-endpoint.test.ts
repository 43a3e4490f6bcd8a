import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addHostOverApi } from "../../fixtures/console-hosts";
import { createTestDatabase, type TestDatabase } from "../../fixtures/database";
import { startGateway, type Gateway } from "../../fixtures/gateway";
import { HttpClient } from "../../fixtures/http-client";
import { family, parsePrometheus, type PromFamily, rawSamples, samples } from "../../fixtures/prometheus-text";
import { startRegistry, type TestRegistry } from "../../fixtures/registry";
import { skopeoCopy } from "../../fixtures/skopeo";
import { startSshHosts, type SshHostFleet, type SshTestHost } from "../../fixtures/ssh-hosts";
import { buildToolsImage } from "../../fixtures/test-images";

// GET /metrics on a real gateway process, with a real SSH test host running
// our agent and a few containers deployed through the REST API. Scrapes are
// parsed with a Prometheus text-format parser; refusals (no token, a token
// without metrics.read, too many scrapes) are checked with their audit records.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };
const HOST_NAME = "metrics-host";
const BURST = 10;

interface CreatedToken {
  token: { id: string; name: string };
  secret: string;
}

describe("GET /metrics", () => {
  let database: TestDatabase;
  let gateway: Gateway;
  let hosts: SshHostFleet;
  let host: SshTestHost;
  let registry: TestRegistry;
  let work: string;
  let owner: HttpClient;
  let hostId: string;
  let scraper: CreatedToken;
  let ownerToken: CreatedToken;
  let image: string;
  let jobId: string;

  const scrape = (secret: string | null, init: RequestInit = {}) =>
    fetch(`${gateway.url}/metrics`, { ...init, headers: { ...(secret ? { authorization: `Bearer ${secret}` } : {}), ...(init.headers as Record<string, string>) } });

  async function createToken(name: string, permissions: string[]): Promise<CreatedToken> {
    const res = await owner.trpc<CreatedToken>("tokens.create", { name, permissions });
    expect(res.error, JSON.stringify(res.error)).toBeUndefined();
    return res.data!;
  }

  /** Scrapes once a second (under the token's rate) until `ok`; at most 40 tries. Bounded. */
  async function scrapeUntil(ok: (families: PromFamily[], text: string) => boolean): Promise<{ families: PromFamily[]; text: string }> {
    let last = { families: [] as PromFamily[], text: "" };
    for (let i = 0; i < 40; i++) {
      const res = await scrape(scraper.secret);
      expect(res.status).toBe(200);
      const text = await res.text();
      last = { families: parsePrometheus(text), text };
      if (ok(last.families, text)) return last;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    return last;
  }

  async function deploy(body: Record<string, unknown>): Promise<string> {
    const res = await fetch(`${gateway.url}/api/v1/hosts/${hostId}/containers`, {
      method: "POST",
      headers: { authorization: `Bearer ${ownerToken.secret}`, "content-type": "application/json" },
      body: JSON.stringify({ image, ...body }),
    });
    const text = await res.text();
    expect(res.status, text).toBe(201);
    return (JSON.parse(text) as { containerId: string }).containerId;
  }

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-metrics-"));
    database = await createTestDatabase("metrics");
    hosts = await startSshHosts(1);
    host = hosts.hosts[0]!;
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    const built = await buildToolsImage(path.join(work, "tools"));
    await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${registry.host}/test/tools:latest`);
    image = `${registry.hostFor(host.gatewayAddress)}/test/tools:latest`;

    gateway = await startGateway({
      DATABASE_URL: database.url,
      BERTH_ADMIN_EMAIL: OWNER.email,
      BERTH_ADMIN_PASSWORD: OWNER.password,
      BERTH_METRICS_RATE: "1",
      BERTH_METRICS_BURST: String(BURST),
      BERTH_STATS_INTERVAL_MS: "1000",
    });
    owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    hostId = await addHostOverApi(owner, host, {
      name: HOST_NAME,
      privateKey: hosts.clientKey.privateKey,
      insecureRegistries: [registry.hostFor(host.gatewayAddress)],
      installPackages: false,
      logs: () => gateway.logs(),
    });
    scraper = await createToken("prometheus", ["metrics.read"]);
    ownerToken = await createToken("automation", []);

    await deploy({ name: "metrics-web", command: ["sleep", "600"], memoryBytes: 64 * 1024 * 1024 });
    await deploy({ name: "metrics-api", command: ["sleep", "600"], labels: { "com.docker.compose.project": "shop", "com.docker.compose.service": "api" } });
    jobId = await deploy({ name: "metrics-job", command: ["sleep", "600"] });
    // Stopped: an exited container is listed (running 0), without usage series.
    const stopped = await fetch(`${gateway.url}/api/v1/hosts/${hostId}/containers/${jobId}/stop`, { method: "POST", headers: { authorization: `Bearer ${ownerToken.secret}` } });
    expect(stopped.status, await stopped.text()).toBe(200);
  });

  afterAll(async () => {
    await gateway?.stop();
    await hosts?.cleanup();
    await registry?.stop();
    await database?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("answers the Prometheus text format: the host, its containers by name, the gateway's own series, HELP and TYPE for each family", async () => {
    const { families, text } = await scrapeUntil(
      (f) =>
        samples(f, "berth_container_running", { host: HOST_NAME, name: "metrics-job" })[0]?.value === "0" &&
        samples(f, "berth_container_running", { host: HOST_NAME, name: "metrics-web" })[0]?.value === "1" &&
        samples(f, "berth_container_running", { host: HOST_NAME, name: "metrics-api" })[0]?.value === "1",
    );
    const res = await scrape(scraper.secret);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-store");
    // This scrape's text holds the earlier scrapes' durations (a request is measured once answered).
    const later = await res.text();

    // Every family the parser found is announced with HELP and TYPE.
    expect(families.length).toBeGreaterThan(20);
    for (const f of families) {
      expect(text).toContain(`# HELP ${f.name} `);
      expect(text).toContain(`# TYPE ${f.name} ${f.type.toLowerCase()}`);
    }

    // The host: up, reachable, connected, its agent's version, containers by state.
    expect(samples(families, "berth_host_up", { host: HOST_NAME })[0]!.value).toBe("1");
    expect(samples(families, "berth_host_reachable", { host: HOST_NAME })[0]!.value).toBe("1");
    expect(samples(families, "berth_host_connection_state", { host: HOST_NAME, state: "connected" })[0]!.value).toBe("1");
    expect(samples(families, "berth_host_ssh_reconnects_total", { host: HOST_NAME })[0]!.value).toBe("0");
    const version = samples(families, "berth_host_agent_info", { host: HOST_NAME });
    expect(version).toHaveLength(1);
    expect(version[0]!.labels!.version).toMatch(/\S/);
    expect(samples(families, "berth_host_containers", { host: HOST_NAME, state: "running" })[0]!.value).toBe("2");
    expect(samples(families, "berth_host_containers", { host: HOST_NAME, state: "exited" })[0]!.value).toBe("1");

    // Containers: by host and name, with image, stack and service.
    const web = samples(families, "berth_container_running", { host: HOST_NAME, name: "metrics-web" });
    expect(web).toEqual([{ labels: { host: HOST_NAME, name: "metrics-web", image, stack: "", service: "" }, value: "1" }]);
    expect(samples(families, "berth_container_running", { name: "metrics-api" })[0]!.labels).toEqual({ host: HOST_NAME, name: "metrics-api", image, stack: "shop", service: "api" });
    expect(samples(families, "berth_container_health", { name: "metrics-web", health: "none" })[0]!.value).toBe("1");

    // The gateway's own: request durations by route pattern (no ids), tRPC by procedure, audit events, alerts, process.
    expect(family(families, "berth_http_request_duration_seconds")!.type).toBe("HISTOGRAM");
    expect(Number(rawSamples(later, "berth_http_request_duration_seconds_count", { method: "GET", route: "/metrics", status: "200" })[0]?.value)).toBeGreaterThan(0);
    expect(Number(rawSamples(later, "berth_http_request_duration_seconds_count", { method: "POST", route: "/api/v1/hosts/[hostId]/containers", status: "201" })[0]?.value)).toBe(3);
    expect(Number(rawSamples(later, "berth_http_request_duration_seconds_count", { method: "POST", route: "/api/v1/hosts/[hostId]/containers/[containerId]/[action]", status: "200" })[0]?.value)).toBe(1);
    const routes = new Set(rawSamples(later, "berth_http_request_duration_seconds_count").map((s) => s.labels.route));
    for (const route of routes) expect(route).not.toContain(hostId);
    expect(Number(rawSamples(later, "berth_trpc_procedure_duration_seconds_count", { procedure: "hosts.add", type: "mutation", result: "ok" })[0]?.value)).toBe(1);
    expect(Number(samples(families, "berth_audit_events_written_total", { outcome: "success" })[0]?.value)).toBeGreaterThan(0);
    expect(samples(families, "berth_alerts_firing").map((m) => m.labels!.severity)).toEqual(["info", "warning", "critical"]);
    expect(family(families, "process_resident_memory_bytes")).toBeDefined();
  });

  it("usage from the stats collector's latest samples: CPU, memory and its limit, network, block I/O, restarts, OOM kills", async () => {
    const web = { host: HOST_NAME, name: "metrics-web" };
    const { families } = await scrapeUntil((f) => samples(f, "berth_container_memory_limit_bytes", web).length === 1);
    expect(samples(families, "berth_container_memory_limit_bytes", web)[0]!.value).toBe(String(64 * 1024 * 1024));
    expect(Number(samples(families, "berth_container_memory_usage_bytes", web)[0]!.value)).toBeGreaterThan(0);
    for (const name of ["berth_container_cpu_seconds_total", "berth_container_network_receive_bytes_total", "berth_container_network_transmit_bytes_total", "berth_container_block_read_bytes_total", "berth_container_block_write_bytes_total", "berth_container_restarts_total", "berth_container_oom_kills_total"]) {
      const found = samples(families, name, web);
      expect(found, name).toHaveLength(1);
      expect(Number(found[0]!.value), name).toBeGreaterThanOrEqual(0);
      expect(family(families, name)!.type, name).toBe("COUNTER");
    }
    // No limit set: no limit series; the stopped container has no usage series.
    expect(samples(families, "berth_container_memory_limit_bytes", { name: "metrics-api" })).toEqual([]);
    expect(samples(families, "berth_container_cpu_seconds_total", { name: "metrics-api" })).toHaveLength(1);
    expect(samples(families, "berth_container_cpu_seconds_total", { name: "metrics-job" })).toEqual([]);
    // The host's own sample.
    expect(Number(samples(families, "berth_host_cpus", { host: HOST_NAME })[0]!.value)).toBeGreaterThan(0);
    expect(Number(samples(families, "berth_host_memory_total_bytes", { host: HOST_NAME })[0]!.value)).toBeGreaterThan(0);
    expect(Number(samples(families, "berth_host_disk_size_bytes", { host: HOST_NAME, mount: "state" })[0]?.value)).toBeGreaterThan(0);
  });

  it("a container that is removed drops out of the next scrape", async () => {
    const removed = await fetch(`${gateway.url}/api/v1/hosts/${hostId}/containers/${jobId}`, { method: "DELETE", headers: { authorization: `Bearer ${ownerToken.secret}` } });
    expect(removed.status, await removed.text()).toBeLessThan(300);
    const { families, text } = await scrapeUntil((f) => samples(f, "berth_container_running", { name: "metrics-job" }).length === 0);
    expect(text).not.toContain('name="metrics-job"');
    expect(samples(families, "berth_container_running", { name: "metrics-web" })).toHaveLength(1);
    expect(samples(families, "berth_host_containers", { host: HOST_NAME, state: "exited" })[0]!.value).toBe("0");
  });

  it("refuses a request without a token (401) and a token without metrics.read (403), both audited", async () => {
    const anonymous = await scrape(null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe('Bearer realm="berth"');
    const body = (await anonymous.json()) as { error: { code: string; message: string; requestId: string } };
    expect(body.error.code).toBe("UNAUTHORIZED");
    expect(body.error.requestId).toBe(anonymous.headers.get("x-request-id"));
    expect(await anonymous.text().catch(() => "")).not.toContain("berth_");

    const bad = await scrape("berth_not-a-real-token-at-all-0000000000");
    expect(bad.status).toBe(401);
    expect(bad.headers.get("www-authenticate")).toContain('error="invalid_token"');

    const reader = await createToken("no metrics", ["hosts.read"]);
    const forbidden = await scrape(reader.secret);
    expect(forbidden.status).toBe(403);
    const denied = (await forbidden.json()) as { error: { code: string; message: string } };
    expect(denied.error).toMatchObject({ code: "FORBIDDEN" });
    expect(denied.error.message).toContain("metrics.read");

    const records = await database.db.auditEvent.findMany({ where: { action: "metrics.scrape" }, orderBy: { id: "asc" } });
    const anonymousRecord = records.find((r) => r.requestId === anonymous.headers.get("x-request-id"));
    expect(anonymousRecord).toMatchObject({ outcome: "denied", actorType: "anonymous", errorMessage: "no bearer token" });
    expect(anonymousRecord!.params).toMatchObject({ method: "GET", path: "/metrics" });
    const forbiddenRecord = records.find((r) => r.requestId === forbidden.headers.get("x-request-id"));
    expect(forbiddenRecord).toMatchObject({ outcome: "denied", actorType: "token", actorId: reader.token.id });
    expect(forbiddenRecord!.errorMessage).toContain("metrics.read");
  });

  it("limits scrapes per token: past the burst, 429 with Retry-After, audited once for the burst", async () => {
    const eager = await createToken("eager scraper", ["metrics.read"]);
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    // Bounded: 3 × the burst, back to back (a refill of 1 a second can't keep up).
    for (let i = 0; i < BURST * 3; i++) {
      const res = await scrape(eager.secret);
      statuses.push(res.status);
      if (res.status === 429) retryAfter ??= res.headers.get("retry-after");
      await res.arrayBuffer();
    }
    expect(statuses.slice(0, BURST).every((s) => s === 200)).toBe(true);
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    // The other token is counted apart.
    expect((await scrape(scraper.secret)).status).toBe(200);
    const records = await database.db.auditEvent.findMany({ where: { action: "metrics.scrape", actorId: eager.token.id } });
    expect(records.length).toBeGreaterThanOrEqual(1);
    expect(records[0]).toMatchObject({ outcome: "denied" });
    expect(records[0]!.errorMessage).toContain("rate limit");
  });

  it("only GET and HEAD: another method is answered 405 with Allow", async () => {
    const res = await scrape(scraper.secret, { method: "POST", body: "x" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
    const head = await scrape(scraper.secret, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  });

  it("the SSH connection's state follows the host: unreachable while sshd is down, connected again and one reconnect counted", async () => {
    await host.stopSshd();
    await host.dropSessions();
    const down = await scrapeUntil((f) => samples(f, "berth_host_connection_state", { host: HOST_NAME, state: "unreachable" })[0]?.value === "1");
    expect(samples(down.families, "berth_host_connection_state", { host: HOST_NAME, state: "unreachable" })[0]!.value).toBe("1");
    expect(samples(down.families, "berth_host_up", { host: HOST_NAME })[0]!.value).toBe("0");
    expect(samples(down.families, "berth_host_reachable", { host: HOST_NAME })[0]!.value).toBe("0");

    await host.startSshd();
    const back = await scrapeUntil((f) => samples(f, "berth_host_up", { host: HOST_NAME })[0]?.value === "1");
    expect(samples(back.families, "berth_host_connection_state", { host: HOST_NAME, state: "connected" })[0]!.value).toBe("1");
    expect(samples(back.families, "berth_host_ssh_reconnects_total", { host: HOST_NAME })[0]!.value).toBe("1");
    // The containers are still listed by name once the agent answers again.
    expect(samples(back.families, "berth_container_running", { host: HOST_NAME, name: "metrics-web" })[0]!.value).toBe("1");
  });
});
