import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Transform } from "node:stream";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, screenshot, signInThroughForm } from "../fixtures/browser";
import { createTestDatabase, type TestDatabase } from "../fixtures/database";
import { waitFor } from "../fixtures/fleet-env";
import { addHostOverApi } from "../fixtures/console-hosts";
import { startGateway, type Gateway } from "../fixtures/gateway";
import { HttpClient } from "../fixtures/http-client";
import { startRegistry, type TestRegistry } from "../fixtures/registry";
import { skopeoCopy } from "../fixtures/skopeo";
import { startSshHosts, type SshHostFleet, type SshTestHost } from "../fixtures/ssh-hosts";
import { buildToolsImage } from "../fixtures/test-images";

// The deploy console against a real gateway, a real SSH test host with its
// agent, and a real registry: the deploy form (validation, policy, a pasted
// docker run, the equivalent command), pull progress per layer, the container
// page (overview, update, logs, stats, exec, actions), the list with a bulk action,
// what a Viewer may not do, and the audit trail.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };
const VIEWER = { email: "viewer@example.test", password: "viewer-password-123" };
const PUBLISHED_PORT = 18090;
const COMMAND = `sh -c 'mkdir -p /www && echo hello-from-berth > /www/index.html && echo started && exec httpd -f -p 80 -h /www'`;

// Upper bounds, not expectations.
const STEP_MS = 30_000;
const INSTALL_MS = 150_000;
const DEPLOY_MS = 90_000;

/**
 * An HTTP proxy in front of the registry that holds every layer download
 * after its first bytes until released: the deploy is caught mid-pull, with
 * its progress bars on screen, for as long as the test needs.
 */
interface HoldingProxy {
  /** address:port as the host reaches it. */
  hostFor(address: string): string;
  /** Resolves once a layer download is being held. */
  held: Promise<void>;
  release(): void;
  stop(): Promise<void>;
}

const HEAD_BYTES = 64 * 1024;
const LAYER_MIN_BYTES = 128 * 1024;

