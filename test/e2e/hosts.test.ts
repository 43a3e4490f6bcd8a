import { randomBytes } from "node:crypto";
import { appendFile, copyFile, mkdtemp, readFile } from "node:fs/promises";
import os, { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, screenshot, signInThroughForm } from "../fixtures/browser";
import { createTestDatabase, type TestDatabase } from "../fixtures/database";
import { startGateway, type Gateway } from "../fixtures/gateway";
import { startSshHosts, type SshHostFleet } from "../fixtures/ssh-hosts";

// The Hosts pages against a real gateway and a real sshd host (a network
// namespace on this machine): the add-host wizard, the live list, and a
// changed host key re-pinned from the browser.

const OWNER = { email: "owner@example.test", password: "owner-password-123" };

// Upper bounds, not expectations: an install uploads and starts the agent; a
// reconnect after a cut session goes through the fleet's backoff.
const STEP_MS = 30_000;
const INSTALL_MS = 150_000;
const RECONNECT_MS = 60_000;

describe("hosts in a real browser", () => {
  let database: TestDatabase;
  let fleet: SshHostFleet;
  let gateway: Gateway;
  let browser: Browser;

  // The agent build this gateway installs: a copy, so the test can make a "new build" for the upgrade button.
  let bundle: string;

  beforeAll(async () => {
    database = await createTestDatabase("e2e_hosts");
    fleet = await startSshHosts(1);
    bundle = path.join(await mkdtemp(path.join(tmpdir(), "berth-e2e-bundle-")), "berth-agent.mjs");
    await copyFile(path.resolve("dist/berth-agent.mjs"), bundle);
    gateway = await startGateway({
      BERTH_AGENT_BUNDLE: bundle,
      DATABASE_URL: database.url,
      BERTH_ADMIN_EMAIL: OWNER.email,
      BERTH_ADMIN_PASSWORD: OWNER.password,
      BERTH_SECRET_KEY: randomBytes(32).toString("hex"),
    });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    // Stops and tears down the agent the wizard installed, then the host itself.
    await fleet?.cleanup();
    await database?.close();
  });

  /** The status badge of a host row or page, once it reads exactly `label`. */
  const statusIs = (scope: Locator | Page, label: string, timeout: number) =>
    scope.getByTestId("host-status").filter({ hasText: new RegExp(`^${label}$`) }).first().waitFor({ timeout });

  it("adds a host through the wizard, watches it connect live, trusts its new key after it changed, and removes it", async () => {
    const host = fleet.hosts[0]!;
    const url = gateway.url;
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    await signInThroughForm(page, url, OWNER.email, OWNER.password);

    // 1. Hosts: nothing yet, and the page says what to do.
    await page.getByRole("link", { name: "Hosts" }).first().click();
    await page.waitForURL(`${url}/hosts`);
    await page.getByRole("heading", { name: "No hosts yet" }).waitFor();
    expect(await page.getByRole("link", { name: "Add a host over SSH" }).isVisible()).toBe(true);
    expect(await page.getByRole("button", { name: "Add this machine" }).isVisible()).toBe(true);
    await screenshot(page, "hosts-empty");
    // Every later step happens in this one document: a full reload would drop this mark.
    await page.evaluate(() => ((window as unknown as { berthNoReload: boolean }).berthNoReload = true));

    // 2. The wizard, step 1: validation as you type, then connect with the root key.
    await page.getByRole("link", { name: "Add a host over SSH" }).click();
    await page.waitForURL(`${url}/hosts/new`);
    const connect = page.getByRole("form", { name: "Connect to the host" });
    await connect.getByLabel("Port").fill("70000");
    await connect.getByRole("alert").filter({ hasText: "1 to 65535" }).waitFor();
    await connect.getByLabel("Port").fill("22");
    await connect.getByLabel("Address").fill(host.address);
    await connect.getByLabel("User").fill("root");
    await connect.getByLabel("Private key").fill(fleet.clientKey.privateKey);
    expect(await connect.getByRole("alert").count()).toBe(0);
    // A port nothing listens on: the server's reason shows in the step, and the wizard stays there.
    await connect.getByLabel("Port").fill("2");
    await connect.getByRole("button", { name: "Connect" }).click();
    await connect.getByRole("alert").filter({ hasText: "Could not connect" }).waitFor();
    await connect.getByLabel("Port").fill("22");
    await connect.getByRole("button", { name: "Connect" }).click();

    // Step 2: the fingerprint shown is the host's own; the name defaults to the address.
    const confirm = page.getByRole("form", { name: "Confirm the host key" });
    const shown = page.getByTestId("probe-fingerprint");
    await shown.waitFor();
    expect((await shown.textContent())?.trim()).toBe(await host.fingerprint());
    expect(await confirm.getByText("ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub").isVisible()).toBe(true);
    expect(await confirm.getByLabel("Name").inputValue()).toBe(host.address);
    // Several agents share this machine: each gets its own directories, socket, bridge and subnets.
    await confirm.getByText("Advanced agent settings").click();
    const agent = host.agent;
    const settings: [string, string][] = [
      ["Install directory", agent.installDir],
      ["State root", agent.root],
      ["Agent socket", agent.socket],
      ["Exec root", agent.execRoot],
      ["Cgroup parent", agent.cgroupParent],
      ["Bridge", agent.bridge],
      ["Bridge subnet", agent.bridgeSubnet],
      ["Network pool", agent.networkPool],
    ];
    for (const [label, value] of settings) await confirm.getByLabel(label, { exact: true }).fill(value);
    await screenshot(page, "hosts-wizard-fingerprint");
    await confirm.getByRole("button", { name: "Trust this key and add the host" }).click();

    // Step 3: nothing missing; install the agent.
    await page.getByTestId("prereqs-ok").waitFor({ timeout: STEP_MS });
    expect(await page.getByTestId("prereqs-missing").count()).toBe(0);
    await page.getByRole("button", { name: "Install agent" }).click();
    const result = page.getByTestId("install-result");
    await result.waitFor({ timeout: INSTALL_MS });
    const stored = await database.db.host.findFirstOrThrow({ where: { address: host.address } });
    expect(stored.hostKeyFingerprint).toBe(await host.fingerprint());
    expect(stored.agentConfig).toMatchObject({ installDir: agent.installDir, socket: agent.socket, bridge: agent.bridge });
    const version = stored.agentVersion!;
    expect(version).toBeTruthy();
    expect(await result.textContent()).toContain(`Agent ${version} installed`);
    // The steps as the server reported them while it worked.
    const steps = await page.getByTestId("install-steps").innerText();
    for (const label of ["Checking prerequisites", "Uploading and verifying", "Starting", "Confirming"]) expect(steps).toContain(label);
    expect(steps).toContain(`${agent.installDir}/berth-agent.mjs`);

    // 3. The list shows it connected, with its kernel and agent version, as they arrive.
    await page.getByRole("link", { name: "Go to the host list" }).click();
    await page.waitForURL(`${url}/hosts`);
    const row = page.getByTestId(`host-${host.address}`);
    await statusIs(row, "connected", RECONNECT_MS);
    await row.getByTestId("host-system").filter({ hasText: os.release() }).waitFor();
    expect(await row.getByTestId("agent-version").textContent()).toBe(version);
    await page.getByTestId("live-indicator").filter({ hasText: "live" }).waitFor();
    await screenshot(page, "hosts-list");

    // A new agent build on the gateway: the list offers the upgrade, which installs it in place.
    expect(await row.getByRole("button", { name: "Upgrade agent" }).count()).toBe(0);
    await appendFile(bundle, `\n// a newer build ${Date.now()}\n`);
    await page.reload();
    // From here on, again, nothing may reload the page (the rest must arrive live).
    await page.evaluate(() => ((window as unknown as { berthNoReload?: boolean }).berthNoReload = true));
    await row.getByRole("button", { name: "Upgrade agent" }).click();
    await row.getByRole("button", { name: /Upgrade agent|Upgrading/ }).waitFor({ state: "detached", timeout: RECONNECT_MS });
    expect(await readFile(path.join(agent.installDir, "berth-agent.mjs"), "utf8")).toBe(await readFile(bundle, "utf8"));
    await statusIs(row, "connected", RECONNECT_MS);

    // 4. The host's key changes (as after a reinstall): the list turns without a reload.
    const pinned = await host.fingerprint();
    const fresh = await host.regenerateHostKey();
    expect(fresh).not.toBe(pinned);
    await host.stopSshd();
    await host.run(`for p in $(ip netns pids ${host.netns}); do [ "$(cat /proc/$p/comm 2>/dev/null)" = sshd ] && kill $p; done; true`);
    await host.startSshd();
    await statusIs(row, "host key changed", RECONNECT_MS);

    // The host's page puts both keys side by side.
    await row.getByRole("link", { name: host.address }).click();
    await page.waitForURL(new RegExp(`/hosts/${stored.id}$`));
    const panel = page.getByTestId("host-key-changed");
    await panel.getByRole("heading", { name: /Host key changed/ }).waitFor();
    expect(await panel.getByTestId("old-fingerprint").textContent()).toBe(pinned);
    await panel.getByTestId("new-fingerprint").filter({ hasText: fresh }).waitFor();
    await screenshot(page, "host-key-changed");

    // Trusting the new key pins it and the host connects again.
    await panel.getByRole("button", { name: "Trust the new key" }).click();
    await panel.waitFor({ state: "detached" });
    await statusIs(page.getByRole("main"), "connected", RECONNECT_MS);
    expect(await page.getByTestId("pinned-key").textContent()).toBe(fresh);
    expect((await database.db.host.findUniqueOrThrow({ where: { id: stored.id } })).hostKeyFingerprint).toBe(fresh);
    const repin = await database.db.auditEvent.findFirst({ where: { action: "hosts.repin", hostId: stored.id } });
    expect(repin).toMatchObject({ outcome: "success", actorLabel: OWNER.email });

    // 5. Removing the host asks first, then leaves the list empty again.
    await page.getByRole("button", { name: "Remove host" }).click();
    const dialog = page.getByRole("dialog", { name: `Remove ${host.address}?` });
    await dialog.getByRole("button", { name: "Remove host" }).click();
    await page.waitForURL(`${url}/hosts`);
    await page.getByRole("heading", { name: "No hosts yet" }).waitFor();
    expect(await database.db.host.count()).toBe(0);

    expect(await page.evaluate(() => (window as unknown as { berthNoReload?: boolean }).berthNoReload)).toBe(true);
    await context.close();
  });
});
