import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Browser, Locator, Page } from "playwright-core";
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

// The resource pages against a real gateway, a real SSH test host with its
// agent and a real registry: the dashboard, images (pull and push with
// progress), networks, volumes, saved registries and the deploy policy as the
// owner; then the same console as a Viewer, whose controls are hidden or
// disabled with their reason.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };
const VIEWER = { email: "viewer@example.test", password: "viewer-password-123" };

// Upper bounds, not expectations.
const STEP_MS = 30_000;
const CONNECT_MS = 90_000;
const TRANSFER_MS = 120_000;

describe("resources console in a real browser", () => {
  let work: string;
  let database: TestDatabase;
  let fleet: SshHostFleet;
  let registry: TestRegistry;
  let gateway: Gateway;
  let browser: Browser;
  let owner: HttpClient;
  let host: SshTestHost;
  let hostId: string;
  let image: string;

  /** A tRPC call as the owner that must succeed. */
  async function call<T>(procedure: string, input?: unknown, type: "query" | "mutation" = "mutation"): Promise<T> {
    const res = await owner.trpc<T>(procedure, input, type);
    if (res.error) throw new Error(`${procedure}: ${res.error.message}`);
    return res.data as T;
  }

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "berth-e2e-resources-"));
    fleet = await startSshHosts(1);
    host = fleet.hosts[0]!;
    // On every address, so the host reaches it at its gateway address.
    registry = await startRegistry({ auth: "none", listenHost: "0.0.0.0" });
    const tools = await buildToolsImage(path.join(work, "tools"));
    await skopeoCopy(`oci:${tools.layoutDir}:${tools.tag}`, `docker://${registry.host}/test/tools:latest`);
    image = `${registry.hostFor(host.gatewayAddress)}/test/tools:latest`;

    database = await createTestDatabase("e2e_resources");
    gateway = await startGateway({
      DATABASE_URL: database.url,
      BERTH_ADMIN_EMAIL: OWNER.email,
      BERTH_ADMIN_PASSWORD: OWNER.password,
      BERTH_SECRET_KEY: randomBytes(32).toString("hex"),
    });
    owner = new HttpClient(gateway.url);
    expect((await owner.signIn(OWNER.email, OWNER.password)).ok).toBe(true);

    // The host is added over the API: the wizard has its own test (hosts.test.ts).
    hostId = await addHostOverApi(owner, host, {
      name: "host-a",
      privateKey: fleet.clientKey.privateKey,
      insecureRegistries: [registry.hostFor(host.gatewayAddress)],
      readyWithinMs: CONNECT_MS,
    });
    browser = await launchBrowser();
  }, 360_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    // Stops the agent (and the containers it runs), then the host itself.
    await fleet?.cleanup();
    await registry?.stop();
    await database?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const nav = (page: Page, label: string) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: label, exact: true });

  /** Every button matching `name` in `scope` is disabled; returns how many there are. */
  async function allDisabled(scope: Page | Locator, name: RegExp): Promise<number> {
    const buttons = scope.getByRole("button", { name });
    const count = await buttons.count();
    for (let i = 0; i < count; i++) expect(await buttons.nth(i).isDisabled(), `button ${i} matching ${name}`).toBe(true);
    return count;
  }

  it("the owner sees the fleet, pulls and pushes with progress, manages networks, volumes and registries, and sets the deploy policy", async () => {
    const url = gateway.url;
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    await signInThroughForm(page, url, OWNER.email, OWNER.password);

    // 1. The dashboard: one host, connected, nothing needing attention.
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    await page.getByTestId("tile-connected-value").filter({ hasText: /^1$/ }).waitFor({ timeout: CONNECT_MS });
    expect(await page.getByTestId("tile-hosts-value").textContent()).toBe("1");
    await page.getByTestId("attention-none").waitFor({ timeout: CONNECT_MS });
    await page.getByTestId("dashboard-hosts").getByRole("link", { name: "host-a" }).waitFor();
    await page.getByTestId("recent-activity").getByText("hosts.installAgent").first().waitFor();
    await screenshot(page, "dashboard");

    // 2. Settings: save the registry; the password never comes back, and editing keeps it unless retyped.
    await nav(page, "Settings").first().click();
    await page.waitForURL(`${url}/settings`);
    await page.getByRole("button", { name: "Add a registry" }).click();
    const add = page.getByRole("form", { name: "Add a registry" });
    await add.getByLabel("Name", { exact: true }).fill("test-registry");
    await add.getByLabel("Address").fill(registry.hostFor(host.gatewayAddress));
    await add.getByLabel("User name").fill("ci");
    await add.getByLabel("Password or token").fill("registry-secret-1");
    await add.getByRole("button", { name: "Save registry" }).click();
    await page.getByRole("status").filter({ hasText: "Saved test-registry." }).waitFor();
    const regRow = page.getByTestId("registry-test-registry");
    await regRow.getByText("ci", { exact: true }).waitFor();
    await page.getByRole("button", { name: "Edit registry test-registry" }).click();
    const edit = page.getByRole("form", { name: "Edit test-registry" });
    expect(await edit.getByLabel("Password or token").inputValue()).toBe("");
    await edit.getByText("Leave empty to keep the stored one.").waitFor();
    await edit.getByLabel("User name").fill("deployer");
    await screenshot(page, "settings-registries");
    await edit.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("status").filter({ hasText: "Updated test-registry." }).waitFor();
    await regRow.getByText("deployer", { exact: true }).waitFor();
    expect(await page.content()).not.toContain("registry-secret-1");
    const stored = await database.db.registry.findUniqueOrThrow({ where: { name: "test-registry" } });
    expect(stored.username).toBe("deployer");
    // Sealed, and still the first password (an empty field kept it).
    expect(stored.credential).not.toContain("registry-secret-1");

    // 3. Images: pull with a progress bar, and see it listed.
    await nav(page, "Images").first().click();
    await page.waitForURL(`${url}/images`);
    const pull = page.getByRole("form", { name: "Pull an image" });
    await pull.getByLabel("Image reference").fill("not a reference");
    await pull.getByRole("alert").waitFor();
    await pull.getByLabel("Image reference").fill(image);
    expect(await pull.getByRole("alert").count()).toBe(0);
    await pull.getByRole("button", { name: "Pull" }).click();
    await page.getByTestId("pull-result").filter({ hasText: `Pulled ${image}.` }).waitFor({ timeout: TRANSFER_MS });
    const progress = page.getByTestId("pull-progress");
    expect(await progress.getByRole("progressbar", { name: "Pull progress" }).getAttribute("value")).toBe("100");
    // The layers as the agent reported them over the progress stream.
    expect(await progress.getByRole("progressbar", { name: /^Layer / }).count()).toBeGreaterThan(0);
    const table = page.getByTestId("images-table");
    await table.getByText(image, { exact: true }).waitFor();
    await screenshot(page, "images");

    // Push it under another name to the saved registry, with progress.
    const pushed = `${registry.hostFor(host.gatewayAddress)}/test/pushed:v1`;
    await page.getByTestId(`image-${image}`).getByRole("button", { name: "Push" }).click();
    const pushDialog = page.getByRole("dialog", { name: `Push ${image}` });
    expect(await pushDialog.getByLabel("Registry").inputValue()).toBe(stored.id);
    await pushDialog.getByLabel("Push as").fill(pushed);
    await pushDialog.getByRole("button", { name: "Push", exact: true }).click();
    await pushDialog.getByRole("status").filter({ hasText: `Pushed ${pushed}.` }).waitFor({ timeout: TRANSFER_MS });
    expect(await pushDialog.getByRole("progressbar", { name: "Push progress" }).getAttribute("value")).toBe("100");
    expect(registry.requests().some((r) => r.method === "PUT" && r.path === "/v2/test/pushed/manifests/v1" && r.status === 201)).toBe(true);
    await pushDialog.getByRole("button", { name: "Close" }).click();
    await table.getByText(pushed, { exact: true }).waitFor();

    // 4. Networks: create, see it listed, remove. The agent's own networks can't be removed.
    await nav(page, "Networks").first().click();
    await page.waitForURL(`${url}/networks`);
    const createNetwork = page.getByRole("form", { name: "Create a network" });
    await createNetwork.getByLabel("Network name").fill("bad name!");
    await createNetwork.getByRole("alert").waitFor();
    expect(await createNetwork.getByRole("button", { name: "Create network" }).isDisabled()).toBe(true);
    await createNetwork.getByLabel("Network name").fill("e2e-net");
    await createNetwork.getByRole("button", { name: "Create network" }).click();
    const netRow = page.getByTestId("network-e2e-net");
    await netRow.waitFor();
    expect(await netRow.textContent()).toContain("not in use");
    expect(await page.getByRole("button", { name: "Remove network bridge" }).isDisabled()).toBe(true);
    await screenshot(page, "networks");
    await page.getByRole("button", { name: "Remove network e2e-net" }).click();
    await page.getByRole("dialog", { name: "Remove network e2e-net?" }).getByRole("button", { name: "Remove network" }).click();
    await netRow.waitFor({ state: "detached" });

    // 5. Volumes: the same.
    await nav(page, "Volumes").first().click();
    await page.waitForURL(`${url}/volumes`);
    const createVolume = page.getByRole("form", { name: "Create a volume" });
    await createVolume.getByLabel("Volume name").fill("e2e-vol");
    await createVolume.getByRole("button", { name: "Create volume" }).click();
    const volRow = page.getByTestId("volume-e2e-vol");
    await volRow.waitFor();
    await screenshot(page, "volumes");
    await page.getByRole("button", { name: "Remove volume e2e-vol" }).click();
    await page.getByRole("dialog", { name: "Remove volume e2e-vol?" }).getByRole("button", { name: "Remove volume" }).click();
    await volRow.waitFor({ state: "detached" });

    // 6. The default deploy policy: allow privileged, a capability and a memory maximum; saved, and still so after a reload.
    await nav(page, "Policy").first().click();
    await page.waitForURL(`${url}/policy`);
    expect(await page.getByTestId("policy-scope").inputValue()).toBe("default");
    const privileged = page.getByLabel("Allow privileged containers");
    expect(await privileged.isChecked()).toBe(false);
    await privileged.check();
    const caps = page.getByTestId("rule-allowedCapabilities");
    await caps.getByLabel("Allowed capabilities", { exact: true }).fill("cap_net_admin");
    await caps.getByRole("button", { name: "Add to Allowed capabilities" }).click();
    await caps.getByRole("listitem").filter({ hasText: "NET_ADMIN" }).waitFor();
    const memory = page.getByTestId("rule-maxMemoryBytes");
    await memory.getByLabel("Maximum memory limit").fill("2");
    await memory.getByLabel("Memory unit").selectOption("GiB");
    await page.getByRole("button", { name: "Save policy" }).click();
    await page.getByRole("status").filter({ hasText: "Policy saved." }).waitFor();
    const saved = await database.db.deployPolicy.findUniqueOrThrow({ where: { scopeKey: "default" } });
    expect(saved.rules).toMatchObject({ allowPrivileged: true, allowedCapabilities: ["NET_ADMIN"], maxMemoryBytes: 2 * 1024 ** 3 });
    await page.reload();
    await page.getByTestId("rule-allowPrivileged").waitFor();
    expect(await page.getByLabel("Allow privileged containers").isChecked()).toBe(true);
    await page.getByTestId("rule-allowedCapabilities").getByRole("listitem").filter({ hasText: "NET_ADMIN" }).waitFor();
    expect(await page.getByTestId("rule-maxMemoryBytes").getByLabel("Maximum memory limit").inputValue()).toBe("2");
    expect(await page.getByTestId("rule-maxMemoryBytes").getByLabel("Memory unit").inputValue()).toBe("GiB");
    expect(await page.getByRole("button", { name: "Save policy" }).isDisabled()).toBe(true);
    await screenshot(page, "policy");

    // 7. A container using a network and a volume: both say so, and can't be removed from under it.
    await call("networks.create", { hostId, name: "busy-net" });
    await call("containers.deploy", {
      hostId,
      spec: {
        image,
        name: "probe",
        command: ["sleep", "600"],
        network: "busy-net",
        mounts: [{ type: "volume", source: "busy-vol", target: "/data" }],
        memoryBytes: 64 * 1024 * 1024,
      },
    });
    await nav(page, "Networks").first().click();
    await page.waitForURL(`${url}/networks`);
    const busyNet = page.getByTestId("network-busy-net");
    await busyNet.getByTestId("in-use-by").getByText("probe").waitFor();
    expect(await page.getByRole("button", { name: "Remove network busy-net" }).isDisabled()).toBe(true);
    await busyNet.getByText("In use by probe.").waitFor();
    await nav(page, "Volumes").first().click();
    await page.waitForURL(`${url}/volumes`);
    await page.getByTestId("volume-busy-vol").getByTestId("in-use-by").getByText("probe").waitFor();
    expect(await page.getByRole("button", { name: "Remove volume busy-vol" }).isDisabled()).toBe(true);
    await nav(page, "Images").first().click();
    await page.waitForURL(`${url}/images`);
    await page.getByTestId("images-table").getByTestId("image-used-by").getByText("probe").waitFor();

    await context.close();
  });

  it("a Viewer sees containers, images, networks and the policy, with no way to deploy, exec, stop or change anything", async () => {
    const url = gateway.url;
    const roles = await call<{ roles: { id: string; name: string }[] }>("roles.list", undefined, "query");
    await call("users.create", { email: VIEWER.email, password: VIEWER.password, roleId: roles.roles.find((r) => r.name === "Viewer")!.id });

    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    await signInThroughForm(page, url, VIEWER.email, VIEWER.password);
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    const links = await page.getByRole("navigation", { name: "Main" }).first().getByRole("link").allTextContents();
    expect(links.map((l) => l.replace(/\d+$/, ""))).toEqual(["Dashboard", "Hosts", "Containers", "Stacks", "Deployments", "Rollouts", "Images", "Networks", "Volumes", "Policy", "Alerts", "Settings"]);
    expect(await page.getByRole("link", { name: /^deploy( |$)/i }).count()).toBe(0);

    // Containers: the probe is listed; there is nothing to deploy with, and no control that acts.
    await nav(page, "Containers").first().click();
    await page.waitForURL(`${url}/containers`);
    const row = page.getByTestId("container-probe");
    await row.waitFor({ timeout: CONNECT_MS });
    expect(await page.getByRole("link", { name: /^deploy( |$)/i }).count()).toBe(0);
    expect(await page.getByRole("button", { name: /^deploy( |$)/i }).count()).toBe(0);
    await allDisabled(page, /^(stop|restart|kill|remove|exec)/i);
    // Its page: Stop is there but disabled with its reason; the Exec tab says why there's no shell.
    await row.getByRole("link", { name: "probe" }).click();
    await page.waitForURL(new RegExp(`/containers/${hostId}/`));
    const stop = page.getByRole("button", { name: "Stop", exact: true });
    expect(await stop.isDisabled()).toBe(true);
    expect(await stop.getAttribute("title")).toContain("containers.control");
    expect(await allDisabled(page, /^(stop|restart|pause|remove)/i)).toBeGreaterThan(0);
    await page.getByRole("tab", { name: "Exec" }).click();
    await page.getByText("Needs the containers.exec permission").first().waitFor();
    expect(await page.locator(".xterm").count()).toBe(0);

    // Images: listed with who uses them; pulling and removing are disabled with the reason.
    await nav(page, "Images").first().click();
    await page.waitForURL(`${url}/images`);
    await page.getByTestId("images-table").getByTestId("image-used-by").getByText("probe").waitFor();
    const pull = page.getByRole("form", { name: "Pull an image" });
    expect(await pull.getByRole("button", { name: "Pull" }).isDisabled()).toBe(true);
    await pull.getByText("Needs the images.pull permission on this host.").waitFor();
    expect(await allDisabled(page.getByTestId("images-table"), /^(remove|push|tag)$/i)).toBeGreaterThan(0);

    // Networks and volumes: listed, not changeable.
    await nav(page, "Networks").first().click();
    await page.waitForURL(`${url}/networks`);
    await page.getByTestId("network-busy-net").waitFor();
    expect(await page.getByRole("button", { name: "Create network" }).isDisabled()).toBe(true);
    await page.getByText("Needs the networks.manage permission on this host.").first().waitFor();
    expect(await allDisabled(page, /^remove network/i)).toBeGreaterThan(0);
    await nav(page, "Volumes").first().click();
    await page.waitForURL(`${url}/volumes`);
    await page.getByTestId("volume-busy-vol").waitFor();
    expect(await page.getByRole("button", { name: "Create volume" }).isDisabled()).toBe(true);

    // The policy: readable, with the owner's settings; saving needs hosts.manage everywhere.
    await nav(page, "Policy").first().click();
    await page.waitForURL(`${url}/policy`);
    const privileged = page.getByLabel("Allow privileged containers");
    await privileged.waitFor();
    expect(await privileged.isChecked()).toBe(true);
    expect(await privileged.isDisabled()).toBe(true);
    expect(await page.getByRole("button", { name: "Save policy" }).isDisabled()).toBe(true);
    await page.getByText("Changing the default policy needs the hosts.manage permission everywhere.").waitFor();

    // Settings: no registry controls.
    await nav(page, "Settings").first().click();
    await page.waitForURL(`${url}/settings`);
    await page.getByText("registries.manage permission").first().waitFor();
    expect(await page.getByRole("button", { name: "Add a registry" }).count()).toBe(0);

    await context.close();
  });
});