async function startHoldingProxy(upstream: { host: string; port: number }): Promise<HoldingProxy> {
  let released = false;
  let release!: () => void;
  const releasedPromise = new Promise<void>((r) => (release = r));
  let markHeld!: () => void;
  const held = new Promise<void>((r) => (markHeld = r));
  const server = http.createServer((req, res) => {
    const forward = http.request({ host: upstream.host, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      const isLayer = req.method === "GET" && /\/blobs\/sha256:/.test(req.url ?? "") && Number(up.headers["content-length"] ?? 0) >= LAYER_MIN_BYTES;
      if (!isLayer || released) {
        up.pipe(res);
        return;
      }
      let sent = 0;
      const gate = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          if (released || sent >= HEAD_BYTES + 1) {
            sent += chunk.length;
            return done(null, chunk);
          }
          const room = HEAD_BYTES - sent;
          if (chunk.length <= room) {
            sent += chunk.length;
            return done(null, chunk);
          }
          this.push(chunk.subarray(0, room));
          sent = HEAD_BYTES + 1;
          markHeld();
          void releasedPromise.then(() => done(null, chunk.subarray(room)));
        },
      });
      up.pipe(gate).pipe(res);
    });
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    hostFor: (address) => `${address}:${port}`,
    held,
    release: () => {
      released = true;
      release();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The promise, or a clear failure once `ms` have passed. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`waited ${ms} ms for ${what}`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe("deploy console in a real browser", () => {
  let database: TestDatabase;
  let fleet: SshHostFleet;
  let host: SshTestHost;
  let gateway: Gateway;
  let registry: TestRegistry;
  let proxy: HoldingProxy;
  let browser: Browser;
  let work: string;
  let hostId: string;
  let ownerApi: HttpClient;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-e2e-deploy-"));
    database = await createTestDatabase("e2e_deploy");
    // Two real hosts: the deploy goes to the one picked in the form.
    fleet = await startSshHosts(2);
    host = fleet.hosts[0]!;
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    const built = await buildToolsImage(path.join(work, "tools"));
    await skopeoCopy(`oci:${built.layoutDir}:${built.tag}`, `docker://${registry.host}/test/tools:latest`);
    const [, registryPort] = registry.host.split(":");
    proxy = await startHoldingProxy({ host: "127.0.0.1", port: Number(registryPort) });
    gateway = await startGateway({
      DATABASE_URL: database.url,
      BERTH_ADMIN_EMAIL: OWNER.email,
      BERTH_ADMIN_PASSWORD: OWNER.password,
      BERTH_SECRET_KEY: randomBytes(32).toString("hex"),
    });

    // The host is added over the owner's API (the hosts e2e covers the wizard).
    ownerApi = new HttpClient(gateway.url);
    expect((await ownerApi.signIn(OWNER.email, OWNER.password)).ok).toBe(true);
    hostId = await addHostOverApi(ownerApi, host, {
      name: "edge-1",
      privateKey: fleet.clientKey.privateKey,
      insecureRegistries: [proxy.hostFor(host.gatewayAddress), registry.hostFor(host.gatewayAddress)],
      readyWithinMs: INSTALL_MS,
    });
    const other = fleet.hosts[1]!;
    await addHostOverApi(ownerApi, other, {
      name: "edge-2",
      privateKey: fleet.clientKey.privateKey,
      insecureRegistries: [registry.hostFor(other.gatewayAddress)],
      readyWithinMs: null,
    });

    // A Viewer, to see what the console withholds.
    const roles = await ownerApi.trpc<{ roles: { id: string; name: string }[] }>("roles.list", undefined, "query");
    const viewerRole = roles.data!.roles.find((r) => r.name === "Viewer")!;
    expect((await ownerApi.trpc("users.create", { email: VIEWER.email, password: VIEWER.password, roleId: viewerRole.id })).error).toBeUndefined();

    browser = await launchBrowser();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    // Stops and tears down the agent (and its containers), then the host itself.
    await fleet?.cleanup();
    await proxy?.stop();
    await registry?.stop();
    await database?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** The value of the form field labelled `label`. */
  const valueOf = (page: Page, label: string) => page.getByLabel(label, { exact: true }).inputValue();

  it("deploys busybox httpd from the form with pull progress, then uses, inspects, restarts, stops and removes it from the console", async () => {
    const url = gateway.url;
    const image = `${proxy.hostFor(host.gatewayAddress)}/test/tools:latest`;
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    await signInThroughForm(page, url, OWNER.email, OWNER.password);

    // 1. Containers: nothing yet, and the page says what to do next.
    await page.getByRole("link", { name: "Containers" }).first().click();
    await page.waitForURL(`${url}/containers`);
    await page.getByRole("heading", { name: "No containers yet" }).waitFor();
    await page.getByRole("link", { name: "Deploy a container" }).click();
    await page.waitForURL(`${url}/deploy`);
    const form = page.getByRole("form", { name: "Deploy a container" });
    await form.getByLabel("Image", { exact: true }).waitFor();
    // Two hosts: deploy to edge-1.
    await page.getByTestId("deploy-host").selectOption(hostId);
    expect(await page.getByTestId("deploy-host").inputValue()).toBe(hostId);

    // 2. A pasted docker run fills the form; what it can't express is named.
    await page.getByText("Paste a docker run command").click();
    await page.getByLabel("docker run command").fill(
      `docker run -d --rm --name pasted -p 8081:80/udp -e MODE=demo -v data:/data --memory 128m --restart unless-stopped --cap-add NET_ADMIN busybox:1.36 sh -c 'echo hi'`,
    );
    await page.getByRole("button", { name: "Fill the form" }).click();
    await page.getByTestId("paste-warnings").filter({ hasText: "--rm ignored" }).waitFor();
    expect(await valueOf(page, "Container name")).toBe("pasted");
    expect(await valueOf(page, "Image")).toBe("busybox:1.36");
    expect(await valueOf(page, "Command")).toBe("sh -c 'echo hi'");
    expect(await valueOf(page, "Host port 1")).toBe("8081");
    expect(await valueOf(page, "Container port 1")).toBe("80");
    expect(await page.getByLabel("Protocol 1").inputValue()).toBe("udp");
    expect(await valueOf(page, "Variable 1 name")).toBe("MODE");
    expect(await valueOf(page, "Variable 1 value")).toBe("demo");
    expect(await valueOf(page, "Mount 1 source")).toBe("data");
    expect(await valueOf(page, "Mount 1 target")).toBe("/data");
    expect(await valueOf(page, "Memory limit")).toBe("128");
    expect(await page.getByLabel("Memory unit").inputValue()).toBe("m");
    expect(await page.getByLabel("Restart policy").inputValue()).toBe("unless-stopped");
    // The capability opened the Advanced section, and the default policy names it next to its field.
    expect(await valueOf(page, "Add capabilities")).toBe("NET_ADMIN");
    await form.getByRole("alert").filter({ hasText: "Allowed capabilities" }).waitFor();
    // The equivalent command is the canonical form of the same spec.
    await page.getByTestId("docker-run-preview").filter({ hasText: "--name pasted" }).waitFor();
    expect(await page.getByTestId("docker-run-preview").textContent()).toContain("--cap-add NET_ADMIN busybox:1.36 sh -c 'echo hi'");
    // A command it can't read: the reason, and the form stays as it was.
    await page.getByLabel("docker run command").fill("docker run --env-file ./prod.env busybox");
    await page.getByRole("button", { name: "Fill the form" }).click();
    await page.getByRole("alert").filter({ hasText: "env files are not supported" }).waitFor();
    expect(await valueOf(page, "Container name")).toBe("pasted");

    // 3. A fresh form, filled by hand; validated as it is typed.
    await page.goto(`${url}/deploy`);
    await page.getByTestId("deploy-host").selectOption(hostId);
    await form.getByLabel("Image", { exact: true }).fill("Not An Image!");
    await form.getByRole("alert").filter({ hasText: "invalid reference" }).waitFor();
    await page.getByTestId("docker-run-preview-empty").waitFor();
    await form.getByLabel("Image", { exact: true }).fill(image);
    await form.getByLabel("Container name").fill("web");
    await form.getByLabel("Command", { exact: true }).fill(COMMAND);
    await form.getByRole("button", { name: "+ Add port" }).click();
    await form.getByLabel("Host port 1").fill("70000");
    await form.getByLabel("Container port 1").fill("80");
    await form.getByRole("alert").filter({ hasText: /65535/ }).waitFor();
    await form.getByLabel("Host port 1").fill(String(PUBLISHED_PORT));
    await form.getByLabel("Memory limit").fill("64");
    // The policy is checked as you type: privileged is refused inline, and an owner may override.
    await page.getByText("Advanced: privileges").click();
    await form.getByLabel("Privileged").check();
    await form.getByRole("alert").filter({ hasText: "Privileged mode is not allowed" }).waitFor();
    await page.getByLabel("Override the policy for this deployment").waitFor();
    await form.getByLabel("Privileged").uncheck();
    await page.getByTestId("policy-ok").waitFor();
    expect(await page.getByLabel("Override the policy for this deployment").count()).toBe(0);
    expect(await form.getByRole("alert").count()).toBe(0);
    const preview = page.getByTestId("docker-run-preview");
    await preview.filter({ hasText: `-p ${PUBLISHED_PORT}:80` }).waitFor();
    expect(await preview.textContent()).toContain(`--name web -p ${PUBLISHED_PORT}:80 --memory 64m ${image} sh -c`);
    await screenshot(page, "deploy-form");

    // 4. Deploy: the pull is held mid-layer, its bar on screen; then it completes and the container page opens.
    await page.getByRole("button", { name: "Deploy", exact: true }).click();
    await within(proxy.held, DEPLOY_MS, "a layer download to reach the proxy");
    // Held after its first bytes: downloading into the store and extracting at once.
    const layer = page.getByTestId("layer-progress").filter({ hasText: /(Downloading|Extracting) 64 KiB/ });
    await layer.first().waitFor({ timeout: DEPLOY_MS });
    expect(await page.getByRole("button", { name: "Deploying…" }).isDisabled()).toBe(true);
    expect(await layer.first().getByRole("progressbar").count()).toBe(1);
    await screenshot(page, "deploy-progress");
    proxy.release();
    await page.waitForURL(new RegExp(`/containers/${hostId}/[0-9a-f]{64}$`), { timeout: DEPLOY_MS });
    let containerId = page.url().split("/").pop()!;
    const firstContainerId = containerId;
    await page.getByRole("heading", { name: "web" }).waitFor();
    await page.getByTestId("container-actions").getByText("running").waitFor();

    // 5. Overview: the published port is a link to the host; the page is served there.
    const link = page.getByTestId("container-ports").getByRole("link");
    expect(await link.getAttribute("href")).toBe(`http://${host.address}:${PUBLISHED_PORT}/`);
    const served = await waitFor(
      () => fetch(`http://${host.address}:${PUBLISHED_PORT}/`).then((r) => r.text()).catch(() => ""),
      (t) => t.includes("hello-from-berth"),
    );
    expect(served).toContain("hello-from-berth");
    const overview = page.getByTestId("container-overview");
    await overview.getByText("64 MiB").waitFor();
    await overview.getByText("Deployment", { exact: true }).first().waitFor();
    await screenshot(page, "container-overview");

    // 6. Logs, followed live; a search highlights what it finds; a download holds the lines.
    await page.getByRole("tab", { name: "Logs" }).click();
    const logs = page.getByTestId("log-lines");
    await logs.getByText("started", { exact: true }).waitFor();
    await page.getByTestId("logs-status").filter({ hasText: "following" }).waitFor();
    await page.getByRole("searchbox", { name: "Search" }).fill("start");
    await logs.locator("mark", { hasText: "start" }).first().waitFor();
    await page.getByTestId("logs-matches").filter({ hasText: "1 matching line" }).waitFor();
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download .txt" }).click()]);
    expect(download.suggestedFilename()).toBe("web-logs.txt");
    const saved = path.join(work, "web-logs.txt");
    await download.saveAs(saved);
    expect((await readFile(saved, "utf8")).split("\n")).toContain("started");
    await screenshot(page, "container-logs");

    // 7. Stats: live samples with the memory limit as the top.
    await page.getByRole("tab", { name: "Stats" }).click();
    await page.getByTestId("stat-memory").filter({ hasText: "of 64 MiB" }).waitFor();
    await page.getByTestId("stats-pids").filter({ hasText: /^[1-9]\d*$/ }).waitFor();
    // A few samples, so the charts draw lines (one every 2 s).
    await page.locator('[data-testid="container-stats"]:not([data-points="0"]):not([data-points="1"]):not([data-points="2"])').waitFor();
    await screenshot(page, "container-stats");

    // 8. Exec: a shell in the container.
    await page.getByRole("tab", { name: "Exec" }).click();
    await page.getByRole("status").filter({ hasText: "Connected" }).waitFor();
    await page.getByRole("group", { name: "Terminal" }).click();
    await page.keyboard.type("echo hello\n");
    await page.locator(".xterm-rows > div").filter({ hasText: /^hello\s*$/ }).first().waitFor();
    await screenshot(page, "container-exec");

    // 9. Update: the newest image, a new container from the same spec, its page opened in place.
    await page.getByRole("tab", { name: "Overview" }).click();
    await page.getByRole("button", { name: "Update", exact: true }).click();
    await page.getByRole("dialog", { name: "Update web?" }).getByRole("button", { name: "Update" }).click();
    await page.waitForURL(new RegExp(`/containers/${hostId}/(?!${containerId})[0-9a-f]{64}$`), { timeout: DEPLOY_MS });
    containerId = page.url().split("/").pop()!;
    await page.getByTestId("container-actions").getByText("running").waitFor();
    const again = await waitFor(
      () => fetch(`http://${host.address}:${PUBLISHED_PORT}/`).then((r) => r.text()).catch(() => ""),
      (t) => t.includes("hello-from-berth"),
    );
    expect(again).toContain("hello-from-berth");

    // 10. The list shows it running; a bulk restart asks first.
    await page.getByRole("link", { name: "Containers" }).first().click();
    await page.waitForURL(`${url}/containers`);
    const row = page.getByTestId("container-web");
    await row.getByText("running").waitFor();
    expect(await row.getByText("edge-1").count()).toBe(1);
    await page.getByRole("searchbox", { name: "Image" }).fill("test/tools");
    await page.getByText("matching the filters").waitFor();
    await row.getByRole("checkbox").check();
    await page.getByTestId("bulk-bar").getByText("1 selected").waitFor();
    await screenshot(page, "containers-list");
    await page.getByTestId("bulk-bar").getByRole("button", { name: "Restart" }).click();
    const restart = page.getByRole("dialog", { name: "Restart 1 container?" });
    await restart.getByText("web").waitFor();
    await restart.getByRole("button", { name: "Restart" }).click();
    await restart.waitFor({ state: "hidden" });
    await row.getByText("running").waitFor();

    // 11. A Viewer sees the container but none of the controls, each with its reason.
    const viewerContext = await browser.newContext();
    const viewer = await viewerContext.newPage();
    viewer.setDefaultTimeout(STEP_MS);
    await signInThroughForm(viewer, url, VIEWER.email, VIEWER.password);
    await viewer.goto(`${url}/containers/${hostId}/${containerId}`);
    await viewer.getByRole("heading", { name: "web" }).waitFor();
    expect(await viewer.getByRole("button", { name: "Stop" }).isDisabled()).toBe(true);
    expect(await viewer.getByRole("button", { name: "Remove" }).isDisabled()).toBe(true);
    await viewer.getByText("Needs the containers.control permission on this host.").first().waitFor();
    expect(await viewer.getByRole("button", { name: "Update" }).isDisabled()).toBe(true);
    await viewer.getByRole("tab", { name: "Exec" }).click();
    await viewer.getByText("Needs the containers.exec permission on this host.").waitFor();
    expect(await viewer.getByRole("group", { name: "Terminal" }).count()).toBe(0);
    await viewer.goto(`${url}/deploy`);
    await viewer.getByText("Deploying needs the containers.deploy permission.").waitFor();
    await viewerContext.close();

    // 12. Stop, then remove, from the container page; each asks first.
    await page.goto(`${url}/containers/${hostId}/${containerId}`);
    await page.getByTestId("container-actions").getByRole("button", { name: "Stop" }).click();
    await page.getByRole("dialog", { name: "Stop web?" }).getByRole("button", { name: "Stop" }).click();
    await page.getByTestId("container-actions").getByText("exited").waitFor();
    await page.getByTestId("container-actions").getByRole("button", { name: "Remove" }).click();
    await page.getByRole("dialog", { name: "Remove web?" }).getByRole("button", { name: "Remove" }).click();
    await page.waitForURL(`${url}/containers`);
    await page.getByRole("heading", { name: "No containers yet" }).waitFor();
    const gone = await waitFor(
      () => fetch(`http://${host.address}:${PUBLISHED_PORT}/`).then(() => "up", () => "down"),
      (s) => s === "down",
    );
    expect(gone).toBe("down");

    // 13. The audit log has it all, with the owner as the actor.
    const owner = await database.db.user.findUniqueOrThrow({ where: { email: OWNER.email } });
    const events = await database.db.auditEvent.findMany({ where: { action: { startsWith: "containers." }, outcome: "success" }, orderBy: { id: "asc" } });
    const deployed = events.find((e) => e.action === "containers.deploy");
    expect(deployed).toMatchObject({ actorId: owner.id, actorLabel: OWNER.email, hostId, targetId: firstContainerId });
    const actions = events.filter((e) => e.action === "containers.action");
    expect(actions.map((e) => (e.params as { action?: string }).action)).toEqual(["stop", "remove"]);
    for (const e of actions) expect(e).toMatchObject({ actorId: owner.id, actorLabel: OWNER.email, hostId, outcome: "success" });
    const updated = events.find((e) => e.action === "containers.update");
    expect(updated).toMatchObject({ actorId: owner.id, hostId, params: expect.objectContaining({ rolledBack: false }) });
    const bulk = events.find((e) => e.action === "containers.bulk");
    expect(bulk).toMatchObject({ actorId: owner.id, outcome: "success" });
    await context.close();
  }, 400_000);
});
